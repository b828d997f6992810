/**
 * The leader's completion callbacks (spec/bbs.md §7) against a real store on etcd and a real HTTP receiver:
 * what the receiver gets, how often, and what is left of the task afterwards.
 */
import { parseJson, taskResponseJson, type Task } from '@diego/models';
import { EtcdDb, type TaskCompletionWorkers } from '@diego/bbs';
import { eventually, newValidTask, testKeySpace, type TestKeySpace } from '@diego/test-support';
import { deadPort } from '../server/bbs-harness';
import { FakeClock, START_NS } from '../store/store-harness';
import { LogLines, startCallbackReceiver, startWorkers, type Answer, type CallbackReceiver } from './callback-harness';

let keys: TestKeySpace;
let db: EtcdDb;
let logs: LogLines;
const running: TaskCompletionWorkers[] = [];
const receivers: CallbackReceiver[] = [];

beforeEach(() => {
  keys = testKeySpace();
  logs = new LogLines();
  db = new EtcdDb(keys.namespace, { clock: new FakeClock().clock, logger: logs.logger });
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((workers) => workers.stop()));
  await Promise.all(receivers.splice(0).map((receiver) => receiver.close()));
  await keys.cleanup();
});

async function workers(options: Parameters<typeof startWorkers>[3] = {}, store: EtcdDb = db): Promise<TaskCompletionWorkers> {
  const started = await startWorkers(store, keys.namespace, logs.logger, options);
  running.push(started);
  return started;
}

async function receiver(answers: Answer[] = []): Promise<CallbackReceiver> {
  const started = await startCallbackReceiver(answers);
  receivers.push(started);
  return started;
}

/** Desired with this callback URL, started on cell-1 and completed by it; the stored COMPLETED task. */
async function completeTask(taskGuid: string, callbackUrl: string): Promise<Task> {
  const { domain, definition } = newValidTask(taskGuid, { completion_callback_url: callbackUrl });
  await db.desireTask(definition, taskGuid, domain);
  await db.startTask(taskGuid, 'cell-1');
  return (await db.completeTask(taskGuid, 'cell-1', false, '', 'the result')).after;
}

/** Resolves once the task is no longer in the store. */
async function gone(taskGuid: string): Promise<void> {
  await eventually(
    () => db.taskByGuid(taskGuid).then((task) => task.state, (err: unknown) => err),
    (state) => typeof state !== 'string',
  );
  await expect(db.taskByGuid(taskGuid)).rejects.toMatchObject({ type: 'ResourceNotFound' });
}

async function stateOf(taskGuid: string): Promise<string> {
  return (await db.taskByGuid(taskGuid)).state;
}

describe('a completed task with a completion_callback_url', () => {
  it('is POSTed once to its URL as the full TaskResponse JSON, then deleted', async () => {
    await workers();
    const cc = await receiver();
    const completed = await completeTask('task-1', cc.url('task-1'));

    await gone('task-1');
    expect(cc.received).toHaveLength(1);
    const [callback] = cc.received;
    expect(callback).toMatchObject({ method: 'POST', path: '/callbacks/task-1', contentType: 'application/json' });
    expect(callback?.body).toBe(taskResponseJson(completed));
    expect(callback?.body).toContain(`"created_at":${START_NS}`);
    expect(parseJson(callback?.body ?? '')).toMatchObject({
      task_guid: 'task-1',
      domain: 'some-domain',
      state: 'COMPLETED',
      failed: false,
      failure_reason: '',
      result: 'the result',
      annotation: '[{"anything": "you want!"}]... dude',
      completion_callback_url: cc.url('task-1'),
      created_at: START_NS,
    });
    expect(logs.of('task-callback-answered', 'task-1')).toEqual([expect.objectContaining({ attempt: 1, status: 200 })]);
    expect(logs.entries().map((line) => JSON.stringify(line)).join('\n')).not.toContain(cc.url('task-1'));
  });

  it.each([404, 500, 201])('is deleted when the receiver answers %i', async (status) => {
    await workers();
    const cc = await receiver([status]);
    await completeTask('task-1', cc.url('task-1'));

    await gone('task-1');
    expect(cc.received).toHaveLength(1);
  });

  it('is sent again after a 503 and deleted after the 200 that follows', async () => {
    await workers();
    const cc = await receiver([503, 200]);
    await completeTask('task-1', cc.url('task-1'));

    await gone('task-1');
    expect(cc.received).toHaveLength(2);
    expect(cc.received[1]?.body).toBe(cc.received[0]?.body);
  });

  it('is left RESOLVING after three attempts answered 503, 504, 503', async () => {
    const completionWorkers = await workers();
    const cc = await receiver([503, 504, 503, 200]);
    await completeTask('task-1', cc.url('task-1'));

    expect(await logs.waitFor('task-callback-gave-up', 'task-1')).toMatchObject({ attempts: 3 });
    await completionWorkers.stop();
    expect(cc.received).toHaveLength(3);
    expect(await stateOf('task-1')).toBe('RESOLVING');
  });

  it('is sent again when an attempt times out', async () => {
    await workers({ callbackTimeoutMs: 200 });
    const cc = await receiver(['hold', 200]);
    await completeTask('task-1', cc.url('task-1'));

    await gone('task-1');
    expect(cc.received).toHaveLength(2);
    expect(logs.of('task-callback-attempt-failed', 'task-1')).toEqual([
      expect.objectContaining({ attempt: 1, outcome: 'timed-out' }),
    ]);
  });

  it('is sent again when the receiver closes the connection without answering', async () => {
    await workers();
    const cc = await receiver(['close', 200]);
    await completeTask('task-1', cc.url('task-1'));

    await gone('task-1');
    expect(cc.received).toHaveLength(2);
    expect(logs.of('task-callback-attempt-failed', 'task-1')).toEqual([
      expect.objectContaining({ attempt: 1, outcome: 'connection-closed' }),
    ]);
  });

  it('is left RESOLVING, without another attempt, when the connection is refused', async () => {
    await workers();
    await completeTask('task-1', `http://127.0.0.1:${await deadPort()}/callback`);

    expect(await logs.waitFor('task-callback-failed', 'task-1')).toMatchObject({ attempt: 1, err: expect.stringContaining('ECONNREFUSED') });
    expect(await stateOf('task-1')).toBe('RESOLVING');
    expect(logs.of('task-callback-attempt-failed', 'task-1')).toEqual([]);
  });

  it('fires for a task cancelled through the store, as failed with "task was cancelled"', async () => {
    await workers();
    const cc = await receiver();
    const { domain, definition } = newValidTask('task-1', { completion_callback_url: cc.url('task-1') });
    await db.desireTask(definition, 'task-1', domain);
    await db.cancelTask('task-1');

    await gone('task-1');
    expect(cc.received).toHaveLength(1);
    expect(parseJson(cc.received[0]?.body ?? '')).toMatchObject({
      task_guid: 'task-1',
      failed: true,
      failure_reason: 'task was cancelled',
      result: '',
    });
  });
});

