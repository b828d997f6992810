import type { Task } from '@diego/models';
import {
  calculateTaskConvergence,
  CELL_DISAPPEARED_BEFORE_COMPLETION,
  countTasks,
  NOT_STARTED_WITHIN_TIME_LIMIT,
  type TaskConvergenceDurationsNs,
} from './task-convergence';

const SECOND = 1_000_000_000n;
const NOW = 1_700_000_000_000_000_000n;
const DURATIONS: TaskConvergenceDurationsNs = { kick: 30n * SECOND, expirePending: 1800n * SECOND, expireCompleted: 120n * SECOND };

/** A task last touched `secondsAgo` before NOW (created then too, and completed then when completed). */
function task(taskGuid: string, state: Task['state'], secondsAgo: bigint, overrides: Partial<Task> = {}): Task {
  const at = NOW - secondsAgo * SECOND;
  return {
    task_guid: taskGuid,
    domain: 'd',
    rootfs: 'preloaded:cflinuxfs2',
    env: [],
    action: null,
    disk_mb: 1024,
    memory_mb: 256,
    cpu_weight: 0,
    privileged: false,
    log_source: '',
    log_guid: '',
    metrics_guid: '',
    result_file: '',
    completion_callback_url: '',
    annotation: '',
    egress_rules: [],
    cached_dependencies: [],
    legacy_download_user: '',
    trusted_system_certificates_path: '',
    created_at: at,
    updated_at: at,
    first_completed_at: state === 'COMPLETED' || state === 'RESOLVING' ? at : 0n,
    state,
    cell_id: state === 'RUNNING' ? 'cell-live' : '',
    result: '',
    failed: false,
    failure_reason: '',
    ...overrides,
  };
}

function converge(tasks: Task[]) {
  return calculateTaskConvergence({ tasks, liveCellIds: new Set(['cell-live']), now: NOW, durations: DURATIONS });
}

const guids = (tasks: readonly Task[]) => tasks.map((t) => t.task_guid);

describe('calculateTaskConvergence', () => {
  it('fails expired PENDING tasks and kicks the others untouched for the kick duration', () => {
    const changes = converge([task('fresh', 'PENDING', 29n), task('kicked', 'PENDING', 30n), task('expired', 'PENDING', 1800n)]);
    expect(guids(changes.toAuction)).toEqual(['kicked']);
    expect(changes.toFail.map(({ task: t, reason }) => [t.task_guid, reason])).toEqual([['expired', NOT_STARTED_WITHIN_TIME_LIMIT]]);
  });

  it('fails RUNNING tasks on missing cells only', () => {
    const changes = converge([task('live', 'RUNNING', 9999n), task('orphaned', 'RUNNING', 1n, { cell_id: 'cell-gone' })]);
    expect(changes.toFail.map(({ task: t, reason }) => [t.task_guid, reason])).toEqual([['orphaned', CELL_DISAPPEARED_BEFORE_COMPLETION]]);
  });

  it('resubmits kicked COMPLETED tasks that have a callback, deletes expired ones', () => {
    const callback = { completion_callback_url: 'http://cc/done' };
    const changes = converge([
      task('recent', 'COMPLETED', 29n, callback),
      task('kicked', 'COMPLETED', 30n, callback),
      task('no-callback', 'COMPLETED', 30n),
      task('expired', 'COMPLETED', 120n, callback),
    ]);
    expect(guids(changes.toResubmit)).toEqual(['kicked']);
    expect(guids(changes.toDelete)).toEqual(['expired']);
  });

  it('demotes kicked RESOLVING tasks, deletes expired ones', () => {
    const changes = converge([task('recent', 'RESOLVING', 29n), task('kicked', 'RESOLVING', 30n), task('expired', 'RESOLVING', 120n)]);
    expect(guids(changes.toDemote)).toEqual(['kicked']);
    expect(guids(changes.toDelete)).toEqual(['expired']);
  });

  it('counts tasks by state', () => {
    expect(countTasks([task('a', 'PENDING', 0n), task('b', 'RUNNING', 0n), task('c', 'RUNNING', 0n), task('d', 'RESOLVING', 0n)])).toEqual({
      pending: 1,
      running: 2,
      completed: 0,
      resolving: 1,
    });
  });
});
