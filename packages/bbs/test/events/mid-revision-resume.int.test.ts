// Event ids name events (README "Event stream"): one transaction's events (a desired LRP and its instances) share
// a revision but not an id, `<revision>.<place>`. A stream cut between two of them and resumed with the last id
// received gets the rest of that revision, then what came after, each once; a bare revision means after it.
import { newValidDesiredLrp, SseClient, testKeySpace, type SseEvent, type TestKeySpace } from '@diego/test-support';
import { startEventsBbs, type EventsBbs } from './event-harness';

let keys: TestKeySpace;
let bbses: EventsBbs[];
const opened: SseClient[] = [];

beforeAll(async () => {
  keys = testKeySpace();
  bbses = [await startEventsBbs(keys.namespace), await startEventsBbs(keys.namespace)];
});

afterEach(() => {
  for (const client of opened.splice(0)) client.close();
});

afterAll(async () => {
  for (const bbs of bbses ?? []) await bbs.stop();
  await keys?.cleanup();
});

async function connect(bbs: EventsBbs, lastEventId?: string): Promise<SseClient> {
  const client = await SseClient.connect(`${bbs.url}/v1/events`, lastEventId === undefined ? {} : { 'Last-Event-ID': lastEventId });
  opened.push(client);
  return client;
}

/** The annotation a desired_lrp_changed event sets (the protobuf `data:` holds it as text). */
function carriesAnnotation(event: SseEvent, annotation: string): boolean {
  return event.event === 'desired_lrp_changed' && Buffer.from(event.dataLines.join(''), 'base64').toString('latin1').includes(annotation);
}

async function take(client: SseClient, count: number): Promise<SseEvent[]> {
  const events: SseEvent[] = [];
  while (events.length < count) events.push(await client.next());
  return events;
}

const INSTANCES = 4;

describe('EventStream_r0 ids', () => {
  it('resumes in the middle of a revision, on any BBS, with the rest of it once', async () => {
    const first = bbses[0];
    const second = bbses[1];
    if (first === undefined || second === undefined) throw new Error('no BBS');
    const watching = await connect(first);
    // One transaction: the desired LRP and its four instances.
    await first.client.desireLRP(newValidDesiredLrp('mid', { instances: INSTANCES }));
    const revisionEvents = await take(watching, INSTANCES + 1);
    const [revision] = (revisionEvents[0]?.id ?? '').split('.');
    expect(revisionEvents.map((event) => event.id)).toEqual(Array.from({ length: INSTANCES + 1 }, (_, place) => `${revision}.${place}`));
    expect(revisionEvents.map((event) => event.event)).toEqual(['desired_lrp_created', ...Array<string>(INSTANCES).fill('actual_lrp_created')]);

    // The connection is cut after the second event of the revision; more happens before the client is back.
    watching.close();
    await first.client.updateDesiredLRP('mid', { instances: null, routes: null, annotation: 'after the cut' });

    const resumed = [await connect(first, revisionEvents[1]?.id), await connect(second, revisionEvents[1]?.id)];
    const rests = [];
    for (const client of resumed) rests.push(await take(client, INSTANCES));
    for (const rest of rests) {
      expect(rest.slice(0, INSTANCES - 1)).toEqual(revisionEvents.slice(2));
      expect(rest[INSTANCES - 1]?.id).toMatch(/^\d+\.0$/);
      expect(carriesAnnotation(rest[INSTANCES - 1] ?? { id: '', event: '', dataLines: [] }, 'after the cut')).toBe(true);
    }
    // Nothing came twice: the next event on each is a change made only now.
    await first.client.updateDesiredLRP('mid', { instances: null, routes: null, annotation: 'marker' });
    for (const client of resumed) expect(carriesAnnotation(await client.next(), 'marker')).toBe(true);

    // The BBS client resumes from an event's id alike.
    const fromClient = await second.client.subscribeToEvents({ afterRevision: revisionEvents[2]?.id ?? '' });
    try {
      const rest: string[] = [];
      for (let i = 0; i < INSTANCES - 2; i++) {
        const event = await fromClient.next();
        rest.push(`${event?.id ?? ''} ${event?.type ?? ''} ${event?.revision ?? ''}`);
      }
      expect(rest).toEqual(revisionEvents.slice(3).map((event) => `${event.id} ${event.event} ${revision ?? ''}`));
    } finally {
      fromClient.close();
    }

    // From the last event of the revision, or from the bare revision (a list's X-Diego-Revision): what came after.
    for (const after of [revisionEvents[INSTANCES]?.id, revision]) {
      const client = await connect(second, after);
      expect(await client.next()).toEqual(rests[0]?.[INSTANCES - 1]);
      expect(carriesAnnotation(await client.next(), 'marker')).toBe(true);
    }
  });
});
