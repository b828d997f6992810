// LRP convergence over what changed (lrp-convergence-tracking.ts), on a real etcd through a store that reads its
// view: a pass over the changed and waiting process guids finds exactly what a full pass would, over many mixed
// states; a removed cell's instances are unclaimed by a pass over that cell's guids only.
import { createServer, type Server } from 'node:http';
import {
  ActualLRPController, BbsMetrics, EtcdDb, LRPConvergenceController, type LRPConvergenceControllerOptions,
} from '@diego/bbs';
import { HttpRepClient } from '@diego/rep-api';
import type { ActualLRPKey } from '@diego/models';
import { eventually, newValidCellPresence, newValidDesiredLrp, testKeySpace, type TestKeySpace } from '@diego/test-support';
import { calculateLRPConvergence, type LRPConvergenceChanges } from '../../src/converger/lrp-convergence';
import { RecordingAuctioneer, SECOND_NS, START_NS, silentLogger } from './converger-harness';

let keys: TestKeySpace;
let db: EtcdDb;
let rep: Server;
let repUrl: string;
let now: bigint;
let lrps: LRPConvergenceController;
let stopFollowing: () => void;
let metrics: BbsMetrics;

beforeEach(async () => {
  keys = testKeySpace();
  now = START_NS;
  metrics = new BbsMetrics();
  const clock = (): bigint => now;
  db = new EtcdDb(keys.namespace, { logger: silentLogger, clock, view: true });
  await eventually(async () => db.viewStatus, (status) => status?.live === true);
  // A cell's rep that takes every stop request (retiring a RUNNING instance asks its cell).
  rep = createServer((request, response) => {
    request.resume();
    response.writeHead(202).end();
  });
  await new Promise<void>((resolve) => rep.listen(0, '127.0.0.1', resolve));
  const address = rep.address();
  if (address === null || typeof address === 'string') throw new Error('the rep is not on a TCP port');
  repUrl = `http://127.0.0.1:${address.port}`;
  const options: LRPConvergenceControllerOptions = {
    db,
    actualLRPs: new ActualLRPController(db, new HttpRepClient(), silentLogger),
    auctioneer: new RecordingAuctioneer(),
    logger: silentLogger,
    clock,
    changes: db,
    metrics,
  };
  lrps = new LRPConvergenceController(options);
  stopFollowing = lrps.followChanges();
});

afterEach(async () => {
  stopFollowing();
  db.close();
  rep.closeAllConnections();
  await new Promise<void>((resolve) => rep.close(() => resolve()));
  await keys.cleanup();
});

/** What a full pass computes on the store as it is now: every record, through the same function. */
async function whatAFullPassFinds(): Promise<LRPConvergenceChanges> {
  const { records: actuals } = await db.gatherAndPruneActualLRPs();
  const [desireds, domains, cells] = await Promise.all([db.desiredLRPSchedulingInfos(), db.domains(), db.cells()]);
  return calculateLRPConvergence({
    actuals,
    desireds,
    freshDomains: new Set(domains),
    liveCellIds: new Set(cells.map((cell) => cell.cell_id)),
    now,
  });
}

/** The changes as sorted lists of keys, so that two passes' findings compare whatever their order. */
function sorted(changes: LRPConvergenceChanges): Record<string, string[]> {
  const name = (key: ActualLRPKey): string => `${key.process_guid}/${key.index}`;
  return {
    missing: changes.missing.map(name).sort(),
    onMissingCells: changes.onMissingCells.map(({ key, cellId }) => `${name(key)}@${cellId}`).sort(),
    restarts: changes.restarts.map(name).sort(),
    staleUnclaimed: changes.staleUnclaimed.map(name).sort(),
    extra: changes.extra.map(name).sort(),
    undesired: changes.undesired.map(name).sort(),
  };
}

/** Runs a pass over what changed, checking first that it will find what a full pass would. */
async function convergeChanged(): Promise<LRPConvergenceChanges> {
  // The view has applied every write made so far (reads wait for it), so the followed changes are all in.
  const expected = sorted(await whatAFullPassFinds());
  const summary = await lrps.convergeLRPs();
  expect(summary.full).toBe(false);
  expect(sorted(summary.changes)).toEqual(expected);
  return summary.changes;
}

async function runOn(processGuid: string, index: number, domain: string, cellId: string): Promise<void> {
  const instanceKey = { instance_guid: `${processGuid}-${index}-on-${cellId}`, cell_id: cellId };
  await db.claimActualLRP(processGuid, index, instanceKey);
  await db.startActualLRP({ process_guid: processGuid, index, domain }, instanceKey, { address: '10.0.0.1', ports: [] });
}

async function crash(processGuid: string, index: number, domain: string, cellId: string): Promise<void> {
  await runOn(processGuid, index, domain, cellId);
  await db.crashActualLRP({ process_guid: processGuid, index, domain }, { instance_guid: `${processGuid}-${index}-on-${cellId}`, cell_id: cellId }, 'exit status 1');
}

