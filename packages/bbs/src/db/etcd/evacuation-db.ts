import {
  BbsError,
  isBbsError,
  type ActualLRP,
  type ActualLRPInstanceKey,
  type ActualLRPKey,
  type ActualLRPNetInfo,
} from '@diego/models';
import type { EvacuationDb, EvacuationResult } from '../db';
import type { EtcdActualLRPDb } from './actual-lrp-db';
import {
  ACTUAL_LRP,
  incremented,
  instanceKeyOf,
  netInfoOf,
  newModificationTag,
  newRunningActualLrp,
  sameActualLrpKey,
  sameInstanceKey,
  sameNetInfo,
} from './actual-lrp-records';
import type { DbContext } from './context';
import { orLifecycleError } from './errors';
import { DELETE, UNCHANGED, guaranteedUpdate, type Decision, type Transition } from './guaranteed-update';
import { actualLrpEvacuatingKey, actualLrpInstanceKey } from './keys';


function done(): EvacuationResult {
  return { keepContainer: false, auctionNeeded: false };
}

/**
 * Removes a record of the instance `instanceKey` (and of `key`, when given); another instance's is
 * ActualLRPCannotBeRemoved, an absent one is left absent.
 */
function removalBy(instanceKey: ActualLRPInstanceKey, key?: ActualLRPKey): Transition<ActualLRP> {
  return (lrp) => {
    if (lrp === null) return UNCHANGED;
    if ((key !== undefined && !sameActualLrpKey(lrp, key)) || !sameInstanceKey(lrp, instanceKey)) {
      throw new BbsError('ActualLRPCannotBeRemoved');
    }
    return DELETE;
  };
}

/**
 * Evacuation (spec/bbs.md §5.3): a draining cell hands its instances over. The evacuating copy,
 * `/v1/actual/<guid>/<index>/evacuating`, lives under a lease of the rep's TTL, granted anew on every write, so
 * it goes away by itself once the replacement had its time.
 *
 * A thrown error corresponds to Go's `(keep, err)` with keep = true for evacuateRunningActualLRP and false for
 * the others.
 *
 * @example
 *   const { keepContainer, auctionNeeded } = await db.evacuateRunningActualLRP(key, instanceKey, netInfo, 600);
 */
export class EtcdEvacuationDb implements EvacuationDb {
  constructor(
    private readonly ctx: DbContext,
    private readonly actuals: EtcdActualLRPDb,
  ) {}

  async removeEvacuatingActualLRP(key: ActualLRPKey, instanceKey: ActualLRPInstanceKey): Promise<void> {
    const storeKey = actualLrpEvacuatingKey(key.process_guid, key.index);
    const { before, written } = await orLifecycleError(
      'ActualLRPCannotBeRemoved',
      guaranteedUpdate(this.ctx, storeKey, ACTUAL_LRP, removalBy(instanceKey, key)),
    );
    if (written && before !== null) await this.ctx.store.revokeSupersededLease(before.lease);
  }

  async evacuateClaimedActualLRP(key: ActualLRPKey, instanceKey: ActualLRPInstanceKey): Promise<EvacuationResult> {
    await this.removeEvacuatingQuietly(key, instanceKey);
    const instance = await this.actuals.readInstance(key);
    if (instance === null) return done();
    const { changed } = await this.actuals.unclaim(key, instanceKey, instance);
    return { keepContainer: false, auctionNeeded: changed };
  }

  async evacuateRunningActualLRP(
    key: ActualLRPKey,
    instanceKey: ActualLRPInstanceKey,
    netInfo: ActualLRPNetInfo,
    ttlSeconds: number,
  ): Promise<EvacuationResult> {
    const instance = await this.actuals.readInstance(key);
    if (instance === null) return this.removeEvacuatingOutcome(key, instanceKey);
    const lrp = instance.value;
    const ours = sameInstanceKey(lrp, instanceKey);

    // The replacement is not placed yet (or is claimed elsewhere): keep serving from an evacuating copy.
    if ((lrp.state === 'UNCLAIMED' && lrp.placement_error === '') || (lrp.state === 'CLAIMED' && !ours)) {
      try {
        await this.writeEvacuating(key, instanceKey, netInfo, ttlSeconds, false);
      } catch (err) {
        if (isBbsError(err, 'ActualLRPCannotBeEvacuated')) return done();
        throw err;
      }
      return { keepContainer: true, auctionNeeded: false };
    }

    // Our own instance: move it to the evacuating copy, whoever held that, and put the instance up for auction.
    if ((lrp.state === 'CLAIMED' || lrp.state === 'RUNNING') && ours) {
      await this.writeEvacuating(key, instanceKey, netInfo, ttlSeconds, true);
      const { changed } = await this.actuals.unclaim(key, instanceKey, instance);
      return { keepContainer: true, auctionNeeded: changed };
    }

    // UNCLAIMED with a placement error, RUNNING elsewhere, or CRASHED: this container is not needed.
    return this.removeEvacuatingOutcome(key, instanceKey);
  }

