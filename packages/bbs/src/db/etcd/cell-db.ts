import { BbsError, cellPresenceFromJson, cellPresenceToJson, type CellPresence } from '@diego/models';
import type { CellDb } from '../db';
import type { DbContext } from './context';
import { resourceNotFound } from './errors';
import { AS_TEXT, deleteExisting, guaranteedUpdate } from './guaranteed-update';
import { CELL_PREFIX, cellKey, parseKey } from './keys';
import { memoizedDecoder } from './store';

const decodeCellPresence = memoizedDecoder((text: string): CellPresence => cellPresenceFromJson(text));

/**
 * Cell presences: `/v1/cell/<cell_id>` = CellPresence JSON under the cell's lease. The BBS writes it for the cell
 * and the cell's heartbeats (through the BBS) keep the lease alive; when they stop the presence expires.
 *
 * @example
 *   const lease = await db.registerCell(presence, 10);
 *   await db.heartbeatCell(presence.cell_id, lease); // every few seconds
 */
export class EtcdCellDb implements CellDb {
  constructor(private readonly ctx: DbContext) {}

  async cells(): Promise<CellPresence[]> {
    const { items } = await this.ctx.store.listDecoded(CELL_PREFIX, decodeCellPresence);
    return items.map((item) => item.value);
  }

  async cellById(cellId: string): Promise<CellPresence> {
    return (await this.ctx.store.get(cellKey(cellId), decodeCellPresence)).value;
  }

  async registerCell(cell: CellPresence, ttlSeconds: number): Promise<string> {
    // A presence lives by its lease: without one it would never expire.
    if (ttlSeconds <= 0) throw new BbsError('InvalidRequest', `a cell presence needs a positive TTL, not ${ttlSeconds}`);
    // A re-registering cell supersedes its old lease, which the update revokes (left alone it would live on until
    // its TTL).
    const { lease } = await guaranteedUpdate(this.ctx, cellKey(cell.cell_id), AS_TEXT, () => cellPresenceToJson(cell), {
      leaseTtlSeconds: ttlSeconds,
    });
    // Unreachable: with a positive TTL the presence is always written under a lease.
    if (lease === undefined) throw new BbsError('InvalidRequest', `cell ${cell.cell_id} was registered without a lease`);
    this.ctx.logger.info({ cell_id: cell.cell_id, lease }, 'cell-registered');
    return lease;
  }

  async heartbeatCell(cellId: string, leaseId: string): Promise<void> {
    const { store } = this.ctx;
    const current = await store.find(cellKey(cellId));
    // The presence must still be the one this lease holds: a newer registration or a removal ends it.
    if (current === null || current.lease !== leaseId) throw resourceNotFound();
    if (!(await store.keepLeaseAlive(leaseId))) throw resourceNotFound();
  }

  async removeCell(cellId: string): Promise<void> {
    // The delete first, so that this BBS's next read sees the cell gone; then the lease, with nothing left on it.
    const removed = await deleteExisting(this.ctx, cellKey(cellId), AS_TEXT, () => undefined);
    await this.ctx.store.revokeLease(removed.lease);
    this.ctx.logger.info({ cell_id: cellId }, 'cell-removed');
  }

  async watchCellArrivals(onArrived: (cellId: string) => void, onError: (err: Error) => void): Promise<() => Promise<void>> {
    return this.ctx.store.watchCreates(
      CELL_PREFIX,
      (key) => {
        const parsed = parseKey(key);
        if (parsed?.kind === 'cell') onArrived(parsed.cellId);
      },
      onError,
    );
  }

  async watchCellDisappearances(onGone: (cellId: string) => void, onError: (err: Error) => void): Promise<() => Promise<void>> {
    return this.ctx.store.watchDeletes(
      CELL_PREFIX,
      (key) => {
        const parsed = parseKey(key);
        if (parsed?.kind === 'cell') onGone(parsed.cellId);
      },
      onError,
    );
  }
}
