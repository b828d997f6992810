// watchBbsEvents, how the leader's auctioneer and completion workers follow the store: every change after it
// started, in order and once, even when the etcd connection breaks in between.
import { Etcd3 } from 'etcd3';
import pino from 'pino';
import type { BbsEvent } from '@diego/bbs-client';
import { CuttingProxy, eventually, newValidTask, TEST_ETCD_ENV, testKeySpace, type TestKeySpace } from '@diego/test-support';
import { watchBbsEvents, type BbsEventWatch } from '../../src/events/watch-events';
import { storeOn } from './event-harness';

let keys: TestKeySpace;
let proxy: CuttingProxy;
let viaProxy: Etcd3;
let watch: BbsEventWatch | null;

beforeEach(async () => {
  keys = testKeySpace();
  proxy = new CuttingProxy(new URL(process.env[TEST_ETCD_ENV] ?? ''));
  viaProxy = new Etcd3({ hosts: `http://127.0.0.1:${await proxy.listen()}` });
  watch = null;
});

afterEach(async () => {
  await watch?.cancel();
  viaProxy.close();
  await proxy.stop();
  await keys.cleanup();
});

function taskGuidOf(event: BbsEvent): string {
  return event.type === 'task_created' ? event.task.task_guid : `${event.type}?`;
}

describe('watchBbsEvents', () => {
  it('delivers every change after it started, once and in order, across broken etcd connections', async () => {
    const store = storeOn(keys.namespace); // writes go straight to etcd, past the proxy
    await store.desireTask(newValidTask('before').definition, 'before', 'd');
    const seen: BbsEvent[] = [];
    const errors: Error[] = [];
    watch = await watchBbsEvents(viaProxy.namespace(keys.prefix), pino({ level: 'silent' }), (event) => seen.push(event), (err) => errors.push(err));

    const expected: string[] = [];
    for (let round = 0; round < 3; round++) {
      proxy.cut();
      for (let i = 0; i < 5; i++) {
        const guid = `t-${round}-${i}`;
        expected.push(guid);
        await store.desireTask(newValidTask(guid).definition, guid, 'd');
      }
    }
    await eventually(async () => seen.length, (count) => count >= expected.length, { timeoutMs: 15_000 });
    expect(seen.map(taskGuidOf)).toEqual(expected);
    const revisions = seen.map((event) => BigInt(event.revision));
    expect(revisions).toEqual([...revisions].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
    expect(errors).toEqual([]);
  });
});
