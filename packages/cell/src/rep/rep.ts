/**
 * The rep's controller (spec/bbs.md §5.3, §5.4, §7): what the cell holds, and the BBS calls that follow each
 * container's life. Work is reserved at once when it fits; each LRP instance is then claimed, its container
 * created and run, and reported RUNNING, CRASHED or removed; each task is started, run and completed.
 * Evacuation hands every instance back to the BBS and waits for it to run elsewhere before stopping ours.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import {
  rootfsMatches, type CellState, type RepLRP, type RepTask, type Resource, type Resources, type RootFSProviders, type Work,
} from '@diego/rep-api';
import type { BbsClient } from '@diego/bbs-client';
import { convertError, isBbsError, type ActualLRPInstanceKey, type ActualLRPKey, type ActualLRPNetInfo, type DesiredLRP, type Task } from '@diego/models';
import type { Container, Executor, RunResult } from '../executor/contracts';
import { lrpContainerSpec, lrpRunSpec, taskContainerSpec, taskRunSpec } from './container-specs';
import { planBulkSync, type BulkSyncAction, type HeldSnapshot } from './bulk-sync';

/** Why a phantom RUNNING instance is crashed by the bulk sync: what the app's crash reason says. */
export const PHANTOM_INSTANCE_CRASH_REASON = 'the cell restarted and this instance was not running';
/** Why a task RUNNING on this cell without a container here is failed by the bulk sync. */
export const LOST_TASK_FAILURE_REASON = "cell restarted: the task's container was lost";

/** The BBS calls of a rep. */
export type RepBbs = Pick<
  BbsClient,
  | 'desiredLRPByProcessGuid' | 'claimActualLRP' | 'startActualLRP' | 'crashActualLRP' | 'removeActualLRP'
  | 'actualLRPGroupByProcessGuidAndIndex' | 'removeEvacuatingActualLRP' | 'evacuateClaimedActualLRP'
  | 'evacuateRunningActualLRP' | 'evacuateCrashedActualLRP'
  | 'startTask' | 'taskByGuid' | 'completeTask' | 'convergeLRPs'
  | 'actualLRPGroups' | 'actualLRPGroupsByProcessGuid' | 'tasks'
>;

/** Diego's rep polls its evacuating containers this often. */
export const DEFAULT_EVACUATION_POLLING_INTERVAL_MS = 1_000;

export interface RepOptions {
  cellId: string;
  zone: string;
  total: Resources;
  rootfsProviders: RootFSProviders;
  executor: Executor;
  bbs: RepBbs;
  logger: Logger;
  /** How often an evacuating cell checks whether its instances run elsewhere (default 1 s). */
  evacuationPollingIntervalMs?: number;
}

/**
 * Why an instance's container is stopped, which says what the BBS is told once it is gone:
 * `retired` -> RemoveActualLRP; `evacuated` -> RemoveEvacuatingActualLRP; `released` (the BBS record is no
 * longer ours, or the cell shuts down and its presence will expire) -> nothing.
 */
type StopReason = 'retired' | 'evacuated' | 'released';

interface HeldInstance {
  readonly lrp: RepLRP;
  readonly instanceKey: ActualLRPInstanceKey;
  /** reserved: the claim is in flight; claimed: claimed, not running yet; running: StartActualLRP sent. */
  state: 'reserved' | 'claimed' | 'running';
  netInfo: ActualLRPNetInfo | null;
  /** Handed to the BBS by EvacuateRunningActualLRP: kept until the replacement runs. */
  handedOver: boolean;
  stopReason: StopReason | null;
  readonly abort: AbortController;
}

interface HeldTask {
  readonly task: RepTask;
  /** reserved until StartTask said to start it. */
  state: 'reserved' | 'running';
  /** `cancelled`: the BBS already completed it; `released`: the cell shuts down. Neither completes it. */
  stopReason: 'cancelled' | 'released' | null;
  readonly abort: AbortController;
}

/**
 * @example
 *   const rep = new Rep({ cellId, zone, total, rootfsProviders, executor, bbs, logger });
 *   const refused = rep.perform(work); // what did not fit
 *   rep.state();                       // GET /state
 *   await rep.bulkSync();              // at start and every --bulkSyncInterval
 *   await rep.evacuate(600_000);       // SIGTERM
 *   await rep.shutdown();              // every container destroyed
 */
