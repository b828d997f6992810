import { createServer } from 'node:net';
import { Writable } from 'node:stream';
import pino from 'pino';
import { Etcd3 } from 'etcd3';
import { testKeySpace, type TestKeySpace } from '@diego/test-support';
import { EtcdDb } from '@diego/bbs';
import { EtcdStore } from '../../src/db/etcd/store';
import { silentLogger } from './store-harness';

function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (err: unknown) => err,
  );
}

describe('EtcdStore', () => {
  let keys: TestKeySpace;
  let store: EtcdStore;

  beforeEach(() => {
    keys = testKeySpace();
    store = new EtcdStore(keys.namespace, { pageSize: 100, pageBytes: 1 << 20, logger: silentLogger });
  });
  afterEach(() => keys.cleanup());

  it('creates a key only once: the second create is ResourceExists and keeps the first value', async () => {
    await store.create('/v1/task/t', 'first');
    await expect(store.create('/v1/task/t', 'second')).rejects.toMatchObject({ type: 'ResourceExists' });
    expect(await keys.namespace.get('/v1/task/t').string()).toBe('first');
  });

  it('refuses a compare-and-swap at a stale mod_revision with ResourceConflict, keeping the concurrent write', async () => {
    await store.create('/v1/task/t', 'a');
    const read = await store.find('/v1/task/t');
    await keys.namespace.put('/v1/task/t').value('concurrent');

    await expect(store.compareAndSwap('/v1/task/t', read!.modRevision, 'mine')).rejects.toMatchObject({
      type: 'ResourceConflict',
    });
    expect(await keys.namespace.get('/v1/task/t').string()).toBe('concurrent');
  });

  it('swaps at the current mod_revision', async () => {
    await store.create('/v1/task/t', 'a');
    const read = await store.find('/v1/task/t');
    await store.compareAndSwap('/v1/task/t', read!.modRevision, 'b');
    expect(await keys.namespace.get('/v1/task/t').string()).toBe('b');
  });

  it('refuses a compare-and-delete at a stale mod_revision with ResourceConflict', async () => {
    await store.create('/v1/task/t', 'a');
    const read = await store.find('/v1/task/t');
    await keys.namespace.put('/v1/task/t').value('concurrent');
    await expect(store.compareAndDelete('/v1/task/t', read!.modRevision)).rejects.toMatchObject({
      type: 'ResourceConflict',
    });
    expect(await keys.namespace.get('/v1/task/t').string()).toBe('concurrent');
  });

  it('reports a key deleted since it was read as ResourceNotFound', async () => {
    await store.create('/v1/task/t', 'a');
    const read = await store.find('/v1/task/t');
    await keys.namespace.delete().key('/v1/task/t');
    await expect(store.compareAndSwap('/v1/task/t', read!.modRevision, 'b')).rejects.toMatchObject({
      type: 'ResourceNotFound',
    });
    await expect(store.compareAndDelete('/v1/task/t', read!.modRevision)).rejects.toMatchObject({
      type: 'ResourceNotFound',
    });
    expect(await keys.namespace.get('/v1/task/t').string()).toBeNull();
  });

  it('gets a missing key as ResourceNotFound and an undecodable one as InvalidRecord', async () => {
    const decode = (text: string): number => {
      const n = Number(text);
      if (Number.isNaN(n)) throw new Error(`not a number: ${text}`);
      return n;
    };
    await expect(store.get('/v1/task/missing', decode)).rejects.toMatchObject({ type: 'ResourceNotFound' });
    await keys.namespace.put('/v1/task/bad').value('garbage');
    await expect(store.get('/v1/task/bad', decode)).rejects.toMatchObject({ type: 'InvalidRecord' });
  });

  it('creates all entries of a transaction or none', async () => {
    await store.create('/v1/task/b', 'existing');
    const entries = ['a', 'b', 'c'].map((name) => ({ key: `/v1/task/${name}`, value: 'new' }));
    expect(await store.createAll(entries)).toBe(false);
    expect(await keys.namespace.getAll().prefix('/v1/task/').strings()).toEqual({ '/v1/task/b': 'existing' });
    expect(await store.createAll(entries.filter((entry) => entry.key !== '/v1/task/b'))).toBe(true);
    expect(Object.keys(await keys.namespace.getAll().prefix('/v1/task/').strings())).toHaveLength(3);
  });

  it('lists a prefix in pages as one snapshot, at the revision of its first page', async () => {
    const count = 2500;
    const names = Array.from({ length: count }, (_, i) => `/v1/task/t-${String(i).padStart(5, '0')}`);
    for (let i = 0; i < count; i += 128) {
      expect(await store.createAll(names.slice(i, i + 128).map((key) => ({ key, value: `value of ${key}` })))).toBe(true);
    }
    // Another writer adds keys at the end of the range while the list pages through it.
    let listing = true;
    const concurrent: { key: string; revision: bigint }[] = [];
    const writer = (async () => {
      for (let n = 0; listing; n++) {
        const key = `/v1/task/z-${String(n).padStart(5, '0')}`;
        const res = await keys.namespace.put(key).value('late');
        concurrent.push({ key, revision: BigInt(res.header.revision) });
      }
    })();
    const { items, revision } = await store.list('/v1/task/');
    listing = false;
    await writer;

    const before = concurrent.filter((write) => write.revision <= BigInt(revision)).map((write) => write.key);
    expect(concurrent.some((write) => write.revision > BigInt(revision))).toBe(true);
    expect(items.map((item) => item.key)).toEqual([...names, ...before]);
    expect(items.every((item) => BigInt(item.modRevision) <= BigInt(revision))).toBe(true);
    expect(items.slice(0, count).every((item) => item.value === `value of ${item.key}`)).toBe(true);
  });

  it('lists more than one gRPC answer can carry (4 MiB)', async () => {
    const big = 'x'.repeat(64 * 1024);
    const names = Array.from({ length: 80 }, (_, i) => `/v1/desired/d-${String(i).padStart(2, '0')}`);
    for (const key of names) await keys.namespace.put(key).value(big);
    // 80 values of 64 KiB are 5 MiB: a single page of 100 keys would be refused by the gRPC client.
    const { items } = await store.list('/v1/desired/');
    expect(items.map((item) => item.key)).toEqual(names);
  });

  it('skips and logs records that fail to decode in a decoded list', async () => {
    const lines: string[] = [];
    const logger = pino(
      new Writable({
        write(chunk: Buffer, _encoding, callback) {
          lines.push(chunk.toString());
          callback();
        },
      }),
    );
    const logged = new EtcdStore(keys.namespace, { pageSize: 100, pageBytes: 1 << 20, logger });
    await keys.namespace.put('/v1/task/good').value('1');
    await keys.namespace.put('/v1/task/bad').value('garbage');
    const { items } = await logged.listDecoded('/v1/task/', (text) => {
      if (text !== '1') throw new Error('undecodable');
      return 1;
    });
    expect(items.map((item) => item.key)).toEqual(['/v1/task/good']);
    expect(lines.map((line) => JSON.parse(line) as { msg: string; key: string })).toEqual([
      expect.objectContaining({ msg: 'failed-to-decode-record', key: '/v1/task/bad' }),
    ]);
  });
});

describe('etcd failures', () => {
  it('reports an unreachable etcd as Unavailable', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    await new Promise((resolve) => server.close(resolve));
    if (address === null || typeof address === 'string') throw new Error('no port');
    const client = new Etcd3({ hosts: `http://127.0.0.1:${address.port}`, dialTimeout: 500 });
    try {
      const db = new EtcdDb(client, { logger: silentLogger });
      expect(await rejection(db.taskByGuid('t'))).toMatchObject({ type: 'Unavailable' });
    } finally {
      client.close();
    }
  });
});
