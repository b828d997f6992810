// Our cell presence and domain events (README "Dashboard"), on a real BBS over the shared test etcd: a presence
// written, rewritten and expired with its lease, a domain set fresh (again) and expired, each through the hub with
// an id to resume after, as every other event.
import type { BbsEvent, EventSubscription } from '@diego/bbs-client';
import { eventually, newValidCellPresence, testKeySpace, type TestKeySpace } from '@diego/test-support';
import { describeEvent, startEventsBbs, subjectOf, type EventsBbs } from './event-harness';

let keys: TestKeySpace;
let bbs: EventsBbs;
const opened: EventSubscription[] = [];

beforeEach(async () => {
  keys = testKeySpace();
  bbs = await startEventsBbs(keys.namespace);
});

afterEach(async () => {
  for (const stream of opened.splice(0)) stream.close();
  await bbs.stop();
  await keys.cleanup();
});

/** Subscribes and keeps every event it gets in the returned array, until the test ends. */
async function follow(afterRevision?: string): Promise<BbsEvent[]> {
  const subscription = await bbs.client.subscribeToEvents(afterRevision === undefined ? {} : { afterRevision });
  opened.push(subscription);
  const seen: BbsEvent[] = [];
  void (async () => {
    for (let event = await subscription.next(); event !== null; event = await subscription.next()) seen.push(event);
  })();
  return seen;
}

/** `type subject` of each event, for one assertion over a stream. */
function kinds(events: readonly BbsEvent[]): string[] {
  return events.map((event) => `${event.type} ${subjectOf(event)}`);
}

// etcd grants no lease shorter than its minimum (about 2 s here); a presence or domain expires a little after it.
const EXPIRY_TIMEOUT_MS = 20_000;

describe('cell presence and domain events', () => {
  it('announces a cell appearing, re-registering and disappearing when its lease expires', async () => {
    const seen = await follow();
    await bbs.client.registerCell(newValidCellPresence('cell-a'), 1);
    await bbs.client.registerCell(newValidCellPresence('cell-a', { zone: 'z2' }), 1);
    await eventually(async () => kinds(seen), (k) => k.includes('cell_disappeared cell:cell-a'), { timeoutMs: EXPIRY_TIMEOUT_MS });
    expect(kinds(seen)).toEqual(['cell_appeared cell:cell-a', 'cell_changed cell:cell-a', 'cell_disappeared cell:cell-a']);
    const [appeared, changed] = seen;
    expect(appeared).toMatchObject({ type: 'cell_appeared', cell_presence: newValidCellPresence('cell-a') });
    expect(changed).toMatchObject({ type: 'cell_changed', cell_presence: { cell_id: 'cell-a', zone: 'z2' } });
    expect(seen.every((event) => /^\d+\.\d+$/.test(event.id ?? ''))).toBe(true);

    // Resumed after the appearance: the rest again, nothing before it.
    const resumed = await follow(appeared?.id);
    await eventually(async () => resumed.length, (count) => count >= 2);
    expect(resumed.map(describeEvent)).toEqual(seen.slice(1).map(describeEvent));
  });

  it('announces a cell removed at once as disappeared', async () => {
    const seen = await follow();
    await bbs.client.registerCell(newValidCellPresence('cell-b'), 60);
    await bbs.client.removeCell('cell-b');
    await eventually(async () => kinds(seen), (k) => k.length >= 2);
    expect(seen[1]).toMatchObject({ type: 'cell_disappeared', cell_id: 'cell-b' });
  });

  it('announces a domain fresh on every upsert and expired when its TTL runs out', async () => {
    const seen = await follow();
    await bbs.client.upsertDomain('d-expiring', 1);
    await bbs.client.upsertDomain('d-expiring', 1);
    await bbs.client.upsertDomain('d-forever', 0);
    await eventually(async () => kinds(seen), (k) => k.includes('domain_expired domain:d-expiring'), { timeoutMs: EXPIRY_TIMEOUT_MS });
    expect(kinds(seen)).toEqual([
      'domain_fresh domain:d-expiring',
      'domain_fresh domain:d-expiring',
      'domain_fresh domain:d-forever',
      'domain_expired domain:d-expiring',
    ]);
    expect(await bbs.client.domains()).toEqual(['d-forever']);
  });
});
