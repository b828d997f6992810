import {
  invalidStateTransition,
  isBbsError,
  runningOnDifferentCell,
  taskFromJson,
  taskStateName,
  taskToJson,
  validateDesireTask,
  validateTaskTransition,
  type Task,
  type TaskDefinition,
} from '@diego/models';
import type { Change, Gathered, TaskDb } from '../db';
import type { Listed, TaskFilter } from '@diego/bbs-client';
import type { DbContext } from './context';
import { resourceConflict } from './errors';
import { UNCHANGED, deleteExisting, updateExisting, type Changed, type StoredAs } from './guaranteed-update';
import { TASK_PREFIX, taskKey } from './keys';
import { memoizedDecoder } from './store';

const CANCELLED = 'task was cancelled';

/**
 * Tasks, `/v1/task/<guid>`, and their state machine (spec/bbs.md §7): Pending -> Running -> Completed ->
 * Resolving -> deleted. Every change is a transition applied through the guaranteed update (guaranteed-update.ts):
 * a race with another writer is settled by deciding again on the record as it now is.
 *
 * @example
 *   const { shouldStart } = await db.startTask('task-1', 'cell-1');
 */
export class EtcdTaskDb implements TaskDb {
  constructor(private readonly ctx: DbContext) {}

  async tasks(filter: TaskFilter = {}): Promise<Task[]> {
    return (await this.listTasks(filter)).items;
  }

  async listTasks(filter: TaskFilter = {}): Promise<Listed<Task>> {
    const { items, revision } = await this.ctx.store.listDecoded(
      TASK_PREFIX,
      decodeTask,
      (task) => (!filter.domain || task.domain === filter.domain) && (!filter.cell_id || task.cell_id === filter.cell_id),
    );
    return { items: items.map((item) => item.value), revision };
  }

  async taskByGuid(taskGuid: string): Promise<Task> {
    return (await this.ctx.store.get(taskKey(taskGuid), decodeTask)).value;
  }

  async desireTask(definition: TaskDefinition, taskGuid: string, domain: string): Promise<Task> {
    const now = this.ctx.clock();
    const task: Task = {
      ...definition,
      task_guid: taskGuid,
      domain,
      created_at: now,
      updated_at: now,
      first_completed_at: 0n,
      state: 'PENDING',
      cell_id: '',
      result: '',
      failed: false,
      failure_reason: '',
    };
    try {
      await this.ctx.store.create(taskKey(taskGuid), taskToJson(task));
    } catch (err) {
      if (!isBbsError(err, 'ResourceExists')) throw err;
      const stored = await this.ctx.store.tryGetFromEtcd(taskKey(taskGuid), decodeTask);
      if (stored === null || !isSameDesire(stored.value, definition, domain)) throw err;
      // A client's retry of a create that succeeded (its answer was lost, a BBS died): the same desire, not a collision.
      this.ctx.logger.info({ task_guid: taskGuid, domain }, 'task-desire-repeated');
      return stored.value;
    }
    this.ctx.logger.info({ task_guid: taskGuid, domain }, 'task-desired');
    return task;
  }

  async startTask(taskGuid: string, cellId: string): Promise<{ shouldStart: boolean; task: Task }> {
    const { after, written } = await this.update(taskGuid, (task) => {
      // The rep may ask again for a task it already runs: it must not start it twice.
      if (task.state === 'RUNNING' && task.cell_id === cellId) return UNCHANGED;
      validateTaskTransition(task.state, 'RUNNING');
      return { ...task, state: 'RUNNING', cell_id: cellId, updated_at: this.ctx.clock() };
    });
    return { shouldStart: written, task: after };
  }

  async cancelTask(taskGuid: string): Promise<Change<Task>> {
    return this.complete(taskGuid, (task) => {
      refuseIfCompleted(task);
      return this.completed(task, true, CANCELLED, '');
    });
  }

  async failTask(taskGuid: string, failureReason: string): Promise<Change<Task>> {
    return this.complete(taskGuid, (task) => {
      refuseIfCompleted(task);
      return this.completed(task, true, failureReason, '');
    });
  }

  async completeTask(
    taskGuid: string,
    cellId: string,
    failed: boolean,
    failureReason: string,
    result: string,
  ): Promise<Change<Task>> {
    return this.complete(taskGuid, (task) => {
      if (task.state === 'RUNNING' && task.cell_id !== cellId) throw runningOnDifferentCell(task.cell_id, cellId);
      validateTaskTransition(task.state, 'COMPLETED');
      return this.completed(task, failed, failureReason, result);
    });
  }

