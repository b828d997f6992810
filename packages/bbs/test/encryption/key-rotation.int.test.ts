/**
 * Key rotation (Diego's encryptor): `/encryption-key` names the key every record is under; a leader whose active key
 * differs rewrites every record under it, losing nothing, and a BBS that lacks that key refuses to start.
 */
import pino from 'pino';
import { newValidTask, takeEvents, testKeySpace, type TestKeySpace } from '@diego/test-support';
import {
  apiAnswers,
  desireSteadyRecords,
  evacuateOneInstance,
  isRecordKey,
  KEY_A,
  KEY_B,
  labelOf,
  leases,
  rawStore,
  rotatedTo,
  startBbsWith,
  storedKeyLabel,
  type RunningBbs,
} from './encryption-harness';

let space: TestKeySpace;
const started: RunningBbs[] = [];

beforeEach(() => {
  space = testKeySpace();
});

afterEach(async () => {
  for (const bbs of started.splice(0)) await bbs.stop();
  await space.cleanup();
});

async function start(...args: Parameters<typeof startBbsWith>): Promise<RunningBbs> {
  const bbs = await startBbsWith(...args);
  started.push(bbs);
  return bbs;
}

async function stop(bbs: RunningBbs): Promise<void> {
  started.splice(started.indexOf(bbs), 1);
  await bbs.stop();
}

/** The label of every record's raw value, by key. */
async function recordLabels(): Promise<Map<string, string | null>> {
  const raw = await rawStore(space);
  return new Map([...raw].filter(([key]) => isRecordKey(key)).map(([key, value]) => [key, labelOf(value)]));
}

function allUnder(labels: Map<string, string | null>, label: string | null): boolean {
  return [...labels.values()].every((each) => each === label);
}

