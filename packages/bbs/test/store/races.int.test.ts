// Writes that race on one record, as a cell, the auctioneer and API clients make them against two BBSes (each with
// its own view of etcd, as in production): every change goes through the store's guaranteed update, so a race
// that a fresh read settles is never answered ResourceConflict; an answer is success or the domain's own refusal
// of the record as it is after the other write, and the record ends as the answers say (issue 17).
import pino from 'pino';
import { HttpBbsClient, type BbsEvent, type EventSubscription } from '@diego/bbs-client';
import { startBbsServer, type BbsServer } from '@diego/bbs';
import type { ActualLRPInstanceKey, ActualLRPKey, ActualLRPNetInfo } from '@diego/models';
import { newValidDesiredLrp, newValidTask, testKeySpace, type TestKeySpace } from '@diego/test-support';

const silent = pino({ level: 'silent' });
/** Liveness guards only: under a CPU hog a contended update can take seconds. */
const CLIENT_TIMEOUT_MS = 60_000;
jest.setTimeout(180_000);

let keys: TestKeySpace;
let servers: BbsServer[];
let clients: HttpBbsClient[];
let subscription: EventSubscription | undefined;

beforeEach(async () => {
  keys = testKeySpace();
  servers = [];
  clients = [];
  for (let i = 0; i < 2; i++) {
    const server = await startBbsServer({ etcd: keys.namespace, listenAddress: '127.0.0.1:0', logger: silent });
    servers.push(server);
    clients.push(new HttpBbsClient([`http://${server.address}`], { timeoutMs: CLIENT_TIMEOUT_MS }));
  }
});

afterEach(async () => {
  subscription?.close();
  subscription = undefined;
  for (const client of clients) client.close();
  for (const server of servers) await server.stop();
  await keys.cleanup();
});

/** The BBS a party talks to: the cell and the API client use different ones. */
function bbs(which: 0 | 1): HttpBbsClient {
  const client = clients[which];
  if (client === undefined) throw new Error(`no BBS ${which}`);
  return client;
}

type Answer = { ok: true } | { ok: false; type: string };

/** What the BBS answered, as a client sees it. */
async function answer(call: Promise<unknown>): Promise<Answer> {
  try {
    await call;
    return { ok: true };
  } catch (err) {
    const type = typeof err === 'object' && err !== null && 'type' in err ? String(err.type) : String(err);
    return { ok: false, type };
  }
}

function range(count: number): number[] {
  return Array.from({ length: count }, (_, i) => i);
}

describe('a cancel while the cell starts and completes the task', () => {
  const TASKS = 20;

  it('answers every call with success or InvalidStateTransition, never ResourceConflict, and the task ends as they say', async () => {
    const guids = range(TASKS).map((i) => `task-${i}`);
    for (const guid of guids) {
      const { task_guid, domain, definition } = newValidTask(guid);
      await bbs(0).desireTask(task_guid, domain, definition);
    }

    const outcomes = await Promise.all(
      guids.map(async (guid) => {
        // The cell (through one BBS) starts the task and, if it may, completes it; a client (through the other) cancels.
        const cell = (async () => {
          const start = await answer(bbs(0).startTask(guid, 'cell-1'));
          const complete = start.ok ? await answer(bbs(0).completeTask(guid, 'cell-1', false, '', 'the result')) : null;
          return { start, complete };
        })();
        const [{ start, complete }, cancel] = await Promise.all([cell, answer(bbs(1).cancelTask(guid))]);
        return { guid, start, complete, cancel, task: await bbs(0).taskByGuid(guid) };
      }),
    );

    for (const { start, complete, cancel, task } of outcomes) {
      for (const refused of [start, complete, cancel]) {
        if (refused !== null && !refused.ok) expect(refused.type).toBe('InvalidStateTransition');
      }
      // The task was completed exactly once: by the cancel or by the cell.
      expect(task.state).toBe('COMPLETED');
      expect(cancel.ok).toBe(complete === null || !complete.ok);
      if (cancel.ok) {
        expect(task).toMatchObject({ failed: true, failure_reason: 'task was cancelled', result: '', cell_id: '' });
      } else {
        expect(task).toMatchObject({ failed: false, result: 'the result', cell_id: '' });
      }
    }
  });
});

const LRPS = 20;
const NET_INFO: ActualLRPNetInfo = { address: '10.0.0.1', ports: [{ container_port: 8080, host_port: 61000 }] };
const CELL_1: ActualLRPInstanceKey = { instance_guid: 'instance-1', cell_id: 'cell-1' };

/** LRPS desired LRPs of one instance each, that instance claimed as CELL_1. */
async function claimedInstances(): Promise<ActualLRPKey[]> {
  const keysOfLrps: ActualLRPKey[] = [];
  for (const i of range(LRPS)) {
    const desired = newValidDesiredLrp(`lrp-${i}`, { instances: 1 });
    await bbs(0).desireLRP(desired);
    await bbs(0).claimActualLRP(desired.process_guid, 0, CELL_1);
    keysOfLrps.push({ process_guid: desired.process_guid, index: 0, domain: desired.domain });
  }
  return keysOfLrps;
}

