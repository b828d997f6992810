// Task convergence (spec/bbs.md §8.2) on a real etcd, one rule at a time, with a clock the test moves.
import pino from 'pino';
import { HttpBbsClient } from '@diego/bbs-client';
import { etcdKeys, startBbsServer, type TaskConvergenceDurationsNs } from '@diego/bbs';
import type { Task } from '@diego/models';
import { newValidCellPresence, newValidTask, testKeySpace } from '@diego/test-support';
import { SECOND_NS, START_NS, useConvergence } from './converger-harness';

const convergence = useConvergence();

/** Diego's defaults: kick 30 s, expire pending 30 min, expire completed 120 s. */
const DURATIONS: TaskConvergenceDurationsNs = { kick: 30n * SECOND_NS, expirePending: 1800n * SECOND_NS, expireCompleted: 120n * SECOND_NS };

async function desireTask(taskGuid: string, callbackUrl = ''): Promise<Task> {
  const { definition, domain } = newValidTask(taskGuid, { completion_callback_url: callbackUrl });
  return convergence().db.desireTask(definition, taskGuid, domain);
}

async function taskOrNull(taskGuid: string): Promise<Task | null> {
  try {
    return await convergence().db.taskByGuid(taskGuid);
  } catch {
    return null;
  }
}

/** Converges with the clock at `secondsLater` after the tasks were made. */
async function convergeAt(secondsLater: bigint): Promise<void> {
  convergence().setNow(START_NS + secondsLater * SECOND_NS);
  await convergence().tasks.convergeTasks(DURATIONS);
}

describe('task convergence', () => {
  it('fails a task still PENDING after expirePendingTaskDuration: "not started within time limit"', async () => {
    await desireTask('pending');
    await convergeAt(1799n);
    expect((await taskOrNull('pending'))?.state).toBe('PENDING');
    await convergeAt(1800n);
    expect(await taskOrNull('pending')).toMatchObject({
      state: 'COMPLETED',
      failed: true,
      failure_reason: 'not started within time limit',
      first_completed_at: START_NS + 1800n * SECOND_NS,
    });
  });

  it('auctions a PENDING task again once it is untouched for kickTaskDuration', async () => {
    const { auctioneer } = convergence();
    const { definition } = newValidTask('kicked');
    await desireTask('kicked');
    await convergeAt(29n);
    expect(auctioneer.taskStarts).toEqual([]);
    await convergeAt(30n);
    expect(auctioneer.taskStarts).toEqual([
      { task_guid: 'kicked', domain: 'some-domain', memory_mb: definition.memory_mb, disk_mb: definition.disk_mb, rootfs: definition.rootfs },
    ]);
    expect((await taskOrNull('kicked'))?.state).toBe('PENDING');
  });

  it('fails a RUNNING task whose cell has no presence any more: "cell disappeared before completion"', async () => {
    const { db } = convergence();
    await db.registerCell(newValidCellPresence('cell-live'), 60);
    await desireTask('on-live-cell');
    await desireTask('on-gone-cell');
    await db.startTask('on-live-cell', 'cell-live');
    await db.startTask('on-gone-cell', 'cell-gone');
    await convergeAt(1n);
    expect((await taskOrNull('on-live-cell'))?.state).toBe('RUNNING');
    expect(await taskOrNull('on-gone-cell')).toMatchObject({
      state: 'COMPLETED',
      failed: true,
      failure_reason: 'cell disappeared before completion',
      cell_id: '',
    });
  });

  it('sends the callback of a COMPLETED task again once it is untouched for kickTaskDuration; not without a callback URL', async () => {
    const { db, completions } = convergence();
    await desireTask('with-callback', 'http://cc.example/tasks/with-callback');
    await desireTask('without-callback');
    await db.failTask('with-callback', 'boom');
    await db.failTask('without-callback', 'boom');
    await convergeAt(29n);
    expect(completions.submitted).toEqual([]);
    await convergeAt(30n);
    expect(completions.submitted.map((task) => [task.task_guid, task.state])).toEqual([['with-callback', 'COMPLETED']]);
  });

  it('deletes a COMPLETED task expireCompletedTaskDuration after it first completed', async () => {
    const { db } = convergence();
    await desireTask('done');
    await db.failTask('done', 'boom');
    await convergeAt(119n);
    expect((await taskOrNull('done'))?.state).toBe('COMPLETED');
    await convergeAt(120n);
    expect(await taskOrNull('done')).toBeNull();
  });

  it('demotes a RESOLVING task untouched for kickTaskDuration to COMPLETED and sends its callback again', async () => {
    const { db, completions } = convergence();
    await desireTask('resolving', 'http://cc.example/tasks/resolving');
    await db.failTask('resolving', 'boom');
    await db.resolvingTask('resolving');
    await convergeAt(29n);
    expect((await taskOrNull('resolving'))?.state).toBe('RESOLVING');
    await convergeAt(30n);
    expect(await taskOrNull('resolving')).toMatchObject({ state: 'COMPLETED', updated_at: START_NS + 30n * SECOND_NS });
    expect(completions.submitted.map((task) => [task.task_guid, task.state])).toEqual([['resolving', 'COMPLETED']]);
  });

  it('deletes a RESOLVING task expireCompletedTaskDuration after it first completed', async () => {
    const { db } = convergence();
    await desireTask('stuck');
    await db.failTask('stuck', 'boom');
    await db.resolvingTask('stuck');
    await convergeAt(120n);
    expect(await taskOrNull('stuck')).toBeNull();
  });

  it('deletes a task record that does not decode, and leaves the others alone', async () => {
    const { keys } = convergence();
    await desireTask('fine');
    await keys.namespace.put(etcdKeys.taskKey('garbled')).value('{"task_guid":');
    await convergeAt(1n);
    expect(await keys.namespace.get(etcdKeys.taskKey('garbled')).string()).toBeNull();
    expect((await taskOrNull('fine'))?.state).toBe('PENDING');
  });

  it('leaves a task that changed after it was gathered as it is', async () => {
    const { db } = convergence();
    const gathered = await desireTask('raced');
    await db.startTask('raced', 'cell-1');
    await expect(db.failTaskIfUnchanged(gathered, 'not started within time limit')).rejects.toMatchObject({ type: 'ResourceConflict' });
    expect((await taskOrNull('raced'))?.state).toBe('RUNNING');
  });
});

describe('ConvergeTasks', () => {
  it('runs one pass through the API with the durations of the request', async () => {
    const keys = testKeySpace();
    const bbs = await startBbsServer({ etcd: keys.namespace, listenAddress: '127.0.0.1:0', logger: pino({ level: 'silent' }) });
    const client = new HttpBbsClient([`http://${bbs.address}`]);
    try {
      const { definition, domain } = newValidTask('api-task');
      await client.desireTask('api-task', domain, definition);
      await client.convergeTasks({ kickTaskDurationMs: 30_000, expirePendingTaskDurationMs: 1_800_000, expireCompletedTaskDurationMs: 120_000 });
      expect((await client.taskByGuid('api-task')).state).toBe('PENDING');
      // A pending expiry of 0 expires every PENDING task at once.
      await client.convergeTasks({ kickTaskDurationMs: 30_000, expirePendingTaskDurationMs: 0, expireCompletedTaskDurationMs: 120_000 });
      expect(await client.taskByGuid('api-task')).toMatchObject({ state: 'COMPLETED', failure_reason: 'not started within time limit' });
    } finally {
      client.close();
      await bbs.stop();
      await keys.cleanup();
    }
  });
});
