/**
 * What LRP convergence must look at again, kept from the view's changes (view.ts's followers) so that a pass costs
 * what changed, not what exists. The rules of §8.3 are per process guid, given the fresh domains, the live cells
 * and the time; so after a full pass the next one need only examine:
 * - the guids whose desired or actual records changed since the last pass began;
 * - the guids with instances on cells that have gone since the last pass (the view's index by cell finds them);
 * - the guids left waiting: an instance CRASHED (its restart backoff may pass) or UNCLAIMED (it may go stale), or a
 *   change the last pass made or asked for (a retire a cell must carry out, a write that failed).
 * A change of the fresh domains, a (re)load of the view, a failed pass or a pass that was not following changes
 * makes the next pass full.
 */
import type { ActualLRPGroup, DesiredLRPSchedulingInfo } from '@diego/models';
import { parseKey } from '../db/etcd/keys';
import type { ViewBatch, ViewFollower } from '../db/etcd/view';
import { LRPCountsByProcessGuid } from './lrp-counts';
import type { LRPConvergenceChanges } from './lrp-convergence';

/** Where the changes come from: the store's view (EtcdDb.followView); null when the store keeps none. */
export interface ConvergenceChangeFeed {
  followView(follower: ViewFollower): (() => void) | null;
}

/** What a pass takes over when it begins; changes from then on are the next pass's. */
export interface TakenChanges {
  /** Why this pass must be full; null when a pass over what changed will do. */
  doubt: string | null;
  /** Process guids whose records changed. */
  changed: ReadonlySet<string>;
}

/** What a pass found, for the next one. */
export interface ConvergedPass {
  /** The guids the pass examined; null for all. */
  examined: ReadonlySet<string> | null;
  actuals: readonly ActualLRPGroup[];
  desireds: readonly DesiredLRPSchedulingInfo[];
  changes: LRPConvergenceChanges;
  /** The live cells and fresh domains the next pass compares with. */
  liveCellIds: ReadonlySet<string>;
  freshDomains: ReadonlySet<string>;
}

/**
 * @example
 *   const tracking = new LRPConvergenceTracking();
 *   const stop = db.followView(tracking);
 *   const taken = tracking.begin(); // taken.doubt !== null: converge everything
 *   tracking.finish({ examined: null, actuals, desireds, changes, liveCellIds, freshDomains });
 */
export class LRPConvergenceTracking implements ViewFollower {
  /** The LRP counters, kept per guid by the passes. */
  readonly counts = new LRPCountsByProcessGuid();
  private changed = new Set<string>();
  private doubt: string | null = 'no-full-pass-yet';
  private readonly waiting = new Set<string>();
  private liveCellIds: ReadonlySet<string> = new Set();
  private freshDomains: ReadonlySet<string> = new Set();

  onBatch(batch: ViewBatch): void {
    for (const { key } of batch.records) {
      const parsed = parseKey(key);
      if (parsed?.kind === 'desired' || parsed?.kind === 'actual') this.changed.add(parsed.guid);
    }
  }

  onLoaded(): void {
    // Changes before the load were never delivered: only a full pass knows what they were.
    this.distrust('view-reloaded');
  }

  /** The next pass must be full (the first reason given is kept). */
  distrust(reason: string): void {
    this.doubt ??= reason;
  }

  /** A write for this guid failed: the next pass examines it again. */
  retry(processGuid: string): void {
    this.changed.add(processGuid);
  }

  begin(): TakenChanges {
    const taken = { doubt: this.doubt, changed: this.changed };
    this.doubt = null;
    this.changed = new Set();
    return taken;
  }

  /** Guids that wait on time or on work asked for, whatever changes. */
  get waitingGuids(): ReadonlySet<string> {
    return this.waiting;
  }

  /** The cells live at the last pass and gone now. */
  departedCells(liveCellIds: ReadonlySet<string>): string[] {
    return [...this.liveCellIds].filter((cellId) => !liveCellIds.has(cellId));
  }

  freshDomainsDiffer(freshDomains: ReadonlySet<string>): boolean {
    return freshDomains.size !== this.freshDomains.size || [...freshDomains].some((domain) => !this.freshDomains.has(domain));
  }

  finish(pass: ConvergedPass): void {
    const { examined, actuals, changes } = pass;
    if (examined === null) this.waiting.clear();
    else for (const guid of examined) this.waiting.delete(guid);
    for (const { instance } of actuals) {
      if (instance !== null && (instance.state === 'CRASHED' || instance.state === 'UNCLAIMED')) this.waiting.add(instance.process_guid);
    }
    const asked = [...changes.missing, ...changes.restarts, ...changes.staleUnclaimed, ...changes.extra, ...changes.undesired];
    for (const key of asked) this.waiting.add(key.process_guid);
    for (const { key } of changes.onMissingCells) this.waiting.add(key.process_guid);
    this.counts.replace(examined, actuals, pass.desireds);
    this.liveCellIds = pass.liveCellIds;
    this.freshDomains = pass.freshDomains;
  }
}
