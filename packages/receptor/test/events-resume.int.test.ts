// The receptor's event stream across reconnects and instances (README "Event stream"): two BBS and two receptors
// on one store, on an etcd of this file's own (compaction is etcd-wide). Ids are etcd revisions; a client resumes
// with Last-Event-ID (or ?last_event_id=), the receptor passes it to the BBS; list responses say the revision
// they were read at (X-Diego-Revision) so that a client can list, then follow, and miss or repeat nothing.
import { Etcd3 } from 'etcd3';
import pino from 'pino';
import { startBbsServer, type BbsServer } from '@diego/bbs';
import type { RunningServer } from '@diego/server-support';
import { parseJson, stringifyJson } from '@diego/models';
import { eventually, SseClient, startEtcd, type EtcdProcess, type SseEvent } from '@diego/test-support';
import { startReceptor } from '../src';
import { asObject, asObjects, desiredLrpRequest, eventIdsIncrease, uniqueGuid, type JsonObject } from './support/http';

const silent = pino({ level: 'silent' });

let etcd: EtcdProcess;
let client: Etcd3;
let bbses: BbsServer[];
let receptors: RunningServer[];
const opened: SseClient[] = [];

beforeAll(async () => {
  etcd = await startEtcd();
  client = new Etcd3({ hosts: etcd.endpoint });
  bbses = [];
  receptors = [];
  for (let i = 0; i < 2; i++) {
    const bbs = await startBbsServer({ etcd: client, listenAddress: '127.0.0.1:0', logger: silent });
    bbses.push(bbs);
    receptors.push(
      await startReceptor(
        {
          address: '127.0.0.1:0',
          bbsAddress: [`http://${bbs.address}`],
          username: '',
          password: '',
          corsEnabled: false,
          logLevel: 'info',
          debugAddress: null,
          eventHeartbeatIntervalMs: 100,
        },
        { logger: silent },
      ),
    );
  }
}, 30_000);

afterEach(() => {
  for (const stream of opened.splice(0)) stream.close();
});

afterAll(async () => {
  for (const receptor of receptors ?? []) await receptor.stop();
  for (const bbs of bbses ?? []) await bbs.stop();
  client?.close();
  await etcd?.stop();
});

function receptorUrl(i = 0): string {
  return `http://${receptors[i]?.address ?? ''}`;
}

async function connect(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
  const stream = await SseClient.connect(url, headers);
  opened.push(stream);
  return stream;
}

async function send(method: string, path: string, body?: JsonObject, i = 0): Promise<Response> {
  const response = await fetch(`${receptorUrl(i)}${path}`, {
    method,
    headers: { 'Content-Type': 'application/json' },
    ...(body === undefined ? {} : { body: stringifyJson(body) }),
  });
  if (response.status >= 300) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
  return response;
}

async function desire(guid: string, instances = 1, i = 0): Promise<void> {
  await send('POST', '/v1/desired_lrps', desiredLrpRequest(guid, { instances, domain: 'tests' }), i);
}

async function annotate(guid: string, annotation: string, i = 0): Promise<void> {
  await send('PUT', `/v1/desired_lrps/${guid}`, { annotation }, i);
}

/** The event's one `data:` line, parsed. */
function payload(event: SseEvent): JsonObject {
  expect(event.dataLines).toHaveLength(1);
  return asObject(parseJson(event.dataLines[0] ?? ''));
}

/** `type guid [annotation]` of a desired LRP event, to compare sequences in one assertion. */
function desiredSummary(event: SseEvent): string {
  const data = payload(event);
  const lrp = asObject(data.desired_lrp ?? data.desired_lrp_after);
  return `${event.event} ${String(lrp.process_guid)} ${String(lrp.annotation)}`;
}

async function nextEvents(stream: SseClient, count: number, matches: (event: SseEvent) => boolean = () => true): Promise<SseEvent[]> {
  const events: SseEvent[] = [];
  while (events.length < count) events.push(await stream.next(matches));
  return events;
}

const aboutDesired = (event: SseEvent): boolean => event.event.startsWith('desired_lrp_');