  async evacuateStoppedActualLRP(key: ActualLRPKey, instanceKey: ActualLRPInstanceKey): Promise<EvacuationResult> {
    await this.removeEvacuatingQuietly(key, instanceKey);
    const storeKey = actualLrpInstanceKey(key.process_guid, key.index);
    await orLifecycleError('ActualLRPCannotBeRemoved', guaranteedUpdate(this.ctx, storeKey, ACTUAL_LRP, removalBy(instanceKey)));
    return done();
  }

  async evacuateCrashedActualLRP(
    key: ActualLRPKey,
    instanceKey: ActualLRPInstanceKey,
    errorMessage: string,
  ): Promise<EvacuationResult> {
    await this.removeEvacuatingQuietly(key, instanceKey);
    try {
      const { restarted } = await this.actuals.crashActualLRP(key, instanceKey, errorMessage);
      return { keepContainer: false, auctionNeeded: restarted };
    } catch (err) {
      if (isBbsError(err, 'ResourceNotFound')) return done();
      throw err;
    }
  }

  /**
   * Creates the evacuating copy (RUNNING, new epoch at index 1) or updates it (since, net info, tag + 1), under a
   * new lease of `ttlSeconds` either way. An identical copy is left alone. Unless `unconditional`, a copy of
   * another instance is `ActualLRPCannotBeEvacuated`.
   */
  private async writeEvacuating(
    key: ActualLRPKey,
    instanceKey: ActualLRPInstanceKey,
    netInfo: ActualLRPNetInfo,
    ttlSeconds: number,
    unconditional: boolean,
  ): Promise<void> {
    const { clock } = this.ctx;
    const evacuating = (copy: ActualLRP | null): Decision<ActualLRP> => {
      if (copy === null) return newRunningActualLrp(key, instanceKey, netInfo, clock(), incremented(newModificationTag()));
      const sameOwner = sameActualLrpKey(copy, key) && sameInstanceKey(copy, instanceKey);
      if (sameOwner && sameNetInfo(copy, netInfo)) return UNCHANGED;
      if (!sameOwner && !unconditional) throw new BbsError('ActualLRPCannotBeEvacuated');
      return {
        ...copy,
        ...instanceKeyOf(instanceKey),
        ...netInfoOf(netInfo),
        placement_error: '',
        since: clock(),
        modification_tag: incremented(copy.modification_tag),
      };
    };
    const storeKey = actualLrpEvacuatingKey(key.process_guid, key.index);
    await guaranteedUpdate(this.ctx, storeKey, ACTUAL_LRP, evacuating, { leaseTtlSeconds: ttlSeconds });
  }

  /** RemoveEvacuating where the caller goes on whatever happens (§5.3 "errors ignored"). */
  private async removeEvacuatingQuietly(key: ActualLRPKey, instanceKey: ActualLRPInstanceKey): Promise<void> {
    try {
      await this.removeEvacuatingActualLRP(key, instanceKey);
    } catch (err) {
      this.ctx.logger.info(
        { process_guid: key.process_guid, index: key.index, error: String(err) },
        'failed-to-remove-evacuating-actual-lrp',
      );
    }
  }

  /** RemoveEvacuating ending an evacuation: the container goes either way; only other failures are errors. */
  private async removeEvacuatingOutcome(key: ActualLRPKey, instanceKey: ActualLRPInstanceKey): Promise<EvacuationResult> {
    try {
      await this.removeEvacuatingActualLRP(key, instanceKey);
    } catch (err) {
      if (!isBbsError(err, 'ActualLRPCannotBeRemoved')) throw err;
    }
    return done();
  }
}
