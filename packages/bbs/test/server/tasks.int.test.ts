import { taskFromProto, type CachedDependency } from '@diego/models';
import { newValidCellPresence, newValidTask } from '@diego/test-support';
import { useBbs, useFakeRep } from './bbs-harness';

const bbs = useBbs();
const rep = useFakeRep();

const dependency: CachedDependency = { name: 'lifecycle', from: 'http://blob/lc.tgz', to: '/tmp/lifecycle', cache_key: 'lc', log_source: '' };

async function desire(taskGuid: string, overrides: Parameters<typeof newValidTask>[1] = {}): Promise<void> {
  const { task_guid, domain, definition } = newValidTask(taskGuid, overrides);
  await bbs().client.desireTask(task_guid, domain, definition);
}

/** Desired, started on cell-1 and completed by it. */
async function completed(taskGuid: string): Promise<void> {
  await desire(taskGuid);
  await bbs().client.startTask(taskGuid, 'cell-1');
  await bbs().client.completeTask(taskGuid, 'cell-1', false, '', 'the result');
}

describe('DesireTask', () => {
  it('stores a PENDING task with its definition', async () => {
    const { task_guid, domain, definition } = newValidTask('task-1');
    await bbs().client.desireTask(task_guid, domain, definition);
    const task = await bbs().client.taskByGuid('task-1');
    expect(task).toMatchObject({ ...definition, task_guid: 'task-1', domain, state: 'PENDING', cell_id: '' });
    expect(task.created_at).toBeGreaterThan(0n);
  });

  it('refuses a taken task guid with ResourceExists', async () => {
    await desire('task-1');
    // Another definition: the same one again is a repeat, answered as success (issue 13).
    await expect(desire('task-1', { memory_mb: 1 })).rejects.toMatchObject({ type: 'ResourceExists' });
  });

  it('refuses an invalid task with InvalidRequest naming every invalid field', async () => {
    const { definition } = newValidTask('x');
    await expect(bbs().client.desireTask('bad guid!', '', definition)).rejects.toMatchObject({
      type: 'InvalidRequest',
      message: 'Invalid field: task_guid, Invalid field: domain',
    });
  });
});

describe('Tasks_r1', () => {
  it('lists the tasks, filtered by domain and by cell, with their cached dependencies', async () => {
    await desire('task-1', { cached_dependencies: [dependency], legacy_download_user: 'vcap' });
    await desire('task-2', { domain: 'other-domain' });
    await bbs().client.startTask('task-2', 'cell-1');

    expect((await bbs().client.tasks()).map((t) => t.task_guid).sort()).toEqual(['task-1', 'task-2']);
    const inDomain = await bbs().client.tasks({ domain: 'some-domain' });
    expect(inDomain.map((t) => [t.task_guid, t.cached_dependencies])).toEqual([['task-1', [dependency]]]);
    expect((await bbs().client.tasks({ cell_id: 'cell-1' })).map((t) => t.task_guid)).toEqual(['task-2']);
  });
});

describe('Tasks', () => {
  it('lists the tasks versioned down to V0: cached dependencies downloaded before the action', async () => {
    await desire('task-1', { cached_dependencies: [dependency], legacy_download_user: 'vcap' });
    const [task] = (await bbs().client.call('Tasks', { domain: '', cell_id: '' })).tasks.map(taskFromProto);
    const { definition } = newValidTask('task-1');
    expect(task?.cached_dependencies).toEqual([]);
    expect(task?.action?.serial?.actions).toEqual([
      {
        parallel: {
          actions: [{ download: { artifact: 'lifecycle', from: 'http://blob/lc.tgz', to: '/tmp/lifecycle', cache_key: 'lc', log_source: '', user: 'vcap' } }],
          log_source: '',
        },
      },
      definition.action,
    ]);
  });
});

describe('TaskByGuid_r1', () => {
  it('answers ResourceNotFound for an unknown guid', async () => {
    await expect(bbs().client.taskByGuid('nope')).rejects.toMatchObject({ type: 'ResourceNotFound' });
  });

  it('refuses an empty guid with InvalidRequest', async () => {
    await expect(bbs().client.taskByGuid('')).rejects.toMatchObject({ type: 'InvalidRequest', message: 'Invalid field: task_guid' });
  });
});

describe('TaskByGuid', () => {
  it('gets one task versioned down to V0 (a GET with a protobuf body)', async () => {
    await desire('task-1', { cached_dependencies: [dependency], legacy_download_user: 'vcap' });
    const task = taskFromProto((await bbs().client.call('TaskByGuid', { task_guid: 'task-1' })).task ?? {});
    expect(task.task_guid).toBe('task-1');
    expect(task.cached_dependencies).toEqual([]);
    expect(task.action?.serial?.actions).toHaveLength(2);
  });
});