export class Rep {
  private readonly instances = new Map<string, HeldInstance>();
  private readonly heldTasks = new Map<string, HeldTask>();
  /** The life of every held container, which shutdown waits for. */
  private readonly lifecycles = new Set<Promise<void>>();
  private readonly logger: Logger;
  private readonly evacuationPollingIntervalMs: number;
  private evacuating = false;
  /** Ends an evacuation's wait early: stop now. */
  private interruptEvacuation: (() => void) | null = null;
  private shuttingDown = false;

  constructor(private readonly options: RepOptions) {
    this.logger = options.logger.child({ session: 'rep' });
    this.evacuationPollingIntervalMs = options.evacuationPollingIntervalMs ?? DEFAULT_EVACUATION_POLLING_INTERVAL_MS;
  }

  state(): CellState {
    const held: Resource[] = [...this.instances.values()].map(({ lrp }) => lrp);
    held.push(...[...this.heldTasks.values()].map(({ task }) => task));
    const { total } = this.options;
    const starting = [...this.instances.values(), ...this.heldTasks.values()].filter((h) => h.state !== 'running');
    return {
      RootFSProviders: this.options.rootfsProviders,
      AvailableResources: {
        MemoryMB: total.MemoryMB - sum(held.map((r) => r.MemoryMB)),
        DiskMB: total.DiskMB - sum(held.map((r) => r.DiskMB)),
        Containers: total.Containers - held.length,
      },
      TotalResources: { ...total },
      LRPs: [...this.instances.values()].map(({ lrp }) => lrp),
      Tasks: [...this.heldTasks.values()].map(({ task }) => task),
      StartingContainerCount: starting.length,
      Zone: this.options.zone,
      Evacuating: this.evacuating,
    };
  }

  /** Reserves what fits and starts it in the background; answers with the work it refused. */
  perform(work: Work): Work {
    const refused: Work = { LRPs: [], Tasks: [] };
    for (const lrp of work.LRPs) {
      if (!this.takes(lrp)) {
        refused.LRPs.push(lrp);
        continue;
      }
      const held: HeldInstance = {
        lrp,
        instanceKey: { instance_guid: randomUUID(), cell_id: this.options.cellId },
        state: 'reserved',
        netInfo: null,
        handedOver: false,
        stopReason: null,
        abort: new AbortController(),
      };
      this.instances.set(held.instanceKey.instance_guid, held);
      this.track(this.runInstance(held));
    }
    for (const task of work.Tasks) {
      if (!this.takes(task) || this.heldTasks.has(task.TaskGuid)) {
        refused.Tasks.push(task);
        continue;
      }
      const held: HeldTask = { task, state: 'reserved', stopReason: null, abort: new AbortController() };
      this.heldTasks.set(task.TaskGuid, held);
      this.track(this.runTask(held));
    }
    if (refused.LRPs.length + refused.Tasks.length > 0) {
      this.logger.info({ lrps_refused: refused.LRPs.length, tasks_refused: refused.Tasks.length }, 'refused-work');
    }
    return refused;
  }

  /**
   * A retire: stop the instance's container, then RemoveActualLRP. An instance this rep does not hold (its
   * container died with a predecessor of this cell) has nothing to stop, but its record is still removed: the
   * BBS's retire waits for the rep to do it.
   */
  stopInstance(processGuid: string, instanceGuid: string): void {
    const held = this.instances.get(instanceGuid);
    if (held === undefined) {
      this.track(this.removeUnheldInstance(processGuid, instanceGuid));
      return;
    }
    if (held.lrp.process_guid !== processGuid) return;
    this.logger.info({ process_guid: processGuid, index: held.lrp.index, instance_guid: instanceGuid }, 'stopping-instance');
    stop(held, 'retired');
  }

  /**
   * The BBS has completed the task as cancelled: its container goes. A task this rep does not hold needs nothing
   * more: CancelTask completed its record before it told the cell.
   */
  cancelTask(taskGuid: string): void {
    const held = this.heldTasks.get(taskGuid);
    if (held === undefined || held.stopReason !== null) return;
    this.logger.info({ task_guid: taskGuid }, 'cancelling-task');
    held.stopReason = 'cancelled';
    held.abort.abort();
  }

