import {
  BbsError,
  allowsTransitionTo,
  isBbsError,
  nextCrashCount,
  shouldRestartImmediately,
  type ActualLRP,
  type ActualLRPGroup,
  type ActualLRPInstanceKey,
  type ActualLRPKey,
  type ActualLRPNetInfo,
  type ErrorType,
} from '@diego/models';
import type { ActualLRPDb, ActualLRPFilter, CellDb, Change, Gathered, Listed, RetireResult } from '../db';
import {
  EMPTY_INSTANCE_KEY,
  decodeActualLrp,
  encodeActualLrp,
  incremented,
  instanceKeyOf,
  netInfoOf,
  newModificationTag,
  newRunningActualLrp,
  newUnclaimedActualLrp,
  sameActualLrpKey,
  sameInstanceKey,
  sameNetInfo,
} from './actual-lrp-records';
import type { DbContext } from './context';
import { invalidRecord, orLifecycleError, resourceNotFound } from './errors';
import { ACTUAL_LRP_PREFIX, actualLrpIndexPrefix, actualLrpInstanceKey, actualLrpProcessPrefix, actualLrpRecordOf } from './keys';
import { decodeRecord, withValue, type Entry, type Versioned } from './store';
import type { ViewIndex } from './view';

/** etcd's default `--max-txn-ops`. */
export const MAX_TXN_OPS = 128;
/** The view's index of ActualLRP records (instance and evacuating) by the cell they are on: what each cell asks for. */
export const ACTUAL_LRPS_BY_CELL: ViewIndex = {
  name: 'actual-lrps-by-cell',
  prefix: ACTUAL_LRP_PREFIX,
  valueOf: (record) => decodeRecord(record, decodeActualLrp).cell_id || null,
};

/** bbs `RetireActualLRPRetryAttempts`. */
const RETIRE_ATTEMPTS = 5;

/** The lifecycle half of ActualLRPDb; evacuation is in evacuation-db.ts. */
export type ActualLRPLifecycleDb = Omit<
  ActualLRPDb,
  | 'removeEvacuatingActualLRP'
  | 'evacuateClaimedActualLRP'
  | 'evacuateRunningActualLRP'
  | 'evacuateStoppedActualLRP'
  | 'evacuateCrashedActualLRP'
>;

/**
 * ActualLRP instance records, `/v1/actual/<guid>/<index>/instance`, and the lifecycle of spec/bbs.md §5.2 with
 * the crash restarts of §6. Every write compares the `mod_revision` it read; a lost write is the operation's own
 * error (`ActualLRPCannotBeClaimed`, ...).
 *
 * @example
 *   const { after } = await db.claimActualLRP('web', 0, { instance_guid: 'i-1', cell_id: 'cell-1' });
 */
export class EtcdActualLRPDb implements ActualLRPLifecycleDb {
  constructor(
    private readonly ctx: DbContext,
    private readonly cells: Pick<CellDb, 'cellById'>,
  ) {}

  async actualLRPGroups(filter: ActualLRPFilter = {}): Promise<ActualLRPGroup[]> {
    return (await this.listActualLRPGroups(filter)).items;
  }

  async actualLRPGroupsByProcessGuid(processGuid: string): Promise<ActualLRPGroup[]> {
    return (await this.listActualLRPGroupsByProcessGuid(processGuid)).items;
  }

  async listActualLRPGroups(filter: ActualLRPFilter = {}): Promise<Listed<ActualLRPGroup>> {
    const keep = (lrp: ActualLRP): boolean => passes(filter, lrp);
    const { items, revision } = filter.cell_id
      ? await this.ctx.store.listIndexed(ACTUAL_LRPS_BY_CELL, filter.cell_id, decodeActualLrp, keep)
      : await this.ctx.store.listDecoded(ACTUAL_LRP_PREFIX, decodeActualLrp, keep);
    return { items: groupByIndex(items), revision };
  }

  async listActualLRPGroupsByProcessGuid(processGuid: string): Promise<Listed<ActualLRPGroup>> {
    const { items, revision } = await this.ctx.store.listDecoded(actualLrpProcessPrefix(processGuid), decodeActualLrp);
    return { items: groupByIndex(items), revision };
  }

