// Tasks on a real cell: placed by the auctioneer, started, run as real processes, completed with their result
// through a real BBS; a cancelled task's process is stopped.
import { randomUUID } from 'node:crypto';
import type { Task } from '@diego/models';
import { eventually, newValidTask } from '@diego/test-support';
import { processesWith, shell, useCells } from './cell-harness';

const cells = useCells();

function desireTask(taskGuid: string, script: string, marker?: string): Promise<void> {
  const { definition, domain } = newValidTask(taskGuid, {
    rootfs: 'preloaded:cflinuxfs2', memory_mb: 64, disk_mb: 64, action: shell(script, marker), result_file: '/tmp/result',
  });
  return cells().client.desireTask(taskGuid, domain, definition);
}

function task(taskGuid: string): Promise<Task> {
  return cells().client.taskByGuid(taskGuid);
}

describe('tasks on a cell', () => {
  it('runs a task and completes it with the first bytes of its result file', async () => {
    await cells().startCell('cell-a');
    await desireTask('greet', 'printf 42 > "$TMPDIR/result"');
    const completed = await eventually(() => task('greet'), (t) => t.state === 'COMPLETED', { timeoutMs: 10_000 });
    expect(completed).toMatchObject({ failed: false, failure_reason: '', result: '42', cell_id: '' });
  });

  it('completes a task whose action fails as failed, with the reason', async () => {
    await cells().startCell('cell-a');
    await desireTask('fails', 'exit 17');
    const completed = await eventually(() => task('fails'), (t) => t.state === 'COMPLETED', { timeoutMs: 10_000 });
    expect(completed).toMatchObject({ failed: true, failure_reason: 'Exited with status 17', result: '' });
  });

  it('stops the process of a running task that is cancelled and frees its resources', async () => {
    const cell = await cells().startCell('cell-a');
    const marker = `task-${randomUUID()}`;
    await desireTask('long', 'while true; do sleep 1; done', marker);
    await eventually(() => task('long'), (t) => t.state === 'RUNNING', { timeoutMs: 10_000 });
    await eventually(() => processesWith(marker), (pids) => pids.length > 0, { timeoutMs: 10_000 });

    await cells().client.cancelTask('long');
    await eventually(() => processesWith(marker), (pids) => pids.length === 0, { timeoutMs: 10_000 });
    expect(await task('long')).toMatchObject({ state: 'COMPLETED', failed: true, failure_reason: 'task was cancelled' });
    await eventually(() => Promise.resolve(cell.state()), (state) => state.Tasks.length === 0, { timeoutMs: 5000 });
    expect(cell.state().AvailableResources).toEqual({ MemoryMB: 1024, DiskMB: 1024, Containers: 10 });
  });
});