describe('key rotation', () => {
  it('moves plain records under the first key, then under the next one, keeping every record and lease', async () => {
    const plain = await start(space, { keys: [], activeKeyLabel: null });
    await desireSteadyRecords(plain.client, { lrps: 12, tasks: 10 });
    await evacuateOneInstance(plain.client);
    const before = await apiAnswers(plain.client);
    const leasesBefore = await leases(space);
    const labelsBefore = await recordLabels();
    expect(allUnder(labelsBefore, null)).toBe(true);
    // 12 desired, 24 instances, 1 evacuating, 10 tasks, 2 cells.
    expect(labelsBefore.size).toBe(49);
    expect([...leasesBefore.keys()].sort()).toEqual(['/v1/actual/web-0/0/evacuating', '/v1/cell/cell-1', '/v1/cell/cell-2', '/v1/domain/cf-apps']);
    await stop(plain);

    // Encryption enabled: key A.
    const withA = await start(space, { keys: [KEY_A], activeKeyLabel: KEY_A.label, leader: true });
    await rotatedTo(space, KEY_A.label);
    expect(allUnder(await recordLabels(), KEY_A.label)).toBe(true);
    expect(await apiAnswers(withA.client)).toEqual(before);
    await stop(withA);

    // Rotated: keys A and B, B active, a few records at once.
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(line) });
    const withB = await start(space, { keys: [KEY_A, KEY_B], activeKeyLabel: KEY_B.label, leader: true, updateWorkers: 3, logger });
    await rotatedTo(space, KEY_B.label);
    const labelsAfter = await recordLabels();
    expect([...labelsAfter.keys()]).toEqual([...labelsBefore.keys()]);
    expect(allUnder(labelsAfter, KEY_B.label)).toBe(true);
    expect(await leases(space)).toEqual(leasesBefore);
    expect(await apiAnswers(withB.client)).toEqual(before);

    const logged = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(logged).toContainEqual(expect.objectContaining({ msg: 'encryption-rotation-started', from_label: KEY_A.label, to_label: KEY_B.label }));
    expect(logged).toContainEqual(
      expect.objectContaining({ msg: 'encryption-rotation-finished', to_label: KEY_B.label, records: 49, rewritten: 49, left: 0 }),
    );
    for (const line of lines) expect(line).not.toContain(KEY_A.passphrase);
  });

  it('loses no write made during a rotation, and sends no event for a record that only moved to the new key', async () => {
    const writerKeys = { keys: [KEY_A, KEY_B], activeKeyLabel: KEY_B.label };
    const first = await start(space, { keys: [KEY_A], activeKeyLabel: KEY_A.label });
    await desireSteadyRecords(first.client, { lrps: 60, tasks: 40 });
    const before = await apiAnswers(first.client);
    await stop(first);

    const writer = await start(space, writerKeys);
    const events = await writer.client.subscribeToEvents();
    try {
      // The leader rotates one record at a time; once it has rewritten the first desired LRP (and so read the
      // first page of them) the writer updates every desired LRP, under the records the rotation is to rewrite.
      const guids = Array.from({ length: 60 }, (_, i) => `web-${i}`);
      const desiredWatch = await space.namespace.watch().prefix('/v1/desired/').create();
      const rotationReachedDesired = new Promise<void>((resolve) => {
        desiredWatch.on('put', (kv) => {
          if (labelOf(kv.value.toString()) === KEY_B.label) resolve();
        });
      });
      const leader = await start(space, { ...writerKeys, leader: true, updateWorkers: 1 });
      await rotationReachedDesired;
      await desiredWatch.cancel();
      await Promise.all(guids.map((guid) => writer.client.updateDesiredLRP(guid, { instances: null, routes: null, annotation: `updated-${guid}` })));
      await rotatedTo(space, KEY_B.label);
      const marker = newValidTask('marker', { domain: 'cf-apps' });
      await writer.client.desireTask(marker.task_guid, marker.domain, marker.definition);

      // Every update and then the marker: the rotation's rewrites are no events.
      const received = await takeEvents(events, guids.length + 1, 30_000);
      expect(received.slice(0, guids.length).map((event) => event.type)).toEqual(guids.map(() => 'desired_lrp_changed'));
      expect(received[guids.length]).toMatchObject({ type: 'task_created', task: { task_guid: 'marker' } });

      const labels = await recordLabels();
      labels.delete('/v1/task/marker');
      expect(allUnder(labels, KEY_B.label)).toBe(true);
      const desired = await leader.client.desiredLRPs();
      expect(desired.map((lrp) => lrp.annotation).sort()).toEqual(guids.map((guid) => `updated-${guid}`).sort());
      const after = (await apiAnswers(leader.client)) as Record<string, unknown>;
      const expected = before as Record<string, unknown>;
      expect({ ...after, desired: null, tasks: null }).toEqual({ ...expected, desired: null, tasks: null });
      expect(await leader.client.tasks()).toHaveLength(41);
    } finally {
      events.close();
    }
  });

  it('refuses to start without the key the store is under, saying which and what to do', async () => {
    const withA = await start(space, { keys: [KEY_A], activeKeyLabel: KEY_A.label, leader: true });
    await rotatedTo(space, KEY_A.label);
    await stop(withA);

    await expect(start(space, { keys: [KEY_B], activeKeyLabel: KEY_B.label })).rejects.toThrow(
      `the store's records are encrypted with the key labelled "${KEY_A.label}" (/encryption-key), which is not among this BBS's encryption keys (${KEY_B.label})`,
    );
    await expect(start(space, { keys: [], activeKeyLabel: null })).rejects.toThrow(
      `this BBS was given no encryption keys: start it with -encryptionKey ${KEY_A.label}:<passphrase> -activeKeyLabel ${KEY_A.label}`,
    );
    // With the key among its keys it starts, and the store is left as it was.
    const withBoth = await start(space, { keys: [KEY_A, KEY_B], activeKeyLabel: KEY_B.label });
    expect(await withBoth.client.ping()).toBe(true);
    expect(await storedKeyLabel(space)).toBe(KEY_A.label);
  });
});