  async actualLRPGroupByProcessGuidAndIndex(processGuid: string, index: number): Promise<ActualLRPGroup> {
    // One range over the index reads both records at one revision.
    const { items } = await this.ctx.store.list(actualLrpIndexPrefix(processGuid, index));
    const records = items.map((item) => {
      try {
        return withValue(item, decodeRecord(item, decodeActualLrp));
      } catch (err) {
        throw invalidRecord(err);
      }
    });
    const [group] = groupByIndex(records);
    if (group === undefined) throw resourceNotFound();
    return group;
  }

  async createUnclaimedActualLRP(key: ActualLRPKey): Promise<ActualLRP> {
    const lrp = newUnclaimedActualLrp(key, this.ctx.clock());
    await this.ctx.store.create(actualLrpInstanceKey(key.process_guid, key.index), encodeActualLrp(lrp));
    return lrp;
  }

  /**
   * UNCLAIMED records for `indices` of one desired LRP, in transactions of at most 128 creates. `leading` (the
   * desired record) goes into the first transaction and must be created: ResourceExists when it is present.
   * An index whose record exists is skipped; after the first transaction failures are logged and skipped too
   * (convergence creates missing instances). Returns the indices created.
   */
  async createUnclaimedActualLRPs(
    desired: { process_guid: string; domain: string },
    indices: readonly number[],
    leading?: Entry,
  ): Promise<number[]> {
    const { store, clock, logger } = this.ctx;
    const toCreate = indices.map((index) => {
      const lrp = newUnclaimedActualLrp({ process_guid: desired.process_guid, index, domain: desired.domain }, clock());
      return { index, entry: { key: actualLrpInstanceKey(desired.process_guid, index), value: encodeActualLrp(lrp) } };
    });
    const created: number[] = [];
    let first = leading;
    let offset = 0;
    do {
      const chunk = toCreate.slice(offset, offset + MAX_TXN_OPS - (first === undefined ? 0 : 1));
      offset += chunk.length;
      const entries = chunk.map((item) => item.entry);
      try {
        if (await store.createAll(first === undefined ? entries : [first, ...entries])) {
          created.push(...chunk.map((item) => item.index));
          first = undefined;
          continue;
        }
        // Something in the chunk exists: the leading record must not, the actuals may (they are skipped).
        if (first !== undefined) await store.create(first.key, first.value);
      } catch (err) {
        if (first !== undefined) throw err;
        logger.error({ process_guid: desired.process_guid, error: String(err) }, 'failed-to-create-actual-lrps');
        continue;
      }
      first = undefined;
      const results = await Promise.all(chunk.map(async (item) => this.createOne(desired.process_guid, item)));
      created.push(...results.filter((index): index is number => index !== null));
    } while (offset < toCreate.length);
    return created;
  }

  async claimActualLRP(processGuid: string, index: number, instanceKey: ActualLRPInstanceKey): Promise<Change<ActualLRP>> {
    const current = await this.ctx.store.get(actualLrpInstanceKey(processGuid, index), decodeActualLrp);
    const before = current.value;
    if (!allowsTransitionTo(before, before, instanceKey, 'CLAIMED')) throw new BbsError('ActualLRPCannotBeClaimed');
    // Claiming again with the same instance key is a no-op success (bbs 7a49be35).
    if (before.state === 'CLAIMED' && sameInstanceKey(before, instanceKey)) return { before, after: before };
    const after: ActualLRP = {
      ...before,
      ...instanceKeyOf(instanceKey),
      address: '',
      ports: [],
      state: 'CLAIMED',
      placement_error: '',
      since: this.ctx.clock(),
      modification_tag: incremented(before.modification_tag),
    };
    await this.swap('ActualLRPCannotBeClaimed', current, after);
    return { before, after };
  }

  async startActualLRP(
    key: ActualLRPKey,
    instanceKey: ActualLRPInstanceKey,
    netInfo: ActualLRPNetInfo,
  ): Promise<{ before: ActualLRP | null; after: ActualLRP }> {
    const { store, clock } = this.ctx;
    const storeKey = actualLrpInstanceKey(key.process_guid, key.index);
    const current = await store.tryGet(storeKey, decodeActualLrp);
    if (current === null) {
      const after = newRunningActualLrp(key, instanceKey, netInfo, clock(), newModificationTag());
      await orLifecycleError('ActualLRPCannotBeStarted', store.create(storeKey, encodeActualLrp(after)));
      return { before: null, after };
    }
    const before = current.value;
    if (
      before.state === 'RUNNING' &&
      sameActualLrpKey(before, key) &&
      sameInstanceKey(before, instanceKey) &&
      sameNetInfo(before, netInfo)
    ) {
      return { before, after: before };
    }
    if (!allowsTransitionTo(before, key, instanceKey, 'RUNNING')) throw new BbsError('ActualLRPCannotBeStarted');
    const after: ActualLRP = {
      ...before,
      ...instanceKeyOf(instanceKey),
      ...netInfoOf(netInfo),
      state: 'RUNNING',
      placement_error: '',
      since: clock(),
      modification_tag: incremented(before.modification_tag),
    };
    await this.swap('ActualLRPCannotBeStarted', current, after);
    return { before, after };
  }

