/**
 * How rounds use the cells' states: arrivals in a burst share rounds, each cell is asked for its state once and
 * its state reused with the auctioneer's own placements added, and a reused state never fails a placement or
 * refuses work that a fresh one would have allowed.
 */
import type { ActualLRP } from '@diego/models';
import { eventually } from '@diego/test-support';
import { runnableLrp, useAuction } from './auction-harness';

const DOCKER = 'docker:///cloudfoundry/grace#latest';

function allRunning(lrps: ActualLRP[]): boolean {
  return lrps.length > 0 && lrps.every((lrp) => lrp.state === 'RUNNING');
}

describe('auction rounds gathering arrivals for up to a second of quiet', () => {
  // A wide window, so that the burst below shares rounds however slowly this machine reads 200 desired LRPs; and
  // known states that do not age within the test, so that every question a cell hears is one a round needed.
  const auction = useAuction({ batchQuietMs: 1000, batchMaxWaitMs: 30_000, cellStateMaxAgeMs: 600_000 });

  it('places 200 instances of 200 LRPs arriving at once in a couple of rounds, asking each cell for its state once', async () => {
    const { auctioneer, client, db, startCell } = auction();
    const cells = await Promise.all(['z1', 'z1', 'z2', 'z2'].map((zone, i) => startCell({
      cellId: `cell-${i}`, zone, memoryMB: 100_000, diskMB: 100_000, containers: 100,
    })));
    // Stopped, the auctioneer leaves them UNCLAIMED; started, it auctions them all at once, as it does a dead
    // cell's instances: 200 process guids, each with its own read of the desired LRP.
    await auctioneer.stop();
    const guids = Array.from({ length: 200 }, (_, i) => `app-${i}`);
    await Promise.all(guids.map((guid) => client.desireLRP(runnableLrp(guid, { memory_mb: 64, disk_mb: 64 }))));
    await auctioneer.start();

    const running = await eventually(
      () => db.actualLRPGroups(),
      (groups) => groups.length === 200 && allRunning(groups.flatMap(({ instance }) => (instance === null ? [] : [instance]))),
      { timeoutMs: 60_000 },
    );
    expect(running).toHaveLength(200);
    expect(cells.map((cell) => cell.stateRequests)).toEqual([1, 1, 1, 1]);
    // Each round gives a cell at most one /work: at most two rounds each.
    expect(cells.every((cell) => cell.workReceived.length <= 2)).toBe(true);
    expect(cells.reduce((sum, cell) => sum + cell.lrps().length, 0)).toBe(200);
    // Spread as the scheduler spreads: 50 per cell, 100 per zone.
    expect(cells.map((cell) => cell.lrps().length)).toEqual([50, 50, 50, 50]);
  });
});

describe('auction rounds reusing what they know of the cells', () => {
  // Known states do not age within a test: every question a cell hears is one a round needed.
  const auction = useAuction({ cellStateMaxAgeMs: 600_000 });

  it('asks a cell again rather than fail an instance for lack of room its reused state no longer has', async () => {
    const { client, startCell, instances } = auction();
    const only = await startCell({ cellId: 'only', memoryMB: 1024, diskMB: 1024 });
    await client.desireLRP(runnableLrp('first', { memory_mb: 768, disk_mb: 768 }));
    await eventually(() => instances('first'), allRunning);
    // The cell frees the room without the auctioneer placing or seeing anything there.
    await client.removeDesiredLRP('first');
    await eventually(async () => ({ records: await instances('first'), held: only.lrps() }), ({ records, held }) => records.length === 0 && held.length === 0);

    await client.desireLRP(runnableLrp('second', { memory_mb: 768, disk_mb: 768 }));
    const [second] = await eventually(() => instances('second'), allRunning);
    expect(second).toMatchObject({ cell_id: 'only', placement_error: '' });
    expect(only.stateRequests).toBe(2);
  });

  it('places work a cell refused on a reused state again with fresh states', async () => {
    const { client, startCell, instances } = auction();
    // Both are asked in the first round; the docker image can only go to the small one.
    const big = await startCell({ cellId: 'big', memoryMB: 8192, diskMB: 8192, containers: 100, rootfsProviders: { preloaded: ['cflinuxfs2'] } });
    const small = await startCell({ cellId: 'small', memoryMB: 1024, diskMB: 1024 });
    await client.desireLRP(runnableLrp('first', { rootfs: DOCKER }));
    await eventually(() => instances('first'), allRunning);

    // The big cell starts draining, as a rep does: it reports Evacuating and refuses work. Holding nothing, it
    // hands nothing back, so the auctioneer sees no change of it in the store.
    big.setRefuseAll(true);
    await big.evacuate();
    await client.desireLRP(runnableLrp('app'));
    const [app] = await eventually(() => instances('app'), allRunning);

    expect(app).toMatchObject({ cell_id: 'small', placement_error: '' });
    expect(big.workReceived.flatMap((work) => work.LRPs.map((lrp) => lrp.process_guid))).toEqual(['app']);
    expect(big.stateRequests).toBe(2);
    expect(small.lrps().map((held) => held.lrp.process_guid).sort()).toEqual(['app', 'first']);
  });
});
