// LRP convergence (spec/bbs.md §8.3) on a real etcd: what a pass does to the store, what it asks the auctioneer
// to place and which cells it asks to stop what.
import pino from 'pino';
import {
  Converger, etcdKeys, startBbsServer, taskConvergenceDurationsNs, DEFAULT_TASK_CONVERGENCE_DURATIONS,
} from '@diego/bbs';
import { HttpBbsClient } from '@diego/bbs-client';
import type { ActualLRP } from '@diego/models';
import { eventually, newValidCellPresence, newValidDesiredLrp, testKeySpace } from '@diego/test-support';
import { SECOND_NS, START_NS, useConvergence } from './converger-harness';

const convergence = useConvergence();

async function instance(processGuid: string, index: number): Promise<ActualLRP | null> {
  try {
    return (await convergence().db.actualLRPGroupByProcessGuidAndIndex(processGuid, index)).instance;
  } catch {
    return null;
  }
}

async function indices(processGuid: string): Promise<number[]> {
  const groups = await convergence().db.actualLRPGroupsByProcessGuid(processGuid);
  return groups.flatMap((group) => (group.instance === null ? [] : [group.instance.index])).sort((a, b) => a - b);
}

/** Claims and starts an instance on `cellId`, as the cell's rep does. */
async function runOn(processGuid: string, index: number, domain: string, cellId: string): Promise<void> {
  const { db } = convergence();
  const instanceKey = { instance_guid: `${processGuid}-${index}-on-${cellId}`, cell_id: cellId };
  await db.claimActualLRP(processGuid, index, instanceKey);
  await db.startActualLRP({ process_guid: processGuid, index, domain }, instanceKey, { address: '10.0.0.1', ports: [] });
}

describe('LRP convergence', () => {
  it('creates the missing instances of a desired LRP, UNCLAIMED', async () => {
    const { db, lrps } = convergence();
    await db.desireLRP(newValidDesiredLrp('web', { instances: 3 }));
    await db.removeActualLRP('web', 1);
    expect(await indices('web')).toEqual([0, 2]);

    const { changes } = await lrps.convergeLRPs();
    expect(changes.missing).toEqual([{ process_guid: 'web', index: 1, domain: 'some-domain' }]);
    expect(await indices('web')).toEqual([0, 1, 2]);
    expect((await instance('web', 1))?.state).toBe('UNCLAIMED');
  });

  it('unclaims the instances of a cell that has no presence any more, keeping their record (since = now)', async () => {
    const { db, lrps, setNow } = convergence();
    await db.registerCell(newValidCellPresence('cell-live'), 60);
    await db.desireLRP(newValidDesiredLrp('web', { instances: 2 }));
    await runOn('web', 0, 'some-domain', 'cell-gone');
    await runOn('web', 1, 'some-domain', 'cell-live');
    const before = await instance('web', 0);

    setNow(START_NS + 5n * SECOND_NS);
    await lrps.convergeLRPs();
    const after = await instance('web', 0);
    expect(after).toMatchObject({ state: 'UNCLAIMED', cell_id: '', instance_guid: '', since: START_NS + 5n * SECOND_NS });
    expect(after?.modification_tag).toEqual({ epoch: before?.modification_tag.epoch, index: (before?.modification_tag.index ?? 0) + 1 });
    expect((await instance('web', 1))?.state).toBe('RUNNING');
  });

  it('retires instances beyond the desired count only while the domain is fresh', async () => {
    const { db, lrps, repUrl, repRequests } = convergence();
    await db.registerCell(newValidCellPresence('cell-1', { rep_address: repUrl }), 60);
    await db.desireLRP(newValidDesiredLrp('web', { instances: 1, domain: 'apps' }));
    await db.createUnclaimedActualLRP({ process_guid: 'web', index: 1, domain: 'apps' });
    await db.createUnclaimedActualLRP({ process_guid: 'web', index: 2, domain: 'apps' });
    await runOn('web', 2, 'apps', 'cell-1');

    await lrps.convergeLRPs();
    expect(await indices('web')).toEqual([0, 1, 2]);
    expect(repRequests).toEqual([]);

    await db.upsertDomain('apps', 0);
    const { changes } = await lrps.convergeLRPs();
    expect(changes.extra.map((key) => key.index).sort()).toEqual([1, 2]);
    // The UNCLAIMED one is removed; the RUNNING one is stopped by its cell, whose rep then removes it.
    expect(await indices('web')).toEqual([0, 2]);
    expect(repRequests).toEqual(['POST /v1/lrps/web/instances/web-2-on-cell-1/stop']);
  });

  it('retires the instances of no desired LRP only while their own domain is fresh', async () => {
    const { db, lrps } = convergence();
    await db.createUnclaimedActualLRP({ process_guid: 'orphan', index: 0, domain: 'apps' });
    await db.createUnclaimedActualLRP({ process_guid: 'stray', index: 0, domain: 'other' });

    await lrps.convergeLRPs();
    expect(await indices('orphan')).toEqual([0]);

    await db.upsertDomain('apps', 0);
    await lrps.convergeLRPs();
    expect(await indices('orphan')).toEqual([]);
    expect(await indices('stray')).toEqual([0]);
  });

  it('auctions UNCLAIMED instances again once they are stale (30 s), in one request per process guid, without a write', async () => {
    const { db, lrps, auctioneer, setNow } = convergence();
    const lrp = newValidDesiredLrp('web', { instances: 2, memory_mb: 256, disk_mb: 1024, rootfs: 'preloaded:cflinuxfs2' });
    await db.desireLRP(lrp);
    const before = await instance('web', 0);

    setNow(START_NS + 30n * SECOND_NS);
    await lrps.convergeLRPs();
    expect(auctioneer.lrpStarts).toEqual([]);

    setNow(START_NS + 31n * SECOND_NS);
    await lrps.convergeLRPs();
    expect(auctioneer.lrpStarts).toEqual([
      { process_guid: 'web', domain: 'some-domain', indices: [0, 1], memory_mb: 256, disk_mb: 1024, rootfs: 'preloaded:cflinuxfs2' },
    ]);
    expect(await instance('web', 0)).toEqual(before);
  });

  it('restarts a crashed instance once its backoff has passed (the third crash waits 30 s)', async () => {
    const { db, lrps, auctioneer, setNow } = convergence();
    await db.registerCell(newValidCellPresence('cell-1'), 60);
    await db.desireLRP(newValidDesiredLrp('web', { instances: 1 }));
    const key = { process_guid: 'web', index: 0, domain: 'some-domain' };
    for (let crash = 1; crash <= 3; crash++) {
      await runOn('web', 0, 'some-domain', 'cell-1');
      await db.crashActualLRP(key, { instance_guid: 'web-0-on-cell-1', cell_id: 'cell-1' }, 'exit status 1');
    }
    expect(await instance('web', 0)).toMatchObject({ state: 'CRASHED', crash_count: 3, since: START_NS });

    setNow(START_NS + 29n * SECOND_NS);
    await lrps.convergeLRPs();
    expect((await instance('web', 0))?.state).toBe('CRASHED');
    expect(auctioneer.lrpStarts).toEqual([]);

    setNow(START_NS + 30n * SECOND_NS);
    await lrps.convergeLRPs();
    expect(await instance('web', 0)).toMatchObject({ state: 'UNCLAIMED', crash_count: 3, since: START_NS + 30n * SECOND_NS });
    expect(auctioneer.lrpStarts.map((start) => [start.process_guid, start.indices])).toEqual([['web', [0]]]);
  });

  it('deletes an instance record that does not decode', async () => {
    const { db, lrps, keys } = convergence();
    await db.desireLRP(newValidDesiredLrp('web', { instances: 1 }));
    await keys.namespace.put(etcdKeys.actualLrpInstanceKey('web', 0)).value('{"not":"an actual LRP"');

    const { pruned } = await lrps.convergeLRPs();
    expect(pruned).toBe(1);
    // Its index is missing from then on: the next pass creates it.
    await lrps.convergeLRPs();
    expect((await instance('web', 0))?.state).toBe('UNCLAIMED');
  });
});