describe('EventStream', () => {
  it('shows a change made through one receptor on the streams of both receptors, each on its own BBS', async () => {
    const first = await connect(`${receptorUrl(0)}/v1/events`);
    const second = await connect(`${receptorUrl(1)}/v1/events`);
    const guid = uniqueGuid('both');
    await desire(guid, 1, 0);
    await annotate(guid, 'from-the-second', 1);

    const seenFirst = await nextEvents(first, 3);
    const seenSecond = await nextEvents(second, 3);
    expect(seenFirst).toEqual(seenSecond);
    expect(seenFirst.map((event) => event.event)).toEqual(['desired_lrp_created', 'actual_lrp_created', 'desired_lrp_changed']);
    // One transaction wrote the desired LRP and its instance: one revision, two places in it.
    const [revision] = (seenFirst[0]?.id ?? '').split('.');
    expect([seenFirst[0]?.id, seenFirst[1]?.id]).toEqual([`${revision}.0`, `${revision}.1`]);
  });

  it('resumes after Last-Event-ID, through either receptor, with every change made meanwhile and none twice', async () => {
    const guid = uniqueGuid('resume');
    const first = await connect(`${receptorUrl(0)}/v1/events`);
    await desire(guid, 0);
    await annotate(guid, 'a1');
    const seen = await nextEvents(first, 2, aboutDesired);
    first.close();

    for (const annotation of ['a2', 'a3', 'a4']) await annotate(guid, annotation);
    const resumed = await connect(`${receptorUrl(1)}/v1/events`, { 'Last-Event-ID': seen[1]?.id ?? '' });
    await annotate(guid, 'a5');
    const received = await nextEvents(resumed, 4, aboutDesired);
    expect(received.map(desiredSummary)).toEqual(['a2', 'a3', 'a4', 'a5'].map((a) => `desired_lrp_changed ${guid} ${a}`));
    expect(eventIdsIncrease(received.map((event) => event.id), seen[1]?.id)).toBe(true);
  });

  it('resumes from an id in the middle of a revision, through the other receptor, with the rest of it once', async () => {
    const guid = uniqueGuid('mid');
    const first = await connect(`${receptorUrl(0)}/v1/events`);
    // One transaction: the desired LRP and its three instances, four events of one revision.
    await desire(guid, 3);
    const revisionEvents = await nextEvents(first, 4);
    first.close();
    await annotate(guid, 'after the cut');

    const resumed = await connect(`${receptorUrl(1)}/v1/events`, { 'Last-Event-ID': revisionEvents[1]?.id ?? '' });
    expect(await nextEvents(resumed, 2)).toEqual(revisionEvents.slice(2));
    expect(desiredSummary(await resumed.next())).toBe(`desired_lrp_changed ${guid} after the cut`);
    // Nothing comes twice: the next event is a change made only now.
    await annotate(guid, 'marker');
    expect(desiredSummary(await resumed.next())).toBe(`desired_lrp_changed ${guid} marker`);
  });

  it('resumes with ?last_event_id= as a browser does on its first connection', async () => {
    const guid = uniqueGuid('query');
    const first = await connect(`${receptorUrl(0)}/v1/events`);
    await desire(guid, 0);
    const [created] = await nextEvents(first, 1, aboutDesired);
    await annotate(guid, 'b1');
    const resumed = await connect(`${receptorUrl(0)}/v1/events?last_event_id=${created?.id ?? ''}`);
    expect((await nextEvents(resumed, 1, aboutDesired)).map(desiredSummary)).toEqual([`desired_lrp_changed ${guid} b1`]);
  });

  it('refuses a Last-Event-ID that is no etcd revision: 400 InvalidRequest', async () => {
    const response = await fetch(`${receptorUrl(0)}/v1/events`, { headers: { 'Last-Event-ID': 'yesterday' } });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ name: 'InvalidRequest', message: 'invalid event id "yesterday": expected an event id or an etcd revision' });
  });

  it('writes a heartbeat comment on an idle stream, every interval', async () => {
    const stream = await connect(`${receptorUrl(0)}/v1/events`);
    await expect(stream.nextComment(2000)).resolves.toBe('heartbeat');
    await expect(stream.nextComment(2000)).resolves.toBe('heartbeat');
    expect(stream.pending()).toEqual([]);
  });

  it('says `event: compacted` with the compact revision, then ends, when etcd no longer has the history', async () => {
    const guid = uniqueGuid('compacted');
    const first = await connect(`${receptorUrl(0)}/v1/events`);
    await desire(guid, 0);
    const [created] = await nextEvents(first, 1, aboutDesired);
    first.close();
    await annotate(guid, 'missed');
    const compactRevision = (await client.get('/v1/').exec()).header.revision;
    await client.kv.compact({ revision: compactRevision, physical: true });

    const resumed = await connect(`${receptorUrl(1)}/v1/events`, { 'Last-Event-ID': created?.id ?? '' });
    expect(resumed.response.statusCode).toBe(200);
    expect(await resumed.rest()).toEqual([{ id: '', event: 'compacted', dataLines: [compactRevision] }]);
  });
});

