// One etcd watch per BBS (issue 15): the store's view watches `/v1/`, and the event hub, the task completion
// workers and the auctioneer follow the view rather than watching etcd themselves. On an etcd of this file's own
// (etcd counts watches per process, and compaction is etcd-wide): event subscribers and the leader's loops add no
// etcd watch, and when the view has to be loaded again because etcd compacted what its watch still had to send,
// subscribers that missed changes are told `compacted`, as a watch of their own would have told them.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Etcd3 } from 'etcd3';
import { CuttingProxy, eventually, newValidTask, SseClient, startEtcd, takeEvents, type EtcdProcess } from '@diego/test-support';
import { eventsUntilEnd, startEventsBbs, storeOn, subjectOf, type EventsBbs } from './event-harness';

let etcd: EtcdProcess;
let client: Etcd3;
const cleanups: (() => Promise<void> | void)[] = [];

beforeAll(async () => {
  etcd = await startEtcd();
  client = new Etcd3({ hosts: etcd.endpoint });
}, 30_000);

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

afterAll(async () => {
  client?.close();
  await etcd?.stop();
});

/** etcd's own count of open watchers and watch streams, from its metrics. */
async function etcdWatches(): Promise<{ watchers: number; streams: number }> {
  const metrics = await (await fetch(`${etcd.endpoint}/metrics`)).text();
  const gauge = (name: string): number => Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(metrics)?.[1] ?? NaN);
  return { watchers: gauge('etcd_debugging_mvcc_watcher_total'), streams: gauge('etcd_debugging_mvcc_watch_stream_total') };
}

async function started(bbs: Promise<EventsBbs>): Promise<EventsBbs> {
  const server = await bbs;
  cleanups.push(() => server.stop());
  await eventually(async () => server.server.view?.live, (live) => live === true);
  return server;
}

async function connect(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
  const stream = await SseClient.connect(url, headers);
  cleanups.push(() => stream.close());
  return stream;
}

/** An HTTP server that records the task guids of the completion callbacks it gets. */
async function callbackReceiver(): Promise<{ url: string; received: string[] }> {
  const received: string[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => {
      received.push(String((JSON.parse(body) as { task_guid?: unknown }).task_guid));
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/done`, received };
}

describe('EventStream_r0', () => {
  it("adds no etcd watch for its subscribers or for the leader's loops: they follow the view's", async () => {
    const before = await etcdWatches();
    const apiOnly = await started(startEventsBbs(client));
    // The view's watch, on its own stream (opened once the view is loaded).
    const viewOnly = await eventually(etcdWatches, (now) => now.watchers > before.watchers);
    expect(viewOnly).toEqual({ watchers: before.watchers + 1, streams: before.streams + 1 });
    const streams = await Promise.all(Array.from({ length: 5 }, () => connect(`${apiOnly.url}/v1/events`)));
    expect(apiOnly.server.events).toEqual({ subscribers: 5, watches: 0 });
    expect(await etcdWatches()).toEqual(viewOnly);
    await apiOnly.client.desireTask('seen-by-all', 'some-domain', newValidTask('seen-by-all').definition);
    const ids = await Promise.all(streams.map(async (stream) => (await stream.next()).id));
    expect(new Set(ids).size).toBe(1);
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    await eventually(etcdWatches, (now) => now.watchers === before.watchers && now.streams === before.streams);

    const leader = await started(startEventsBbs(client, {
      leader: { advertiseUrl: 'http://bbs.example:8889', electionTtlSeconds: 2, convergeRepeatIntervalMs: 3_600_000 },
    }));
    await eventually(async () => leader.server.isLeader(), (leading) => leading);
    // Beside the view's stream, only etcd3's one shared stream for its watches of single keys and of the cells.
    const leading = await eventually(etcdWatches, (now) => now.streams >= before.streams + 2);
    expect(leading.streams).toBe(before.streams + 2);
    await Promise.all(Array.from({ length: 5 }, () => connect(`${leader.url}/v1/events`)));
    expect(leader.server.events).toEqual({ subscribers: 5, watches: 0 });

    // The completion workers see a task complete through the view: with no cell to run it, the auctioneer fails
    // it, and its callback comes.
    const callbacks = await callbackReceiver();
    const task = newValidTask('called-back', { completion_callback_url: callbacks.url });
    await leader.client.desireTask(task.task_guid, task.domain, task.definition);
    await eventually(async () => callbacks.received, (received) => received.includes('called-back'), { timeoutMs: 30_000 });
    expect(await etcdWatches()).toEqual(leading);
  }, 60_000);

  it('tells a subscriber `compacted` when the view is loaded again after etcd compacted what it had not yet seen', async () => {
    const proxy = new CuttingProxy(new URL(etcd.endpoint));
    const viaProxy = new Etcd3({ hosts: `http://127.0.0.1:${await proxy.listen()}` });
    cleanups.push(async () => {
      viaProxy.close();
      await proxy.stop();
    });
    const bbs = await started(startEventsBbs(viaProxy));
    const store = storeOn(client);
    const desire = async (guid: string): Promise<void> => {
      await store.desireTask(newValidTask(guid).definition, guid, 'some-domain');
    };
    const events = await bbs.client.subscribeToEvents();
    cleanups.push(() => events.close());
    await desire('seen');
    expect((await takeEvents(events, 1)).map(subjectOf)).toEqual(['task:seen']);

    // The BBS hears nothing from etcd while changes are made and then compacted away; then its connection breaks.
    proxy.setForwardAnswers(false);
    await desire('missed-1');
    await desire('missed-2');
    const compactRevision = (await client.get('/v1/').exec()).header.revision;
    await client.kv.compact({ revision: compactRevision, physical: true });
    proxy.cut();
    proxy.setForwardAnswers(true);

    // Its view's watch is told the history is gone: the view is listed again, and the subscriber is told.
    expect(await eventsUntilEnd(events, 20_000)).toEqual([]);
    expect(events.compactRevision).toBe(compactRevision);
    expect(bbs.server.view?.loads).toBe(2);
    // A subscriber from now is served as before.
    const after = await bbs.client.subscribeToEvents();
    cleanups.push(() => after.close());
    await desire('after');
    expect((await takeEvents(after, 1)).map(subjectOf)).toEqual(['task:after']);
  }, 60_000);
});
