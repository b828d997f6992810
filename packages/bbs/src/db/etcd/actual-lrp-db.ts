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
  type CellPresence,
  type ErrorType,
} from '@diego/models';
import type { ActualLRPDb, CellDb, Change, EvacuationDb, Gathered, RetireResult } from '../db';
import type { ActualLRPFilter, Listed } from '@diego/bbs-client';
import {
  ACTUAL_LRP,
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
import {
  DELETE,
  UNCHANGED,
  deleteExisting,
  existing,
  guaranteedUpdate,
  updateExisting,
  type Changed,
  type Decision,
} from './guaranteed-update';
import { ACTUAL_LRP_PREFIX, actualLrpIndexPrefix, actualLrpInstanceKey, actualLrpProcessPrefix, actualLrpRecordOf } from './keys';
import { decodeRecord, withValue, type Entry, type Versioned, type ViewIndex } from './store';

/** etcd's default `--max-txn-ops`. */
export const MAX_TXN_OPS = 128;
/** The view's index of ActualLRP records (instance and evacuating) by the cell they are on: what each cell asks for. */
export const ACTUAL_LRPS_BY_CELL: ViewIndex = {
  name: 'actual-lrps-by-cell',
  prefix: ACTUAL_LRP_PREFIX,
  valueOf: (record) => decodeRecord(record, decodeActualLrp).cell_id || null,
};

/** The lifecycle half of ActualLRPDb; evacuation is in evacuation-db.ts. */
export type ActualLRPLifecycleDb = Omit<ActualLRPDb, keyof EvacuationDb>;

/**
 * ActualLRP instance records, `/v1/actual/<guid>/<index>/instance`, and the lifecycle of spec/bbs.md §5.2 with
 * the crash restarts of §6. Every change is a transition applied through the guaranteed update
 * (guaranteed-update.ts); a record that kept changing under every attempt is the operation's own error
 * (`ActualLRPCannotBeClaimed`, ...), as a lost write was in bbs.
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
    const { before, after } = await this.change('ActualLRPCannotBeClaimed', actualLrpInstanceKey(processGuid, index), (lrp) => {
      if (!allowsTransitionTo(lrp, lrp, instanceKey, 'CLAIMED')) throw new BbsError('ActualLRPCannotBeClaimed');
      // Claiming again with the same instance key is a no-op success (bbs 7a49be35).
      if (lrp.state === 'CLAIMED' && sameInstanceKey(lrp, instanceKey)) return UNCHANGED;
      return {
        ...lrp,
        ...instanceKeyOf(instanceKey),
        address: '',
        ports: [],
        state: 'CLAIMED',
        placement_error: '',
        since: this.ctx.clock(),
        modification_tag: incremented(lrp.modification_tag),
      };
    });
    return { before: before.value, after };
  }

  async startActualLRP(
    key: ActualLRPKey,
    instanceKey: ActualLRPInstanceKey,
    netInfo: ActualLRPNetInfo,
  ): Promise<{ before: ActualLRP | null; after: ActualLRP }> {
    const { clock } = this.ctx;
    const started = (lrp: ActualLRP | null): Decision<ActualLRP> => {
      if (lrp === null) return newRunningActualLrp(key, instanceKey, netInfo, clock(), newModificationTag());
      if (lrp.state === 'RUNNING' && sameActualLrpKey(lrp, key) && sameInstanceKey(lrp, instanceKey) && sameNetInfo(lrp, netInfo)) {
        return UNCHANGED;
      }
      if (!allowsTransitionTo(lrp, key, instanceKey, 'RUNNING')) throw new BbsError('ActualLRPCannotBeStarted');
      return {
        ...lrp,
        ...instanceKeyOf(instanceKey),
        ...netInfoOf(netInfo),
        state: 'RUNNING',
        placement_error: '',
        since: clock(),
        modification_tag: incremented(lrp.modification_tag),
      };
    };
    const storeKey = actualLrpInstanceKey(key.process_guid, key.index);
    const { before, after } = await orLifecycleError('ActualLRPCannotBeStarted', guaranteedUpdate(this.ctx, storeKey, ACTUAL_LRP, started));
    // Unreachable: a start never deletes the record.
    if (after === null) throw resourceNotFound();
    return { before: before?.value ?? null, after };
  }

  async crashActualLRP(
    key: ActualLRPKey,
    instanceKey: ActualLRPInstanceKey,
    errorMessage: string,
  ): Promise<Change<ActualLRP> & { restarted: boolean }> {
    const { before, after } = await this.change('ActualLRPCannotBeCrashed', actualLrpInstanceKey(key.process_guid, key.index), (lrp) => {
      const now = this.ctx.clock();
      const crashCount = nextCrashCount(lrp, now);
      if (!allowsTransitionTo(lrp, key, instanceKey, 'CRASHED')) throw new BbsError('ActualLRPCannotBeCrashed');
      return {
        ...lrp,
        ...EMPTY_INSTANCE_KEY,
        address: '',
        ports: [],
        // An immediate restart (§6) is the same single write, straight back to UNCLAIMED.
        state: shouldRestartImmediately(crashCount) ? 'UNCLAIMED' : 'CRASHED',
        since: now,
        crash_count: crashCount,
        crash_reason: errorMessage,
        modification_tag: incremented(lrp.modification_tag),
      };
    });
    return { before: before.value, after, restarted: after.state === 'UNCLAIMED' };
  }

  async failActualLRP(key: ActualLRPKey, errorMessage: string): Promise<Change<ActualLRP>> {
    const { before, after } = await this.change('ActualLRPCannotBeFailed', actualLrpInstanceKey(key.process_guid, key.index), (lrp) => {
      if (lrp.state !== 'UNCLAIMED') throw new BbsError('ActualLRPCannotBeFailed');
      return { ...lrp, placement_error: errorMessage, since: this.ctx.clock(), modification_tag: incremented(lrp.modification_tag) };
    });
    return { before: before.value, after };
  }

  async removeActualLRP(processGuid: string, index: number, instanceKey?: ActualLRPInstanceKey): Promise<ActualLRP> {
    const removed = await orLifecycleError(
      'ActualLRPCannotBeRemoved',
      deleteExisting(this.ctx, actualLrpInstanceKey(processGuid, index), ACTUAL_LRP, (lrp) => {
        if (instanceKey !== undefined && !sameInstanceKey(lrp, instanceKey)) throw resourceNotFound();
      }),
    );
    return removed.value;
  }

  async retireActualLRP(key: ActualLRPKey): Promise<RetireResult> {
    let result: RetireResult = { removed: true };
    const retired = async (lrp: ActualLRP): Promise<Decision<ActualLRP>> => {
      result = { removed: true };
      if (lrp.state !== 'CLAIMED' && lrp.state !== 'RUNNING') return DELETE;
      const cell = await this.presentCell(lrp);
      if (cell === null) {
        this.ctx.logger.info({ process_guid: lrp.process_guid, index: lrp.index, cell_id: lrp.cell_id }, 'cell-not-found');
        return DELETE;
      }
      // Its cell stops it, and its rep then removes the record.
      result = { removed: false, cell, lrp };
      return UNCHANGED;
    };
    const storeKey = actualLrpInstanceKey(key.process_guid, key.index);
    await orLifecycleError('ActualLRPCannotBeRemoved', guaranteedUpdate(this.ctx, storeKey, ACTUAL_LRP, existing(retired)));
    return result;
  }

  async unclaimActualLRP(
    key: ActualLRPKey,
    instanceKey: ActualLRPInstanceKey = EMPTY_INSTANCE_KEY,
  ): Promise<{ changed: boolean; after: ActualLRP }> {
    return this.unclaim(key, instanceKey);
  }

  async gatherAndPruneActualLRPs(): Promise<Gathered<ActualLRPGroup>> {
    const { items, pruned } = await this.ctx.store.listDecodedPruning(ACTUAL_LRP_PREFIX, decodeActualLrp);
    return { records: groupByIndex(items), pruned };
  }

  async gatherAndPruneActualLRPsOf(processGuids: Iterable<string>): Promise<Gathered<ActualLRPGroup>> {
    const records: ActualLRPGroup[] = [];
    let pruned = 0;
    for (const processGuid of processGuids) {
      const listed = await this.ctx.store.listDecodedPruning(actualLrpProcessPrefix(processGuid), decodeActualLrp);
      for (const group of groupByIndex(listed.items)) records.push(group);
      pruned += listed.pruned;
    }
    return { records, pruned };
  }

  async unclaimActualLRPOnMissingCell(key: ActualLRPKey, cellId: string): Promise<boolean> {
    const unclaimed = async (lrp: ActualLRP | null): Promise<Decision<ActualLRP>> => {
      if (lrp === null || (lrp.state !== 'CLAIMED' && lrp.state !== 'RUNNING') || lrp.cell_id !== cellId) return UNCHANGED;
      if ((await this.presentCell(lrp)) !== null) return UNCHANGED;
      return this.unclaimedRecord(lrp);
    };
    const storeKey = actualLrpInstanceKey(key.process_guid, key.index);
    const { written } = await orLifecycleError('ActualLRPCannotBeUnclaimed', guaranteedUpdate(this.ctx, storeKey, ACTUAL_LRP, unclaimed));
    return written;
  }

  /** The instance record with its revision, or null. */
  async readInstance(key: ActualLRPKey): Promise<Versioned<ActualLRP> | null> {
    return this.ctx.store.tryGet(actualLrpInstanceKey(key.process_guid, key.index), decodeActualLrp);
  }

  /**
   * §5.2 Unclaim, deciding first on the record as `read` when the caller has it: the key must match; UNCLAIMED is
   * left alone; otherwise the instance key must match the stored one (both empty for CRASHED). crash_count is kept.
   */
  async unclaim(
    key: ActualLRPKey,
    instanceKey: ActualLRPInstanceKey,
    read?: Versioned<ActualLRP>,
  ): Promise<{ changed: boolean; after: ActualLRP }> {
    const storeKey = actualLrpInstanceKey(key.process_guid, key.index);
    const { after, written } = await this.change('ActualLRPCannotBeUnclaimed', storeKey, (lrp) => {
      if (!sameActualLrpKey(lrp, key)) throw new BbsError('ActualLRPCannotBeUnclaimed');
      if (lrp.state === 'UNCLAIMED') return UNCHANGED;
      if (!sameInstanceKey(lrp, instanceKey)) throw new BbsError('ActualLRPCannotBeUnclaimed');
      return this.unclaimedRecord(lrp);
    }, read);
    return { changed: written, after };
  }

  /** The record put up for auction again: no instance, no net info, since now. */
  private unclaimedRecord(lrp: ActualLRP): ActualLRP {
    return {
      ...lrp,
      ...EMPTY_INSTANCE_KEY,
      address: '',
      ports: [],
      state: 'UNCLAIMED',
      since: this.ctx.clock(),
      modification_tag: incremented(lrp.modification_tag),
    };
  }

  /** The presence of the cell the instance is on; null when it has none (the instance is lost with it). */
  private async presentCell(lrp: ActualLRP): Promise<CellPresence | null> {
    try {
      return await this.cells.cellById(lrp.cell_id);
    } catch (err) {
      if (!isBbsError(err, 'ResourceNotFound')) throw err;
      return null;
    }
  }

  /**
   * A lifecycle change of an instance record that must exist (ResourceNotFound) through the guaranteed update; a
   * record that kept changing under every attempt is `lostWrite`, as bbs reported a lost write.
   */
  private async change(
    lostWrite: ErrorType,
    storeKey: string,
    transition: (lrp: ActualLRP) => ActualLRP | typeof UNCHANGED,
    read?: Versioned<ActualLRP>,
  ): Promise<Changed<ActualLRP>> {
    return orLifecycleError(lostWrite, updateExisting(this.ctx, storeKey, ACTUAL_LRP, transition, { read }));
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
