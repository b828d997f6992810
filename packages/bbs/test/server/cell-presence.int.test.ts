// Cells register their presence through the BBS API, keep it alive with heartbeats, and are gone once they
// stop (DESIGN.md "Cells never touch etcd"; spec/bbs.md §10.5).
import pino from 'pino';
import { CellPresenceMaintainer } from '@diego/cell';
import { eventually, newValidCellPresence } from '@diego/test-support';
import { useBbs } from './bbs-harness';

const bbs = useBbs();

/** etcd's minimum lease TTL on the test etcd (shorter TTLs are raised to it). */
const SHORT_TTL_SECONDS = 2;
/** How long a presence may take to go once its lease has no heartbeat: its TTL and etcd's expiry sweep. */
const EXPIRY_DEADLINE_MS = SHORT_TTL_SECONDS * 1000 + 3000;

async function cellIds(): Promise<string[]> {
  return (await bbs().client.cells()).map((cell) => cell.cell_id).sort();
}

describe('RegisterCell', () => {
  it('makes the cell live at once and answers the lease that holds it', async () => {
    const cell = newValidCellPresence('cell-1', { zone: 'z2', rootfs_providers: { docker: [], preloaded: ['cflinuxfs2'] } });
    const lease = await bbs().client.registerCell(cell, 10);
    expect(lease).toMatch(/^[1-9][0-9]*$/);
    expect(await bbs().client.cells()).toEqual([cell]);
  });

  it('lets the presence expire with its lease when no heartbeat comes', async () => {
    await bbs().client.registerCell(newValidCellPresence('cell-silent'), SHORT_TTL_SECONDS);
    expect(await cellIds()).toEqual(['cell-silent']);
    await eventually(cellIds, (ids) => ids.length === 0, { timeoutMs: EXPIRY_DEADLINE_MS, intervalMs: 100 });
  });

  it('refuses a presence without a cell id, a rep address or a TTL, in band', async () => {
    await expect(bbs().client.registerCell(newValidCellPresence('', { rep_address: '' }), 0)).rejects.toMatchObject({
      type: 'InvalidRequest',
      message: 'Invalid field: cell_id, Invalid field: rep_address, Invalid field: ttl',
    });
    expect(await cellIds()).toEqual([]);
  });
});

describe('CellHeartbeat', () => {
  it('keeps a presence alive past its TTL', async () => {
    const lease = await bbs().client.registerCell(newValidCellPresence('cell-beating'), SHORT_TTL_SECONDS);
    const deadline = Date.now() + SHORT_TTL_SECONDS * 1000 * 2;
    while (Date.now() < deadline) {
      await bbs().client.cellHeartbeat('cell-beating', lease);
      expect(await cellIds()).toEqual(['cell-beating']);
      await new Promise((resolve) => setTimeout(resolve, (SHORT_TTL_SECONDS * 1000) / 4));
    }
  });

  it('answers ResourceNotFound once the lease is gone, so that the cell registers again', async () => {
    const lease = await bbs().client.registerCell(newValidCellPresence('cell-gone'), SHORT_TTL_SECONDS);
    await bbs().client.removeCell('cell-gone');
    await expect(bbs().client.cellHeartbeat('cell-gone', lease)).rejects.toMatchObject({ type: 'ResourceNotFound' });
  });

  it('answers ResourceNotFound for a lease that no longer holds the presence (the cell registered again)', async () => {
    const first = await bbs().client.registerCell(newValidCellPresence('cell-again'), 10);
    const second = await bbs().client.registerCell(newValidCellPresence('cell-again'), 10);
    await expect(bbs().client.cellHeartbeat('cell-again', first)).rejects.toMatchObject({ type: 'ResourceNotFound' });
    await bbs().client.cellHeartbeat('cell-again', second);
  });

  it('refuses a heartbeat without a cell or with a lease id that is not one', async () => {
    await expect(bbs().client.cellHeartbeat('', 'lease')).rejects.toMatchObject({
      type: 'InvalidRequest',
      message: 'Invalid field: cell_id, Invalid field: lease_id',
    });
  });
});

describe('RemoveCell', () => {
  it('ends the presence at once', async () => {
    await bbs().client.registerCell(newValidCellPresence('cell-leaving'), 10);
    await bbs().client.registerCell(newValidCellPresence('cell-staying'), 10);
    await bbs().client.removeCell('cell-leaving');
    expect(await cellIds()).toEqual(['cell-staying']);
  });

  it('answers ResourceNotFound for a cell that is not present', async () => {
    await expect(bbs().client.removeCell('cell-unknown')).rejects.toMatchObject({ type: 'ResourceNotFound' });
  });
});

describe('CellPresenceMaintainer', () => {
  const logger = pino({ level: 'silent' });

  it('registers, heartbeats past the TTL, and removes the presence on stop', async () => {
    const presence = new CellPresenceMaintainer({
      bbs: bbs().client,
      presence: newValidCellPresence('cell-maintained'),
      ttlSeconds: SHORT_TTL_SECONDS,
      logger,
    });
    await presence.start();
    try {
      expect(await cellIds()).toEqual(['cell-maintained']);
      const lease = presence.leaseId;
      // Two TTLs without a gap: the heartbeats keep the same lease alive.
      const until = Date.now() + SHORT_TTL_SECONDS * 1000 * 2;
      while (Date.now() < until) {
        expect(await cellIds()).toEqual(['cell-maintained']);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      expect(presence.leaseId).toBe(lease);
    } finally {
      await presence.stop();
    }
    expect(await cellIds()).toEqual([]);
  });

  it('registers again when its lease is gone', async () => {
    const presence = new CellPresenceMaintainer({
      bbs: bbs().client,
      presence: newValidCellPresence('cell-revived'),
      ttlSeconds: 10,
      heartbeatIntervalMs: 100,
      logger,
    });
    await presence.start();
    try {
      const lease = presence.leaseId;
      // An operator (or an expiry during a partition) ends the presence; the next heartbeat finds out.
      await bbs().client.removeCell('cell-revived');
      await eventually(cellIds, (ids) => ids.includes('cell-revived'), { timeoutMs: 3000 });
      expect(presence.leaseId).not.toBe(lease);
    } finally {
      await presence.stop();
    }
  });

  it('keeps trying to register while the BBS refuses, and stops trying when stopped', async () => {
    let attempts = 0;
    const client = bbs().client;
    const countingBbs = {
      registerCell: (...args: Parameters<typeof client.registerCell>) => {
        attempts += 1;
        return client.registerCell(...args);
      },
      cellHeartbeat: (...args: Parameters<typeof client.cellHeartbeat>) => client.cellHeartbeat(...args),
      removeCell: (...args: Parameters<typeof client.removeCell>) => client.removeCell(...args),
    };
    const presence = new CellPresenceMaintainer({
      bbs: countingBbs,
      presence: newValidCellPresence('cell-invalid', { rep_address: '' }),
      retryIntervalMs: 50,
      logger,
    });
    const started = presence.start();
    await eventually(async () => attempts, (count) => count >= 3, { timeoutMs: 3000 });
    await presence.stop();
    await started;
    expect(presence.leaseId).toBeNull();
    expect(await cellIds()).toEqual([]);
  });
});
