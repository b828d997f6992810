// A subscriber that stops reading is dropped once its buffer fills (spec/bbs.md §9.3): it gets what it had
// buffered, then the end of its stream; memory never grows without bound, and subscribers that keep up lose
// nothing. The buffer is made small here (8 events) so that the kernel's socket buffers fill first.
import type { BbsEvent, EventSubscription } from '@diego/bbs-client';
import { eventually, newValidDesiredLrp, SseClient, testKeySpace, type TestKeySpace } from '@diego/test-support';
import { startEventsBbs, type EventsBbs } from './event-harness';

let keys: TestKeySpace;
let bbs: EventsBbs;

beforeEach(async () => {
  keys = testKeySpace();
  bbs = await startEventsBbs(keys.namespace, { eventBufferSize: 8 });
});

afterEach(async () => {
  await bbs.stop();
  await keys.cleanup();
});

/** Reads a subscription as fast as events come, until it ends. */
function readAll(subscription: EventSubscription): { events: BbsEvent[]; done: Promise<void> } {
  const events: BbsEvent[] = [];
  const done = (async () => {
    for (let event = await subscription.next(); event !== null; event = await subscription.next()) events.push(event);
  })();
  return { events, done };
}

describe('EventStream_r0', () => {
  it('drops a subscriber that stops reading, with an end of stream, while one that keeps up gets everything', async () => {
    await bbs.client.desireLRP(newValidDesiredLrp('web', { instances: 0 }));
    const fast = await bbs.client.subscribeToEvents();
    const fastReader = readAll(fast);
    const slow = await SseClient.connect(`${bbs.url}/v1/events`);
    slow.pause();
    expect(bbs.server.events.subscribers).toBe(2);

    // Big changes (10 KiB annotations) until the slow client's socket buffers and then its 8 events are full.
    // Each change waits until the fast subscriber has it, so on a loaded machine too it never falls behind.
    let updates = 0;
    const update = async (annotation: string): Promise<void> => {
      updates += 1;
      await bbs.client.updateDesiredLRP('web', { instances: null, routes: null, annotation });
      const expected = updates;
      await eventually(async () => fastReader.events.length, (count) => count >= expected, { timeoutMs: 10_000, intervalMs: 1 });
    };
    while (bbs.server.events.subscribers === 2) {
      if (updates === 2000) throw new Error('the slow subscriber was never dropped');
      await update(`${updates + 1}`.padEnd(10 * 1024, '.'));
    }
    // A few more, which only the fast one gets.
    for (let i = 0; i < 3; i++) await update(`${updates + 1}`);

    await eventually(async () => fastReader.events.length, (count) => count === updates, { timeoutMs: 10_000 });
    const annotations = fastReader.events.map((event) => (event.type === 'desired_lrp_changed' ? event.after.annotation.replace(/\.+$/, '') : ''));
    expect(annotations).toEqual(Array.from({ length: updates }, (_, i) => `${i + 1}`));

    // The slow one gets what it had, in order and without a gap, then the end of its stream.
    slow.resume();
    const slowEvents = await slow.rest();
    expect(slowEvents.length).toBeGreaterThan(0);
    expect(slowEvents.length).toBeLessThan(updates - 3);
    expect(slowEvents.map((event) => event.id)).toEqual(fastReader.events.slice(0, slowEvents.length).map((event) => event.id));
    expect(bbs.server.events).toEqual({ subscribers: 1, watches: 0 });
    fast.close();
    await fastReader.done;
  }, 60_000);
});
