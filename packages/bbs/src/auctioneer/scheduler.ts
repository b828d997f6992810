/**
 * The auction (spec/bbs.md §8.4, Diego's `auctionrunner.Scheduler`): a pure function from the cells' states and
 * a batch of work to where each piece goes and what could not be placed. It reserves resources in its own copy
 * of the cells as it places, so later work sees earlier placements.
 */
import {
  rootfsMatches, type CellState, type RepLRP, type RepTask, type Resource, type Resources, type Work,
} from '@diego/rep-api';

/** The placement errors a user sees on an actual LRP or a failed task (Diego's strings). */
export const PlacementError = {
  /** No cell can run the rootfs at all. */
  CellMismatch: 'found no compatible cell',
  /** Cells could run the rootfs, but none has the memory, disk or a container left. */
  InsufficientResources: 'insufficient resources',
  /** No cell took part in the auction: none registered, none answered, or all evacuating. */
  CellCommunication: 'unable to communicate to compatible cells',
} as const;
export type PlacementError = (typeof PlacementError)[keyof typeof PlacementError];

/** The auctioneer's `-startingContainerWeight`: how much each container a cell is still starting counts against it. */
export const DEFAULT_STARTING_CONTAINER_WEIGHT = 0.25;

/** Added to a cell's score per instance of the same LRP (per task, for tasks) it holds: spreading beats filling. */
const LOCALITY_OFFSET = 1000;

/** A cell taking part in the auction: it answered `/state` and is not evacuating. */
export interface AuctionCell {
  cellId: string;
  state: CellState;
}

export interface AuctionRequest {
  lrps: readonly RepLRP[];
  tasks: readonly RepTask[];
}

export interface AuctionResults {
  /** What to POST to each winning cell's `/work`, in the order the cells were given. */
  work: { cellId: string; work: Work }[];
  failedLRPs: { lrp: RepLRP; placementError: PlacementError }[];
  failedTasks: { task: RepTask; placementError: PlacementError }[];
}

export interface SchedulerOptions {
  startingContainerWeight: number;
}

/**
 * Places a batch: index-0 instances first (so every LRP gets one instance before any gets a second), then tasks,
 * then the other instances; LRPs by index then memory (largest first), tasks by memory. Each LRP instance goes
 * to the best-scoring fitting cell of the zones holding the fewest instances of its LRP; each task to the
 * best-scoring fitting cell anywhere. Lower scores win: the mean fraction of memory, disk and containers used
 * once the work is placed, plus the starting-container weight per container the cell is still starting, plus
 * 1000 per instance of the same LRP (per task) the cell already holds.
 *
 * @example
 *   const results = scheduleAuctions(cells, { lrps, tasks }, { startingContainerWeight: DEFAULT_STARTING_CONTAINER_WEIGHT });
 *   for (const { cellId, work } of results.work) await rep.perform(presences.get(cellId), work);
 */
export function scheduleAuctions(cells: readonly AuctionCell[], request: AuctionRequest, options: SchedulerOptions): AuctionResults {
  if (cells.length === 0) {
    return {
      work: [],
      failedLRPs: request.lrps.map((lrp) => ({ lrp, placementError: PlacementError.CellCommunication })),
      failedTasks: request.tasks.map((task) => ({ task, placementError: PlacementError.CellCommunication })),
    };
  }
  const candidates = cells.map((cell) => new CandidateCell(cell, options.startingContainerWeight));
  const zones = groupByZone(candidates);
  const results: AuctionResults = { work: [], failedLRPs: [], failedTasks: [] };

  const lrps = [...request.lrps].sort((a, b) => a.index - b.index || b.MemoryMB - a.MemoryMB);
  const tasks = [...request.tasks].sort((a, b) => b.MemoryMB - a.MemoryMB);
  const firstLaterIndex = lrps.findIndex((lrp) => lrp.index > 0);
  const splitAt = firstLaterIndex === -1 ? lrps.length : firstLaterIndex;

  const placeLRPs = (batch: readonly RepLRP[]): void => {
    for (const lrp of batch) {
      const outcome = placeLRP(zones, lrp);
      if (typeof outcome === 'string') results.failedLRPs.push({ lrp, placementError: outcome });
      else outcome.reserveLRP(lrp);
    }
  };
  placeLRPs(lrps.slice(0, splitAt));
  for (const task of tasks) {
    const outcome = placeTask(candidates, task);
    if (typeof outcome === 'string') results.failedTasks.push({ task, placementError: outcome });
    else outcome.reserveTask(task);
  }
  placeLRPs(lrps.slice(splitAt));

  for (const cell of candidates) {
    if (cell.work.LRPs.length > 0 || cell.work.Tasks.length > 0) results.work.push({ cellId: cell.cellId, work: cell.work });
  }
  return results;
}

interface Zone {
  name: string;
  cells: CandidateCell[];
}

function groupByZone(cells: readonly CandidateCell[]): Zone[] {
  const zones = new Map<string, CandidateCell[]>();
  for (const cell of cells) {
    const zone = zones.get(cell.zone);
    if (zone === undefined) zones.set(cell.zone, [cell]);
    else zone.push(cell);
  }
  return [...zones].map(([name, zoneCells]) => ({ name, cells: zoneCells }));
}

/**
 * Zone balancing: zones (with a cell that can run the rootfs) in order of how many instances of this LRP they
 * hold. The zones tied for the fewest are scored together; only if none of their cells fits does the search
 * move on to the next count.
 */
