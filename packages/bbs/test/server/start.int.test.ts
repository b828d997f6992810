import { HttpBbsClient, startBbs } from '@diego/bbs';
import { TEST_ETCD_ENV } from '@diego/test-support';

describe('startBbs', () => {
  it('serves the API on the listen address, over the etcd cluster it is given', async () => {
    const bbs = await startBbs({
      listenAddress: '127.0.0.1:0',
      etcdCluster: [process.env[TEST_ETCD_ENV] ?? ''],
      logLevel: 'error',
      debugAddress: null,
    });
    const client = new HttpBbsClient([`http://${bbs.address}`]);
    try {
      expect(bbs.address).toMatch(/^127\.0\.0\.1:\d+$/);
      expect(await client.ping()).toBe(true);
      await expect(client.taskByGuid('no-such-task')).rejects.toMatchObject({ type: 'ResourceNotFound' });
    } finally {
      client.close();
      await bbs.stop();
    }
  });

  it('refuses a listen address without a port', async () => {
    await expect(
      startBbs({ listenAddress: '127.0.0.1', etcdCluster: ['http://127.0.0.1:2379'], logLevel: 'error', debugAddress: null }),
    ).rejects.toThrow('invalid listen address');
  });
});
