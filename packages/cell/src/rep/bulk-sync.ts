/**
 * The rep's bulk sync (Diego's rep "bulker"): at start and every `--bulkSyncInterval` the rep compares what it holds
 * with what the BBS says runs on its cell and settles each difference. This file holds the comparison, a pure
 * function over a snapshot of the rep and the BBS's records, and the loop that repeats it; rep.ts carries it out.
 */
import type { Logger } from 'pino';
import { convertError, type ActualLRP, type ActualLRPGroup, type Task } from '@diego/models';

/** What the rep held when the sync began, taken before the BBS was read. */
export interface HeldSnapshot {
  /**
   * Instance guid -> whether its claim had succeeded. A claimed (or running) instance is in the BBS by then; a
   * reserved one may not be yet, so its absence from the BBS proves nothing.
   */
  instances: ReadonlyMap<string, { claimed: boolean }>;
  /** Task guids. */
  tasks: ReadonlySet<string>;
}

/** One difference to settle. */
export type BulkSyncAction =
  /** An instance record of this cell no container backs; by its state, `lrp.state`, it is removed or crashed. */
  | { kind: 'hand-back-instance'; lrp: ActualLRP }
  /** An evacuating record of this cell no container backs: RemoveEvacuatingActualLRP. */
  | { kind: 'remove-evacuating'; lrp: ActualLRP }
  /** A claimed instance this rep holds that the BBS no longer has on this cell: its container goes. */
  | { kind: 'release-container'; instanceGuid: string }
  /** A task RUNNING on this cell that this rep does not hold: completed as failed. */
  | { kind: 'fail-task'; task: Task };

/**
 * The differences between a snapshot of the rep and the BBS's records for its cell (ActualLRPGroups and Tasks
 * filtered by cell ID), read after the snapshot was taken.
 *
 * @example
 *   planBulkSync({ instances: new Map(), tasks: new Set() }, groups, tasks)
 *   // => [{ kind: 'hand-back-instance', lrp }, ...] for a freshly restarted cell
 */
export function planBulkSync(held: HeldSnapshot, groups: readonly ActualLRPGroup[], tasks: readonly Task[]): BulkSyncAction[] {
  const actions: BulkSyncAction[] = [];
  const inBbs = new Set<string>();
  for (const group of groups) {
    const { instance, evacuating } = group;
    if (instance !== null && (instance.state === 'CLAIMED' || instance.state === 'RUNNING')) {
      inBbs.add(instance.instance_guid);
      if (!held.instances.has(instance.instance_guid)) actions.push({ kind: 'hand-back-instance', lrp: instance });
    }
    if (evacuating !== null) {
      inBbs.add(evacuating.instance_guid);
      if (!held.instances.has(evacuating.instance_guid)) actions.push({ kind: 'remove-evacuating', lrp: evacuating });
    }
  }
  for (const [instanceGuid, { claimed }] of held.instances) {
    if (claimed && !inBbs.has(instanceGuid)) actions.push({ kind: 'release-container', instanceGuid });
  }
  for (const task of tasks) {
    if (task.state === 'RUNNING' && !held.tasks.has(task.task_guid)) actions.push({ kind: 'fail-task', task });
  }
  return actions;
}

export interface BulkSyncLoopOptions {
  /** One sync; a rejection is logged and the next interval tries again. */
  sync: () => Promise<void>;
  intervalMs: number;
  logger: Logger;
}

/**
 * Runs `sync` every interval, one at a time.
 *
 * @example
 *   const loop = new BulkSyncLoop({ sync: () => rep.bulkSync(), intervalMs: 30_000, logger });
 *   loop.start();      // the first sync one interval from now
 *   await loop.stop(); // after the sync in flight, if any
 */
export class BulkSyncLoop {
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  private inFlight: Promise<void> = Promise.resolve();

  constructor(private readonly options: BulkSyncLoopOptions) {}

  start(): void {
    this.running = true;
    this.schedule();
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    await this.inFlight;
  }

  private schedule(): void {
    if (!this.running) return;
    this.timer = setTimeout(() => {
      this.inFlight = this.options.sync()
        .catch((err: unknown) => this.options.logger.error({ err: convertError(err).message }, 'bulk-sync-failed'))
        .finally(() => this.schedule());
    }, this.options.intervalMs);
  }
}