describe('Converger', () => {
  it('converges at once when a cell presence expires, not only at its next tick', async () => {
    const { db, lrps, tasks } = convergence();
    await db.desireLRP(newValidDesiredLrp('web', { instances: 1 }));
    await db.registerCell(newValidCellPresence('cell-dying'), 2);
    await runOn('web', 0, 'some-domain', 'cell-dying');
    const converger = new Converger({
      lrps,
      tasks,
      cells: db,
      taskDurations: taskConvergenceDurationsNs(DEFAULT_TASK_CONVERGENCE_DURATIONS),
      repeatIntervalMs: 3_600_000,
      logger: pino({ level: 'silent' }),
    });
    await converger.start();
    try {
      // The cell stops heartbeating: its lease (TTL 2 s) expires, and the converger hears of it.
      const unclaimed = await eventually(() => instance('web', 0), (lrp) => lrp?.state === 'UNCLAIMED', { timeoutMs: 6000, intervalMs: 100 });
      expect(unclaimed?.cell_id).toBe('');
    } finally {
      await converger.stop();
    }
  });
});

describe('ConvergeLRPs', () => {
  it('runs one pass through the API and answers once it is done', async () => {
    const keys = testKeySpace();
    const bbs = await startBbsServer({ etcd: keys.namespace, listenAddress: '127.0.0.1:0', logger: pino({ level: 'silent' }) });
    const client = new HttpBbsClient([`http://${bbs.address}`]);
    try {
      await client.desireLRP(newValidDesiredLrp('api-web', { instances: 2 }));
      await client.removeActualLRP('api-web', 0);
      await client.convergeLRPs();
      const groups = await client.actualLRPGroupsByProcessGuid('api-web');
      expect(groups.map((group) => group.instance?.index).sort()).toEqual([0, 1]);
    } finally {
      client.close();
      await bbs.stop();
      await keys.cleanup();
    }
  });
});