  /**
   * Drains the cell: it takes no more work; running instances are handed to the BBS and stopped once they run
   * elsewhere, claimed ones handed back at once; tasks run to their end. Whatever is left at `timeoutMs`, or
   * when `shutdown()` is called, is stopped. Resolves when the cell holds nothing.
   */
  async evacuate(timeoutMs: number): Promise<void> {
    if (this.evacuating) return;
    this.evacuating = true;
    const ttlSeconds = Math.max(1, Math.ceil(timeoutMs / 1000));
    const deadline = Date.now() + timeoutMs;
    this.logger.info({ timeout_ms: timeoutMs }, 'evacuation-started');
    while (!this.shuttingDown && this.instances.size + this.heldTasks.size > 0 && Date.now() < deadline) {
      await Promise.all([...this.instances.values()].map((held) => this.evacuateInstance(held, ttlSeconds)));
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(0, Math.min(this.evacuationPollingIntervalMs, deadline - Date.now())));
        this.interruptEvacuation = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.interruptEvacuation = null;
    }
    const left = this.instances.size + this.heldTasks.size;
    if (left > 0) this.logger.info({ containers_left: left }, 'evacuation-timed-out-stopping-the-rest');
    for (const held of this.instances.values()) stop(held, held.handedOver ? 'evacuated' : 'released');
    for (const held of this.heldTasks.values()) {
      held.stopReason ??= 'released';
      held.abort.abort();
    }
    await this.settled();
    this.logger.info('evacuation-finished');
  }

  /** Stops every container at once (an evacuation in progress ends); resolves when all are destroyed. */
  async shutdown(): Promise<void> {
    this.shuttingDown = true;
    this.interruptEvacuation?.();
    for (const held of this.instances.values()) stop(held, 'released');
    for (const held of this.heldTasks.values()) {
      held.stopReason ??= 'released';
      held.abort.abort();
    }
    await this.settled();
    await this.options.executor.destroyAll();
  }

  /**
   * Settles every difference between the containers this rep holds and the BBS's ActualLRPs and Tasks for its
   * cell (bulk-sync.ts). What the rep holds is read before the BBS, and an instance or task it took meanwhile is
   * left alone; each BBS call names the instance key or cell it acts for, so one made stale by a change since the
   * read fails harmlessly. Rejects when the BBS cannot be read. Says whether it removed claims without
   * containers (see replaceRemovedClaims).
   */
  async bulkSync(): Promise<{ removedClaims: boolean }> {
    if (this.shuttingDown) return { removedClaims: false };
    const { bbs, cellId } = this.options;
    const snapshot: HeldSnapshot = {
      instances: new Map([...this.instances].map(([guid, held]) => [guid, { claimed: held.state !== 'reserved' }])),
      tasks: new Set(this.heldTasks.keys()),
    };
    const [groups, tasks] = await Promise.all([bbs.actualLRPGroups({ cell_id: cellId }), bbs.tasks({ cell_id: cellId })]);
    const actions = planBulkSync(snapshot, groups, tasks);
    if (actions.length > 0) this.logger.info({ differences: actions.length }, 'bulk-sync-found-differences');
    const settled = await Promise.all(actions.map((action) => this.settle(action)));
    return { removedClaims: settled.includes('removed-claim') };
  }

  /**
   * A removed claim leaves its index missing until the converger's next pass (30 s): one pass asked for now
   * replaces it within seconds, as a crashed running instance is. Asked once the cell has registered, so the
   * pass's auction can place the index on it.
   */
  async replaceRemovedClaims(): Promise<void> {
    this.logger.info('converging-after-removing-claims-without-containers');
    await this.call(this.logger, 'converge-lrps', () => this.options.bbs.convergeLRPs());
  }

  /** Settles one difference; says when it removed a claimed instance's record. */
  private async settle(action: BulkSyncAction): Promise<'removed-claim' | 'settled'> {
    const { bbs, cellId } = this.options;
    if (action.kind === 'release-container') {
      const held = this.instances.get(action.instanceGuid);
      if (held === undefined) return 'settled';
      this.logger.info({ process_guid: held.lrp.process_guid, index: held.lrp.index, instance_guid: action.instanceGuid },
        'releasing-instance-the-bbs-no-longer-has');
      stop(held, 'released');
      return 'settled';
    }
    if (action.kind === 'fail-task') {
      const taskGuid = action.task.task_guid;
      // Taken after the snapshot: it is being started here, not lost.
      if (this.heldTasks.has(taskGuid)) return 'settled';
      const log = this.logger.child({ task_guid: taskGuid });
      log.info('failing-task-without-container');
      // CompleteTask, not FailTask: it only completes a task still RUNNING on this cell.
      await this.call(log, 'complete-task', () => bbs.completeTask(taskGuid, cellId, true, LOST_TASK_FAILURE_REASON, ''));
      return 'settled';
    }
    const { lrp } = action;
    // Reserved after the snapshot: its claim may be what the BBS shows.
    if (this.instances.has(lrp.instance_guid)) return 'settled';
    const key = { process_guid: lrp.process_guid, index: lrp.index, domain: lrp.domain };
    const instanceKey = { instance_guid: lrp.instance_guid, cell_id: lrp.cell_id };
    const log = this.logger.child({ process_guid: lrp.process_guid, index: lrp.index, instance_guid: lrp.instance_guid });
    if (action.kind === 'remove-evacuating') {
      log.info('removing-evacuating-instance-without-container');
      await this.call(log, 'remove-evacuating-actual-lrp', () => bbs.removeEvacuatingActualLRP(key, instanceKey));
      return 'settled';
    }
    if (lrp.state === 'RUNNING') {
      // Diego's rep removed such a record and left the replacement to the converger's next pass (up to 30 s
      // later). Its process did die with the cell, which is a crash: CrashActualLRP restarts it at once
      // (under the crash restart policy, §6) and tells the app's owner why it stopped.
      log.info('crashing-running-instance-without-container');
      await this.call(log, 'crash-actual-lrp', () => bbs.crashActualLRP(key, instanceKey, PHANTOM_INSTANCE_CRASH_REASON));
      return 'settled';
    }
    // Claimed, never run: no crash to count. Removed as Diego did; the converger creates the index again.
    log.info('removing-claimed-instance-without-container');
    const removed = await this.call(log, 'remove-actual-lrp', () => bbs.removeActualLRP(lrp.process_guid, lrp.index, instanceKey).then(() => true));
    return removed === true ? 'removed-claim' : 'settled';
  }

  /** The rest of a stop for an instance this rep does not hold: its record on this cell is removed. */
  private async removeUnheldInstance(processGuid: string, instanceGuid: string): Promise<void> {
    const { bbs, cellId } = this.options;
    const log = this.logger.child({ process_guid: processGuid, instance_guid: instanceGuid });
    const groups = await this.call(log, 'fetch-actual-lrp-groups', () => bbs.actualLRPGroupsByProcessGuid(processGuid));
    const lrp = groups?.map((group) => group.instance)
      .find((instance) => instance?.instance_guid === instanceGuid && instance.cell_id === cellId);
    if (lrp === undefined || lrp === null) return;
    log.info({ index: lrp.index }, 'removing-instance-without-container');
    await this.call(log, 'remove-actual-lrp',
      () => bbs.removeActualLRP(processGuid, lrp.index, { instance_guid: instanceGuid, cell_id: cellId }));
  }

  private async settled(): Promise<void> {
    while (this.lifecycles.size > 0) await Promise.all(this.lifecycles);
  }

  private takes(resource: Resource): boolean {
    if (this.evacuating || this.shuttingDown) return false;
    const available = this.state().AvailableResources;
    return rootfsMatches(this.options.rootfsProviders, resource.RootFs) && available.MemoryMB >= resource.MemoryMB
      && available.DiskMB >= resource.DiskMB && available.Containers >= 1;
  }

  private track(lifecycle: Promise<void>): void {
    this.lifecycles.add(lifecycle);
    void lifecycle.finally(() => this.lifecycles.delete(lifecycle));
  }

  // ---- LRP instances ----

  private async runInstance(held: HeldInstance): Promise<void> {
    const { lrp, instanceKey } = held;
    const log = this.logger.child({ process_guid: lrp.process_guid, index: lrp.index, instance_guid: instanceKey.instance_guid });
    try {
      try {
        await this.options.bbs.claimActualLRP(lrp.process_guid, lrp.index, instanceKey);
      } catch (err) {
        log.info({ err: convertError(err).message }, 'failed-to-claim-actual-lrp');
        return;
      }
      held.state = 'claimed';
      log.info('claimed-actual-lrp');
      let desired: DesiredLRP;
      try {
        desired = await this.options.bbs.desiredLRPByProcessGuid(lrp.process_guid);
      } catch (err) {
        if (!isBbsError(err, 'ResourceNotFound')) {
          await this.reportCrashed(held, `failed to fetch the desired LRP: ${convertError(err).message}`, log);
          return;
        }
        log.info('desired-lrp-gone-removing-actual-lrp');
        await this.call(log, 'remove-actual-lrp', () => this.options.bbs.removeActualLRP(lrp.process_guid, lrp.index, instanceKey));
        return;
      }
      const runSpec = lrpRunSpec(desired);
      if (runSpec === null) {
        await this.reportCrashed(held, 'the desired LRP has no action', log);
        return;
      }
      if (held.stopReason !== null) {
        await this.reportStopped(held, log);
        return;
      }
      let container: Container;
      try {
        container = await this.options.executor.createContainer(lrpContainerSpec(desired, lrp.index, instanceKey.instance_guid));
      } catch (err) {
        await this.reportCrashed(held, `failed to create container: ${convertError(err).message}`, log);
        return;
      }
      let crashReason: string | null = null;
      let reportingRunning: Promise<void> = Promise.resolve();
      try {
        if (!held.abort.signal.aborted) {
          await this.options.executor.runLrp(container, runSpec, {
            onRunning: () => {
              reportingRunning = this.reportRunning(held, container, log);
            },
            onCrashed: (reason) => {
              crashReason = reason;
            },
          }, held.abort.signal);
        }
        await reportingRunning;
      } catch (err) {
        crashReason = `the run failed: ${convertError(err).message}`;
      } finally {
        await container.destroy();
      }
      if (held.stopReason === null && crashReason !== null) await this.reportCrashed(held, crashReason, log);
      else await this.reportStopped(held, log);
    } finally {
      this.instances.delete(instanceKey.instance_guid);
    }
  }

  /** StartActualLRP; an instance the BBS no longer lets us run (claimed or started by another) is let go. */
  private async reportRunning(held: HeldInstance, container: Container, log: Logger): Promise<void> {
    if (held.stopReason !== null) return;
    const netInfo: ActualLRPNetInfo = { address: container.address, ports: [...container.ports] };
    try {
      await this.options.bbs.startActualLRP(keyOf(held.lrp), held.instanceKey, netInfo);
      held.state = 'running';
      held.netInfo = netInfo;
      log.info({ address: netInfo.address, ports: netInfo.ports }, 'started-actual-lrp');
    } catch (err) {
      log.info({ err: convertError(err).message }, 'failed-to-start-actual-lrp-releasing');
      stop(held, 'released');
    }
  }

  private async reportCrashed(held: HeldInstance, reason: string, log: Logger): Promise<void> {
    log.info({ reason }, 'instance-crashed');
    const key = keyOf(held.lrp);
    if (this.evacuating) {
      await this.call(log, 'evacuate-crashed-actual-lrp', () => this.options.bbs.evacuateCrashedActualLRP(key, held.instanceKey, reason));
    } else {
      await this.call(log, 'crash-actual-lrp', () => this.options.bbs.crashActualLRP(key, held.instanceKey, reason));
    }
  }

  private async reportStopped(held: HeldInstance, log: Logger): Promise<void> {
    const { lrp, instanceKey } = held;
    log.info({ reason: held.stopReason }, 'instance-stopped');
    if (held.stopReason === 'retired') {
      await this.call(log, 'remove-actual-lrp', () => this.options.bbs.removeActualLRP(lrp.process_guid, lrp.index, instanceKey));
    } else if (held.stopReason === 'evacuated') {
      await this.call(log, 'remove-evacuating-actual-lrp', () => this.options.bbs.removeEvacuatingActualLRP(keyOf(lrp), instanceKey));
    }
  }

  /** One step of evacuation for one instance (spec §5.3). */
  private async evacuateInstance(held: HeldInstance, ttlSeconds: number): Promise<void> {
    if (held.stopReason !== null || held.state === 'reserved') return;
    const key = keyOf(held.lrp);
    const log = this.logger.child({ process_guid: key.process_guid, index: key.index, instance_guid: held.instanceKey.instance_guid });
    if (held.state === 'claimed') {
      // Stopped before the BBS call: a container that starts running meanwhile must not report RUNNING.
      stop(held, 'released');
      await this.call(log, 'evacuate-claimed-actual-lrp', () => this.options.bbs.evacuateClaimedActualLRP(key, held.instanceKey));
      return;
    }
    if (!held.handedOver) {
      const netInfo = held.netInfo ?? { address: '', ports: [] };
      const keep = await this.call(log, 'evacuate-running-actual-lrp',
        () => this.options.bbs.evacuateRunningActualLRP(key, held.instanceKey, netInfo, ttlSeconds));
      held.handedOver = true;
      if (keep === false) stop(held, 'evacuated');
      return;
    }
    let replaced: boolean;
    try {
      const group = await this.options.bbs.actualLRPGroupByProcessGuidAndIndex(key.process_guid, key.index);
      const instance = group.instance;
      replaced = instance === null || (instance.state === 'RUNNING' && instance.instance_guid !== held.instanceKey.instance_guid)
        || group.evacuating?.instance_guid !== held.instanceKey.instance_guid;
    } catch (err) {
      if (!isBbsError(err, 'ResourceNotFound')) {
        log.error({ err: convertError(err).message }, 'failed-to-fetch-actual-lrp-group');
        return;
      }
      replaced = true;
    }
    if (replaced) {
      log.info('instance-replaced-stopping-evacuated-instance');
      stop(held, 'evacuated');
    }
  }

  // ---- tasks ----

  private async runTask(held: HeldTask): Promise<void> {
    const taskGuid = held.task.TaskGuid;
    const { cellId } = this.options;
    const log = this.logger.child({ task_guid: taskGuid });
    try {
      let shouldStart: boolean;
      try {
        shouldStart = await this.options.bbs.startTask(taskGuid, cellId);
      } catch (err) {
        log.info({ err: convertError(err).message }, 'failed-to-start-task');
        return;
      }
      if (!shouldStart) {
        log.info('task-already-started-skipping');
        return;
      }
      held.state = 'running';
      log.info('started-task');
      const outcome = await this.runTaskContainer(held, log);
      if (outcome === null || held.stopReason !== null) return;
      log.info({ failed: outcome.failed, failure_reason: outcome.failureReason }, 'task-finished');
      await this.call(log, 'complete-task',
        () => this.options.bbs.completeTask(taskGuid, cellId, outcome.failed, outcome.failureReason, outcome.failed ? '' : outcome.result));
    } finally {
      this.heldTasks.delete(taskGuid);
    }
  }

  /** Fetches, creates and runs the task's container; null when it was stopped before it ran. */
  private async runTaskContainer(held: HeldTask, log: Logger): Promise<(RunResult & { result: string }) | null> {
    let task: Task;
    try {
      task = await this.options.bbs.taskByGuid(held.task.TaskGuid);
    } catch (err) {
      return failed(`failed to fetch the task: ${convertError(err).message}`);
    }
    const runSpec = taskRunSpec(task);
    if (runSpec === null) return failed('the task has no action');
    if (held.abort.signal.aborted) return null;
    let container: Container;
    try {
      container = await this.options.executor.createContainer(taskContainerSpec(task));
    } catch (err) {
      return failed(`failed to create container: ${convertError(err).message}`);
    }
    try {
      return await this.options.executor.runTask(container, runSpec, held.abort.signal);
    } catch (err) {
      log.error({ err: convertError(err).message }, 'task-run-failed');
      return failed(`the run failed: ${convertError(err).message}`);
    } finally {
      await container.destroy();
    }
  }

  /** A BBS call whose failure is logged, not thrown: the BBS's convergence repairs what a lost call leaves. */
  private async call<T>(log: Logger, what: string, request: () => Promise<T>): Promise<T | undefined> {
    try {
      return await request();
    } catch (err) {
      log.error({ err: convertError(err).message }, `failed-to-${what}`);
      return undefined;
    }
  }
}

function stop(held: HeldInstance, reason: StopReason): void {
  if (held.stopReason !== null) return;
  held.stopReason = reason;
  held.abort.abort();
}

function failed(failureReason: string): RunResult & { result: string } {
  return { failed: true, failureReason, result: '' };
}

function keyOf(lrp: RepLRP): ActualLRPKey {
  return { process_guid: lrp.process_guid, index: lrp.index, domain: lrp.domain };
}

function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}
