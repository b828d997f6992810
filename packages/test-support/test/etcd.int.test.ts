import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { Etcd3 } from 'etcd3';
import { startEtcd, testKeySpace } from '@diego/test-support';

function answers(endpoint: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(`${endpoint}/health`, { timeout: 1000 }, (res) => {
      res.resume();
      resolve(true);
    });
    req.on('error', () => resolve(false));
    req.end();
  });
}

describe('startEtcd', () => {
  it('runs a real etcd and leaves neither process nor directory behind', async () => {
    const etcd = await startEtcd();
    const client = new Etcd3({ hosts: etcd.endpoint });
    try {
      await client.put('k').value('v');
      expect(await client.get('k').string()).toBe('v');
    } finally {
      client.close();
      await etcd.stop();
    }
    expect(await answers(etcd.endpoint)).toBe(false);
    expect(existsSync(etcd.dataDir)).toBe(false);
  });

  it('says so when the binary is missing', async () => {
    await expect(startEtcd({ binary: 'no-such-etcd-binary' })).rejects.toThrow('no-such-etcd-binary not found on PATH');
  });
});

describe('testKeySpace', () => {
  it('isolates key spaces and cleans its own up', async () => {
    const a = testKeySpace();
    const b = testKeySpace();
    try {
      await a.namespace.put('/v1/x').value('a');
      expect(await b.namespace.get('/v1/x').string()).toBeNull();
      expect(await b.client.get(`${a.prefix}/v1/x`).string()).toBe('a');
      await a.cleanup();
      expect(await b.client.getAll().prefix(a.prefix).keys()).toEqual([]);
    } finally {
      await b.cleanup();
    }
  });
});