  async resolvingTask(taskGuid: string): Promise<Change<Task>> {
    const { before, after } = await this.update(taskGuid, (task) => {
      validateTaskTransition(task.state, 'RESOLVING');
      return { ...task, state: 'RESOLVING', updated_at: this.ctx.clock() };
    });
    return { before: before.value, after };
  }

  async deleteTask(taskGuid: string): Promise<Task> {
    const deleted = await deleteExisting(this.ctx, taskKey(taskGuid), TASK, (task) => {
      if (task.state !== 'RESOLVING') throw invalidStateTransition(taskStateName(task.state), taskStateName('RESOLVING'));
    });
    this.ctx.logger.info({ task_guid: taskGuid }, 'task-deleted');
    return deleted.value;
  }

  async gatherAndPruneTasks(): Promise<Gathered<Task>> {
    const { items, pruned } = await this.ctx.store.listDecodedPruning(TASK_PREFIX, decodeStoredTask);
    return { records: items.map((item) => item.value), pruned };
  }

  async failTaskIfUnchanged(gathered: Task, failureReason: string): Promise<Change<Task>> {
    return this.complete(gathered.task_guid, (task) => {
      refuseIfChanged(task, gathered);
      refuseIfCompleted(task);
      return this.completed(task, true, failureReason, '');
    });
  }

  async demoteResolvingTaskIfUnchanged(gathered: Task): Promise<Change<Task>> {
    const { before, after } = await this.update(gathered.task_guid, (task) => {
      refuseIfChanged(task, gathered);
      if (task.state !== 'RESOLVING') throw invalidStateTransition(taskStateName(task.state), taskStateName('COMPLETED'));
      return { ...task, state: 'COMPLETED', updated_at: this.ctx.clock() };
    });
    return { before: before.value, after };
  }

  async deleteTaskIfUnchanged(gathered: Task): Promise<void> {
    await deleteExisting(this.ctx, taskKey(gathered.task_guid), TASK, (task) => refuseIfChanged(task, gathered));
    this.ctx.logger.info({ task_guid: gathered.task_guid }, 'task-deleted');
  }

  private update(taskGuid: string, transition: (task: Task) => Task | typeof UNCHANGED): Promise<Changed<Task>> {
    return updateExisting(this.ctx, taskKey(taskGuid), TASK, transition);
  }

  /** A transition to COMPLETED (cancel, fail, complete), logged once it is written. */
  private async complete(taskGuid: string, transition: (task: Task) => Task): Promise<Change<Task>> {
    const { before, after } = await this.update(taskGuid, transition);
    this.ctx.logger.info({ task_guid: taskGuid, failed: after.failed }, 'task-completed');
    return { before: before.value, after };
  }

  /** bbs completeTask's record, shared by cancel, fail and complete. */
  private completed(task: Task, failed: boolean, failureReason: string, result: string): Task {
    const now = this.ctx.clock();
    return {
      ...task,
      state: 'COMPLETED',
      cell_id: '',
      failed,
      failure_reason: failureReason,
      result,
      updated_at: now,
      first_completed_at: now,
    };
  }
}

const decodeTask = memoizedDecoder((text: string): Task => taskFromJson(text));
const TASK: StoredAs<Task> = { decode: decodeTask, encode: taskToJson };

/** A stored task that decodes and is one DesireTask would accept (bbs convergence deletes the others). */
const decodeStoredTask = memoizedDecoder((text: string): Task => {
  const task = taskFromJson(text);
  validateDesireTask(task.task_guid, task.domain, task);
  return task;
});

/**
 * `stored` is what desiring `definition` in `domain` created: the same definition, whatever has happened to the
 * task since (its state, timestamps and result are the store's, not the request's).
 */
function isSameDesire(stored: Task, definition: TaskDefinition, domain: string): boolean {
  return stored.domain === domain && taskToJson({ ...stored, ...definition }) === taskToJson(stored);
}

/** Convergence acts on a task only as it gathered it: one that has changed since moved on by itself. */
function refuseIfChanged(task: Task, gathered: Task): void {
  if (taskToJson(task) !== taskToJson(gathered)) throw resourceConflict();
}

/** Cancel and fail end a task that has not completed yet. */
function refuseIfCompleted(task: Task): void {
  if (task.state === 'COMPLETED' || task.state === 'RESOLVING') {
    throw invalidStateTransition(taskStateName(task.state), taskStateName('COMPLETED'));
  }
}
