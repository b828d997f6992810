// The rep's bulk sync on a real cell and a real BBS: records of the cell that no container backs are settled, and
// containers whose record the BBS no longer has are destroyed. (A cell SIGKILLed and restarted:
// packages/cli/test/cell-restart.int.test.ts.)
import { randomUUID } from 'node:crypto';
import { eventually } from '@diego/test-support';
import { desiredLrp, group, processesWith, shell, useCells } from './cell-harness';

const cells = useCells();

describe('the bulk sync of a cell', () => {
  it('destroys a container whose ActualLRP the BBS no longer has, at the next interval', async () => {
    const { client, startCell } = cells();
    const cell = await startCell('cell-a', { bulkSyncIntervalMs: 200 });
    const marker = `web-${randomUUID()}`;
    await client.desireLRP(desiredLrp('web', shell('while true; do sleep 1; done', marker)));
    await eventually(() => group(client, 'web'), (found) => found?.instance?.state === 'RUNNING', { timeoutMs: 10_000 });

    // The BBS forgets the instance (nothing retires it through the cell): its process is a leftover.
    await client.removeActualLRP('web', 0);

    await eventually(() => processesWith(marker), (pids) => pids.length === 0, { timeoutMs: 10_000 });
    await eventually(() => Promise.resolve(cell.state().LRPs), (held) => held.length === 0, { timeoutMs: 5000 });
    expect(await group(client, 'web')).toBeNull();
  });

  it('removes the record of a stopped instance it does not hold, so that deleting the DesiredLRP leaves no ActualLRP', async () => {
    const { client, startCell } = cells();
    await startCell('cell-a');
    const marker = `web-${randomUUID()}`;
    await client.desireLRP(desiredLrp('web', shell('while true; do sleep 1; done', marker)));
    await eventually(() => group(client, 'web'), (found) => found?.instance?.state === 'RUNNING', { timeoutMs: 10_000 });
    // A record a predecessor of cell-a left: RUNNING on cell-a with an instance guid this cell never had.
    await client.startActualLRP(
      { process_guid: 'web', index: 1, domain: 'cf-apps' },
      { instance_guid: `ghost-${randomUUID()}`, cell_id: 'cell-a' },
      { address: '127.0.0.1', ports: [{ container_port: 8080, host_port: 61000 }] },
    );

    // Retiring the instances asks cell-a to stop both; it stops the one it runs and removes the other's record.
    await client.removeDesiredLRP('web');

    await eventually(() => client.actualLRPGroupsByProcessGuid('web'), (groups) => groups.length === 0, { timeoutMs: 10_000 });
    expect(await processesWith(marker)).toEqual([]);
  });

  it('removes a claim a predecessor left with no container and has the index placed again at once, not at the next convergence', async () => {
    const { client, startCell } = cells();
    // The desired instance, claimed by a cell-b that never ran it (the harness's converger runs once an hour).
    await client.desireLRP(desiredLrp('web', shell('while true; do sleep 1; done', `web-${randomUUID()}`)));
    const ghost = `ghost-${randomUUID()}`;
    // With no cell yet the auctioneer records its placement failure on the instance: claim after that write.
    await eventually(() => group(client, 'web'), (found) => (found?.instance?.placement_error ?? '') !== '', { timeoutMs: 10_000 });
    await client.claimActualLRP('web', 0, { instance_guid: ghost, cell_id: 'cell-b' });

    await startCell('cell-b');

    const replaced = await eventually(() => group(client, 'web'), (found) => found?.instance?.state === 'RUNNING', { timeoutMs: 5000 });
    expect(replaced?.instance?.instance_guid).not.toBe(ghost);
    expect(replaced?.instance?.cell_id).toBe('cell-b');
  });
});