describe('LRP convergence over what changed', () => {
  it('finds exactly what a full pass finds, over many mixed states changed between passes', async () => {
    await db.registerCell(newValidCellPresence('cell-a', { rep_address: repUrl }), 3600);
    await db.registerCell(newValidCellPresence('cell-b', { rep_address: repUrl }), 3600);
    await db.upsertDomain('fresh', 0);
    const desire = async (guid: string, instances: number, domain: string): Promise<void> => {
      await db.desireLRP(newValidDesiredLrp(guid, { instances, domain }));
      for (let index = 0; index < instances; index++) await runOn(guid, index, domain, index % 2 === 0 ? 'cell-a' : 'cell-b');
    };
    for (const guid of ['steady-1', 'steady-2', 'missing', 'scaled-down', 'crashy', 'waits', 'orphaned', 'on-b']) await desire(guid, 2, 'fresh');
    for (const guid of ['stale-scaled', 'stale-orphaned']) await desire(guid, 2, 'stale');
    const first = await lrps.convergeLRPs();
    expect(first.full).toBe(true);
    expect(sorted(first.changes)).toEqual(sorted({ missing: [], onMissingCells: [], restarts: [], staleUnclaimed: [], extra: [], undesired: [] }));

    // Nothing changed: nothing to examine, nothing found.
    expect((await lrps.convergeLRPs()).processGuids).toBe(0);

    // Missing, extra in a fresh and a stale domain, undesired in both, crashes with backoff to come, one UNCLAIMED.
    await db.removeActualLRP('missing', 1);
    await db.updateDesiredLRP('scaled-down', { instances: 1, routes: null, annotation: null });
    await db.updateDesiredLRP('stale-scaled', { instances: 1, routes: null, annotation: null });
    await db.removeDesiredLRP('orphaned');
    await db.removeDesiredLRP('stale-orphaned');
    for (let crashes = 0; crashes < 3; crashes++) await crash('crashy', 0, 'fresh', 'cell-a');
    await db.createUnclaimedActualLRP({ process_guid: 'waits', index: 2, domain: 'fresh' });
    await db.updateDesiredLRP('waits', { instances: 3, routes: null, annotation: null });
    const changed = await convergeChanged();
    expect(changed.missing.map((key) => key.process_guid)).toEqual(['missing']);
    expect(changed.restarts).toEqual([]);

    // Time alone: the crash's backoff (30 s) passes and the UNCLAIMED instance goes stale, with no record changed.
    now = START_NS + 31n * SECOND_NS;
    const later = await convergeChanged();
    expect(later.restarts.map((key) => key.process_guid)).toEqual(['crashy']);
    expect(later.staleUnclaimed.map((key) => key.process_guid)).toContain('waits');

    // A cell gone: its instances, found by the index of instances by cell.
    await db.removeCell('cell-b');
    const gone = await convergeChanged();
    expect(gone.onMissingCells.length).toBeGreaterThan(0);
    expect(gone.onMissingCells.every(({ cellId }) => cellId === 'cell-b')).toBe(true);

    // A domain going fresh: its extra and undesired instances are retired now (that pass is a full one).
    await db.upsertDomain('stale', 0);
    const expected = sorted(await whatAFullPassFinds());
    expect(expected.extra).toContain('stale-scaled/1');
    expect(expected.undesired).toEqual(expect.arrayContaining(['stale-orphaned/0', 'stale-orphaned/1']));
    const fresh = await lrps.convergeLRPs();
    expect(fresh.full).toBe(true);
    expect(sorted(fresh.changes)).toEqual(expected);

    // After it, over what changed again, and still in agreement.
    now = START_NS + 120n * SECOND_NS;
    await convergeChanged();
  });

  it("unclaims a removed cell's instances in a pass over that cell's process guids only, and counts them", async () => {
    await db.registerCell(newValidCellPresence('cell-a', { rep_address: repUrl }), 3600);
    await db.registerCell(newValidCellPresence('cell-dead', { rep_address: repUrl }), 3600);
    for (let i = 0; i < 20; i++) {
      const guid = `app-${i}`;
      await db.desireLRP(newValidDesiredLrp(guid, { instances: 1 }));
      await runOn(guid, 0, 'some-domain', i < 5 ? 'cell-dead' : 'cell-a');
    }
    expect((await lrps.convergeLRPs()).full).toBe(true);

    await db.removeCell('cell-dead');
    const summary = await lrps.convergeLRPs();
    expect(summary).toMatchObject({ full: false, processGuids: 5 });
    expect(summary.changes.onMissingCells.map(({ key }) => key.process_guid).sort()).toEqual(['app-0', 'app-1', 'app-2', 'app-3', 'app-4']);
    const unclaimed = (await db.actualLRPGroups()).filter((group) => group.instance?.state === 'UNCLAIMED');
    expect(unclaimed.map((group) => group.instance?.process_guid).sort()).toEqual(['app-0', 'app-1', 'app-2', 'app-3', 'app-4']);
    // The counters are those of every record still, though the pass read five guids: the unclaims it made show at
    // its next pass, as any pass's counts are those of what it read.
    await lrps.convergeLRPs();
    const exposition = await metrics.registry.metrics();
    expect(exposition).toMatch(/^LRPsDesired 20$/m);
    expect(exposition).toMatch(/^LRPsUnclaimed 5$/m);
    expect(exposition).toMatch(/^LRPsRunning 15$/m);
  });

  it('makes the next pass full once it stopped following the changes, and after a full one asked for', async () => {
    await db.desireLRP(newValidDesiredLrp('web', { instances: 1 }));
    expect((await lrps.convergeLRPs()).full).toBe(true);
    expect((await lrps.convergeLRPs()).full).toBe(false);

    stopFollowing();
    await db.removeActualLRP('web', 0);
    expect((await lrps.convergeLRPs()).full).toBe(true);
    stopFollowing = lrps.followChanges();
    expect((await lrps.convergeLRPs()).full).toBe(true);
    expect((await lrps.convergeLRPs()).full).toBe(false);
    expect((await lrps.convergeLRPs({ full: true })).full).toBe(true);
  });
});
