// Evacuation between two real cells (spec/bbs.md §5.3): the draining cell keeps its instance running until
// the replacement runs on the other cell, so the LRP is never without a RUNNING instance.
import type { ActualLRPGroup } from '@diego/models';
import { eventually } from '@diego/test-support';
import { desiredLrp, group, processesWith, shell, useCells } from './cell-harness';

const cells = useCells();

function runningCells(g: ActualLRPGroup | null): string[] {
  return [g?.instance, g?.evacuating].filter((lrp) => lrp?.state === 'RUNNING').map((lrp) => lrp?.cell_id ?? '');
}

describe('evacuation', () => {
  it('moves a running instance to another cell with no moment at zero RUNNING, then stops its own', async () => {
    const { client, startCell } = cells();
    const draining = await startCell('cell-a');
    // Each instance's loop carries its own instance guid on its command line.
    await client.desireLRP(desiredLrp('web', shell(`exec sh -c 'while true; do sleep 1; done' "$INSTANCE_GUID"`)));
    const first = await eventually(() => group(client, 'web'), (g) => runningCells(g).includes('cell-a'), { timeoutMs: 10_000 });
    const evacueeGuid = first?.instance?.instance_guid ?? '';
    await eventually(() => processesWith(evacueeGuid), (pids) => pids.length > 0, { timeoutMs: 5000 });
    await startCell('cell-b');

    const evacuated = draining.evacuate();
    expect(draining.state().Evacuating).toBe(true);
    const seen: string[][] = [];
    await eventually(async () => {
      const running = runningCells(await group(client, 'web'));
      seen.push(running);
      return running;
    }, (running) => running.length === 1 && running[0] === 'cell-b', { timeoutMs: 15_000, intervalMs: 10 });
    expect(seen.filter((running) => running.length === 0)).toEqual([]);
    expect(seen.some((running) => running.includes('cell-a') && running.includes('cell-b'))).toBe(true);

    await evacuated;
    expect(await processesWith(evacueeGuid)).toEqual([]);
    const after = await group(client, 'web');
    expect((await processesWith(after?.instance?.instance_guid ?? 'none')).length).toBeGreaterThan(0);
    expect(after?.evacuating).toBeNull();
    expect(after?.instance).toMatchObject({ state: 'RUNNING', cell_id: 'cell-b' });
    expect((await client.cells()).map((cell) => cell.cell_id)).toEqual(['cell-b']);
  });
});

describe('an evacuation that cannot hand over', () => {
  it('stops everything at the evacuation timeout', async () => {
    const { client, startCell } = cells();
    const draining = await startCell('cell-a', { evacuationTimeoutMs: 1000 });
    await client.desireLRP(desiredLrp('web', shell(`exec sh -c 'while true; do sleep 1; done' "$INSTANCE_GUID"`)));
    const first = await eventually(() => group(client, 'web'), (g) => runningCells(g).includes('cell-a'), { timeoutMs: 10_000 });

    const startedAt = Date.now();
    await draining.evacuate();
    // No other cell: the instance was handed back but never ran elsewhere; the cell waited the whole timeout.
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(1000);
    expect(await processesWith(first?.instance?.instance_guid ?? '')).toEqual([]);
    expect(await client.cells()).toEqual([]);
  });

  it('stops at once when stopped during the evacuation (a second signal)', async () => {
    const { client, startCell } = cells();
    const draining = await startCell('cell-a', { evacuationTimeoutMs: 600_000 });
    await client.desireLRP(desiredLrp('web', shell(`exec sh -c 'while true; do sleep 1; done' "$INSTANCE_GUID"`)));
    const first = await eventually(() => group(client, 'web'), (g) => runningCells(g).includes('cell-a'), { timeoutMs: 10_000 });
    const evacuated = draining.evacuate();
    // The evacuation has begun once the instance is handed back. (The evacuating copy itself may already be gone:
    // with no other cell its replacement fails placement at once, and then the BBS removes that copy.)
    await eventually(() => group(client, 'web'), (g) => g?.instance?.state === 'UNCLAIMED', { timeoutMs: 5000 });

    await draining.stop();
    await evacuated;
    expect(await processesWith(first?.instance?.instance_guid ?? '')).toEqual([]);
    expect(await client.cells()).toEqual([]);
  });
});
