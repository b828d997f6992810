// On an etcd of this file's own (compaction is etcd-wide, and etcd's watch counts are per process): a client that
// resumes from history etcd has compacted away is told so (`event: compacted` and the compact revision, then the
// end); and connecting and disconnecting, again and again, leaves the BBS and etcd holding what they held before.
import { Etcd3 } from 'etcd3';
import { eventually, newValidTask, SseClient, startEtcd, takeEvents, type EtcdProcess } from '@diego/test-support';
import { inParallel, startEventsBbs, subjectOf, type EventsBbs } from './event-harness';

let etcd: EtcdProcess;
let client: Etcd3;
let bbs: EventsBbs;

beforeAll(async () => {
  etcd = await startEtcd();
  client = new Etcd3({ hosts: etcd.endpoint });
  bbs = await startEventsBbs(client);
}, 30_000);

afterAll(async () => {
  await bbs?.stop();
  client?.close();
  await etcd?.stop();
});

async function desireTask(guid: string): Promise<void> {
  await bbs.client.desireTask(guid, 'some-domain', newValidTask(guid).definition);
}

/** etcd's own count of open watchers and watch streams, from its metrics. */
async function etcdWatches(): Promise<{ watchers: number; streams: number }> {
  const metrics = await (await fetch(`${etcd.endpoint}/metrics`)).text();
  const gauge = (name: string): number => Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(metrics)?.[1] ?? NaN);
  return { watchers: gauge('etcd_debugging_mvcc_watcher_total'), streams: gauge('etcd_debugging_mvcc_watch_stream_total') };
}

describe('EventStream_r0', () => {
  it('ends with `event: compacted` and the compact revision when etcd no longer has the history after the id', async () => {
    const first = await bbs.client.subscribeToEvents();
    await desireTask('before-compaction');
    const [seen] = await takeEvents(first, 1);
    first.close();
    await desireTask('missed-1');
    await desireTask('missed-2');
    const compactRevision = (await client.get('/v1/').exec()).header.revision;
    await client.kv.compact({ revision: compactRevision, physical: true });

    // On the wire: the documented event, then the end of the stream.
    const raw = await SseClient.connect(`${bbs.url}/v1/events`, { 'Last-Event-ID': seen?.revision ?? '' });
    expect(await raw.rest()).toEqual([{ id: '', event: 'compacted', dataLines: [compactRevision] }]);

    // Through the client: the stream ends, saying where etcd's history starts.
    const resumed = await bbs.client.subscribeToEvents({ afterRevision: seen?.revision ?? '' });
    await expect(resumed.next()).resolves.toBeNull();
    expect(resumed.compactRevision).toBe(compactRevision);

    // The change right after the id is still in etcd, but not the value it changed: that is compacted too.
    const justBefore = await bbs.client.subscribeToEvents({ afterRevision: (BigInt(compactRevision) - 1n).toString() });
    await expect(justBefore.next()).resolves.toBeNull();
    expect(justBefore.compactRevision).toBe(compactRevision);

    // What the client does then: list, and follow from the list's revision.
    const listed = await bbs.client.listTasks();
    expect(listed.items.map((task) => task.task_guid).sort()).toEqual(['before-compaction', 'missed-1', 'missed-2']);
    expect(listed.revision).toBe(compactRevision);
    const following = await bbs.client.subscribeToEvents({ afterRevision: listed.revision });
    try {
      await desireTask('after-the-list');
      expect((await takeEvents(following, 1)).map(subjectOf)).toEqual(['task:after-the-list']);
    } finally {
      following.close();
    }
    await eventually(async () => bbs.server.events, (counts) => counts.subscribers === 0 && counts.watches === 0);
  });

  it('goes back to the subscribers and watches it started with after 500 connects and disconnects', async () => {
    await desireTask('some-task');
    const oldRevision = (await client.get('/v1/').exec()).header.revision;
    const atStart = { hub: bbs.server.events, etcd: await etcdWatches() };
    expect(atStart.hub).toEqual({ subscribers: 0, watches: 0 });
    for (let i = 0; i < 5; i++) await desireTask(`later-${i}`);

    // While ten are connected, they share the store's one watch (its view's): the hub opens none.
    const ten = await Promise.all(Array.from({ length: 10 }, () => SseClient.connect(`${bbs.url}/v1/events`)));
    expect(bbs.server.events).toEqual({ subscribers: 10, watches: 0 });
    for (const stream of ten) stream.close();

    // Every fifth one resumes from an older revision, which takes a watch of its own for a while.
    await inParallel(Array.from({ length: 500 }, (_, i) => i), 10, async (i) => {
      const stream = await SseClient.connect(`${bbs.url}/v1/events`, i % 5 === 0 ? { 'Last-Event-ID': oldRevision } : {});
      expect(stream.response.statusCode).toBe(200);
      stream.close();
    });

    await eventually(async () => bbs.server.events, (counts) => counts.subscribers === 0 && counts.watches === 0);
    await eventually(etcdWatches, (now) => now.watchers === atStart.etcd.watchers && now.streams === atStart.etcd.streams);
    // And the stream still works.
    const after = await bbs.client.subscribeToEvents();
    try {
      await desireTask('after-500');
      expect((await takeEvents(after, 1)).map(subjectOf)).toEqual(['task:after-500']);
    } finally {
      after.close();
    }
  }, 60_000);
});