describe('DesiredLRPs', () => {
  it('says the revision it was read at in X-Diego-Revision: following from it misses and repeats nothing', async () => {
    const guids = Array.from({ length: 6 }, () => uniqueGuid('follow'));
    for (const guid of guids.slice(0, 3)) await desire(guid, 0);

    const writing = (async () => {
      for (let round = 1; round <= 5; round++) {
        for (const guid of guids.slice(0, 3)) await annotate(guid, `r${round}`, round % 2);
      }
      for (const guid of guids.slice(3)) await desire(guid, 0, 1);
      await send('DELETE', `/v1/desired_lrps/${guids[0] ?? ''}`);
    })();
    const listed = await send('GET', '/v1/desired_lrps?domain=tests');
    const revision = listed.headers.get('x-diego-revision') ?? '';
    expect(revision).toMatch(/^[1-9]\d*$/);
    const model = new Map<string, string>();
    for (const lrp of asObjects(parseJson(await listed.text()))) model.set(String(lrp.process_guid), stringifyJson(lrp));

    const stream = await connect(`${receptorUrl(1)}/v1/events`, { 'Last-Event-ID': revision });
    await writing;
    const final = asObjects(parseJson(await (await send('GET', '/v1/desired_lrps?domain=tests')).text()));
    const expected = new Map(final.map((lrp) => [String(lrp.process_guid), stringifyJson(lrp)]));

    const ours = (event: SseEvent): boolean => aboutDesired(event) && guids.includes(String(asObject(payload(event).desired_lrp ?? payload(event).desired_lrp_after).process_guid));
    const mine = (map: Map<string, string>): string[] => [...map.entries()].filter(([guid]) => guids.includes(guid)).map(([, json]) => json).sort();
    while (JSON.stringify(mine(model)) !== JSON.stringify(mine(expected))) {
      const event = await stream.next(ours);
      const data = payload(event);
      if (event.event === 'desired_lrp_created') {
        const lrp = asObject(data.desired_lrp);
        expect(model.has(String(lrp.process_guid))).toBe(false);
        model.set(String(lrp.process_guid), stringifyJson(lrp));
      } else if (event.event === 'desired_lrp_changed') {
        const before = asObject(data.desired_lrp_before);
        expect(model.get(String(before.process_guid))).toBe(stringifyJson(before));
        model.set(String(before.process_guid), stringifyJson(asObject(data.desired_lrp_after)));
      } else {
        const lrp = asObject(data.desired_lrp);
        expect(model.get(String(lrp.process_guid))).toBe(stringifyJson(lrp));
        model.delete(String(lrp.process_guid));
      }
    }
  });
});

describe('Tasks', () => {
  it('says the revision it was read at in X-Diego-Revision', async () => {
    const response = await send('GET', '/v1/tasks');
    expect(response.headers.get('x-diego-revision')).toMatch(/^[1-9]\d*$/);
  });
});

describe('ActualLRPs', () => {
  it('says the revision it was read at in X-Diego-Revision', async () => {
    const guid = uniqueGuid('actual');
    await desire(guid, 1);
    const before = BigInt((await client.get('/v1/').exec()).header.revision);
    for (const path of ['/v1/actual_lrps', `/v1/actual_lrps/${guid}`]) {
      const response = await send('GET', path);
      expect(BigInt(response.headers.get('x-diego-revision') ?? '0')).toBeGreaterThanOrEqual(before);
    }
  });
});

describe('EventStream', () => {
  it('leaves the BBS holding no subscription and no watch after 500 connects and disconnects', async () => {
    const bbs = bbses[0];
    if (bbs === undefined) throw new Error('no BBS');
    // Earlier tests' streams are closed; their BBS subscriptions end as the receptor lets go of them.
    const atStart = await eventually(async () => bbs.events, (counts) => counts.subscribers === 0);
    expect(atStart).toEqual({ subscribers: 0, watches: 0 });
    for (let batch = 0; batch < 50; batch++) {
      const streams = await Promise.all(Array.from({ length: 10 }, () => SseClient.connect(`${receptorUrl(0)}/v1/events`)));
      // The ten share one BBS stream, which the hub feeds from the store's view: no watch of its own.
      if (batch === 0) expect(bbs.events).toEqual({ subscribers: atStart.subscribers + 1, watches: 0 });
      for (const stream of streams) stream.close();
    }
    await eventually(async () => bbs.events, (counts) => counts.subscribers === atStart.subscribers && counts.watches === atStart.watches, {
      timeoutMs: 10_000,
    });
  }, 60_000);
});
