// The task state machine of spec/bbs.md §7: Pending -> Running -> Completed -> Resolving (-> deleted).
import { invalidStateTransition } from './errors';
import type { TaskState } from './types';

/** The one state each target state may be reached from. */
const ALLOWED_FROM: Partial<Record<TaskState, TaskState>> = {
  RUNNING: 'PENDING',
  COMPLETED: 'RUNNING',
  RESOLVING: 'COMPLETED',
};

/** Allows Pending->Running, Running->Completed, Completed->Resolving; throws InvalidStateTransition
 *  (`Cannot transition from Pending to Completed`, Go's enum names) otherwise. */
export function validateTaskTransition(from: TaskState, to: TaskState): void {
  if (ALLOWED_FROM[to] !== from) throw invalidStateTransition(taskStateName(from), taskStateName(to));
}

/** 'PENDING' -> 'Pending' (Go's Task_State.String()). */
export function taskStateName(state: TaskState): string {
  return state.charAt(0) + state.slice(1).toLowerCase();
}