function placeLRP(zones: readonly Zone[], lrp: RepLRP): CandidateCell | PlacementError {
  const compatible = zones
    .map((zone) => ({
      name: zone.name,
      instances: zone.cells.reduce((sum, cell) => sum + cell.instancesOf(lrp.process_guid), 0),
      cells: zone.cells.filter((cell) => cell.runs(lrp.RootFs)),
    }))
    .filter((zone) => zone.cells.length > 0)
    .sort((a, b) => a.instances - b.instances || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  if (compatible.length === 0) return PlacementError.CellMismatch;

  let winner: { cell: CandidateCell; score: number } | null = null;
  for (const [i, zone] of compatible.entries()) {
    for (const cell of zone.cells) {
      if (!cell.fits(lrp)) continue;
      const score = cell.score(lrp) + LOCALITY_OFFSET * cell.instancesOf(lrp.process_guid);
      if (winner === null || score < winner.score) winner = { cell, score };
    }
    const next = compatible[i + 1];
    if (next !== undefined && next.instances === zone.instances) continue;
    if (winner !== null) break;
  }
  return winner?.cell ?? PlacementError.InsufficientResources;
}

/** Tasks: the best-scoring fitting cell of any zone; cells already holding tasks count against themselves. */
function placeTask(cells: readonly CandidateCell[], task: RepTask): CandidateCell | PlacementError {
  const compatible = cells.filter((cell) => cell.runs(task.RootFs));
  if (compatible.length === 0) return PlacementError.CellMismatch;
  let winner: { cell: CandidateCell; score: number } | null = null;
  for (const cell of compatible) {
    if (!cell.fits(task)) continue;
    const score = cell.score(task) + LOCALITY_OFFSET * cell.taskCount;
    if (winner === null || score < winner.score) winner = { cell, score };
  }
  return winner?.cell ?? PlacementError.InsufficientResources;
}

/** The scheduler's own copy of a cell's state, which its reservations change. */
class CandidateCell {
  readonly cellId: string;
  readonly zone: string;
  readonly work: Work = { LRPs: [], Tasks: [] };
  private readonly state: CellState;
  /** Instances per process guid in `state.LRPs`; built when first asked. */
  private instanceCounts: Map<string, number> | null = null;

  constructor(cell: AuctionCell, private readonly startingContainerWeight: number) {
    this.cellId = cell.cellId;
    this.zone = cell.state.Zone;
    this.state = {
      ...cell.state,
      AvailableResources: { ...cell.state.AvailableResources },
      LRPs: [...cell.state.LRPs],
      Tasks: [...cell.state.Tasks],
    };
  }

  get taskCount(): number {
    return this.state.Tasks.length;
  }

  instancesOf(processGuid: string): number {
    // Counted once per round, not per question: a placement asks of every cell, each holding hundreds.
    this.instanceCounts ??= countByProcessGuid(this.state.LRPs);
    return this.instanceCounts.get(processGuid) ?? 0;
  }

  runs(rootfs: string): boolean {
    return rootfsMatches(this.state.RootFSProviders, rootfs);
  }

  fits(resource: Resource): boolean {
    const available = this.state.AvailableResources;
    return available.MemoryMB >= resource.MemoryMB && available.DiskMB >= resource.DiskMB && available.Containers >= 1;
  }

  /** The mean fraction used of memory, disk and containers with `resource` placed, plus the starting weight. */
  score(resource: Resource): number {
    const remaining = subtract(this.state.AvailableResources, resource);
    const total = this.state.TotalResources;
    const used = (fractionUsed(remaining.MemoryMB, total.MemoryMB) + fractionUsed(remaining.DiskMB, total.DiskMB)
      + fractionUsed(remaining.Containers, total.Containers)) / 3;
    return used + this.startingContainerWeight * this.state.StartingContainerCount;
  }

  reserveLRP(lrp: RepLRP): void {
    this.reserve(lrp);
    this.state.LRPs.push(lrp);
    this.instanceCounts?.set(lrp.process_guid, (this.instanceCounts.get(lrp.process_guid) ?? 0) + 1);
    this.work.LRPs.push(lrp);
  }

  reserveTask(task: RepTask): void {
    this.reserve(task);
    this.state.Tasks.push(task);
    this.work.Tasks.push(task);
  }

  private reserve(resource: Resource): void {
    this.state.AvailableResources = subtract(this.state.AvailableResources, resource);
    this.state.StartingContainerCount += 1;
  }
}

/**
 * A cell's state once it has taken `work`, as the scheduler reserves it: less room, the work among its LRPs and
 * Tasks, and one more starting container per piece.
 */
export function stateWithWork(state: CellState, work: Work): CellState {
  let available = state.AvailableResources;
  for (const resource of [...work.LRPs, ...work.Tasks]) available = subtract(available, resource);
  return {
    ...state,
    AvailableResources: available,
    LRPs: [...state.LRPs, ...work.LRPs],
    Tasks: [...state.Tasks, ...work.Tasks],
    StartingContainerCount: state.StartingContainerCount + work.LRPs.length + work.Tasks.length,
  };
}

function countByProcessGuid(lrps: readonly RepLRP[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const lrp of lrps) counts.set(lrp.process_guid, (counts.get(lrp.process_guid) ?? 0) + 1);
  return counts;
}

function subtract(available: Resources, resource: Resource): Resources {
  return {
    MemoryMB: available.MemoryMB - resource.MemoryMB,
    DiskMB: available.DiskMB - resource.DiskMB,
    Containers: available.Containers - 1,
  };
}

/**
 * A cell that reports none of a resource in total (a disk-less cell taking 0 MB work) counts it as unused, so
 * the other two decide; Go divided by zero there and such a cell never won.
 */
function fractionUsed(remaining: number, total: number): number {
  return total === 0 ? 0 : 1 - remaining / total;
}