  async crashActualLRP(
    key: ActualLRPKey,
    instanceKey: ActualLRPInstanceKey,
    errorMessage: string,
  ): Promise<Change<ActualLRP> & { restarted: boolean }> {
    const current = await this.ctx.store.get(actualLrpInstanceKey(key.process_guid, key.index), decodeActualLrp);
    const before = current.value;
    const now = this.ctx.clock();
    const crashCount = nextCrashCount(before, now);
    if (!allowsTransitionTo(before, key, instanceKey, 'CRASHED')) throw new BbsError('ActualLRPCannotBeCrashed');
    // An immediate restart (§6) is the same single write, straight back to UNCLAIMED.
    const restarted = shouldRestartImmediately(crashCount);
    const after: ActualLRP = {
      ...before,
      ...EMPTY_INSTANCE_KEY,
      address: '',
      ports: [],
      state: restarted ? 'UNCLAIMED' : 'CRASHED',
      since: now,
      crash_count: crashCount,
      crash_reason: errorMessage,
      modification_tag: incremented(before.modification_tag),
    };
    await this.swap('ActualLRPCannotBeCrashed', current, after);
    return { before, after, restarted };
  }

  async failActualLRP(key: ActualLRPKey, errorMessage: string): Promise<Change<ActualLRP>> {
    const current = await this.ctx.store.get(actualLrpInstanceKey(key.process_guid, key.index), decodeActualLrp);
    const before = current.value;
    if (before.state !== 'UNCLAIMED') throw new BbsError('ActualLRPCannotBeFailed');
    const after: ActualLRP = {
      ...before,
      placement_error: errorMessage,
      since: this.ctx.clock(),
      modification_tag: incremented(before.modification_tag),
    };
    await this.swap('ActualLRPCannotBeFailed', current, after);
    return { before, after };
  }

  async removeActualLRP(processGuid: string, index: number, instanceKey?: ActualLRPInstanceKey): Promise<ActualLRP> {
    const { store } = this.ctx;
    const current = await store.get(actualLrpInstanceKey(processGuid, index), decodeActualLrp);
    if (instanceKey !== undefined && !sameInstanceKey(current.value, instanceKey)) throw resourceNotFound();
    await orLifecycleError('ActualLRPCannotBeRemoved', store.compareAndDelete(current.key, current.modRevision));
    return current.value;
  }

  async retireActualLRP(key: ActualLRPKey): Promise<RetireResult> {
    const { store, logger } = this.ctx;
    let failure: unknown;
    for (let attempt = 1; attempt <= RETIRE_ATTEMPTS; attempt++) {
      const current = await store.get(actualLrpInstanceKey(key.process_guid, key.index), decodeActualLrp);
      try {
        return await this.retireOnce(current);
      } catch (err) {
        failure = err;
        logger.error(
          { process_guid: key.process_guid, index: key.index, attempt, error: String(err) },
          'retrying-failed-retire-of-actual-lrp',
        );
      }
    }
    throw failure;
  }

  async unclaimActualLRP(
    key: ActualLRPKey,
    instanceKey: ActualLRPInstanceKey = EMPTY_INSTANCE_KEY,
  ): Promise<{ changed: boolean; after: ActualLRP }> {
    const current = await this.ctx.store.get(actualLrpInstanceKey(key.process_guid, key.index), decodeActualLrp);
    return this.unclaimRead(current, key, instanceKey);
  }

  async gatherAndPruneActualLRPs(): Promise<Gathered<ActualLRPGroup>> {
    const { items, pruned } = await this.ctx.store.listDecodedPruning(ACTUAL_LRP_PREFIX, decodeActualLrp);
    return { records: groupByIndex(items), pruned };
  }

  async unclaimActualLRPOnMissingCell(key: ActualLRPKey, cellId: string): Promise<boolean> {
    const current = await this.readInstance(key);
    if (current === null) return false;
    const lrp = current.value;
    if ((lrp.state !== 'CLAIMED' && lrp.state !== 'RUNNING') || lrp.cell_id !== cellId) return false;
    try {
      await this.cells.cellById(cellId);
      return false;
    } catch (err) {
      if (!isBbsError(err, 'ResourceNotFound')) throw err;
    }
    return (await this.unclaimRead(current, key, instanceKeyOf(lrp))).changed;
  }

