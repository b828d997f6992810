/**
 * The auctioneer's queue (Diego's `auctionrunner.Batch`): start requests pile up here while a round runs and
 * the next round takes them all, without duplicates. Work a cell refused on a reused state comes back here too,
 * and the round that takes it asks every cell for its state.
 */
import type { Int64 } from '@diego/models';
import type { Clock } from '../db/db';
import type { LRPStartRequest, TaskStartRequest } from '../leader/contracts';
import { lrpIdentifier, type RepLRP, type RepTask, type Work } from '@diego/rep-api';

export interface DrainedBatch {
  /** One entry per `<process_guid>.<index>`, the first one requested. */
  lrps: RepLRP[];
  /** One entry per task guid, the first one requested. */
  tasks: RepTask[];
  /** When the oldest of them was queued (Unix ns); null for an empty batch. */
  queuedSince: Int64 | null;
  /** Whether any of them is work a cell refused on a reused state: the round asks every cell. */
  freshStates: boolean;
}

/**
 * @example
 *   batch.addLRPStarts([{ process_guid: 'p', domain: 'd', indices: [0, 1], memory_mb: 256, disk_mb: 1024, rootfs: 'preloaded:cflinuxfs2' }]);
 *   const { lrps, tasks } = batch.drain(); // two LRP instances, no tasks; the batch is empty again
 */
export class AuctionBatch {
  private lrps: RepLRP[] = [];
  private tasks: RepTask[] = [];
  private oldestQueuedAt: Int64 | null = null;
  private freshStates = false;

  constructor(private readonly clock: Clock) {}

  /** When the oldest request waiting was queued (Unix ns); null when none waits. */
  get queuedSince(): Int64 | null {
    return this.oldestQueuedAt;
  }

  get isEmpty(): boolean {
    return this.lrps.length === 0 && this.tasks.length === 0;
  }

  /** One auction per index of each request. */
  addLRPStarts(starts: readonly LRPStartRequest[]): void {
    for (const start of starts) {
      for (const index of start.indices) {
        this.lrps.push({
          process_guid: start.process_guid,
          index,
          domain: start.domain,
          MemoryMB: start.memory_mb,
          DiskMB: start.disk_mb,
          RootFs: start.rootfs,
        });
      }
    }
    this.noteQueued();
  }

  addTaskStarts(starts: readonly TaskStartRequest[]): void {
    for (const start of starts) {
      this.tasks.push({ TaskGuid: start.task_guid, Domain: start.domain, MemoryMB: start.memory_mb, DiskMB: start.disk_mb, RootFs: start.rootfs });
    }
    this.noteQueued();
  }

  /** Work a cell refused although a state we had reused said it had room: auctioned again with fresh states. */
  addRefused(work: Work): void {
    this.lrps.push(...work.LRPs);
    this.tasks.push(...work.Tasks);
    if (work.LRPs.length > 0 || work.Tasks.length > 0) this.freshStates = true;
    this.noteQueued();
  }

  /** Takes everything queued, deduplicated, and leaves the batch empty. */
  drain(): DrainedBatch {
    const drained: DrainedBatch = {
      lrps: dedupe(this.lrps, lrpIdentifier),
      tasks: dedupe(this.tasks, (task) => task.TaskGuid),
      queuedSince: this.oldestQueuedAt,
      freshStates: this.freshStates,
    };
    this.lrps = [];
    this.tasks = [];
    this.oldestQueuedAt = null;
    this.freshStates = false;
    return drained;
  }

  private noteQueued(): void {
    if (this.oldestQueuedAt === null && !this.isEmpty) this.oldestQueuedAt = this.clock();
  }
}

function dedupe<T>(items: readonly T[], identify: (item: T) => string): T[] {
  const seen = new Set<string>();
  return items.filter((item) => {
    const id = identify(item);
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}
