import type { ActualLRP } from '@diego/models';
import { eventually, newValidTask } from '@diego/test-support';
import { runnableLrp, useAuction } from './auction-harness';

const PRELOADED = 'preloaded:cflinuxfs2';

function states(lrps: ActualLRP[]): string[] {
  return lrps.map((lrp) => lrp.state);
}

describe('the auctioneer', () => {
  const auction = useAuction();

  describe('desired LRPs', () => {
    it('places a desired LRP of four instances two per zone and they run within a second of desiring', async () => {
      const { client, startCell, instances } = auction();
      const z1 = await startCell({ cellId: 'cell-z1', zone: 'z1', memoryMB: 4096, diskMB: 4096 });
      const z2 = await startCell({ cellId: 'cell-z2', zone: 'z2', memoryMB: 4096, diskMB: 4096 });

      const desiredAt = Date.now();
      await client.desireLRP(runnableLrp('app', { instances: 4 }));
      const running = await eventually(() => instances('app'), (lrps) => states(lrps).join() === 'RUNNING,RUNNING,RUNNING,RUNNING', { timeoutMs: 1000 });
      expect(Date.now() - desiredAt).toBeLessThan(1000);

      expect(running.filter((lrp) => lrp.cell_id === 'cell-z1')).toHaveLength(2);
      expect(running.filter((lrp) => lrp.cell_id === 'cell-z2')).toHaveLength(2);
      expect(z1.lrps()).toHaveLength(2);
      expect(z2.lrps()).toHaveLength(2);
      // Index 0 and the instances of each zone are distinct: one instance per index.
      expect(running.map((lrp) => lrp.index)).toEqual([0, 1, 2, 3]);
      expect(running.every((lrp) => lrp.address === '127.0.0.1' && lrp.ports.length === 1 && lrp.placement_error === '')).toBe(true);
    });

    it('places the new instances of a scale-up at once', async () => {
      const { client, startCell, instances } = auction();
      await startCell({ cellId: 'cell-1' });
      await client.desireLRP(runnableLrp('app', { instances: 1 }));
      await eventually(() => instances('app'), (lrps) => states(lrps).join() === 'RUNNING');

      await client.updateDesiredLRP('app', { instances: 3, routes: null, annotation: null });
      const lrps = await eventually(() => instances('app'), (all) => states(all).join() === 'RUNNING,RUNNING,RUNNING');
      expect(lrps.map((lrp) => lrp.cell_id)).toEqual(['cell-1', 'cell-1', 'cell-1']);
    });

    it('records insufficient resources on an instance no cell has room for', async () => {
      const { client, startCell, instances } = auction();
      const small = await startCell({ cellId: 'small', memoryMB: 256 });

      await client.desireLRP(runnableLrp('big', { memory_mb: 1024 }));
      const [lrp] = await eventually(() => instances('big'), (lrps) => lrps[0]?.placement_error !== '');
      expect(lrp).toMatchObject({ state: 'UNCLAIMED', placement_error: 'insufficient resources', cell_id: '' });
      expect(small.workReceived).toEqual([]);
    });

    it('records found no compatible cell on an instance whose rootfs no cell provides', async () => {
      const { client, startCell, instances } = auction();
      await startCell({ cellId: 'linux', rootfsProviders: { preloaded: ['cflinuxfs2'], docker: [] } });

      await client.desireLRP(runnableLrp('windows-app', { rootfs: 'preloaded:windows2012R2' }));
      const [lrp] = await eventually(() => instances('windows-app'), (lrps) => lrps[0]?.placement_error !== '');
      expect(lrp).toMatchObject({ state: 'UNCLAIMED', placement_error: 'found no compatible cell' });
    });

    it('places a docker image on the cell with an arbitrary docker provider', async () => {
      const { client, startCell, instances } = auction();
      await startCell({ cellId: 'preloaded-only', rootfsProviders: { preloaded: ['cflinuxfs2'] } });
      const docker = await startCell({ cellId: 'docker', rootfsProviders: { docker: [] } });

      await client.desireLRP(runnableLrp('image', { rootfs: 'docker:///cloudfoundry/grace#latest', instances: 2 }));
      const lrps = await eventually(() => instances('image'), (all) => states(all).join() === 'RUNNING,RUNNING');
      expect(lrps.map((lrp) => lrp.cell_id)).toEqual(['docker', 'docker']);
      expect(docker.lrps()).toHaveLength(2);
    });

    it('records unable to communicate to compatible cells when there are no cells', async () => {
      const { client, instances } = auction();
      await client.desireLRP(runnableLrp('lonely'));
      const [lrp] = await eventually(() => instances('lonely'), (lrps) => lrps[0]?.placement_error !== '');
      expect(lrp?.placement_error).toBe('unable to communicate to compatible cells');
    });

    it('places instances whose placement failed as soon as a cell arrives, without waiting for convergence', async () => {
      const { client, startCell, instances } = auction();
      await client.desireLRP(runnableLrp('waiting', { instances: 2 }));
      await eventually(() => instances('waiting'), (lrps) => lrps.length === 2 && lrps.every((lrp) => lrp.placement_error !== ''));

      await startCell({ cellId: 'late' });
      const placed = await eventually(
        () => instances('waiting'),
        (lrps) => lrps.length === 2 && lrps.every((lrp) => lrp.state === 'RUNNING'),
        { timeoutMs: 5000 },
      );
      expect(placed.map((lrp) => [lrp.cell_id, lrp.placement_error])).toEqual([['late', ''], ['late', '']]);
    });

    it('auctions, when it starts, the UNCLAIMED instances it did not see created (a new leader, a restart)', async () => {
      const { auctioneer, client, startCell, instances } = auction();
      await auctioneer.stop();
      await client.desireLRP(runnableLrp('before-leader', { instances: 2 }));
      await startCell({ cellId: 'already-there' });
      expect((await instances('before-leader')).map((lrp) => lrp.state)).toEqual(['UNCLAIMED', 'UNCLAIMED']);

      await auctioneer.start();
      const placed = await eventually(
        () => instances('before-leader'),
        (lrps) => lrps.length === 2 && lrps.every((lrp) => lrp.state === 'RUNNING'),
        { timeoutMs: 5000 },
      );
      expect(placed.map((lrp) => lrp.cell_id)).toEqual(['already-there', 'already-there']);
    });

    it('does not auction an instance again because its placement failed', async () => {
      const { client, startCell, instances } = auction();
      const small = await startCell({ cellId: 'small', memoryMB: 256 });
      await client.desireLRP(runnableLrp('big', { memory_mb: 1024 }));
      const [failed] = await eventually(() => instances('big'), (lrps) => lrps[0]?.placement_error !== '');

      // A round for a task shows whether the instance was auctioned again meanwhile: it would have failed on the
      // state the first round asked for, and a failure on a reused state has the cell asked again.
      const { task_guid, domain, definition } = newValidTask('marker', { rootfs: PRELOADED, memory_mb: 64, disk_mb: 64 });
      await client.desireTask(task_guid, domain, definition);
      await eventually(() => client.taskByGuid('marker'), (task) => task.state === 'RUNNING');
      expect(small.stateRequests).toBe(1);
      expect((await instances('big'))[0]?.modification_tag).toEqual(failed?.modification_tag);
    });
  });

  describe('crash restarts', () => {
    it('places a crashed instance again at once, each of the first two times it crashes', async () => {
      const { client, startCell, instances } = auction();
      const cell = await startCell({ cellId: 'cell-1' });
      await client.desireLRP(runnableLrp('crashy'));
      const [first] = await eventually(() => instances('crashy'), (lrps) => lrps[0]?.state === 'RUNNING');

      await cell.crash('crashy', 0, 'exit status 1');
      const [second] = await eventually(
        () => instances('crashy'),
        (lrps) => lrps[0]?.state === 'RUNNING' && lrps[0].instance_guid !== first?.instance_guid,
      );
      expect(second).toMatchObject({ crash_count: 1, crash_reason: 'exit status 1', cell_id: 'cell-1' });

      await cell.crash('crashy', 0, 'exit status 2');
      const [third] = await eventually(
        () => instances('crashy'),
        (lrps) => lrps[0]?.state === 'RUNNING' && lrps[0].instance_guid !== second?.instance_guid,
      );
      expect(third).toMatchObject({ crash_count: 2, crash_reason: 'exit status 2' });
      expect(cell.lrps()).toHaveLength(1);
    });
  });

  describe('evacuation', () => {
    it('gives evacuating cells no work, however empty they are', async () => {
      const { client, startCell, instances } = auction();
      const evacuating = await startCell({ cellId: 'evacuating', memoryMB: 100_000, diskMB: 100_000, containers: 100, evacuating: true });
      await startCell({ cellId: 'busy', memoryMB: 1024, diskMB: 1024 });

      await client.desireLRP(runnableLrp('app', { instances: 2 }));
      const lrps = await eventually(() => instances('app'), (all) => states(all).join() === 'RUNNING,RUNNING');
      expect(lrps.map((lrp) => lrp.cell_id)).toEqual(['busy', 'busy']);
      expect(evacuating.workReceived).toEqual([]);
    });

    it('places the instances an evacuating cell hands back on another cell at once', async () => {
      const { client, db, startCell, instances } = auction();
      const draining = await startCell({ cellId: 'draining' });
      await client.desireLRP(runnableLrp('app'));
      await eventually(() => instances('app'), (lrps) => lrps[0]?.state === 'RUNNING');
      const other = await startCell({ cellId: 'other' });

      await draining.evacuate();
      const [replacement] = await eventually(() => instances('app'), (lrps) => lrps[0]?.state === 'RUNNING' && lrps[0].cell_id === 'other');
      expect(replacement?.cell_id).toBe('other');
      expect(other.lrps()).toHaveLength(1);
      // The old container keeps serving from its evacuating copy meanwhile.
      expect((await db.actualLRPGroupByProcessGuidAndIndex('app', 0)).evacuating?.cell_id).toBe('draining');
    });
  });

  describe('tasks', () => {
    it('places and starts desired tasks, spread over the cells', async () => {
      const { client, startCell } = auction();
      const a = await startCell({ cellId: 'cell-a', zone: 'z1' });
      const b = await startCell({ cellId: 'cell-b', zone: 'z2' });

      for (const guid of ['task-1', 'task-2']) {
        const { task_guid, domain, definition } = newValidTask(guid, { rootfs: PRELOADED, memory_mb: 128, disk_mb: 128 });
        await client.desireTask(task_guid, domain, definition);
      }
      const tasks = await eventually(() => client.tasks(), (all) => all.length === 2 && all.every((task) => task.state === 'RUNNING'));
      expect(tasks.map((task) => task.cell_id).sort()).toEqual(['cell-a', 'cell-b']);
      expect(a.tasks()).toHaveLength(1);
      expect(b.tasks()).toHaveLength(1);
    });

    it('places, when it starts, the PENDING tasks desired while no auctioneer ran', async () => {
      const { auctioneer, client, startCell } = auction();
      await auctioneer.stop();
      await startCell({ cellId: 'already-there' });
      const { task_guid, domain, definition } = newValidTask('before-leader', { rootfs: PRELOADED, memory_mb: 128, disk_mb: 128 });
      await client.desireTask(task_guid, domain, definition);
      expect((await client.taskByGuid(task_guid)).state).toBe('PENDING');

      await auctioneer.start();
      const started = await eventually(() => client.taskByGuid(task_guid), (task) => task.state === 'RUNNING', { timeoutMs: 5000 });
      expect(started.cell_id).toBe('already-there');
    });

    it('fails a task that fits on no cell with insufficient resources', async () => {
      const { client, startCell } = auction();
      await startCell({ cellId: 'small', memoryMB: 256 });

      const { task_guid, domain, definition } = newValidTask('huge', { rootfs: PRELOADED, memory_mb: 1024 });
      await client.desireTask(task_guid, domain, definition);
      const task = await eventually(() => client.taskByGuid('huge'), (t) => t.state === 'COMPLETED');
      expect(task).toMatchObject({ failed: true, failure_reason: 'insufficient resources', cell_id: '' });
    });

    it('fails a task whose rootfs no cell provides with found no compatible cell', async () => {
      const { client, startCell } = auction();
      await startCell({ cellId: 'linux', rootfsProviders: { preloaded: ['cflinuxfs2'] } });

      const { task_guid, domain, definition } = newValidTask('image', { rootfs: 'docker:///busybox' });
      await client.desireTask(task_guid, domain, definition);
      const task = await eventually(() => client.taskByGuid('image'), (t) => t.state === 'COMPLETED');
      expect(task).toMatchObject({ failed: true, failure_reason: 'found no compatible cell' });
    });
  });

  describe('cells that do not take the work', () => {
    it('fails the instances and tasks a cell refuses', async () => {
      const { client, startCell, instances } = auction();
      const refusing = await startCell({ cellId: 'refusing', refuseAll: true });

      await client.desireLRP(runnableLrp('app'));
      const { task_guid, domain, definition } = newValidTask('task', { rootfs: PRELOADED, memory_mb: 64, disk_mb: 64 });
      await client.desireTask(task_guid, domain, definition);

      const [lrp] = await eventually(() => instances('app'), (lrps) => lrps[0]?.placement_error !== '');
      expect(lrp).toMatchObject({ state: 'UNCLAIMED', placement_error: 'insufficient resources' });
      const task = await eventually(() => client.taskByGuid('task'), (t) => t.state === 'COMPLETED');
      expect(task).toMatchObject({ failed: true, failure_reason: 'insufficient resources' });
      expect(refusing.workReceived.flatMap((work) => [...work.LRPs.map((l) => l.process_guid), ...work.Tasks.map((t) => t.TaskGuid)]).sort())
        .toEqual(['app', 'task']);
      expect(refusing.lrps()).toEqual([]);
    });

    it('fails nothing when a cell does not answer /work: it may have started the work', async () => {
      const { client, startCell } = auction();
      await startCell({ cellId: 'hangs-up', hangUpOnWork: true });

      for (const guid of ['task', 'marker']) {
        const { task_guid, domain, definition } = newValidTask(guid, { rootfs: PRELOADED, memory_mb: 64, disk_mb: 64 });
        await client.desireTask(task_guid, domain, definition);
        // Rounds run one at a time: once the marker is placed, the first task's round is over.
        await eventually(() => client.taskByGuid(guid), (task) => task.state === 'RUNNING');
      }
      expect(await client.taskByGuid('task')).toMatchObject({ state: 'RUNNING', failed: false, cell_id: 'hangs-up' });
    });

    it('places work on the cells that answer when a registered cell is dead', async () => {
      const { client, startCell, instances } = auction();
      const dead = await startCell({ cellId: 'dead', memoryMB: 100_000, diskMB: 100_000 });
      await dead.die();
      await startCell({ cellId: 'alive' });

      await client.desireLRP(runnableLrp('app'));
      const [lrp] = await eventually(() => instances('app'), (lrps) => lrps[0]?.state === 'RUNNING');
      expect(lrp?.cell_id).toBe('alive');
    });

    it('records unable to communicate to compatible cells when no registered cell answers', async () => {
      const { client, startCell, instances } = auction();
      const dead = await startCell({ cellId: 'dead' });
      await dead.die();

      await client.desireLRP(runnableLrp('app'));
      const [lrp] = await eventually(() => instances('app'), (lrps) => lrps[0]?.placement_error !== '');
      expect(lrp?.placement_error).toBe('unable to communicate to compatible cells');
    });
  });

  describe('requests for the same instance', () => {
    it('places an index requested twice once', async () => {
      const { auctioneer, client, startCell, instances } = auction();
      const a = await startCell({ cellId: 'cell-a', zone: 'z1' });
      const b = await startCell({ cellId: 'cell-b', zone: 'z2' });
      const lrp = runnableLrp('app');
      const request = { process_guid: 'app', domain: lrp.domain, indices: [0], memory_mb: lrp.memory_mb, disk_mb: lrp.disk_mb, rootfs: lrp.rootfs };

      // The store's own trigger and the converger's request for the same instance, twice over.
      await client.desireLRP(lrp);
      auctioneer.requestLRPAuctions([request, request]);
      auctioneer.requestLRPAuctions([request]);
      const [running] = await eventually(() => instances('app'), (lrps) => lrps[0]?.state === 'RUNNING');

      // Again once it runs. A task desired after it is placed in the same round or a later one: once the task
      // runs, the round of that request is over.
      auctioneer.requestLRPAuctions([request]);
      const { task_guid, domain, definition } = newValidTask('marker', { rootfs: PRELOADED, memory_mb: 64, disk_mb: 64 });
      await client.desireTask(task_guid, domain, definition);
      await eventually(() => client.taskByGuid('marker'), (task) => task.state === 'RUNNING');

      const sent = [...a.workReceived, ...b.workReceived].flatMap((work) => work.LRPs);
      expect(sent).toHaveLength(1);
      expect([...a.lrps(), ...b.lrps()].map((held) => held.instanceGuid)).toEqual([running?.instance_guid]);
      expect(await instances('app')).toEqual([running]);
    });
  });
});

