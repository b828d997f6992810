/**
 * The LRP counters of §8.3 (LRPsDesired, LRPsRunning, ...) kept per process guid, so that a pass over some guids
 * replaces their part of the totals and the totals stay those of every record without reading every record.
 */
import type { ActualLRPGroup, DesiredLRPSchedulingInfo } from '@diego/models';
import type { LRPCounts } from '../metrics';

/** One process guid's part of the totals. */
interface GuidCounts {
  desired: number;
  unclaimed: number;
  claimed: number;
  running: number;
  crashed: number;
}

/**
 * @example
 *   const counts = new LRPCountsByProcessGuid();
 *   counts.replace(null, actuals, desireds); // every guid
 *   counts.replace(new Set(['web']), actualsOfWeb, desiredsOfWeb); // web's part only
 *   counts.totals; // { desired, unclaimed, claimed, running, crashed, crashingDesireds }
 */
export class LRPCountsByProcessGuid {
  private readonly byGuid = new Map<string, GuidCounts>();
  private readonly sums: LRPCounts = { desired: 0, unclaimed: 0, claimed: 0, running: 0, crashed: 0, crashingDesireds: 0 };

  /** Process guids with a desired LRP or an instance record. */
  get processGuids(): number {
    return this.byGuid.size;
  }

  get totals(): LRPCounts {
    return { ...this.sums };
  }

  /**
   * Replaces the counts of `processGuids` (of every guid when null) by those of `actuals` and `desireds`, which
   * must be every record of those guids (instance records only are counted: evacuating copies are not instances).
   */
  replace(processGuids: ReadonlySet<string> | null, actuals: readonly ActualLRPGroup[], desireds: readonly DesiredLRPSchedulingInfo[]): void {
    if (processGuids === null) {
      for (const counts of this.byGuid.values()) this.add(counts, -1);
      this.byGuid.clear();
    } else {
      for (const guid of processGuids) {
        const counts = this.byGuid.get(guid);
        if (counts !== undefined) this.add(counts, -1);
        this.byGuid.delete(guid);
      }
    }
    const fresh = new Map<string, GuidCounts>();
    const countsOf = (guid: string): GuidCounts => {
      let counts = fresh.get(guid);
      if (counts === undefined) {
        counts = { desired: 0, unclaimed: 0, claimed: 0, running: 0, crashed: 0 };
        fresh.set(guid, counts);
      }
      return counts;
    };
    for (const desired of desireds) countsOf(desired.process_guid).desired += desired.instances;
    for (const { instance } of actuals) {
      if (instance === null) continue;
      const counts = countsOf(instance.process_guid);
      if (instance.state === 'UNCLAIMED') counts.unclaimed += 1;
      else if (instance.state === 'CLAIMED') counts.claimed += 1;
      else if (instance.state === 'RUNNING') counts.running += 1;
      else counts.crashed += 1;
    }
    for (const [guid, counts] of fresh) {
      this.byGuid.set(guid, counts);
      this.add(counts, 1);
    }
  }

  private add(counts: GuidCounts, sign: 1 | -1): void {
    this.sums.desired += sign * counts.desired;
    this.sums.unclaimed += sign * counts.unclaimed;
    this.sums.claimed += sign * counts.claimed;
    this.sums.running += sign * counts.running;
    this.sums.crashed += sign * counts.crashed;
    if (counts.crashed > 0) this.sums.crashingDesireds += sign;
  }
}
