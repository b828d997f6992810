// The BBS's etcd connection breaks under an open event stream (a TCP proxy between the BBS and the test etcd cuts
// it): the BBS watches again from the revision after the last one it delivered, so the stream goes on with every
// change made meanwhile, none twice.
import { Etcd3 } from 'etcd3';
import { CuttingProxy, newValidTask, takeEvents, TEST_ETCD_ENV, testKeySpace, type TestKeySpace } from '@diego/test-support';
import { startEventsBbs, storeOn, subjectOf, type EventsBbs } from './event-harness';

let keys: TestKeySpace;
let proxy: CuttingProxy;
let viaProxy: Etcd3;
let bbs: EventsBbs;

beforeEach(async () => {
  keys = testKeySpace();
  proxy = new CuttingProxy(new URL(process.env[TEST_ETCD_ENV] ?? ''));
  viaProxy = new Etcd3({ hosts: `http://127.0.0.1:${await proxy.listen()}` });
  bbs = await startEventsBbs(viaProxy.namespace(keys.prefix));
});

afterEach(async () => {
  await bbs.stop();
  viaProxy.close();
  await proxy.stop();
  await keys.cleanup();
});

describe('EventStream_r0', () => {
  it('goes on without a gap or a repeat when the BBS loses its etcd connection and gets it back', async () => {
    // Written straight to etcd, past the proxy, so that the writes go on while the BBS is cut off.
    const store = storeOn(keys.namespace);
    const desire = async (guid: string): Promise<void> => {
      await store.desireTask(newValidTask(guid).definition, guid, 'some-domain');
    };
    const events = await bbs.client.subscribeToEvents();
    try {
      await desire('t-0');
      expect((await takeEvents(events, 1)).map(subjectOf)).toEqual(['task:t-0']);

      proxy.cut();
      for (let i = 1; i <= 5; i++) await desire(`t-${i}`);
      proxy.cut();
      for (let i = 6; i <= 8; i++) await desire(`t-${i}`);

      const received = await takeEvents(events, 8, 20_000);
      expect(received.map(subjectOf)).toEqual(Array.from({ length: 8 }, (_, i) => `task:t-${i + 1}`));
      expect(bbs.server.events).toEqual({ subscribers: 1, watches: 0 });
    } finally {
      events.close();
    }
  }, 30_000);
});
