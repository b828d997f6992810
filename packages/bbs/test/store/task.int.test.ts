import type { Task } from '@diego/models';
import { newValidTask } from '@diego/test-support';
import { etcdKeys } from '@diego/bbs';
import { SECOND_NS, START_NS, useStore, STORE_READS } from './store-harness';

describe.each(STORE_READS)('tasks (spec/bbs.md §7), reading %s', (reads) => {
  const store = useStore({ view: reads === 'through the view' });

  async function desired(guid = 'task-1', domain = 'some-domain'): Promise<Task> {
    const { task_guid, definition } = newValidTask(guid, { domain });
    return store().db.desireTask(definition, task_guid, domain);
  }

  async function running(cellId = 'cell-a'): Promise<Task> {
    await desired();
    return (await store().db.startTask('task-1', cellId)).task;
  }

  async function completed(): Promise<Task> {
    await running();
    return (await store().db.completeTask('task-1', 'cell-a', false, '', 'the result')).after;
  }

  async function resolving(): Promise<Task> {
    await completed();
    return (await store().db.resolvingTask('task-1')).after;
  }

  async function modRevision(): Promise<string | undefined> {
    return (await store().raw(etcdKeys.taskKey('task-1')))?.mod_revision;
  }

  function transition(from: string, to: string) {
    return { type: 'InvalidStateTransition', message: `Cannot transition from ${from} to ${to}` };
  }

  describe('desireTask', () => {
    it('stores a PENDING task created and updated now, readable raw with every nanosecond digit', async () => {
      const { db, raw } = store();
      const { task_guid, domain, definition } = newValidTask('task-1');
      const task = await db.desireTask(definition, task_guid, domain);

      expect(task).toEqual({
        ...definition,
        task_guid,
        domain,
        created_at: START_NS,
        updated_at: START_NS,
        first_completed_at: 0n,
        state: 'PENDING',
        cell_id: '',
        result: '',
        failed: false,
        failure_reason: '',
      });
      expect(await db.taskByGuid('task-1')).toEqual(task);
      const text = (await raw(etcdKeys.taskKey('task-1')))?.value.toString() ?? '';
      expect(text).toContain(`"created_at":${START_NS}`);
      expect(JSON.parse(text)).toMatchObject({ task_guid: 'task-1', state: 'PENDING' });
    });

    it('is ResourceExists for a taken guid', async () => {
      const first = await desired();
      // Another definition: the same one again is a repeat, answered as success (issue 13).
      await expect(desired('task-1', 'another-domain')).rejects.toMatchObject({ type: 'ResourceExists' });
      expect(await store().db.taskByGuid('task-1')).toEqual(first);
    });
  });

  describe('startTask', () => {
    it('runs a pending task on the cell', async () => {
      const { db, clock } = store();
      await desired();
      clock.advance(SECOND_NS);
      const result = await db.startTask('task-1', 'cell-a');
      expect(result.shouldStart).toBe(true);
      expect(result.task).toMatchObject({ state: 'RUNNING', cell_id: 'cell-a', updated_at: clock.now, created_at: START_NS });
      expect(await db.taskByGuid('task-1')).toEqual(result.task);
    });

    it('is idempotent on the same cell: should_start false, nothing written', async () => {
      const task = await running('cell-a');
      const revision = await modRevision();
      expect(await store().db.startTask('task-1', 'cell-a')).toEqual({ shouldStart: false, task });
      expect(await modRevision()).toBe(revision);
    });

    it('refuses a task running on another cell', async () => {
      await running('cell-a');
      await expect(store().db.startTask('task-1', 'cell-b')).rejects.toMatchObject(transition('Running', 'Running'));
    });

    it('is ResourceNotFound for a missing task', async () => {
      await expect(store().db.startTask('nope', 'cell-a')).rejects.toMatchObject({ type: 'ResourceNotFound' });
    });
  });

  describe('completeTask', () => {
    it('completes a running task: no cell, first_completed_at now, the outcome stored', async () => {
      const { db, clock } = store();
      const before = await running('cell-a');
      clock.advance(SECOND_NS);
      const result = await db.completeTask('task-1', 'cell-a', true, 'it failed', 'partial');
      expect(result).toEqual({
        before,
        after: {
          ...before,
          state: 'COMPLETED',
          cell_id: '',
          failed: true,
          failure_reason: 'it failed',
          result: 'partial',
          updated_at: clock.now,
          first_completed_at: clock.now,
        },
      });
      expect(await db.taskByGuid('task-1')).toEqual(result.after);
    });

    it('is RunningOnDifferentCell when another cell reports it', async () => {
      await running('cell-a');
      await expect(store().db.completeTask('task-1', 'cell-b', false, '', '')).rejects.toMatchObject({
        type: 'RunningOnDifferentCell',
        message: 'Running on cell cell-a not cell-b',
      });
    });

    it('refuses a pending task', async () => {
      await desired();
      await expect(store().db.completeTask('task-1', 'cell-a', false, '', '')).rejects.toMatchObject(
        transition('Pending', 'Completed'),
      );
    });
  });

  describe('cancelTask', () => {
    it('completes a pending task as cancelled', async () => {
      await desired();
      const { before, after } = await store().db.cancelTask('task-1');
      expect(before.cell_id).toBe('');
      expect(after).toMatchObject({ state: 'COMPLETED', failed: true, failure_reason: 'task was cancelled', result: '' });
    });

    it('tells the caller which cell ran the task it cancelled', async () => {
      await running('cell-a');
      const { before, after } = await store().db.cancelTask('task-1');
      expect(before.cell_id).toBe('cell-a');
      expect(after).toMatchObject({ state: 'COMPLETED', cell_id: '', failure_reason: 'task was cancelled' });
    });

    it('refuses a completed or resolving task', async () => {
      await completed();
      await expect(store().db.cancelTask('task-1')).rejects.toMatchObject(transition('Completed', 'Completed'));
      await store().db.resolvingTask('task-1');
      await expect(store().db.cancelTask('task-1')).rejects.toMatchObject(transition('Resolving', 'Completed'));
    });
  });

  describe('failTask', () => {
    it.each([
      ['pending', desired],
      ['running', running],
    ] as const)('fails a %s task with the reason', async (_name, given) => {
      await given();
      const { after } = await store().db.failTask('task-1', 'no cell could run it');
      expect(after).toMatchObject({ state: 'COMPLETED', failed: true, failure_reason: 'no cell could run it', cell_id: '' });
    });

    it('refuses a resolving task', async () => {
      await resolving();
      await expect(store().db.failTask('task-1', 'late')).rejects.toMatchObject(transition('Resolving', 'Completed'));
    });
  });

  describe('resolvingTask and deleteTask', () => {
    it('resolves a completed task, then deletes it', async () => {
      const { db, clock } = store();
      const done = await completed();
      clock.advance(SECOND_NS);
      const { before, after } = await db.resolvingTask('task-1');
      expect(before).toEqual(done);
      expect(after).toEqual({ ...done, state: 'RESOLVING', updated_at: clock.now });

      expect(await db.deleteTask('task-1')).toEqual(after);
      await expect(db.taskByGuid('task-1')).rejects.toMatchObject({ type: 'ResourceNotFound' });
    });

    it('refuses to resolve a task that has not completed', async () => {
      await desired();
      await expect(store().db.resolvingTask('task-1')).rejects.toMatchObject(transition('Pending', 'Resolving'));
    });

    it('refuses to resolve twice: only one client handles a completed task', async () => {
      await resolving();
      await expect(store().db.resolvingTask('task-1')).rejects.toMatchObject(transition('Resolving', 'Resolving'));
    });

    it('refuses to delete a task that is not resolving', async () => {
      await completed();
      await expect(store().db.deleteTask('task-1')).rejects.toMatchObject(transition('Completed', 'Resolving'));
      expect((await store().db.taskByGuid('task-1')).state).toBe('COMPLETED');
    });
  });

  describe('tasks', () => {
    it('lists tasks filtered by domain and cell', async () => {
      const { db } = store();
      const a = await desired('a', 'd1');
      await desired('b', 'd2');
      const { task: b } = await db.startTask('b', 'cell-a');

      expect(await db.tasks()).toEqual([a, b]);
      expect(await db.tasks({ domain: 'd1' })).toEqual([a]);
      expect(await db.tasks({ cell_id: 'cell-a' })).toEqual([b]);
      expect(await db.tasks({ domain: 'd1', cell_id: 'cell-a' })).toEqual([]);
    });

    it('lets one of two cells racing to start a task win, and loses no write', async () => {
      const { db, otherDb } = store();
      await desired();
      const results = await Promise.allSettled([db.startTask('task-1', 'cell-a'), otherDb().startTask('task-1', 'cell-b')]);
      const winners = results.flatMap((result) => (result.status === 'fulfilled' ? [result.value.task.cell_id] : []));
      expect(winners).toHaveLength(1);
      const loser = results.find((result) => result.status === 'rejected');
      expect(['ResourceConflict', 'InvalidStateTransition']).toContain((loser?.reason as { type?: string }).type);
      // Read from etcd: the other writer's win may still be on its way to this store's view.
      expect((await otherDb().taskByGuid('task-1')).cell_id).toBe(winners[0]);
    });
  });
});
