import { convertError, isBbsError, type ActualLRPKey } from '@diego/models';
import type { Logger } from 'pino';
import type { ActualLRPController } from '../controllers/actual-lrp-controller';
import type { Clock, Db } from '../db/db';
import type { AuctionRequester } from '../leader/contracts';
import type { BbsMetrics } from '../metrics';
import { calculateLRPConvergence, countLRPs, lrpStartRequests, type LRPConvergenceChanges } from './lrp-convergence';
import { CONVERGENCE_WORKERS, forEachWithWorkers } from '../workers';

export type LRPConvergenceStore = Pick<
  Db,
  | 'gatherAndPruneActualLRPs'
  | 'desiredLRPSchedulingInfos'
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
}

/** What one pass did, for its caller and its log line. */
export interface LRPConvergenceSummary {
  changes: LRPConvergenceChanges;
  /** Records deleted because they did not decode. */
  pruned: number;
}

/**
 * ConvergeLRPs (spec/bbs.md §8.3): gathers the actuals (before the desireds), the desireds, the fresh domains
 * and the live cells; computes the changes; makes them with compare-and-swap writes; then sends one batch of
 * start requests to the auctioneer for the restarted crashes and the stale UNCLAIMED instances. Instances it
 * creates or unclaims on missing cells are placed by the auctioneer's own watch of UNCLAIMED records.
 *
 * @example
 *   const converger = new LRPConvergenceController({ db, actualLRPs, auctioneer, logger, clock });
 *   await converger.convergeLRPs();
 */
export class LRPConvergenceController {
  private readonly workers: number;

  constructor(private readonly options: LRPConvergenceControllerOptions) {
    this.workers = options.workers ?? CONVERGENCE_WORKERS;
  }

  async convergeLRPs(): Promise<LRPConvergenceSummary> {
    const { db, logger, clock } = this.options;
    const started = process.hrtime.bigint();
    logger.info('lrp-convergence-started');

    const { records: actuals, pruned } = await db.gatherAndPruneActualLRPs();
    const [desireds, domains, cells] = await Promise.all([db.desiredLRPSchedulingInfos(), db.domains(), db.cells()]);
    const changes = calculateLRPConvergence({
      actuals,
      desireds,
      freshDomains: new Set(domains),
      liveCellIds: new Set(cells.map((cell) => cell.cell_id)),
      now: clock(),
    });

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
      }
    });

    const starts = lrpStartRequests([...restarted, ...changes.staleUnclaimed], desireds);
    if (starts.length > 0) this.options.auctioneer.requestLRPAuctions(starts);

    const durationSeconds = Number(process.hrtime.bigint() - started) / 1e9;
    const counts = countLRPs(actuals, desireds);
    this.options.metrics?.recordLRPConvergence({
      counts,
      missing: changes.missing.length,
      extra: changes.extra.length,
      freshDomains: domains,
      durationSeconds,
    });
    logger.info(
      {
        desired: counts.desired,
        unclaimed: counts.unclaimed,
        claimed: counts.claimed,
        running: counts.running,
        crashed: counts.crashed,
        crashing_desireds: counts.crashingDesireds,
        missing: changes.missing.length,
        on_missing_cells: changes.onMissingCells.length,
        restarted: restarted.length,
        stale_unclaimed: changes.staleUnclaimed.length,
        extra: changes.extra.length,
        undesired: changes.undesired.length,
        pruned,
        duration_ms: durationSeconds * 1000,
      },
      'lrp-convergence-finished',
    );
    return { changes, pruned };
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
