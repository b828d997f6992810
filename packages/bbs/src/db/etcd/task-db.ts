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
import type { Change, Gathered, Listed, TaskDb, TaskFilter } from '../db';
import type { DbContext } from './context';
import { memoizedDecoder } from './store';
import { resourceConflict } from './errors';
import { TASK_PREFIX, taskKey } from './keys';
import type { Versioned } from './store';

const CANCELLED = 'task was cancelled';

/**
 * Tasks, `/v1/task/<guid>`, and their state machine (spec/bbs.md §7): Pending -> Running -> Completed ->
 * Resolving -> deleted. Every change compares the `mod_revision` it read: a lost race is ResourceConflict.
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
    return (await this.read(taskGuid)).value;
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
    const current = await this.read(taskGuid);
    const before = current.value;
    // The rep may ask again for a task it already runs: it must not start it twice.
    if (before.state === 'RUNNING' && before.cell_id === cellId) return { shouldStart: false, task: before };
    validateTaskTransition(before.state, 'RUNNING');
    const task: Task = { ...before, state: 'RUNNING', cell_id: cellId, updated_at: this.ctx.clock() };
    await this.swap(current, task);
    return { shouldStart: true, task };
  }

  async cancelTask(taskGuid: string): Promise<Change<Task>> {
    const current = await this.read(taskGuid);
    refuseIfCompleted(current.value);
    return this.complete(current, true, CANCELLED, '');
  }

  async failTask(taskGuid: string, failureReason: string): Promise<Change<Task>> {
    const current = await this.read(taskGuid);
    refuseIfCompleted(current.value);
    return this.complete(current, true, failureReason, '');
  }

  async completeTask(
    taskGuid: string,
    cellId: string,
    failed: boolean,
    failureReason: string,
    result: string,
  ): Promise<Change<Task>> {
    const current = await this.read(taskGuid);
    const task = current.value;
    if (task.state === 'RUNNING' && task.cell_id !== cellId) throw runningOnDifferentCell(task.cell_id, cellId);
    validateTaskTransition(task.state, 'COMPLETED');
    return this.complete(current, failed, failureReason, result);
  }

  async resolvingTask(taskGuid: string): Promise<Change<Task>> {
    const current = await this.read(taskGuid);
    const before = current.value;
    validateTaskTransition(before.state, 'RESOLVING');
    const after: Task = { ...before, state: 'RESOLVING', updated_at: this.ctx.clock() };
    await this.swap(current, after);
    return { before, after };
  }

  async deleteTask(taskGuid: string): Promise<Task> {
    const { store, logger } = this.ctx;
    const current = await this.read(taskGuid);
    if (current.value.state !== 'RESOLVING') {
      throw invalidStateTransition(taskStateName(current.value.state), taskStateName('RESOLVING'));
    }
    await store.delete(current.key);
    logger.info({ task_guid: taskGuid }, 'task-deleted');
    return current.value;
  }

  async gatherAndPruneTasks(): Promise<Gathered<Task>> {
    const { items, pruned } = await this.ctx.store.listDecodedPruning(TASK_PREFIX, decodeStoredTask);
    return { records: items.map((item) => item.value), pruned };
  }

  async failTaskIfUnchanged(task: Task, failureReason: string): Promise<Change<Task>> {
    const current = await this.readUnchanged(task);
    refuseIfCompleted(current.value);
    return this.complete(current, true, failureReason, '');
  }

  async demoteResolvingTaskIfUnchanged(task: Task): Promise<Change<Task>> {
    const current = await this.readUnchanged(task);
    const before = current.value;
    if (before.state !== 'RESOLVING') throw invalidStateTransition(taskStateName(before.state), taskStateName('COMPLETED'));
    const after: Task = { ...before, state: 'COMPLETED', updated_at: this.ctx.clock() };
    await this.swap(current, after);
    return { before, after };
  }

  async deleteTaskIfUnchanged(task: Task): Promise<void> {
    const current = await this.readUnchanged(task);
    await this.ctx.store.compareAndDelete(current.key, current.modRevision);
    this.ctx.logger.info({ task_guid: task.task_guid }, 'task-deleted');
  }

  /** The stored task with its revision, if it is still exactly `task`; ResourceConflict when it changed. */
  private async readUnchanged(task: Task): Promise<Versioned<Task>> {
    const current = await this.read(task.task_guid);
    if (taskToJson(current.value) !== taskToJson(task)) throw resourceConflict();
    return current;
  }

  private read(taskGuid: string): Promise<Versioned<Task>> {
    return this.ctx.store.get(taskKey(taskGuid), decodeTask);
  }

  private async swap(current: Versioned<Task>, after: Task): Promise<void> {
    await this.ctx.store.compareAndSwap(current.key, current.modRevision, taskToJson(after));
  }

  /** bbs completeTask, shared by cancel, fail and complete. */
  private async complete(current: Versioned<Task>, failed: boolean, failureReason: string, result: string): Promise<Change<Task>> {
    const before = current.value;
    const now = this.ctx.clock();
    const after: Task = {
      ...before,
      state: 'COMPLETED',
      cell_id: '',
      failed,
      failure_reason: failureReason,
      result,
      updated_at: now,
      first_completed_at: now,
    };
    await this.swap(current, after);
    this.ctx.logger.info({ task_guid: before.task_guid, failed }, 'task-completed');
    return { before, after };
  }
}

const decodeTask = memoizedDecoder((text: string): Task => taskFromJson(text));

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

/** Cancel and fail end a task that has not completed yet. */
function refuseIfCompleted(task: Task): void {
  if (task.state === 'COMPLETED' || task.state === 'RESOLVING') {
    throw invalidStateTransition(taskStateName(task.state), taskStateName('COMPLETED'));
  }
}