describe('the auctioneer with a 50 ms cell state timeout', () => {
  // No background questions: the cell that never answers in time would be asked again at every tick.
  const auction = useAuction({ cellStateTimeoutMs: 50, cellStateRefreshTickMs: 3_600_000 });

  it('asks again with twice the timeout while no cell answers, and uses a slow cell once it does', async () => {
    const { client, startCell, instances } = auction();
    // Answers after 120 ms: never within 50 or 100 ms; within 200 ms, or 400 ms on a busy machine. Without the
    // doubling every try would time out.
    const slow = await startCell({ cellId: 'slow', stateDelayMs: 120 });

    await client.desireLRP(runnableLrp('app'));
    const [lrp] = await eventually(() => instances('app'), (lrps) => lrps[0]?.state === 'RUNNING');
    expect(lrp?.cell_id).toBe('slow');
    expect(slow.stateRequests).toBeGreaterThanOrEqual(3);
  });

  it('gives up after three more tries, doubling the timeout up to 400 ms', async () => {
    const { client, startCell, instances } = auction();
    const tooSlow = await startCell({ cellId: 'too-slow', stateDelayMs: 500 });

    await client.desireLRP(runnableLrp('app'));
    const [lrp] = await eventually(() => instances('app'), (lrps) => lrps[0]?.placement_error !== '');
    expect(lrp?.placement_error).toBe('unable to communicate to compatible cells');
    expect(tooSlow.stateRequests).toBe(4);
    expect(tooSlow.workReceived).toEqual([]);
  });
});
