import type { CellState, RepLRP, RepTask, Resources } from '@diego/rep-api';
import { DEFAULT_STARTING_CONTAINER_WEIGHT, scheduleAuctions, stateWithWork, type AuctionCell, type AuctionResults } from './scheduler';

const PRELOADED = 'preloaded:cflinuxfs2';
const options = { startingContainerWeight: DEFAULT_STARTING_CONTAINER_WEIGHT };

interface CellSpec {
  zone?: string;
  total?: Resources;
  /** Subtracted from the total to give the available resources. */
  used?: Resources;
  lrps?: RepLRP[];
  tasks?: RepTask[];
  starting?: number;
  providers?: CellState['RootFSProviders'];
}

function cell(cellId: string, spec: CellSpec = {}): AuctionCell {
  const total = spec.total ?? { MemoryMB: 1000, DiskMB: 1000, Containers: 10 };
  const used = spec.used ?? { MemoryMB: 0, DiskMB: 0, Containers: 0 };
  return {
    cellId,
    state: {
      RootFSProviders: spec.providers ?? { preloaded: { type: 'fixed_set', set: { cflinuxfs2: {} } }, docker: { type: 'arbitrary' } },
      AvailableResources: { MemoryMB: total.MemoryMB - used.MemoryMB, DiskMB: total.DiskMB - used.DiskMB, Containers: total.Containers - used.Containers },
      TotalResources: total,
      LRPs: spec.lrps ?? [],
      Tasks: spec.tasks ?? [],
      StartingContainerCount: spec.starting ?? 0,
      Zone: spec.zone ?? 'z1',
      Evacuating: false,
    },
  };
}

function lrp(processGuid: string, index: number, resource: Partial<Pick<RepLRP, 'MemoryMB' | 'DiskMB' | 'RootFs'>> = {}): RepLRP {
  return { process_guid: processGuid, index, domain: 'd', MemoryMB: 100, DiskMB: 100, RootFs: PRELOADED, ...resource };
}

function task(taskGuid: string, resource: Partial<Pick<RepTask, 'MemoryMB' | 'DiskMB' | 'RootFs'>> = {}): RepTask {
  return { TaskGuid: taskGuid, Domain: 'd', MemoryMB: 100, DiskMB: 100, RootFs: PRELOADED, ...resource };
}

/** Where each LRP instance (`guid.index`) and task went. */
function placements(results: AuctionResults): Record<string, string> {
  const where: Record<string, string> = {};
  for (const { cellId, work } of results.work) {
    for (const l of work.LRPs) where[`${l.process_guid}.${l.index}`] = cellId;
    for (const t of work.Tasks) where[t.TaskGuid] = cellId;
  }
  return where;
}

function failures(results: AuctionResults): Record<string, string> {
  const why: Record<string, string> = {};
  for (const { lrp: l, placementError } of results.failedLRPs) why[`${l.process_guid}.${l.index}`] = placementError;
  for (const { task: t, placementError } of results.failedTasks) why[t.TaskGuid] = placementError;
  return why;
}