describe('StartTask', () => {
  it('starts a PENDING task on a cell once: the same cell asking again is told not to start it', async () => {
    await desire('task-1');
    expect(await bbs().client.startTask('task-1', 'cell-1')).toBe(true);
    expect(await bbs().client.startTask('task-1', 'cell-1')).toBe(false);
    expect(await bbs().client.taskByGuid('task-1')).toMatchObject({ state: 'RUNNING', cell_id: 'cell-1' });
  });

  it('refuses another cell with InvalidStateTransition', async () => {
    await desire('task-1');
    await bbs().client.startTask('task-1', 'cell-1');
    await expect(bbs().client.startTask('task-1', 'cell-2')).rejects.toMatchObject({
      type: 'InvalidStateTransition',
      message: 'Cannot transition from Running to Running',
    });
  });

  it('refuses a start without a cell with InvalidRequest', async () => {
    await expect(bbs().client.startTask('task-1', '')).rejects.toMatchObject({ type: 'InvalidRequest', message: 'Invalid field: cell_id' });
  });
});

describe('CompleteTask', () => {
  it('completes a running task with its result', async () => {
    await completed('task-1');
    expect(await bbs().client.taskByGuid('task-1')).toMatchObject({ state: 'COMPLETED', failed: false, result: 'the result', cell_id: '' });
  });

  it('refuses another cell with RunningOnDifferentCell', async () => {
    await desire('task-1');
    await bbs().client.startTask('task-1', 'cell-1');
    await expect(bbs().client.completeTask('task-1', 'cell-2', false, '', '')).rejects.toMatchObject({
      type: 'RunningOnDifferentCell',
      message: 'Running on cell cell-1 not cell-2',
    });
  });
});

describe('FailTask', () => {
  it('completes a pending task as failed', async () => {
    await desire('task-1');
    await bbs().client.failTask('task-1', 'no cell could run it');
    expect(await bbs().client.taskByGuid('task-1')).toMatchObject({ state: 'COMPLETED', failed: true, failure_reason: 'no cell could run it' });
  });

  it('refuses a failure without a reason with InvalidRequest', async () => {
    await expect(bbs().client.failTask('task-1', '')).rejects.toMatchObject({ type: 'InvalidRequest', message: 'Invalid field: failure_reason' });
  });
});

describe('CancelTask', () => {
  it('cancels a running task and asks its cell to cancel it', async () => {
    await bbs().db.registerCell(newValidCellPresence('cell-1', { rep_address: rep().url }), 60);
    await desire('task-1');
    await bbs().client.startTask('task-1', 'cell-1');
    await bbs().client.cancelTask('task-1');
    expect(await bbs().client.taskByGuid('task-1')).toMatchObject({ state: 'COMPLETED', failed: true, failure_reason: 'task was cancelled' });
    expect(rep().requests).toEqual([{ method: 'POST', path: '/v1/tasks/task-1/cancel' }]);
  });

  it('cancels a pending task without asking any cell', async () => {
    await desire('task-1');
    await bbs().client.cancelTask('task-1');
    expect(await bbs().client.taskByGuid('task-1')).toMatchObject({ state: 'COMPLETED', failure_reason: 'task was cancelled' });
    expect(rep().requests).toEqual([]);
  });

  it('cancels even when the cell is gone', async () => {
    await desire('task-1');
    await bbs().client.startTask('task-1', 'vanished-cell');
    await bbs().client.cancelTask('task-1');
    expect(await bbs().client.taskByGuid('task-1')).toMatchObject({ state: 'COMPLETED', failure_reason: 'task was cancelled' });
  });

  it('refuses to cancel a completed task with InvalidStateTransition', async () => {
    await completed('task-1');
    await expect(bbs().client.cancelTask('task-1')).rejects.toMatchObject({ type: 'InvalidStateTransition' });
  });
});

describe('ResolvingTask', () => {
  it('marks a completed task as being resolved, once', async () => {
    await completed('task-1');
    await bbs().client.resolvingTask('task-1');
    expect((await bbs().client.taskByGuid('task-1')).state).toBe('RESOLVING');
    await expect(bbs().client.resolvingTask('task-1')).rejects.toMatchObject({
      type: 'InvalidStateTransition',
      message: 'Cannot transition from Resolving to Resolving',
    });
  });
});

describe('DeleteTask', () => {
  it('deletes a resolving task', async () => {
    await completed('task-1');
    await bbs().client.resolvingTask('task-1');
    await bbs().client.deleteTask('task-1');
    await expect(bbs().client.taskByGuid('task-1')).rejects.toMatchObject({ type: 'ResourceNotFound' });
  });

  it('refuses to delete a task that is not resolving with InvalidStateTransition', async () => {
    await completed('task-1');
    await expect(bbs().client.deleteTask('task-1')).rejects.toMatchObject({
      type: 'InvalidStateTransition',
      message: 'Cannot transition from Completed to Resolving',
    });
  });
});