  /** The instance record with its revision, or null. */
  async readInstance(key: ActualLRPKey): Promise<Versioned<ActualLRP> | null> {
    return this.ctx.store.tryGet(actualLrpInstanceKey(key.process_guid, key.index), decodeActualLrp);
  }

  /**
   * §5.2 Unclaim of a record already read: the key must match; UNCLAIMED is left alone; otherwise the instance
   * key must match the stored one (both empty for CRASHED). crash_count is kept.
   */
  async unclaimRead(
    current: Versioned<ActualLRP>,
    key: ActualLRPKey,
    instanceKey: ActualLRPInstanceKey,
  ): Promise<{ changed: boolean; after: ActualLRP }> {
    const before = current.value;
    if (!sameActualLrpKey(before, key)) throw new BbsError('ActualLRPCannotBeUnclaimed');
    if (before.state === 'UNCLAIMED') return { changed: false, after: before };
    if (!sameInstanceKey(before, instanceKey)) throw new BbsError('ActualLRPCannotBeUnclaimed');
    const after: ActualLRP = {
      ...before,
      ...EMPTY_INSTANCE_KEY,
      address: '',
      ports: [],
      state: 'UNCLAIMED',
      since: this.ctx.clock(),
      modification_tag: incremented(before.modification_tag),
    };
    await this.swap('ActualLRPCannotBeUnclaimed', current, after);
    return { changed: true, after };
  }

  private async retireOnce(current: Versioned<ActualLRP>): Promise<RetireResult> {
    const lrp = current.value;
    if (lrp.state === 'CLAIMED' || lrp.state === 'RUNNING') {
      try {
        return { removed: false, cell: await this.cells.cellById(lrp.cell_id), lrp };
      } catch (err) {
        if (!isBbsError(err, 'ResourceNotFound')) throw err;
        this.ctx.logger.info({ process_guid: lrp.process_guid, index: lrp.index, cell_id: lrp.cell_id }, 'cell-not-found');
      }
    }
    await orLifecycleError('ActualLRPCannotBeRemoved', this.ctx.store.compareAndDelete(current.key, current.modRevision));
    return { removed: true };
  }

  /** Writes `after` over `current` if unchanged since read; a lost write is `lostWrite`. */
  private async swap(lostWrite: ErrorType, current: Versioned<ActualLRP>, after: ActualLRP): Promise<void> {
    const value = encodeActualLrp(after);
    await orLifecycleError(lostWrite, this.ctx.store.compareAndSwap(current.key, current.modRevision, value));
  }

  private async createOne(processGuid: string, item: { index: number; entry: Entry }): Promise<number | null> {
    try {
      await this.ctx.store.create(item.entry.key, item.entry.value);
      return item.index;
    } catch (err) {
      const event = isBbsError(err, 'ResourceExists') ? 'actual-lrp-already-exists' : 'failed-to-create-actual-lrp';
      this.ctx.logger.info({ process_guid: processGuid, index: item.index, error: String(err) }, event);
      return null;
    }
  }
}

function passes(filter: ActualLRPFilter, lrp: ActualLRP): boolean {
  return (!filter.domain || lrp.domain === filter.domain) && (!filter.cell_id || lrp.cell_id === filter.cell_id);
}

/**
 * Instance and evacuating records of one index, in one group each, in key order. The records come in key order,
 * so the two of one index are neighbours (`/v1/actual/<guid>/<index>/evacuating`, `.../instance`): one pass,
 * comparing each key's index prefix with the last, groups them (a list of every ActualLRP takes no map).
 */
function groupByIndex(records: readonly Versioned<ActualLRP>[]): ActualLRPGroup[] {
  const groups: ActualLRPGroup[] = [];
  let group: ActualLRPGroup | null = null;
  let groupPrefix = '';
  for (const record of records) {
    const side = actualLrpRecordOf(record.key);
    if (side === null) continue;
    if (group === null || side.indexPrefix !== groupPrefix) {
      group = { instance: null, evacuating: null };
      groups.push(group);
      groupPrefix = side.indexPrefix;
    }
    if (side.evacuating) group.evacuating = record.value;
    else group.instance = record.value;
  }
  return groups;
}
