/**
 * CalculateConvergence of spec/bbs.md §8.3, as a pure function: what the store holds in, what to change out.
 * The controller (lrp-convergence-controller.ts) gathers the input and makes the changes.
 */
import {
  shouldRestartCrash,
  type ActualLRP,
  type ActualLRPGroup,
  type ActualLRPKey,
  type DesiredLRPSchedulingInfo,
  type Int64,
} from '@diego/models';
import type { LRPStartRequest } from '../leader/contracts';

/** bbs `StaleUnclaimedActualLRPDuration`: an UNCLAIMED instance older than this is auctioned again. */
const STALE_UNCLAIMED_ACTUAL_LRP_NS: Int64 = 30_000_000_000n;

export interface LRPConvergenceInput {
  /** Gathered before the desireds, so that an instance is never seen without the desired LRP it was created for. */
  actuals: readonly ActualLRPGroup[];
  desireds: readonly DesiredLRPSchedulingInfo[];
  freshDomains: ReadonlySet<string>;
  liveCellIds: ReadonlySet<string>;
  /** Unix nanoseconds. */
  now: Int64;
}

/** One instance record on a cell that has no presence any more. */
export interface InstanceOnMissingCell {
  key: ActualLRPKey;
  cellId: string;
}

export interface LRPConvergenceChanges {
  /** Indices without an instance record: create them UNCLAIMED (the auctioneer's watch places them). */
  missing: ActualLRPKey[];
  /** CLAIMED or RUNNING on a missing cell: unclaim them (the auctioneer's watch places them again). */
  onMissingCells: InstanceOnMissingCell[];
  /** CRASHED instances whose backoff has passed: unclaim them and auction them. */
  restarts: ActualLRPKey[];
  /** UNCLAIMED for more than 30 s: auction them again, without a write. */
  staleUnclaimed: ActualLRPKey[];
  /** Indices at or beyond the desired instances, in fresh domains: retire them. */
  extra: ActualLRPKey[];
  /** Instances of no desired LRP, in fresh domains: retire them. */
  undesired: ActualLRPKey[];
}

export function calculateLRPConvergence(input: LRPConvergenceInput): LRPConvergenceChanges {
  const changes: LRPConvergenceChanges = {
    missing: [],
    onMissingCells: [],
    restarts: [],
    staleUnclaimed: [],
    extra: [],
    undesired: [],
  };
  const instancesByGuid = new Map<string, Map<number, ActualLRP>>();
  for (const group of input.actuals) {
    const lrp = group.instance;
    if (lrp === null) continue;
    const byIndex = instancesByGuid.get(lrp.process_guid) ?? new Map<number, ActualLRP>();
    byIndex.set(lrp.index, lrp);
    instancesByGuid.set(lrp.process_guid, byIndex);
  }

  const desiredGuids = new Set<string>();
  for (const desired of input.desireds) {
    desiredGuids.add(desired.process_guid);
    const instances = instancesByGuid.get(desired.process_guid) ?? new Map<number, ActualLRP>();
    for (let index = 0; index < desired.instances; index++) {
      if (!instances.has(index)) changes.missing.push({ process_guid: desired.process_guid, index, domain: desired.domain });
    }
    for (const lrp of instances.values()) convergeDesiredInstance(lrp, desired, input, changes);
  }

  for (const [processGuid, instances] of instancesByGuid) {
    if (desiredGuids.has(processGuid)) continue;
    for (const lrp of instances.values()) {
      // Without fresh domain information an absent desired LRP may only be unknown to its owner yet.
      if (input.freshDomains.has(lrp.domain)) changes.undesired.push(keyOf(lrp));
    }
  }
  return changes;
}

/** The first rule that applies to one instance of a desired LRP (§8.3). */
function convergeDesiredInstance(
  lrp: ActualLRP,
  desired: DesiredLRPSchedulingInfo,
  input: LRPConvergenceInput,
  changes: LRPConvergenceChanges,
): void {
  const key = keyOf(lrp);
  const wanted = lrp.index < desired.instances;
  const onMissingCell = (lrp.state === 'CLAIMED' || lrp.state === 'RUNNING') && !input.liveCellIds.has(lrp.cell_id);
  if (onMissingCell && wanted) {
    changes.onMissingCells.push({ key, cellId: lrp.cell_id });
  } else if (!wanted) {
    // Retiring an instance on a missing cell removes its record; in a stale domain it waits, as any extra does.
    if (input.freshDomains.has(desired.domain)) changes.extra.push(key);
  } else if (shouldRestartCrash(lrp, input.now)) {
    changes.restarts.push(key);
  } else if (lrp.state === 'UNCLAIMED' && input.now - lrp.since > STALE_UNCLAIMED_ACTUAL_LRP_NS) {
    changes.staleUnclaimed.push(key);
  }
}

/**
 * One start request per process guid (Diego's batched RequestLRPAuctions), with the desired LRP's resources;
 * keys of guids without a desired LRP are left out.
 */
export function lrpStartRequests(keys: readonly ActualLRPKey[], desireds: readonly DesiredLRPSchedulingInfo[]): LRPStartRequest[] {
  const byGuid = new Map(desireds.map((desired) => [desired.process_guid, desired]));
  const requests = new Map<string, LRPStartRequest>();
  for (const key of keys) {
    const desired = byGuid.get(key.process_guid);
    if (desired === undefined) continue;
    let request = requests.get(key.process_guid);
    if (request === undefined) {
      request = {
        process_guid: desired.process_guid,
        domain: desired.domain,
        indices: [],
        memory_mb: desired.memory_mb,
        disk_mb: desired.disk_mb,
        rootfs: desired.rootfs,
      };
      requests.set(key.process_guid, request);
    }
    request.indices.push(key.index);
  }
  return [...requests.values()];
}

function keyOf(lrp: ActualLRP): ActualLRPKey {
  return { process_guid: lrp.process_guid, index: lrp.index, domain: lrp.domain };
}
