/**
 * The converger (spec/bbs.md §8.1), a loop of the leader: task and LRP convergence together every
 * `--convergeRepeatInterval`, and at once when a cell's presence disappears. Passes never overlap: a trigger
 * during a pass runs one more pass right after it. LRP passes cover what changed since the last one (the store's
 * changes are followed while leading); every `--convergeFullRepeatInterval`, and on taking the lead, one covers
 * everything.
 */
import { convertError } from '@diego/models';
import type { Logger } from 'pino';
import type { TaskConvergenceDurations } from '@diego/bbs-client';
import type { Db } from '../db/db';
import type { LeaderLoop } from '../leader/contracts';
import type { LRPConvergenceController } from './lrp-convergence-controller';
import type { TaskConvergenceDurationsNs } from './task-convergence';
import type { TaskConvergenceController } from './task-convergence-controller';

/** Diego's `convergeRepeatInterval`. */
export const DEFAULT_CONVERGE_REPEAT_INTERVAL_MS = 30_000;
/** How often an LRP pass covers every record rather than what changed (ours; Diego's passes were all full). */
export const DEFAULT_CONVERGE_FULL_REPEAT_INTERVAL_MS = 5 * 60_000;

/** Diego's converger defaults: kick 30 s, expire pending 30 min, expire completed 120 s. */
export const DEFAULT_TASK_CONVERGENCE_DURATIONS: Readonly<TaskConvergenceDurations> = Object.freeze({
  kickTaskDurationMs: 30_000,
  expirePendingTaskDurationMs: 30 * 60_000,
  expireCompletedTaskDurationMs: 120_000,
});

const NS_PER_MS = 1_000_000n;

export function taskConvergenceDurationsNs(durations: TaskConvergenceDurations): TaskConvergenceDurationsNs {
  const ns = (ms: number): bigint => BigInt(Math.round(ms)) * NS_PER_MS;
  return {
    kick: ns(durations.kickTaskDurationMs),
    expirePending: ns(durations.expirePendingTaskDurationMs),
    expireCompleted: ns(durations.expireCompletedTaskDurationMs),
  };
}

export interface ConvergerOptions {
  lrps: Pick<LRPConvergenceController, 'convergeLRPs' | 'followChanges'>;
  tasks: Pick<TaskConvergenceController, 'convergeTasks'>;
  cells: Pick<Db, 'watchCellDisappearances'>;
  taskDurations: TaskConvergenceDurationsNs;
  repeatIntervalMs: number;
  /** How often an LRP pass is a full one (default 5 min). */
  fullRepeatIntervalMs?: number;
  logger: Logger;
}

/**
 * @example
 *   const converger = new Converger({ lrps, tasks, cells: db, taskDurations, repeatIntervalMs: 30_000, logger });
 *   await converger.start(); // converges everything at once, then what changed every 30 s and whenever a cell disappears
 */
export class Converger implements LeaderLoop {
  readonly name = 'converger';
  private running = false;
  private pass: Promise<void> | null = null;
  private passAgain = false;
  private timer: NodeJS.Timeout | null = null;
  private unwatchCells: (() => Promise<void>) | null = null;
  private unfollowChanges: (() => void) | null = null;
  /** Date.now() from which the next LRP pass is a full one. */
  private fullPassDueAt = 0;

  constructor(private readonly options: ConvergerOptions) {}

  /** Follows the changes and watches the cells, then converges at once: a new leader does not wait a whole interval. */
  async start(): Promise<void> {
    this.running = true;
    this.fullPassDueAt = 0;
    this.unfollowChanges = this.options.lrps.followChanges();
    await this.watchCells();
    this.convergeNow();
  }

  /** Resolves once the pass in progress (if any) has finished; no timer or watch is left. */
  async stop(): Promise<void> {
    this.running = false;
    this.clearTimer();
    this.unfollowChanges?.();
    this.unfollowChanges = null;
    const unwatch = this.unwatchCells;
    this.unwatchCells = null;
    await unwatch?.();
    await this.pass;
  }

  /** Runs a pass now, or right after the one in progress. */
  convergeNow(): void {
    if (!this.running) return;
    if (this.pass !== null) {
      this.passAgain = true;
      return;
    }
    this.clearTimer();
    this.pass = this.converge().finally(() => {
      this.pass = null;
      if (!this.running) return;
      if (this.passAgain) {
        this.passAgain = false;
        this.convergeNow();
      } else {
        this.timer = setTimeout(() => this.convergeNow(), this.options.repeatIntervalMs);
      }
    });
  }

  /** §8.1: both kinds at once; a failed pass is logged and the next one tries again. */
  private async converge(): Promise<void> {
    const { lrps, tasks, taskDurations, logger } = this.options;
    const full = Date.now() >= this.fullPassDueAt;
    if (full) this.fullPassDueAt = Date.now() + (this.options.fullRepeatIntervalMs ?? DEFAULT_CONVERGE_FULL_REPEAT_INTERVAL_MS);
    await Promise.all([
      lrps.convergeLRPs({ full }).catch((err: unknown) => logger.error({ err: convertError(err).message }, 'lrp-convergence-failed')),
      tasks.convergeTasks(taskDurations).catch((err: unknown) => logger.error({ err: convertError(err).message }, 'task-convergence-failed')),
    ]);
  }

  private async watchCells(): Promise<void> {
    const { cells, logger } = this.options;
    const unwatch = await cells.watchCellDisappearances(
      (cellId) => {
        logger.info({ cell_id: cellId }, 'cell-disappeared');
        this.convergeNow();
      },
      (err) => {
        // etcd ended the watch (compaction): watch again, and converge for whatever was missed meanwhile.
        logger.error({ err: convertError(err).message }, 'cell-watch-ended');
        this.rewatchCells();
      },
    );
    // Stopped while the watch was being made (a re-watch): it must not outlive the loop.
    if (this.running) this.unwatchCells = unwatch;
    else await unwatch();
  }

  private rewatchCells(): void {
    const previous = this.unwatchCells;
    this.unwatchCells = null;
    void (async () => {
      await previous?.().catch(() => undefined);
      if (!this.running) return;
      try {
        await this.watchCells();
      } catch (err) {
        // Until the next leadership, disappearing cells are noticed by the periodic passes only.
        this.options.logger.error({ err: convertError(err).message }, 'failed-to-watch-cells');
      }
      this.convergeNow();
    })();
  }

  private clearTimer(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }
}
