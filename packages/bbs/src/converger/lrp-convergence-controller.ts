import { convertError, isBbsError, type ActualLRPKey } from '@diego/models';
import type { Logger } from 'pino';
import type { ActualLRPController } from '../controllers/actual-lrp-controller';
import type { Clock, Db } from '../db/db';
import type { AuctionRequester } from '../leader/contracts';
import type { BbsMetrics, LRPCounts } from '../metrics';
import { calculateLRPConvergence, lrpStartRequests, type LRPConvergenceChanges } from './lrp-convergence';
import { LRPConvergenceTracking, type ConvergenceChangeFeed } from './lrp-convergence-tracking';
import { LRPCountsByProcessGuid } from './lrp-counts';
import { CONVERGENCE_WORKERS, forEachWithWorkers } from '../workers';

export type LRPConvergenceStore = Pick<
  Db,
  | 'gatherAndPruneActualLRPs'
  | 'gatherAndPruneActualLRPsOf'
  | 'desiredLRPSchedulingInfos'
  | 'desiredLRPSchedulingInfosOf'
  | 'actualLRPGroups'
  | 'domains'
  | 'cells'
  | 'createUnclaimedActualLRP'
  | 'unclaimActualLRPOnMissingCell'
  | 'unclaimActualLRP'
>;

export interface LRPConvergenceControllerOptions {
  db: LRPConvergenceStore;
  /** Retires go through it, so that a CLAIMED or RUNNING instance is stopped by its cell. */
  actualLRPs: Pick<ActualLRPController, 'retireActualLRP'>;
  auctioneer: Pick<AuctionRequester, 'requestLRPAuctions'>;
  logger: Logger;
  clock: Clock;
  metrics?: Pick<BbsMetrics, 'recordLRPConvergence'>;
  /** Writes in flight at once (default 20, bbs `-convergenceWorkers`). */
  workers?: number;
  /** The store's changes, for passes over what changed (see followChanges); without it every pass is full. */
  changes?: ConvergenceChangeFeed;
}

/** What one pass did, for its caller and its log line. */
export interface LRPConvergenceSummary {
  changes: LRPConvergenceChanges;
  /** Records deleted because they did not decode. */
  pruned: number;
  /** Whether the pass examined every record, or only the process guids that changed or wait. */
  full: boolean;
  /** The process guids it examined. */
  processGuids: number;
}

/**
 * Beyond this share of the guids known, a pass over what changed reads each guid on its own for about what one
 * walk of every record costs: the pass walks instead. Up to FEW_GUIDS, reading each costs little either way.
 */
const MOST_GUIDS = 0.25;
const FEW_GUIDS = 1_000;

/** What a pass examines: every record (null) or these guids, and why. */
interface PassScope {
  processGuids: Set<string> | null;
  reason: string;
  /** The live cells and fresh domains the guids were chosen by (a pass over what changed). */
  chosenBy: { liveCellIds: ReadonlySet<string>; freshDomains: ReadonlySet<string> } | null;
}

/**
 * ConvergeLRPs (spec/bbs.md §8.3): gathers the actuals (before the desireds), the desireds, the fresh domains
 * and the live cells; computes the changes; makes them with compare-and-swap writes; then sends one batch of
 * start requests to the auctioneer for the restarted crashes and the stale UNCLAIMED instances. Instances it
 * creates or unclaims on missing cells are placed by the auctioneer's own watch of UNCLAIMED records.
 *
 * While it follows the store's changes (the leader's converger asks it to), a pass gathers only the process guids
 * that changed or wait (lrp-convergence-tracking.ts) and computes with the same function over them; a full pass
 * stays what it was, and comes whenever there is doubt. Passes run one at a time.
 *
 * @example
 *   const converger = new LRPConvergenceController({ db, actualLRPs, auctioneer, logger, clock, changes: db });
 *   const stop = converger.followChanges();
 *   await converger.convergeLRPs({ full: true });
 *   await converger.convergeLRPs(); // what changed since
 */
