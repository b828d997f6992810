import { convertError, isBbsError, type Task } from '@diego/models';
import type { Logger } from 'pino';
import type { Clock, Db } from '../db/db';
import type { AuctionRequester, TaskCompletionSubmitter } from '../leader/contracts';
import type { BbsMetrics } from '../metrics';
import {
  calculateTaskConvergence,
  countTasks,
  taskStartRequest,
  type TaskConvergenceChanges,
  type TaskConvergenceDurationsNs,
} from './task-convergence';
import { CONVERGENCE_WORKERS, forEachWithWorkers } from '../workers';

export type TaskConvergenceStore = Pick<
  Db,
  'gatherAndPruneTasks' | 'cells' | 'failTaskIfUnchanged' | 'demoteResolvingTaskIfUnchanged' | 'deleteTaskIfUnchanged'
>;

export interface TaskConvergenceControllerOptions {
  db: TaskConvergenceStore;
  auctioneer: Pick<AuctionRequester, 'requestTaskAuctions'>;
  completions: TaskCompletionSubmitter;
  logger: Logger;
  clock: Clock;
  metrics?: Pick<BbsMetrics, 'recordTaskConvergence'>;
  /** Writes in flight at once (default 20, bbs `-convergenceWorkers`). */
  workers?: number;
}

export interface TaskConvergenceSummary {
  changes: TaskConvergenceChanges;
  pruned: number;
}

/**
 * ConvergeTasks (spec/bbs.md §8.2): gathers the tasks and the live cells, computes the changes, then sends one
 * batch of task auctions for the kicked PENDING tasks, makes the writes (each only if the task is unchanged
 * since it was gathered: a task that moved on meanwhile is left alone), hands the completed tasks whose
 * callback must be sent again to the completion workers, and deletes the expired ones.
 *
 * @example
 *   await new TaskConvergenceController({ db, auctioneer, completions, logger, clock }).convergeTasks(durations);
 */
export class TaskConvergenceController {
  private readonly workers: number;

  constructor(private readonly options: TaskConvergenceControllerOptions) {
    this.workers = options.workers ?? CONVERGENCE_WORKERS;
  }

  async convergeTasks(durations: TaskConvergenceDurationsNs): Promise<TaskConvergenceSummary> {
    const { db, logger, clock, auctioneer, completions } = this.options;
    const started = process.hrtime.bigint();
    logger.info('task-convergence-started');

    const [{ records: tasks, pruned }, cells] = await Promise.all([db.gatherAndPruneTasks(), db.cells()]);
    const changes = calculateTaskConvergence({
      tasks,
      liveCellIds: new Set(cells.map((cell) => cell.cell_id)),
      now: clock(),
      durations,
    });

    if (changes.toAuction.length > 0) auctioneer.requestTaskAuctions(changes.toAuction.map(taskStartRequest));

    const toCallBack: Task[] = [...changes.toResubmit];
    await this.each(changes.toFail, (item) => item.task, 'failed-to-fail-task', async ({ task, reason }) => {
      await db.failTaskIfUnchanged(task, reason);
      logger.info({ task_guid: task.task_guid, failure_reason: reason }, 'failed-task');
    });
    await this.each(changes.toDemote, (task) => task, 'failed-to-demote-task', async (task) => {
      toCallBack.push((await db.demoteResolvingTaskIfUnchanged(task)).after);
    });
    for (const task of toCallBack) {
      if (task.completion_callback_url !== '') completions.submit(task);
    }
    let deleted = 0;
    await this.each(changes.toDelete, (task) => task, 'failed-to-delete-expired-task', async (task) => {
      await db.deleteTaskIfUnchanged(task);
      deleted += 1;
    });

    const durationSeconds = Number(process.hrtime.bigint() - started) / 1e9;
    const counts = countTasks(tasks);
    const kicked = changes.toAuction.length + changes.toResubmit.length + changes.toDemote.length;
    this.options.metrics?.recordTaskConvergence({ counts, kicked, pruned: pruned + deleted, durationSeconds });
    logger.info(
      {
        ...counts,
        auctioned: changes.toAuction.length,
        failed: changes.toFail.length,
        resubmitted: toCallBack.length,
        demoted: changes.toDemote.length,
        deleted,
        pruned,
        duration_ms: durationSeconds * 1000,
      },
      'task-convergence-finished',
    );
    return { changes, pruned };
  }

  /**
   * One kind of write for each item, with the pass's workers. A task changed since it was gathered
   * (ResourceConflict) or gone (ResourceNotFound) moved on by itself; other failures are logged.
   */
  private each<T>(
    items: readonly T[],
    taskOf: (item: T) => Task,
    failureEvent: string,
    write: (item: T) => Promise<void>,
  ): Promise<void> {
    return forEachWithWorkers(items, this.workers, async (item) => {
      try {
        await write(item);
      } catch (err) {
        if (isBbsError(err, 'ResourceConflict') || isBbsError(err, 'ResourceNotFound')) return;
        this.options.logger.error({ task_guid: taskOf(item).task_guid, err: convertError(err).message }, failureEvent);
      }
    });
  }
}
