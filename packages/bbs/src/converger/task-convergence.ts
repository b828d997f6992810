/**
 * ConvergeTasks of spec/bbs.md §8.2, as a pure function: the gathered tasks in, what to change out. The
 * controller (task-convergence-controller.ts) gathers the input and makes the changes.
 */
import type { Int64, Task } from '@diego/models';
import type { TaskStartRequest } from '../leader/contracts';
import type { TaskCounts } from '../metrics';

export const NOT_STARTED_WITHIN_TIME_LIMIT = 'not started within time limit';
export const CELL_DISAPPEARED_BEFORE_COMPLETION = 'cell disappeared before completion';

/** The durations of §8.2 in nanoseconds. */
export interface TaskConvergenceDurationsNs {
  kick: Int64;
  expirePending: Int64;
  expireCompleted: Int64;
}

export interface TaskConvergenceInput {
  tasks: readonly Task[];
  liveCellIds: ReadonlySet<string>;
  /** Unix nanoseconds. */
  now: Int64;
  durations: TaskConvergenceDurationsNs;
}

export interface TaskConvergenceChanges {
  /** Tasks to complete as failed, and why. */
  toFail: { task: Task; reason: string }[];
  /** PENDING tasks untouched for the kick duration: auction them again. */
  toAuction: Task[];
  /** COMPLETED tasks untouched for the kick duration with a callback: send their callback again. */
  toResubmit: Task[];
  /** RESOLVING tasks untouched for the kick duration: back to COMPLETED, then their callback is sent again. */
  toDemote: Task[];
  /** Completed tasks past the expiry: delete them. */
  toDelete: Task[];
}

export function calculateTaskConvergence(input: TaskConvergenceInput): TaskConvergenceChanges {
  const { now, durations } = input;
  const changes: TaskConvergenceChanges = { toFail: [], toAuction: [], toResubmit: [], toDemote: [], toDelete: [] };
  for (const task of input.tasks) {
    const shouldKick = now - task.updated_at >= durations.kick;
    const completedExpired = task.first_completed_at !== 0n && now - task.first_completed_at >= durations.expireCompleted;
    switch (task.state) {
      case 'PENDING':
        if (now - task.created_at >= durations.expirePending) changes.toFail.push({ task, reason: NOT_STARTED_WITHIN_TIME_LIMIT });
        else if (shouldKick) changes.toAuction.push(task);
        break;
      case 'RUNNING':
        if (!input.liveCellIds.has(task.cell_id)) changes.toFail.push({ task, reason: CELL_DISAPPEARED_BEFORE_COMPLETION });
        break;
      case 'COMPLETED':
        if (completedExpired) changes.toDelete.push(task);
        else if (shouldKick && task.completion_callback_url !== '') changes.toResubmit.push(task);
        break;
      case 'RESOLVING':
        if (completedExpired) changes.toDelete.push(task);
        else if (shouldKick) changes.toDemote.push(task);
        break;
    }
  }
  return changes;
}

export function countTasks(tasks: readonly Task[]): TaskCounts {
  const counts: TaskCounts = { pending: 0, running: 0, completed: 0, resolving: 0 };
  for (const task of tasks) {
    if (task.state === 'PENDING') counts.pending += 1;
    else if (task.state === 'RUNNING') counts.running += 1;
    else if (task.state === 'COMPLETED') counts.completed += 1;
    else counts.resolving += 1;
  }
  return counts;
}

/** Diego's TaskStartRequest: the task's guid, domain and resources. */
export function taskStartRequest(task: Task): TaskStartRequest {
  return { task_guid: task.task_guid, domain: task.domain, memory_mb: task.memory_mb, disk_mb: task.disk_mb, rootfs: task.rootfs };
}