export class LRPConvergenceController {
  private readonly workers: number;
  private tracking: LRPConvergenceTracking | null = null;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: LRPConvergenceControllerOptions) {
    this.workers = options.workers ?? CONVERGENCE_WORKERS;
  }

  /**
   * Follows the store's changes from now on, so that passes may cover only what changed (the first is full);
   * returns the function that stops it. Without a change feed, passes stay full.
   */
  followChanges(): () => void {
    const tracking = new LRPConvergenceTracking();
    const unfollow = this.options.changes?.followView(tracking) ?? null;
    if (unfollow === null) return () => undefined;
    this.tracking = tracking;
    return () => {
      unfollow();
      if (this.tracking === tracking) this.tracking = null;
    };
  }

  /** One pass, after the one in progress: over what changed when it can be, else (or when `full`) over everything. */
  convergeLRPs(options: { full?: boolean } = {}): Promise<LRPConvergenceSummary> {
    const pass = this.queue.then(() => this.pass(options.full === true));
    this.queue = pass.catch(() => undefined);
    return pass;
  }

  private async pass(fullAsked: boolean): Promise<LRPConvergenceSummary> {
    const { db, logger, clock } = this.options;
    const started = process.hrtime.bigint();
    const tracking = this.tracking;
    try {
      const scope = await this.scope(tracking, fullAsked);
      const guids = scope.processGuids;
      logger.info({ full: guids === null, reason: scope.reason, process_guids: guids?.size }, 'lrp-convergence-started');

      const { records: actuals, pruned } = guids === null ? await db.gatherAndPruneActualLRPs() : await db.gatherAndPruneActualLRPsOf(guids);
      const [desireds, domains, cells] = await Promise.all([
        guids === null ? db.desiredLRPSchedulingInfos() : db.desiredLRPSchedulingInfosOf(guids),
        db.domains(),
        db.cells(),
      ]);
      const freshDomains = new Set(domains);
      const liveCellIds = new Set(cells.map((cell) => cell.cell_id));
      const changes = calculateLRPConvergence({ actuals, desireds, freshDomains, liveCellIds, now: clock() });
      const restarted = await this.makeChanges(changes, tracking);

      const starts = lrpStartRequests([...restarted, ...changes.staleUnclaimed], desireds);
      if (starts.length > 0) this.options.auctioneer.requestLRPAuctions(starts);

      // Cells gone after the guids were chosen, and domains changed since, are the next pass's to see.
      tracking?.finish({ examined: guids, actuals, desireds, changes, ...(scope.chosenBy ?? { liveCellIds, freshDomains }) });
      let counts = tracking?.counts;
      if (counts === undefined) {
        counts = new LRPCountsByProcessGuid();
        counts.replace(null, actuals, desireds);
      }
      const processGuids = guids?.size ?? counts.processGuids;
      this.report({ changes, pruned, full: guids === null, processGuids }, counts.totals, domains, restarted.length, started);
      return { changes, pruned, full: guids === null, processGuids };
    } catch (err) {
      tracking?.distrust('last-pass-failed');
      throw err;
    }
  }

  /** Every record, or the guids that changed or wait, given the cells gone and the domains' freshness. */
  private async scope(tracking: LRPConvergenceTracking | null, fullAsked: boolean): Promise<PassScope> {
    const full = (reason: string): PassScope => ({ processGuids: null, reason, chosenBy: null });
    if (tracking === null) return full('not-following-changes');
    const { db } = this.options;
    // Read before taking the changes: a read waits for the view to apply this BBS's writes, so they are taken too.
    const [domains, cells] = await Promise.all([db.domains(), db.cells()]);
    const taken = tracking.begin();
    if (fullAsked) return full('full-pass-due');
    if (taken.doubt !== null) return full(taken.doubt);
    const freshDomains = new Set(domains);
    const liveCellIds = new Set(cells.map((cell) => cell.cell_id));
    if (tracking.freshDomainsDiffer(freshDomains)) return full('fresh-domains-changed');
    const guids = new Set([...taken.changed, ...tracking.waitingGuids]);
    for (const cellId of tracking.departedCells(liveCellIds)) {
      for (const group of await db.actualLRPGroups({ cell_id: cellId })) {
        const lrp = group.instance ?? group.evacuating;
        if (lrp !== null) guids.add(lrp.process_guid);
      }
    }
    if (guids.size > Math.max(FEW_GUIDS, MOST_GUIDS * tracking.counts.processGuids)) return full('most-process-guids-changed');
    return { processGuids: guids, reason: 'changed-or-waiting', chosenBy: { liveCellIds, freshDomains } };
  }

  /** The pass's writes, 20 in flight; returns the crashed instances restarted. */
  private async makeChanges(changes: LRPConvergenceChanges, tracking: LRPConvergenceTracking | null): Promise<ActualLRPKey[]> {
    const { db, logger } = this.options;
    const restarted: ActualLRPKey[] = [];
    const writes: ConvergenceWrite[] = [
      ...changes.missing.map((key) => write(key, 'failed-to-create-missing-actual-lrp', async () => {
        try {
          await db.createUnclaimedActualLRP(key);
        } catch (err) {
          // Created meanwhile (a scale-up, another pass): what convergence wanted is there.
          if (!isBbsError(err, 'ResourceExists')) throw err;
        }
      })),
      ...changes.onMissingCells.map(({ key, cellId }) => write(key, 'failed-to-unclaim-actual-lrp-on-missing-cell', async () => {
        if (await db.unclaimActualLRPOnMissingCell(key, cellId)) {
          logger.info({ ...fieldsOf(key), cell_id: cellId }, 'unclaimed-actual-lrp-on-missing-cell');
        }
      })),
      ...changes.restarts.map((key) => write(key, 'failed-to-restart-crashed-actual-lrp', async () => {
        if ((await db.unclaimActualLRP(key)).changed) restarted.push(key);
      })),
      ...[...changes.extra, ...changes.undesired].map((key) =>
        write(key, 'failed-to-retire-actual-lrp', () => this.options.actualLRPs.retireActualLRP(key)),
      ),
    ];
    // A failed write is logged and the pass goes on: the next pass tries again.
    await forEachWithWorkers(writes, this.workers, async ({ key, failureEvent, run }) => {
      try {
        await run();
      } catch (err) {
        logger.error({ ...fieldsOf(key), err: convertError(err).message }, failureEvent);
        tracking?.retry(key.process_guid);
      }
    });
    return restarted;
  }

  private report(summary: LRPConvergenceSummary, counts: LRPCounts, freshDomains: string[], restarted: number, started: bigint): void {
    const { changes, pruned } = summary;
    const durationSeconds = Number(process.hrtime.bigint() - started) / 1e9;
    this.options.metrics?.recordLRPConvergence({
      counts,
      missing: changes.missing.length,
      extra: changes.extra.length,
      freshDomains,
      durationSeconds,
    });
    this.options.logger.info(
      {
        full: summary.full,
        process_guids: summary.processGuids,
        desired: counts.desired,
        unclaimed: counts.unclaimed,
        claimed: counts.claimed,
        running: counts.running,
        crashed: counts.crashed,
        crashing_desireds: counts.crashingDesireds,
        missing: changes.missing.length,
        on_missing_cells: changes.onMissingCells.length,
        restarted,
        stale_unclaimed: changes.staleUnclaimed.length,
        extra: changes.extra.length,
        undesired: changes.undesired.length,
        pruned,
        duration_ms: durationSeconds * 1000,
      },
      'lrp-convergence-finished',
    );
  }
}

/** One store write of a pass, and the event its failure is logged as. */
interface ConvergenceWrite {
  key: ActualLRPKey;
  failureEvent: string;
  run: () => Promise<void>;
}

function write(key: ActualLRPKey, failureEvent: string, run: () => Promise<void>): ConvergenceWrite {
  return { key, failureEvent, run };
}

function fieldsOf(key: ActualLRPKey): { process_guid: string; index: number } {
  return { process_guid: key.process_guid, index: key.index };
}
