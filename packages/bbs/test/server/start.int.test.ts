import { Etcd3 } from 'etcd3';
import { HttpBbsClient } from '@diego/bbs-client';
import { startBbs } from '@diego/bbs';
import { eventually, TEST_ETCD_ENV } from '@diego/test-support';

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

  it('never campaigns with apiOnly, while a BBS beside it leads', async () => {
    const etcdCluster = [process.env[TEST_ETCD_ENV] ?? ''];
    const apiOnly = await startBbs({ listenAddress: '127.0.0.1:0', etcdCluster, logLevel: 'error', debugAddress: null, apiOnly: true, advertiseUrl: 'http://api-only.invalid:1' });
    const leading = await startBbs({ listenAddress: '127.0.0.1:0', etcdCluster, logLevel: 'error', debugAddress: null, convergeRepeatIntervalMs: 3_600_000 });
    const etcd = new Etcd3({ hosts: etcdCluster });
    const client = new HttpBbsClient([`http://${apiOnly.address}`]);
    try {
      await eventually(async () => leading.isLeader(), (isLeader) => isLeader, { timeoutMs: 15_000 });
      const candidates = await etcd.getAll().prefix('/v1/locks/bbs_lock/').strings();
      expect(Object.values(candidates).some((value) => value.includes('api-only.invalid'))).toBe(false);
      expect(apiOnly.isLeader()).toBe(false);
      expect(await client.ping()).toBe(true);
    } finally {
      client.close();
      etcd.close();
      await leading.stop();
      await apiOnly.stop();
    }
  });

  it('campaigns with a lease of -lockTTL seconds', async () => {
    const etcdCluster = [process.env[TEST_ETCD_ENV] ?? ''];
    const advertiseUrl = 'http://lock-ttl.invalid:1';
    const bbs = await startBbs({ listenAddress: '127.0.0.1:0', etcdCluster, logLevel: 'error', debugAddress: null, advertiseUrl, lockTtlSeconds: 4 });
    const etcd = new Etcd3({ hosts: etcdCluster });
    try {
      // Its candidate key, whether or not it leads: the lease it campaigns with is the lock's TTL.
      const keys = await eventually(
        async () => (await etcd.getAll().prefix('/v1/locks/bbs_lock/').exec()).kvs.filter((kv) => kv.value.toString().includes(advertiseUrl)),
        (found) => found.length === 1,
        { timeoutMs: 15_000 },
      );
      const lease = await etcd.leaseClient.leaseTimeToLive({ ID: keys[0]?.lease ?? '0' });
      expect(Number(lease.grantedTTL)).toBe(4);
    } finally {
      etcd.close();
      await bbs.stop();
    }
  });

  it('refuses a listen address without a port', async () => {
    await expect(
      startBbs({ listenAddress: '127.0.0.1', etcdCluster: ['http://127.0.0.1:2379'], logLevel: 'error', debugAddress: null }),
    ).rejects.toThrow('invalid listen address');
  });
});
