// Clients of the receptor's event streams that follow from now share one BBS event stream: the BBS holds one
// subscription per receptor, every client still gets every event once and in order with the BBS's ids and befores,
// and a client that stops reading is ended alone (after its own buffer, 8 events here, so that the kernel's socket
// buffers fill first) while the others lose nothing.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { HttpBbsClient, type BbsEvent } from '@diego/bbs-client';
import { startBbsServer, type BbsServer } from '@diego/bbs';
import { parseJson } from '@diego/models';
import { eventually, newValidDesiredLrp, newValidTask, SseClient, testKeySpace, type SseEvent, type TestKeySpace } from '@diego/test-support';
import { createReceptorApp } from '../src';
import { EventStreamStats } from '../src/handlers/event-stream-handler';
import { asObject } from './support/http';

let keys: TestKeySpace;
let bbs: BbsServer;
let bbsClient: HttpBbsClient;
let receptor: Server;
let receptorUrl: string;
const stats = new EventStreamStats();
const clients: SseClient[] = [];

beforeAll(async () => {
  keys = testKeySpace();
  bbs = await startBbsServer({ etcd: keys.namespace, listenAddress: '127.0.0.1:0', logger: pino({ level: 'silent' }) });
  bbsClient = new HttpBbsClient([`http://${bbs.address}`]);
  const app = createReceptorApp({
    bbs: new HttpBbsClient([`http://${bbs.address}`]),
    username: '',
    password: '',
    corsEnabled: false,
    logger: pino({ level: 'silent' }),
    events: { bufferSize: 8, stats },
  });
  receptor = createServer(app);
  await new Promise<void>((resolve) => receptor.listen(0, '127.0.0.1', resolve));
  receptorUrl = `http://127.0.0.1:${(receptor.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const client of clients.splice(0)) client.close();
  receptor?.closeAllConnections();
  await new Promise<void>((resolve) => (receptor === undefined ? resolve() : receptor.close(() => resolve())));
  await bbs?.stop();
  bbsClient?.close();
  await keys?.cleanup();
});

async function connect(path = '/v1/events'): Promise<SseClient> {
  const client = await SseClient.connect(`${receptorUrl}${path}`);
  clients.push(client);
  return client;
}

/** An event as a client can compare it: id, name and its data. */
function described(event: SseEvent): string {
  return `${event.id} ${event.event} ${event.dataLines.join('')}`;
}

/** A desired LRP change's annotations, before and after. */
function annotations(event: SseEvent): { before: string; after: string } {
  const data = asObject(parseJson(event.dataLines[0] ?? ''));
  return { before: String(asObject(data.desired_lrp_before).annotation), after: String(asObject(data.desired_lrp_after).annotation) };
}

/** Every event `client` has been sent, until it has `count` of them. */
async function received(client: SseClient, count: number): Promise<SseEvent[]> {
  const events: SseEvent[] = [];
  while (events.length < count) events.push(await client.next());
  return events;
}

describe('EventStream', () => {
  it('gives clients that follow from now one BBS subscription between them, each event once, in order, as the BBS sends it', async () => {
    const direct = await bbsClient.subscribeToEvents();
    const first = await connect();
    const second = await connect();
    const tasks = await connect('/v1/task_events');
    // Three receptor clients, one BBS subscription; the hub follows the store's view (no watch of its own).
    expect(bbs.events).toEqual({ subscribers: 2, watches: 0 });

    await bbsClient.desireLRP(newValidDesiredLrp('shared', { instances: 0 }));
    for (let i = 1; i <= 5; i++) await bbsClient.updateDesiredLRP('shared', { instances: null, routes: null, annotation: `a${i}` });
    await bbsClient.desireTask('shared-task', 'some-domain', newValidTask('shared-task').definition);

    const fromBbs: BbsEvent[] = [];
    while (fromBbs.length < 7) {
      const event = await direct.next();
      if (event !== null) fromBbs.push(event);
    }
    direct.close();
    const lrpIds = fromBbs.filter((event) => event.type.startsWith('desired')).map((event) => event.id);
    const [firstEvents, secondEvents] = [await received(first, 6), await received(second, 6)];
    expect(firstEvents.map((event) => event.id)).toEqual(lrpIds);
    expect(secondEvents.map(described)).toEqual(firstEvents.map(described));
    // Each change's before is the previous change's after.
    const created = String(asObject(asObject(parseJson(firstEvents[0]?.dataLines[0] ?? '')).desired_lrp).annotation);
    const changes = firstEvents.slice(1).map(annotations);
    expect(changes).toEqual(Array.from({ length: 5 }, (_, i) => ({ before: i === 0 ? created : `a${i}`, after: `a${i + 1}` })));
    const [taskEvent] = await received(tasks, 1);
    expect(taskEvent?.id).toBe(fromBbs.find((event) => event.type === 'task_created')?.id);

    for (const client of [first, second, tasks]) client.close();
    await eventually(async () => bbs.events, (counts) => counts.subscribers === 0);
  });

  it('ends a client that stops reading, alone: the others go on with every event, on the same BBS subscription', async () => {
    await bbsClient.desireLRP(newValidDesiredLrp('web', { instances: 0 }));
    const fast = [await connect(), await connect()];
    const slow = await connect();
    slow.pause();
    expect(bbs.events.subscribers).toBe(1);
    const fastEvents: SseEvent[][] = [[], []];
    const reading = fast.map(async (client, i) => {
      for (;;) {
        const event = await client.next(() => true, 60_000).catch(() => null);
        if (event === null) return;
        fastEvents[i]?.push(event);
      }
    });

    // Big changes (10 KiB annotations) until the slow client's socket buffers and then its 8 events are full.
    // Each change waits until both fast clients have it, so on a loaded machine too they never fall behind.
    let updates = 0;
    const update = async (annotation: string): Promise<void> => {
      updates += 1;
      await bbsClient.updateDesiredLRP('web', { instances: null, routes: null, annotation });
      const expected = updates;
      await eventually(async () => Math.min(...fastEvents.map((events) => events.length)), (count) => count >= expected, { timeoutMs: 10_000, intervalMs: 1 });
    };
    while (stats.droppedSlow === 0) {
      if (updates === 2000) throw new Error('the slow client was never dropped');
      await update(`${updates + 1}`.padEnd(10 * 1024, '.'));
    }
    for (let i = 0; i < 3; i++) await update(`${updates + 1}`);

    const expected = Array.from({ length: updates }, (_, i) => `${i + 1}`);
    for (const events of fastEvents) expect(events.map((event) => annotations(event).after.replace(/\.+$/, ''))).toEqual(expected);
    expect(fastEvents[1]?.map((event) => event.id)).toEqual(fastEvents[0]?.map((event) => event.id));
    // Still one BBS subscription, for the two that keep up.
    expect(bbs.events.subscribers).toBe(1);

    // The slow one gets what it had, in order and without a gap, then the end of its stream.
    slow.resume();
    const slowEvents = await slow.rest(30_000);
    expect(slowEvents.length).toBeLessThan(updates - 3);
    expect(slowEvents.map((event) => event.id)).toEqual(fastEvents[0]?.slice(0, slowEvents.length).map((event) => event.id));
    for (const client of fast) client.close();
    await Promise.all(reading);
  }, 90_000);
});