describe('scheduleAuctions', () => {
  describe('with no cells', () => {
    it('fails every LRP and task as unable to communicate to compatible cells', () => {
      const results = scheduleAuctions([], { lrps: [lrp('a', 0)], tasks: [task('t')] }, options);
      expect(results.work).toEqual([]);
      expect(failures(results)).toEqual({ 'a.0': 'unable to communicate to compatible cells', t: 'unable to communicate to compatible cells' });
    });
  });

  describe('order', () => {
    it('places index-0 instances, then tasks, then the other instances', () => {
      // Room for two of the three: the later index loses, wherever it came in the batch.
      const cells = [cell('c', { total: { MemoryMB: 250, DiskMB: 1000, Containers: 10 } })];
      const results = scheduleAuctions(cells, { lrps: [lrp('a', 1), lrp('b', 0)], tasks: [task('t')] }, options);
      expect(placements(results)).toEqual({ 'b.0': 'c', t: 'c' });
      expect(failures(results)).toEqual({ 'a.1': 'insufficient resources' });
    });

    it('places tasks before an LRP index above 0 even when the task is larger', () => {
      const cells = [cell('c', { total: { MemoryMB: 300, DiskMB: 1000, Containers: 10 } })];
      const results = scheduleAuctions(cells, { lrps: [lrp('a', 1, { MemoryMB: 100 })], tasks: [task('t', { MemoryMB: 250 })] }, options);
      expect(placements(results)).toEqual({ t: 'c' });
      expect(failures(results)).toEqual({ 'a.1': 'insufficient resources' });
    });

    it('places the larger LRP of one index first, and the larger task first', () => {
      const cells = [cell('c', { total: { MemoryMB: 300, DiskMB: 1000, Containers: 10 } })];
      const lrps = scheduleAuctions(cells, { lrps: [lrp('small', 0, { MemoryMB: 100 }), lrp('big', 0, { MemoryMB: 250 })], tasks: [] }, options);
      expect(placements(lrps)).toEqual({ 'big.0': 'c' });
      expect(failures(lrps)).toEqual({ 'small.0': 'insufficient resources' });

      const tasks = scheduleAuctions(cells, { lrps: [], tasks: [task('small', { MemoryMB: 100 }), task('big', { MemoryMB: 250 })] }, options);
      expect(placements(tasks)).toEqual({ big: 'c' });
      expect(failures(tasks)).toEqual({ small: 'insufficient resources' });
    });

    it('places lower indices first', () => {
      const cells = [cell('c', { total: { MemoryMB: 1000, DiskMB: 1000, Containers: 2 } })];
      const results = scheduleAuctions(cells, { lrps: [lrp('a', 3), lrp('a', 2), lrp('a', 1)], tasks: [] }, options);
      expect(placements(results)).toEqual({ 'a.1': 'c', 'a.2': 'c' });
      expect(failures(results)).toEqual({ 'a.3': 'insufficient resources' });
    });
  });

  describe('rootfs matching', () => {
    const cells = [
      cell('preloaded-only', { providers: { preloaded: { type: 'fixed_set', set: { cflinuxfs2: {} } } } }),
      cell('docker-only', { providers: { docker: { type: 'arbitrary' } } }),
    ];

    it('places a preloaded rootfs on a cell whose fixed set holds its stack', () => {
      const results = scheduleAuctions(cells, { lrps: [lrp('a', 0)], tasks: [task('t')] }, options);
      expect(placements(results)).toEqual({ 'a.0': 'preloaded-only', t: 'preloaded-only' });
    });

    it('places any docker image on a cell with an arbitrary docker provider', () => {
      const rootfs = 'docker:///cloudfoundry/grace#latest';
      const results = scheduleAuctions(cells, { lrps: [lrp('a', 0, { RootFs: rootfs })], tasks: [task('t', { RootFs: rootfs })] }, options);
      expect(placements(results)).toEqual({ 'a.0': 'docker-only', t: 'docker-only' });
    });

    it.each([
      ['a stack outside the fixed set', 'preloaded:windows2012R2'],
      ['a scheme no cell provides', 'oci:///some/image'],
      ['no scheme at all', 'cflinuxfs2'],
      ['an empty rootfs', ''],
    ])('fails %s as found no compatible cell', (_what, rootfs) => {
      const results = scheduleAuctions(cells, { lrps: [lrp('a', 0, { RootFs: rootfs })], tasks: [task('t', { RootFs: rootfs })] }, options);
      expect(results.work).toEqual([]);
      expect(failures(results)).toEqual({ 'a.0': 'found no compatible cell', t: 'found no compatible cell' });
    });

    it('says insufficient resources, not incompatible, when compatible cells are full', () => {
      const full = [cell('c', { total: { MemoryMB: 1000, DiskMB: 1000, Containers: 1 }, used: { MemoryMB: 0, DiskMB: 0, Containers: 1 } })];
      const results = scheduleAuctions(full, { lrps: [lrp('a', 0)], tasks: [task('t')] }, options);
      expect(failures(results)).toEqual({ 'a.0': 'insufficient resources', t: 'insufficient resources' });
    });
  });

  describe('resource fit', () => {
    it.each([
      ['memory', { MemoryMB: 100, DiskMB: 1000, Containers: 10 }],
      ['disk', { MemoryMB: 1000, DiskMB: 100, Containers: 10 }],
      ['a container', { MemoryMB: 1000, DiskMB: 1000, Containers: 0 }],
    ])('skips a cell without enough %s', (_what, available) => {
      const cells = [
        cell('short', { used: { MemoryMB: 1000 - available.MemoryMB, DiskMB: 1000 - available.DiskMB, Containers: 10 - available.Containers } }),
        // Fuller, so it would lose on score if the short cell fitted.
        cell('roomy', { used: { MemoryMB: 500, DiskMB: 500, Containers: 5 } }),
      ];
      const results = scheduleAuctions(cells, { lrps: [lrp('a', 0, { MemoryMB: 150, DiskMB: 150 })], tasks: [task('t', { MemoryMB: 150, DiskMB: 150 })] }, options);
      expect(placements(results)).toEqual({ 'a.0': 'roomy', t: 'roomy' });
    });

    it('takes work that uses exactly what is left', () => {
      const cells = [cell('c', { total: { MemoryMB: 100, DiskMB: 100, Containers: 1 } })];
      expect(placements(scheduleAuctions(cells, { lrps: [lrp('a', 0)], tasks: [] }, options))).toEqual({ 'a.0': 'c' });
    });

    it('reserves what it placed: later work of the batch does not get the same room', () => {
      const cells = [cell('c', { total: { MemoryMB: 1000, DiskMB: 1000, Containers: 2 } })];
      const results = scheduleAuctions(cells, { lrps: [], tasks: [task('t1'), task('t2'), task('t3')] }, options);
      expect(Object.keys(placements(results))).toHaveLength(2);
      expect(Object.values(failures(results))).toEqual(['insufficient resources']);
    });

    it('leaves the cells it was given unchanged', () => {
      const cells = [cell('c')];
      const before = JSON.stringify(cells);
      scheduleAuctions(cells, { lrps: [lrp('a', 0)], tasks: [task('t')] }, options);
      expect(JSON.stringify(cells)).toBe(before);
    });
  });

  describe('score', () => {
    it('prefers the cell with the most room left', () => {
      const cells = [
        cell('busy', { used: { MemoryMB: 600, DiskMB: 600, Containers: 6 } }),
        cell('idle'),
        cell('half', { used: { MemoryMB: 500, DiskMB: 500, Containers: 5 } }),
      ];
      expect(placements(scheduleAuctions(cells, { lrps: [lrp('a', 0)], tasks: [task('t')] }, options))).toEqual({ 'a.0': 'idle', t: 'idle' });
    });

    it('averages memory, disk and containers used, each as a fraction of the total', () => {
      // After placing 100 MB / 100 MB / 1 container:
      //   mem-heavy: memory 0.9 used, disk 0.1, containers 0.1 -> 0.367
      //   balanced:  0.3 used of each                            -> 0.3
      const cells = [
        cell('mem-heavy', { used: { MemoryMB: 800, DiskMB: 0, Containers: 0 } }),
        cell('balanced', { used: { MemoryMB: 200, DiskMB: 200, Containers: 2 } }),
      ];
      expect(placements(scheduleAuctions(cells, { lrps: [lrp('a', 0)], tasks: [] }, options))).toEqual({ 'a.0': 'balanced' });
    });

    it('weighs each starting container 0.25 by default', () => {
      // After placing 10 MB / 10 MB / 1 container of 100 / 100 / 10:
      //   starting: 0.1 used + 1 starting x weight;  fuller: 0.3 used, nothing starting.
      const cells = [
        cell('starting', { total: { MemoryMB: 100, DiskMB: 100, Containers: 10 }, starting: 1 }),
        cell('fuller', { total: { MemoryMB: 100, DiskMB: 100, Containers: 10 }, used: { MemoryMB: 20, DiskMB: 20, Containers: 2 } }),
      ];
      const request = { lrps: [lrp('a', 0, { MemoryMB: 10, DiskMB: 10 })], tasks: [] };
      // 0.1 + 0.25 > 0.3
      expect(placements(scheduleAuctions(cells, request, options))).toEqual({ 'a.0': 'fuller' });
      // 0.1 + 0.1 < 0.3
      expect(placements(scheduleAuctions(cells, request, { startingContainerWeight: 0.1 }))).toEqual({ 'a.0': 'starting' });
    });

    it('counts the containers it reserves in this batch as starting', () => {
      // After x.0 (10 MB / 10 MB / 1 container) goes to the emptier cell, y.0 scores there 0.08 + 0.25 for the
      // starting container, against 0.14 on the other cell: without the starting weight it would stack.
      const cells = [cell('emptier'), cell('other', { used: { MemoryMB: 100, DiskMB: 100, Containers: 1 } })];
      const small = { MemoryMB: 10, DiskMB: 10 };
      const results = scheduleAuctions(cells, { lrps: [lrp('x', 0, small), lrp('y', 0, small)], tasks: [] }, options);
      expect(placements(results)).toEqual({ 'x.0': 'emptier', 'y.0': 'other' });
    });

    it('spreads the instances of one LRP over the cells of a zone before stacking them', () => {
      // The idle cell has far more room, but already holds instance 0.
      const cells = [
        cell('idle', { total: { MemoryMB: 10000, DiskMB: 10000, Containers: 100 } }),
        cell('busy', { used: { MemoryMB: 800, DiskMB: 800, Containers: 8 } }),
      ];
      const results = scheduleAuctions(cells, { lrps: [lrp('a', 0), lrp('a', 1), lrp('other', 0)], tasks: [] }, options);
      expect(placements(results)).toEqual({ 'a.0': 'idle', 'a.1': 'busy', 'other.0': 'idle' });
    });

    it('counts instances of the LRP that the cell already runs', () => {
      const cells = [
        cell('runs-a', { lrps: [lrp('a', 0)], used: { MemoryMB: 100, DiskMB: 100, Containers: 1 } }),
        cell('busy', { used: { MemoryMB: 800, DiskMB: 800, Containers: 8 } }),
      ];
      expect(placements(scheduleAuctions(cells, { lrps: [lrp('a', 1)], tasks: [] }, options))).toEqual({ 'a.1': 'busy' });
    });

    it('spreads tasks: a cell holding a task scores 1000 worse per task', () => {
      const cells = [
        cell('has-task', { tasks: [task('old')], used: { MemoryMB: 100, DiskMB: 100, Containers: 1 } }),
        cell('busy', { used: { MemoryMB: 800, DiskMB: 800, Containers: 8 } }),
      ];
      expect(placements(scheduleAuctions(cells, { lrps: [], tasks: [task('t')] }, options))).toEqual({ t: 'busy' });
    });
  });

  describe('zone balancing of LRPs', () => {
    it('puts four instances two per zone', () => {
      const cells = [cell('z1-cell', { zone: 'z1' }), cell('z2-cell', { zone: 'z2' })];
      const results = scheduleAuctions(cells, { lrps: [0, 1, 2, 3].map((i) => lrp('a', i)), tasks: [] }, options);
      const perCell = Object.values(placements(results)).sort();
      expect(perCell).toEqual(['z1-cell', 'z1-cell', 'z2-cell', 'z2-cell']);
    });

    it('prefers the zone with fewer instances of the LRP even when its cells are fuller', () => {
      const cells = [
        cell('z1-idle', { zone: 'z1' }),
        cell('z1-other', { zone: 'z1', lrps: [lrp('a', 0)], used: { MemoryMB: 100, DiskMB: 100, Containers: 1 } }),
        cell('z2-busy', { zone: 'z2', used: { MemoryMB: 900, DiskMB: 800, Containers: 9 } }),
      ];
      expect(placements(scheduleAuctions(cells, { lrps: [lrp('a', 1)], tasks: [] }, options))).toEqual({ 'a.1': 'z2-busy' });
    });

    it('moves on to the zone with the next fewest instances when no cell of the first fits', () => {
      // z1 (no instance) is full; z3 (one instance) comes before z2 (two), although z2 has the emptiest cell.
      const full = { MemoryMB: 1000, DiskMB: 0, Containers: 0 };
      const cells = [
        cell('z1-full', { zone: 'z1', used: full }),
        cell('z2-holder', { zone: 'z2', lrps: [lrp('a', 0), lrp('a', 1)], used: full }),
        cell('z2-empty', { zone: 'z2' }),
        cell('z3-one', { zone: 'z3', lrps: [lrp('a', 2)], used: { MemoryMB: 600, DiskMB: 600, Containers: 6 } }),
      ];
      expect(placements(scheduleAuctions(cells, { lrps: [lrp('a', 3)], tasks: [] }, options))).toEqual({ 'a.3': 'z3-one' });
    });

    it('scores the cells of all zones tied for the fewest instances together', () => {
      const cells = [
        cell('z1-busy', { zone: 'z1', used: { MemoryMB: 500, DiskMB: 500, Containers: 5 } }),
        cell('z2-idle', { zone: 'z2' }),
        cell('z3-has-one', { zone: 'z3', lrps: [lrp('a', 0)], used: { MemoryMB: 100, DiskMB: 100, Containers: 1 } }),
      ];
      expect(placements(scheduleAuctions(cells, { lrps: [lrp('a', 1)], tasks: [] }, options))).toEqual({ 'a.1': 'z2-idle' });
    });

    it('balances over the zones that can run the rootfs only', () => {
      const dockerOnly = { docker: { type: 'arbitrary' } } as const;
      const cells = [
        cell('z1-docker', { zone: 'z1', providers: dockerOnly }),
        cell('z2-preloaded', { zone: 'z2' }),
      ];
      const results = scheduleAuctions(cells, { lrps: [lrp('a', 0), lrp('a', 1)], tasks: [] }, options);
      expect(placements(results)).toEqual({ 'a.0': 'z2-preloaded', 'a.1': 'z2-preloaded' });
    });

    it('fails an instance as insufficient resources when no zone has room', () => {
      const cells = [
        cell('z1', { zone: 'z1', total: { MemoryMB: 100, DiskMB: 1000, Containers: 10 } }),
        cell('z2', { zone: 'z2', total: { MemoryMB: 100, DiskMB: 1000, Containers: 10 } }),
      ];
      const results = scheduleAuctions(cells, { lrps: [0, 1, 2].map((i) => lrp('a', i)), tasks: [] }, options);
      expect(Object.values(placements(results)).sort()).toEqual(['z1', 'z2']);
      expect(failures(results)).toEqual({ 'a.2': 'insufficient resources' });
    });
  });

  describe('tasks', () => {
    it('are not zone balanced: the best cell of any zone wins', () => {
      const cells = [
        cell('z1-a', { zone: 'z1' }),
        cell('z1-b', { zone: 'z1', used: { MemoryMB: 100, DiskMB: 100, Containers: 1 } }),
        cell('z2-busy', { zone: 'z2', used: { MemoryMB: 900, DiskMB: 900, Containers: 9 } }),
      ];
      const results = scheduleAuctions(cells, { lrps: [], tasks: [task('t1'), task('t2')] }, options);
      expect(placements(results)).toEqual({ t1: 'z1-a', t2: 'z1-b' });
    });
  });

  describe('work', () => {
    it('groups what each winning cell gets, in the order it was placed', () => {
      const cells = [cell('a', { zone: 'z1' }), cell('b', { zone: 'z2' }), cell('unused', { zone: 'z3', providers: {} })];
      const results = scheduleAuctions(cells, { lrps: [lrp('x', 1), lrp('x', 0)], tasks: [task('t')] }, options);
      expect(results.work.map((w) => w.cellId)).toEqual(['a', 'b']);
      const all = results.work.flatMap(({ work }) => [...work.LRPs.map((l) => `${l.process_guid}.${l.index}`), ...work.Tasks.map((t) => t.TaskGuid)]);
      expect(all.sort()).toEqual(['t', 'x.0', 'x.1']);
      expect(results.failedLRPs).toEqual([]);
      expect(results.failedTasks).toEqual([]);
    });
  });
});

describe('stateWithWork', () => {
  it('reserves work as the scheduler does, leaving the state it was given as it was', () => {
    const held = lrp('app', 0);
    const before = cell('a', { lrps: [held], starting: 1 }).state;
    const work = { LRPs: [lrp('app', 1, { MemoryMB: 300, DiskMB: 50 })], Tasks: [task('t', { MemoryMB: 200, DiskMB: 10 })] };

    const after = stateWithWork(before, work);
    expect(after.AvailableResources).toEqual({ MemoryMB: 500, DiskMB: 940, Containers: 8 });
    expect(after.LRPs).toEqual([held, ...work.LRPs]);
    expect(after.Tasks).toEqual(work.Tasks);
    expect(after.StartingContainerCount).toBe(3);
    expect(before.AvailableResources).toEqual({ MemoryMB: 1000, DiskMB: 1000, Containers: 10 });

  });
});
