import { isBbsError } from './errors';
import { taskStateName, validateTaskTransition } from './task-lifecycle';
import { TASK_STATES, type TaskState } from './types';

const allowed: [TaskState, TaskState][] = [
  ['PENDING', 'RUNNING'],
  ['RUNNING', 'COMPLETED'],
  ['COMPLETED', 'RESOLVING'],
];

describe('validateTaskTransition', () => {
  it.each(allowed)('allows %s -> %s', (from, to) => {
    expect(() => validateTaskTransition(from, to)).not.toThrow();
  });

  const refused = TASK_STATES.flatMap((from) =>
    TASK_STATES.filter((to) => !allowed.some(([f, t]) => f === from && t === to)).map((to): [TaskState, TaskState] => [from, to]),
  );
  it.each(refused)('refuses %s -> %s', (from, to) => {
    expect(() => validateTaskTransition(from, to)).toThrow(
      expect.objectContaining({ type: 'InvalidStateTransition' }) as Error,
    );
  });

  it("names the states as Go's Task_State.String() does", () => {
    let caught: unknown;
    try {
      validateTaskTransition('PENDING', 'COMPLETED');
    } catch (err) {
      caught = err;
    }
    expect(isBbsError(caught, 'InvalidStateTransition')).toBe(true);
    expect(caught).toHaveProperty('message', 'Cannot transition from Pending to Completed');
  });
});

describe('taskStateName', () => {
  it.each([
    ['INVALID', 'Invalid'],
    ['PENDING', 'Pending'],
    ['RUNNING', 'Running'],
    ['COMPLETED', 'Completed'],
    ['RESOLVING', 'Resolving'],
  ] as const)('%s is %s', (state, name) => {
    expect(taskStateName(state)).toBe(name);
  });
});