describe('a claim while the cell crashes the instance', () => {
  const claiming: ActualLRPInstanceKey = { instance_guid: 'instance-2', cell_id: 'cell-2' };

  it('crashes every instance once; a claim succeeds only after the crash, and the record ends as the answers say', async () => {
    const keysOfLrps = await claimedInstances();
    for (const key of keysOfLrps) await bbs(0).startActualLRP(key, CELL_1, NET_INFO);

    const outcomes = await Promise.all(
      keysOfLrps.map(async (key) => {
        // The first crash restarts the instance at once (UNCLAIMED); the auctioneer's claim for its new placement
        // can only follow it.
        const [crash, claim] = await Promise.all([
          answer(bbs(0).crashActualLRP(key, CELL_1, 'exited')),
          answer(bbs(1).claimActualLRP(key.process_guid, 0, claiming)),
        ]);
        const { instance } = await bbs(0).actualLRPGroupByProcessGuidAndIndex(key.process_guid, 0);
        return { crash, claim, instance };
      }),
    );

    for (const { crash, claim, instance } of outcomes) {
      expect(crash).toEqual({ ok: true });
      if (!claim.ok) expect(claim.type).toBe('ActualLRPCannotBeClaimed');
      // Claimed, started and crashed: tag index 3; one more for a claim that was applied.
      expect(instance).toMatchObject(
        claim.ok
          ? { state: 'CLAIMED', ...claiming, crash_count: 1, crash_reason: 'exited', modification_tag: { index: 4 } }
          : { state: 'UNCLAIMED', instance_guid: '', cell_id: '', crash_count: 1, modification_tag: { index: 3 } },
      );
    }
  });
});

describe("the cell's start and crash of a claimed instance at once", () => {
  it('applies both, in either order: neither is refused, the crash is counted once', async () => {
    const keysOfLrps = await claimedInstances();

    const outcomes = await Promise.all(
      keysOfLrps.map(async (key) => {
        // Either order is valid: a crash of the CLAIMED or the RUNNING instance, a start of the CLAIMED instance or
        // of the UNCLAIMED one the crash restarted.
        const [start, crash] = await Promise.all([
          answer(bbs(0).startActualLRP(key, CELL_1, NET_INFO)),
          answer(bbs(1).crashActualLRP(key, CELL_1, 'exited')),
        ]);
        const { instance } = await bbs(0).actualLRPGroupByProcessGuidAndIndex(key.process_guid, 0);
        return { start, crash, instance };
      }),
    );

    for (const { start, crash, instance } of outcomes) {
      expect([start, crash]).toEqual([{ ok: true }, { ok: true }]);
      // Claimed, then started and crashed in some order: three changes.
      expect(instance).toMatchObject({ crash_count: 1, crash_reason: 'exited', modification_tag: { index: 3 } });
      expect(['RUNNING', 'UNCLAIMED']).toContain(instance?.state);
    }
  });
});

describe('100 concurrent updates of one DesiredLRP', () => {
  const UPDATES = 100;

  it('applies every one exactly once: each answered success, each in the tag index and in one change event', async () => {
    await bbs(0).desireLRP(newValidDesiredLrp('web', { instances: 0 }));
    subscription = await bbs(0).subscribeToEvents();

    const answers = await Promise.all(
      range(UPDATES).map((i) =>
        answer(bbs(i % 2 === 0 ? 0 : 1).updateDesiredLRP('web', { instances: null, routes: null, annotation: `update-${i}` })),
      ),
    );

    expect(answers.filter((result) => !result.ok)).toEqual([]);
    const final = await bbs(0).desiredLRPByProcessGuid('web');
    expect(final.modification_tag.index).toBe(UPDATES);
    const changes = await desiredLrpChanges(subscription, UPDATES);
    expect(changes.map((change) => change.after.annotation).sort()).toEqual(range(UPDATES).map((i) => `update-${i}`).sort());
    expect(changes.map((change) => change.after.modification_tag.index)).toEqual(range(UPDATES).map((i) => i + 1));
    expect(changes[UPDATES - 1]?.after.annotation).toBe(final.annotation);
  });
});

type DesiredLrpChanged = Extract<BbsEvent, { type: 'desired_lrp_changed' }>;

/** The next `count` desired_lrp_changed events, in the order the BBS sent them. */
async function desiredLrpChanges(events: EventSubscription, count: number): Promise<DesiredLrpChanged[]> {
  const changes: DesiredLrpChanged[] = [];
  while (changes.length < count) {
    const event = await events.next();
    if (event === null) throw new Error(`the event stream ended after ${changes.length} of ${count} changes`);
    if (event.type === 'desired_lrp_changed') changes.push(event);
  }
  return changes;
}
