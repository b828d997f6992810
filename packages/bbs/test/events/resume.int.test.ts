// Resuming the BBS event stream (README "Event stream"): a client that comes back with the last id it got
// (Last-Event-ID, or ?last_event_id=) gets every event after it, none twice, whether the events are still in the
// hub's history, or only in etcd, or were served by another BBS.
import { parseEventId, type EventSubscription } from '@diego/bbs-client';
import { eventually, newValidTask, SseClient, takeEvents, testKeySpace, type TestKeySpace } from '@diego/test-support';
import { describeEvent, eventsUntilEnd, inRevisionOrder, startEventsBbs, subjectOf, type EventsBbs } from './event-harness';

let keys: TestKeySpace;
const started: EventsBbs[] = [];
const opened: { close(): void }[] = [];

beforeEach(() => {
  keys = testKeySpace();
});

afterEach(async () => {
  for (const stream of opened.splice(0)) stream.close();
  for (const bbs of started.splice(0)) await bbs.stop();
  await keys.cleanup();
});

async function bbsWith(options: Parameters<typeof startEventsBbs>[1] = {}): Promise<EventsBbs> {
  const bbs = await startEventsBbs(keys.namespace, options);
  started.push(bbs);
  return bbs;
}

async function subscribe(bbs: EventsBbs, afterRevision?: string): Promise<EventSubscription> {
  const subscription = await bbs.client.subscribeToEvents(afterRevision === undefined ? {} : { afterRevision });
  opened.push(subscription);
  return subscription;
}

async function desireTasks(bbs: EventsBbs, guids: readonly string[]): Promise<void> {
  for (const guid of guids) await bbs.client.desireTask(guid, 'some-domain', newValidTask(guid).definition);
}

function names(prefix: string, from: number, to: number): string[] {
  return Array.from({ length: to - from }, (_, i) => `${prefix}-${from + i}`);
}

describe('EventStream_r0', () => {
  it('resumes after the last id a client got: every change made while it was away, then live ones, none twice', async () => {
    const bbs = await bbsWith();
    const first = await subscribe(bbs);
    await desireTasks(bbs, ['t-0', 't-1']);
    const seen = await takeEvents(first, 2);
    const lastId = seen[1]?.revision ?? '';
    first.close();
    // Nobody subscribes now: the hub let go of its etcd watch.
    await eventually(async () => bbs.server.events, (counts) => counts.subscribers === 0 && counts.watches === 0);

    await desireTasks(bbs, names('t', 2, 6));
    const resumed = await subscribe(bbs, lastId);
    await desireTasks(bbs, ['t-6']);
    const received = await takeEvents(resumed, 5);
    expect(received.map(subjectOf)).toEqual(names('task:t', 2, 7));
    expect(received.every((event) => BigInt(event.revision) > BigInt(lastId))).toBe(true);
    expect(inRevisionOrder(received)).toBe(true);
  });

  it("resumes from the hub's recent events while another subscriber keeps its watch open", async () => {
    const bbs = await bbsWith();
    const keeper = await subscribe(bbs);
    const first = await subscribe(bbs);
    await desireTasks(bbs, ['t-0']);
    const [last] = await takeEvents(first, 1);
    first.close();
    await desireTasks(bbs, names('t', 1, 4));
    await takeEvents(keeper, 4);

    const resumed = await subscribe(bbs, last?.revision);
    // Served from the hub's history: no watch of its own (and the hub follows the store's view: none either).
    expect(bbs.server.events).toEqual({ subscribers: 2, watches: 0 });
    expect((await takeEvents(resumed, 3)).map(subjectOf)).toEqual(names('task:t', 1, 4));
  });

  it('catches up from etcd on a watch of its own when the hub no longer holds the events, then joins the hub', async () => {
    const bbs = await bbsWith({ eventHistorySize: 4 });
    const keeper = await subscribe(bbs);
    await desireTasks(bbs, ['t-0']);
    const [last] = await takeEvents(keeper, 1);
    await desireTasks(bbs, names('t', 1, 20));
    await takeEvents(keeper, 19);

    const resumed = await subscribe(bbs, last?.revision);
    expect(bbs.server.events).toEqual({ subscribers: 2, watches: 1 });
    const writing = desireTasks(bbs, names('t', 20, 40));
    const received = await takeEvents(resumed, 39);
    await writing;
    expect(received.map(subjectOf)).toEqual(names('task:t', 1, 40));
    expect(inRevisionOrder(received)).toBe(true);
    // Caught up: its own watch is gone, the hub (fed by the store's view) serves it.
    await eventually(async () => bbs.server.events, (counts) => counts.watches === 0);
    expect((await takeEvents(keeper, 20)).map(describeEvent)).toEqual(received.slice(19).map(describeEvent));
  });

  it('resumes with ?last_event_id= (a browser cannot set the header), and the header wins over it', async () => {
    const bbs = await bbsWith();
    const first = await subscribe(bbs);
    await desireTasks(bbs, ['t-0', 't-1']);
    const [zero, one] = await takeEvents(first, 2);

    const byQuery = await SseClient.connect(`${bbs.url}/v1/events?last_event_id=${zero?.revision ?? ''}`);
    opened.push(byQuery);
    expect(await byQuery.next()).toMatchObject({ id: one?.id, event: 'task_created' });

    const byHeader = await SseClient.connect(`${bbs.url}/v1/events?last_event_id=${zero?.revision ?? ''}`, {
      'Last-Event-ID': one?.revision ?? '',
    });
    opened.push(byHeader);
    await desireTasks(bbs, ['t-2']);
    const next = await byHeader.next();
    expect(next.event).toBe('task_created');
    expect(parseEventId(next.id).revision).toBeGreaterThan(BigInt(one?.revision ?? ''));
  });

  it('continues on another BBS from where a stopped BBS left off', async () => {
    const stopping = await bbsWith();
    const other = await bbsWith();
    const first = await subscribe(stopping);
    await desireTasks(other, names('t', 0, 3));
    const seen = await takeEvents(first, 3);
    await stopping.server.stop();
    // The stopping BBS ended the stream cleanly, between revisions.
    expect(await eventsUntilEnd(first)).toEqual([]);

    await desireTasks(other, names('t', 3, 6));
    const resumed = await subscribe(other, seen[2]?.revision);
    expect((await takeEvents(resumed, 3)).map(subjectOf)).toEqual(names('task:t', 3, 6));
  });
});
