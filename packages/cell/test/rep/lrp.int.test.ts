// LRP instances on real cells: the auctioneer places them, the cell claims, runs and reports them through a
// real BBS, and the processes really run (and stop) on this machine.
import { randomUUID } from 'node:crypto';
import { HttpRepClient } from '@diego/rep-api';
import type { ActualLRP, CellPresence } from '@diego/models';
import { eventually } from '@diego/test-support';
import { desiredLrp, group, processesWith, shell, useCells } from './cell-harness';

const cells = useCells();

async function instance(processGuid: string): Promise<ActualLRP | null> {
  return (await group(cells().client, processGuid))?.instance ?? null;
}

async function onlyCell(): Promise<CellPresence> {
  const [presence, ...others] = await cells().client.cells();
  if (presence === undefined || others.length > 0) throw new Error('expected exactly one cell');
  return presence;
}

describe('LRP instances on a cell', () => {
  it('runs a desired LRP: RUNNING with the cell address and a host port for each container port, held in /state; stop() leaves no process', async () => {
    const { client, startCell } = cells();
    const cell = await startCell('cell-a');
    const marker = `web-${randomUUID()}`;
    await client.desireLRP(desiredLrp('web', shell('while true; do sleep 1; done', marker), { ports: [8080, 9090] }));

    const running = await eventually(() => instance('web'), (lrp) => lrp?.state === 'RUNNING', { timeoutMs: 10_000 });
    expect(running).toMatchObject({ cell_id: 'cell-a', address: '127.0.0.1' });
    expect(running?.ports.map((p) => p.container_port)).toEqual([8080, 9090]);
    expect(new Set(running?.ports.map((p) => p.host_port)).size).toBe(2);
    expect((await processesWith(marker)).length).toBeGreaterThan(0);

    const state = await new HttpRepClient().state(await onlyCell(), 1000);
    expect(state.LRPs).toEqual([{ process_guid: 'web', index: 0, domain: 'cf-apps', MemoryMB: 128, DiskMB: 128, RootFs: 'preloaded:cflinuxfs2' }]);
    expect(state.AvailableResources).toEqual({ MemoryMB: 1024 - 128, DiskMB: 1024 - 128, Containers: 9 });
    expect(state.TotalResources).toEqual({ MemoryMB: 1024, DiskMB: 1024, Containers: 10 });
    expect(state.StartingContainerCount).toBe(0);
    expect(state.Evacuating).toBe(false);
    expect(state.RootFSProviders).toEqual({ preloaded: { type: 'fixed_set', set: { cflinuxfs2: {} } } });

    await cell.stop();
    expect(await processesWith(marker)).toEqual([]);
    expect(await client.cells()).toEqual([]);
  });

  it('refuses work that does not fit: the auction fails it with "insufficient resources", and /work answers it back', async () => {
    const { client, startCell } = cells();
    await startCell('cell-a', { memoryMb: 256 });
    await client.desireLRP(desiredLrp('big', shell('sleep 600'), { memory_mb: 512 }));
    const failed = await eventually(() => instance('big'), (lrp) => (lrp?.placement_error ?? '') !== '', { timeoutMs: 10_000 });
    expect(failed).toMatchObject({ state: 'UNCLAIMED', placement_error: 'insufficient resources' });

    const presence = await onlyCell();
    const tooBig = { process_guid: 'big', index: 0, domain: 'cf-apps', MemoryMB: 512, DiskMB: 1, RootFs: 'preloaded:cflinuxfs2' };
    const unknownRootfs = { ...tooBig, index: 1, MemoryMB: 1, RootFs: 'preloaded:other' };
    const refused = await new HttpRepClient().perform(presence, { LRPs: [tooBig, unknownRootfs], Tasks: [] });
    expect(refused.LRPs).toEqual([tooBig, unknownRootfs]);
  });

  it('reports an instance whose action exits as crashed, and the BBS restarts it with a new instance guid', async () => {
    const { client, startCell } = cells();
    await startCell('cell-a');
    await client.desireLRP(desiredLrp('crasher', shell('sleep 1; exit 3')));
    const first = await eventually(() => instance('crasher'), (lrp) => lrp?.state === 'RUNNING', { timeoutMs: 10_000 });

    const restarted = await eventually(() => instance('crasher'),
      (lrp) => lrp !== null && lrp.crash_count >= 1 && lrp.state === 'RUNNING', { timeoutMs: 10_000 });
    expect(restarted?.crash_reason).toContain('Exited with status 3');
    expect(restarted?.instance_guid).not.toBe(first?.instance_guid);
    expect(restarted?.modification_tag.epoch).toBe(first?.modification_tag.epoch);
    expect(restarted?.modification_tag.index).toBeGreaterThan(first?.modification_tag.index ?? Infinity);
  });

  it('stops a retired instance (its process ends, its record goes) and convergence brings a new one', async () => {
    const { client, startCell } = cells();
    await startCell('cell-a');
    const marker = `retired-${randomUUID()}`;
    await client.desireLRP(desiredLrp('web', shell('while true; do sleep 1; done', marker)));
    const first = await eventually(() => instance('web'), (lrp) => lrp?.state === 'RUNNING', { timeoutMs: 10_000 });

    await client.retireActualLRP({ process_guid: 'web', index: 0, domain: 'cf-apps' });
    await eventually(() => instance('web'), (lrp) => lrp === null, { timeoutMs: 10_000 });
    expect(await processesWith(marker)).toEqual([]);

    await client.convergeLRPs();
    const replacement = await eventually(() => instance('web'), (lrp) => lrp?.state === 'RUNNING', { timeoutMs: 10_000 });
    expect(replacement?.instance_guid).not.toBe(first?.instance_guid);
    expect((await processesWith(marker)).length).toBeGreaterThan(0);
  });
});