describe('a completed task without a completion_callback_url', () => {
  it('is left COMPLETED for its client to resolve', async () => {
    await workers();
    const cc = await receiver();
    await completeTask('no-callback', '');
    // A later completion with a callback: once it is handled, the earlier change has been seen too.
    await completeTask('with-callback', cc.url('with-callback'));

    await gone('with-callback');
    expect(await stateOf('no-callback')).toBe('COMPLETED');
    expect(cc.received.map((callback) => callback.path)).toEqual(['/callbacks/with-callback']);
  });
});

describe('two BBSs on one store, each with its workers', () => {
  it('send each callback once: ResolvingTask lets one of them through', async () => {
    await workers();
    await workers({}, new EtcdDb(keys.namespace, { logger: logs.logger }));
    const cc = await receiver();
    const guids = Array.from({ length: 10 }, (_, i) => `task-${i}`);
    await Promise.all(guids.map((guid) => completeTask(guid, cc.url(guid))));

    for (const guid of guids) await gone(guid);
    expect(cc.received.map((callback) => callback.path).sort()).toEqual(guids.map((guid) => `/callbacks/${guid}`).sort());
    // Both saw every completion: for each task, the one that lost the ResolvingTask race let it be.
    for (const guid of guids) await logs.waitFor('task-callback-skipped', guid);
  });
});

describe('submit()', () => {
  it('is ignored while the workers are stopped and handles a COMPLETED task once they run', async () => {
    const completionWorkers = await workers();
    await completionWorkers.stop();
    const cc = await receiver();
    const completed = await completeTask('task-1', cc.url('task-1'));
    completionWorkers.submit(completed);

    await completionWorkers.start();
    // The change was made while stopped: only a submission (convergence's) gets the callback sent now.
    expect(await stateOf('task-1')).toBe('COMPLETED');
    completionWorkers.submit(completed);

    await gone('task-1');
    expect(cc.received).toHaveLength(1);
  });

  it('runs at most taskCallbackWorkers callbacks at once; the others wait their turn', async () => {
    const completionWorkers = await workers({ taskCallbackWorkers: 2 });
    await completionWorkers.stop();
    const cc = await receiver(['hold', 'hold', 'hold']);
    const tasks = [await completeTask('task-1', cc.url('task-1')), await completeTask('task-2', cc.url('task-2')),
      await completeTask('task-3', cc.url('task-3'))];
    await completionWorkers.start();
    for (const task of tasks) completionWorkers.submit(task);

    await eventually(async () => cc.received.length, (count) => count === 2);
    expect(cc.received.map((callback) => callback.path).sort()).toEqual(['/callbacks/task-1', '/callbacks/task-2']);
    expect(await stateOf('task-3')).toBe('COMPLETED');

    cc.release(200);
    await eventually(async () => cc.received.length, (count) => count === 3);
    cc.release(200);
    for (const task of tasks) await gone(task.task_guid);
  });
});

describe('stop()', () => {
  it('aborts a callback in flight and closes its connection, leaving the task RESOLVING', async () => {
    const completionWorkers = await workers();
    const cc = await receiver(['hold']);
    await completeTask('task-1', cc.url('task-1'));
    await eventually(async () => cc.received.length, (count) => count === 1);

    const stopping = Date.now();
    await completionWorkers.stop();
    // Well inside the 10 s callback timeout: the request was aborted, not waited for.
    expect(Date.now() - stopping).toBeLessThan(5000);
    await eventually(() => cc.connections(), (count) => count === 0);
    expect(await stateOf('task-1')).toBe('RESOLVING');
    expect(logs.of('task-callback-aborted', 'task-1')).toHaveLength(1);
  });
});
