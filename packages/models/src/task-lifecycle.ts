// CONTRACT STUB (models helper implements): spec/bbs.md §7.
import type { TaskState } from './types';

/** Allows Pending->Running, Running->Completed, Completed->Resolving; throws InvalidStateTransition
 *  (`Cannot transition from Pending to Completed`, Go's enum names) otherwise. */
export declare function validateTaskTransition(from: TaskState, to: TaskState): void;
/** 'PENDING' -> 'Pending' (Go's Task_State.String()). */
export declare function taskStateName(state: TaskState): string;
