/**
 * The auctioneer (spec/bbs.md §8.4), one of the leader's loops: it places LRP instances and tasks on cells.
 *
 * Work comes in two ways. The store's changes, followed through an etcd watch while the loop runs: an instance
 * record created UNCLAIMED or changed into UNCLAIMED (crash restart, evacuation, unclaim) and a task created
 * PENDING are auctioned at once, whoever wrote them. And the converger's explicit requests (stale unclaimed
 * instances, kicked tasks) through {@link AuctionRequester}.
 *
 * Requests gather in a batch: a round starts once none has arrived for `batchQuietMs`, or `batchMaxWaitMs` after
 * the oldest was queued (so one write's records, or a dead cell's, share a round and a lone task goes nearly at
 * once); requests arriving during a round wait for the next. A round takes the batch, drops what the store no
 * longer waits for, lists the cells, takes their states (cell-states.ts: known ones reused with our placements
 * since added, unknown ones asked for in parallel), drops evacuating cells, schedules (scheduler.ts), POSTs each
 * winning cell its `/work` in parallel, and records the failures: FailActualLRP / FailTask with the placement
 * error. When a reused state may be what failed a placement, the round asks every cell and schedules again, so
 * nothing fails that fresh states would have placed. Work a cell refuses fails the same way, unless the cell's
 * state was a reused one: then it goes back into the batch for a round that asks every cell.
 */
import { convertError, isBbsError, type CellPresence, type DesiredLRP, type Task } from '@diego/models';
import type { Namespace } from 'etcd3';
import type { Logger } from 'pino';
import type { BbsEvent } from '@diego/bbs-client';
import type { Clock, Db } from '../db/db';
import { systemClock } from '../db/etcd/etcd-db';
import type { RecordCodec } from '../db/etcd/record-codec';
import { followBbsEvents, storeFeedOf, type BbsEventWatch } from '../events/watch-events';
import type { AuctionRequester, LeaderLoop, LRPStartRequest, TaskStartRequest } from '../leader/contracts';
import {
  lrpIdentifier, type RepLRP, type RepTask, type Work, HttpRepClient, type RepClient,
} from '@diego/rep-api';
import { AuctionBatch } from './auction-batch';
import { CellStates, DEFAULT_REFRESH_TICK_MS, type ParticipatingCell, type RoundCells } from './cell-states';
import { DEFAULT_STARTING_CONTAINER_WEIGHT, PlacementError, scheduleAuctions, type AuctionResults } from './scheduler';

export type AuctioneerStore = Pick<
  Db,
  | 'cells'
  | 'desiredLRPByProcessGuid'
  | 'actualLRPGroups'
  | 'actualLRPGroupsByProcessGuid'
  | 'taskByGuid'
  | 'tasks'
  | 'failActualLRP'
  | 'failTask'
  | 'watchCellArrivals'
  | 'observedRevision'
>;

export interface AuctioneerOptions {
  db: AuctioneerStore;
  /** The store's key space, watched for instances and tasks to place. */
  etcd: Namespace;
  /** How the store's values are stored (the store's codec); plain JSON by default. */
  codec?: RecordCodec;
  logger: Logger;
  /** The cells' rep API; over HTTP by default. */
  rep?: RepClient;
  /**
   * `-cellStateTimeout`: how long each cell has to answer `/state` (default 1 s). When no cell answers, the
   * round asks again up to 3 times, doubling it each time.
   */
  cellStateTimeoutMs?: number;
  /** A round starts once no request has arrived for this long (default 5 ms)... */
  batchQuietMs?: number;
  /** ...or this long after the oldest request waiting was queued (default 50 ms). */
  batchMaxWaitMs?: number;
  /** How old a cell's known state may grow before it is asked again in the background (default 10 s). */
  cellStateMaxAgeMs?: number;
  /** How often the background looks for aged states and cells that did not answer (default 1 s). */
  cellStateRefreshTickMs?: number;
  /** After the cells could not be listed, how long before the round is tried again (default 1 s). */
  retryDelayMs?: number;
  /** `-startingContainerWeight` (default 0.25). */
  startingContainerWeight?: number;
  /** Unix nanoseconds, for how long work waited; the system clock by default. */
  clock?: Clock;
}

/**
 * The reason an instance or task fails when the cell it was given refuses it. A rep refuses what its executor
 * could not reserve a container for: the cell filled up between its `/state` answer and the work arriving.
 */
const REFUSED_BY_CELL = PlacementError.InsufficientResources;

/**
 * @example
 *   const auctioneer = new Auctioneer({ db, etcd, logger });
 *   await auctioneer.start();          // when this BBS becomes the leader
 *   auctioneer.requestLRPAuctions([{ process_guid, domain, indices: [0], memory_mb, disk_mb, rootfs }]);
 *   await auctioneer.stop();           // when it stops being the leader
 */
export class Auctioneer implements AuctionRequester, LeaderLoop {
  readonly name = 'auctioneer';
  private readonly db: AuctioneerStore;
  private readonly etcd: Namespace;
  private readonly codec: RecordCodec | undefined;
  private readonly logger: Logger;
  private readonly rep: RepClient;
  private readonly batchQuietMs: number;
  private readonly batchMaxWaitMs: number;
  private readonly retryDelayMs: number;
  private readonly startingContainerWeight: number;
  private readonly clock: Clock;
  private readonly batch: AuctionBatch;
  private readonly cellStates: CellStates;

  private running = false;
  private watcher: BbsEventWatch | null = null;
  private unwatchCellArrivals: (() => Promise<void>) | null = null;
  /** The next round, waiting for the batch to gather. */
  private timer: NodeJS.Timeout | null = null;
  /** The next round after the cells could not be listed. */
  private roundRetry: NodeJS.Timeout | null = null;
  /** The next attempt to watch the store after etcd ended the watch and watching again failed. */
  private watchRetry: NodeJS.Timeout | null = null;
  private round: Promise<void> | null = null;
  /** Instances whose desired LRP is being read for its resources, per process guid. */
  private readonly awaitingDesired = new Map<string, { domain: string; indices: number[] }>();
  /** Work started outside a round (desired LRP reads, re-watching) that stop() waits for. */
  private readonly pending = new Set<Promise<void>>();

  constructor(options: AuctioneerOptions) {
    this.db = options.db;
    this.etcd = options.etcd;
    this.codec = options.codec;
    this.logger = options.logger.child({ session: 'auctioneer' });
    this.rep = options.rep ?? new HttpRepClient();
    this.batchQuietMs = options.batchQuietMs ?? 5;
    this.batchMaxWaitMs = options.batchMaxWaitMs ?? 50;
    this.retryDelayMs = options.retryDelayMs ?? 1000;
    this.startingContainerWeight = options.startingContainerWeight ?? DEFAULT_STARTING_CONTAINER_WEIGHT;
    this.clock = options.clock ?? systemClock;
    this.batch = new AuctionBatch(this.clock);
    this.cellStates = new CellStates({
      rep: this.rep,
      logger: this.logger,
      timeoutMs: options.cellStateTimeoutMs ?? 1000,
      maxAgeMs: options.cellStateMaxAgeMs ?? 10_000,
      refreshTickMs: options.cellStateRefreshTickMs ?? DEFAULT_REFRESH_TICK_MS,
      now: () => nsToMs(this.clock()),
    });
  }

  /** Follows the store and runs rounds until stopped; requests made before start wait for it. */
  async start(): Promise<void> {
    if (this.running) return;
    // Running from the start: a store watch that ends while the loop starts (the view finishing its first load) is
    // followed again, not dropped as if the loop had stopped.
    this.running = true;
    try {
      this.watcher = await this.watchStore();
      this.unwatchCellArrivals = await this.db.watchCellArrivals(
        (cellId) => this.onCellArrived(cellId),
        // Arrivals missed until the next leadership only wait for convergence's stale re-auction.
        (err) => this.logger.error({ err: err.message }, 'cell-arrivals-watch-failed'),
      );
    } catch (err) {
      this.running = false;
      await this.watcher?.cancel();
      this.watcher = null;
      throw err;
    }
    this.logger.info('auctioneer-started');
    // A new leader knows neither the auctions its predecessor had in flight nor the cells that arrived before it
    // led (a restart, a failover): every UNCLAIMED instance is auctioned (a round skips what is placed meanwhile).
    this.auctionUnclaimed('all');
    // Another leader may have placed work since this one last led: what it knew of the cells is no longer so.
    this.cellStates.forgetAll();
    this.track(this.learnCells());
    this.cellStates.startRefreshing();
    this.scheduleRound();
  }

  /** Stops following the store; resolves once the round in flight has finished. Queued requests stay queued. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    if (this.timer !== null) clearTimeout(this.timer);
    if (this.roundRetry !== null) clearTimeout(this.roundRetry);
    if (this.watchRetry !== null) clearTimeout(this.watchRetry);
    this.timer = null;
    this.roundRetry = null;
    this.watchRetry = null;
    await this.watcher?.cancel();
    this.watcher = null;
    await this.unwatchCellArrivals?.();
    this.unwatchCellArrivals = null;
    await this.round;
    await this.cellStates.stopRefreshing();
    while (this.pending.size > 0) await Promise.all(this.pending);
    this.logger.info('auctioneer-stopped');
  }

  requestLRPAuctions(starts: LRPStartRequest[]): void {
    const valid = starts.filter((start) => {
      const ok = start.process_guid !== '' && start.domain !== '' && start.indices.length > 0 && start.memory_mb >= 0 && start.disk_mb >= 0;
      if (!ok) this.logger.error({ process_guid: start.process_guid, domain: start.domain, indices: start.indices }, 'invalid-lrp-start-request');
      return ok;
    });
    if (valid.length === 0) return;
    this.batch.addLRPStarts(valid);
    this.scheduleRound();
  }

  requestTaskAuctions(tasks: TaskStartRequest[]): void {
    const valid = tasks.filter((task) => {
      const ok = task.task_guid !== '' && task.domain !== '' && task.memory_mb >= 0 && task.disk_mb >= 0;
      if (!ok) this.logger.error({ task_guid: task.task_guid, domain: task.domain }, 'invalid-task-start-request');
      return ok;
    });
    if (valid.length === 0) return;
    this.batch.addTaskStarts(valid);
    this.scheduleRound();
  }

  // ---- following the store ----

  private watchStore(): Promise<BbsEventWatch> {
    return followBbsEvents(storeFeedOf(this.db), this.etcd, this.logger, (event) => this.onStoreEvent(event), (err) => this.onWatchFailed(err), this.codec);
  }

  private onStoreEvent(event: BbsEvent): void {
    // What the auction reads next (is the instance still UNCLAIMED?) must reflect this change.
    this.db.observedRevision(event.revision);
    switch (event.type) {
      case 'actual_lrp_created': {
        const lrp = event.actual_lrp_group.instance;
        if (lrp?.state === 'UNCLAIMED') this.auctionInstance(lrp.process_guid, lrp.domain, lrp.index);
        return;
      }
      case 'actual_lrp_changed': {
        const { instance: before } = event.before;
        const { instance: after } = event.after;
        // UNCLAIMED -> UNCLAIMED is a failed placement being recorded: auctioning it again would loop.
        if (after?.state === 'UNCLAIMED' && before !== null && before.state !== 'UNCLAIMED') {
          // It left its cell (crashed, evacuated, unclaimed): what we know of that cell is no longer so.
          if (before.cell_id !== '') this.cellStates.forget(before.cell_id);
          this.auctionInstance(after.process_guid, after.domain, after.index);
        }
        return;
      }
      case 'task_created': {
        const { task } = event;
        if (task.state !== 'PENDING') return;
        this.requestTaskAuctions([taskStartRequest(task)]);
        return;
      }
      default:
        return;
    }
  }

  /**
   * An instance's resources are its desired LRP's. The indices of one process guid that show up while its desired
   * LRP is being read (all those of one desire or scale-up) share that read and one request.
   */
  private auctionInstance(processGuid: string, domain: string, index: number): void {
    const awaiting = this.awaitingDesired.get(processGuid);
    if (awaiting !== undefined) {
      awaiting.indices.push(index);
      return;
    }
    const entry = { domain, indices: [index] };
    this.awaitingDesired.set(processGuid, entry);
    this.track(this.requestWithDesiredResources(processGuid, entry));
  }

  private async requestWithDesiredResources(processGuid: string, entry: { domain: string; indices: number[] }): Promise<void> {
    let desired: DesiredLRP;
    try {
      desired = await this.db.desiredLRPByProcessGuid(processGuid);
    } catch (err) {
      // No desired LRP: nothing to run; its instances are retired by whoever removed it, or by convergence.
      if (isBbsError(err, 'ResourceNotFound')) return;
      // The instances stay UNCLAIMED: convergence requests them again once they are stale.
      this.logger.error({ process_guid: processGuid, indices: entry.indices, err: convertError(err).message }, 'failed-to-fetch-desired-lrp');
      return;
    } finally {
      // Indices showing up from now on need a read of their own.
      this.awaitingDesired.delete(processGuid);
    }
    const { domain, indices } = entry;
    this.requestLRPAuctions([{ process_guid: processGuid, domain, indices, memory_mb: desired.memory_mb, disk_mb: desired.disk_mb, rootfs: desired.rootfs }]);
  }

  /**
   * A cell appeared (a new one, or one back after losing its lease, as after `diego up` restarts): instances whose
   * placement failed (no cell, none with room) get another auction now rather than at convergence's next pass.
   */
  private onCellArrived(cellId: string): void {
    if (!this.running) return;
    this.logger.info({ cell_id: cellId }, 'cell-arrived');
    this.cellStates.forget(cellId);
    this.auctionUnclaimed('failed-placements');
  }

  /**
   * Auctions the UNCLAIMED instances: all of them, or those whose placement failed. All of them as leadership
   * begins, with every PENDING task: a task desired while no BBS led (or whose auction the last leader had in
   * flight) would otherwise wait for convergence to kick it.
   */
  private auctionUnclaimed(which: 'all' | 'failed-placements'): void {
    this.track((async () => {
      const groups = await this.db.actualLRPGroups();
      for (const { instance } of groups) {
        if (instance?.state === 'UNCLAIMED' && (which === 'all' || instance.placement_error !== '')) {
          this.auctionInstance(instance.process_guid, instance.domain, instance.index);
        }
      }
      if (which !== 'all') return;
      const pending = (await this.db.tasks()).filter((task) => task.state === 'PENDING');
      this.requestTaskAuctions(pending.map(taskStartRequest));
    })());
  }

  /** Asks every cell for its state as leadership begins, so that the first round finds them known. */
  private async learnCells(): Promise<void> {
    await this.cellStates.learn(await this.db.cells());
  }

  /** etcd ended the watch (it was compacted past, for one): watch again from now; convergence covers the gap. */
  private onWatchFailed(err: Error): void {
    this.logger.error({ err: err.message }, 'store-watch-failed');
    const failed = this.watcher;
    this.watcher = null;
    this.track((async () => {
      await failed?.cancel();
      await this.rewatch();
    })());
  }

  private async rewatch(): Promise<void> {
    if (!this.running) return;
    try {
      const watcher = await this.watchStore();
      if (this.running) this.watcher = watcher;
      else await watcher.cancel();
      // What was created while nothing followed the store (a view loading, a compaction) is looked for now rather
      // than left to convergence's stale re-auction.
      if (this.running) this.auctionUnclaimed('all');
    } catch (err) {
      this.logger.error({ err: convertError(err).message }, 'failed-to-watch-store');
      if (!this.running) return;
      this.watchRetry = setTimeout(() => {
        this.watchRetry = null;
        this.track(this.rewatch());
      }, this.retryDelayMs);
    }
  }

  private track(work: Promise<void>): void {
    const tracked: Promise<void> = work
      .catch((err: unknown) => this.logger.error({ err: convertError(err).message }, 'auctioneer-background-work-failed'))
      .finally(() => this.pending.delete(tracked));
    this.pending.add(tracked);
  }

  // ---- rounds ----

  /**
   * Starts a round once the batch has been quiet for `batchQuietMs`, or `batchMaxWaitMs` after its oldest request,
   * whichever comes first. Each request calls it again, pushing a quiet start back.
   */
  private scheduleRound(): void {
    if (!this.running || this.round !== null || this.roundRetry !== null || this.batch.isEmpty) return;
    if (this.timer !== null) clearTimeout(this.timer);
    const queuedSince = this.batch.queuedSince;
    const waitedMs = queuedSince === null ? 0 : nsToMs(this.clock() - queuedSince);
    const delayMs = Math.max(0, Math.min(this.batchQuietMs, this.batchMaxWaitMs - waitedMs));
    this.timer = setTimeout(() => {
      this.timer = null;
      this.startRound();
    }, delayMs);
  }

  private startRound(): void {
    this.round = this.runRound()
      .catch((err: unknown) => {
        this.logger.error({ err: convertError(err).message }, 'auction-failed');
        return 'retry-later' as const;
      })
      .then((outcome) => {
        this.round = null;
        if (outcome === 'done') {
          this.scheduleRound();
          return;
        }
        if (!this.running) return;
        this.roundRetry = setTimeout(() => {
          this.roundRetry = null;
          if (this.running && !this.batch.isEmpty) this.startRound();
        }, this.retryDelayMs);
      });
  }

  /** One auction; 'retry-later' when the cells could not be listed (the batch is left as it was). */
  private async runRound(): Promise<'done' | 'retry-later'> {
    const startedAt = this.clock();
    let presences: CellPresence[];
    try {
      presences = await this.db.cells();
    } catch (err) {
      this.logger.error({ err: convertError(err).message }, 'failed-to-fetch-cells');
      return 'retry-later';
    }
    const listedAt = this.clock();
    const { lrps, tasks, queuedSince, freshStates } = this.batch.drain();
    const waiting = await this.stillWaiting(lrps, tasks);
    const checkedAt = this.clock();
    let round: RoundCells = { cells: [], asked: 0, allAsked: true, reused: new Set() };
    let results: AuctionResults = { work: [], failedLRPs: [], failedTasks: [] };
    let askedAgain = false;
    if (waiting.lrps.length > 0 || waiting.tasks.length > 0) {
      round = freshStates ? await this.cellStates.askingAll(presences) : await this.cellStates.reusing(presences);
      results = this.schedule(round.cells, waiting);
      if (!round.allAsked && (results.failedLRPs.length > 0 || results.failedTasks.length > 0)) {
        // A reused state overstates what its cell uses: before anything fails, every cell says what it has now.
        askedAgain = true;
        round = await this.cellStates.askingAll(presences);
        results = this.schedule(round.cells, waiting);
      }
    }
    const scheduledAt = this.clock();
    const presenceById = new Map(round.cells.map(({ presence }) => [presence.cell_id, presence]));
    const refusals = await Promise.all(results.work.map(({ cellId, work }) => this.commit(presenceById.get(cellId), work, round.reused.has(cellId))));
    const refused = refusals.filter((refusal) => !refusal.requeued);
    const failedLRPs = [...results.failedLRPs, ...refused.flatMap((r) => r.work.LRPs.map((lrp) => ({ lrp, placementError: REFUSED_BY_CELL })))];
    const failedTasks = [...results.failedTasks, ...refused.flatMap((r) => r.work.Tasks.map((task) => ({ task, placementError: REFUSED_BY_CELL })))];
    await Promise.all([
      ...failedLRPs.map(({ lrp, placementError }) => this.failLRP(lrp, placementError)),
      ...failedTasks.map(({ task, placementError }) => this.failTask(task, placementError)),
    ]);
    const now = this.clock();
    this.logger.info({
      cells: round.cells.length,
      cells_asked: round.asked,
      asked_again: askedAgain,
      lrps: waiting.lrps.length,
      lrps_failed: failedLRPs.length,
      tasks: waiting.tasks.length,
      tasks_failed: failedTasks.length,
      requeued: refusals.reduce((sum, r) => sum + (r.requeued ? r.work.LRPs.length + r.work.Tasks.length : 0), 0),
      dropped: lrps.length + tasks.length - waiting.lrps.length - waiting.tasks.length,
      waited_ms: queuedSince === null ? 0 : nsToMs(startedAt - queuedSince),
      duration_ms: nsToMs(now - startedAt),
      // Where the round's time went: listing the cells, checking the store still waits, states and scheduling,
      // committing and recording failures.
      list_ms: nsToMs(listedAt - startedAt),
      check_ms: nsToMs(checkedAt - listedAt),
      schedule_ms: nsToMs(scheduledAt - checkedAt),
      commit_ms: nsToMs(now - scheduledAt),
    }, 'auction-finished');
    return 'done';
  }

  private schedule(cells: readonly ParticipatingCell[], waiting: { lrps: RepLRP[]; tasks: RepTask[] }): AuctionResults {
    return scheduleAuctions(
      cells.map(({ presence, state }) => ({ cellId: presence.cell_id, state })),
      waiting,
      { startingContainerWeight: this.startingContainerWeight },
    );
  }

  /**
   * Drops what no longer needs a cell: an instance that is no longer UNCLAIMED (a cell claimed it, or it is gone)
   * and a task that is no longer PENDING. A request whose record cannot be read is kept.
   */
  private async stillWaiting(lrps: RepLRP[], tasks: RepTask[]): Promise<{ lrps: RepLRP[]; tasks: RepTask[] }> {
    const unclaimed = await Promise.all([...new Set(lrps.map((lrp) => lrp.process_guid))].map(async (processGuid) => {
      try {
        const groups = await this.db.actualLRPGroupsByProcessGuid(processGuid);
        return groups.flatMap(({ instance }) => (instance?.state === 'UNCLAIMED' ? [lrpIdentifier(instance)] : []));
      } catch (err) {
        this.logger.error({ process_guid: processGuid, err: convertError(err).message }, 'failed-to-fetch-actual-lrps');
        return lrps.filter((lrp) => lrp.process_guid === processGuid).map(lrpIdentifier);
      }
    }));
    const unclaimedIds = new Set(unclaimed.flat());
    const pendingTasks = await Promise.all(tasks.map(async (task) => {
      try {
        return (await this.db.taskByGuid(task.TaskGuid)).state === 'PENDING';
      } catch (err) {
        if (isBbsError(err, 'ResourceNotFound')) return false;
        this.logger.error({ task_guid: task.TaskGuid, err: convertError(err).message }, 'failed-to-fetch-task');
        return true;
      }
    }));
    return { lrps: lrps.filter((lrp) => unclaimedIds.has(lrpIdentifier(lrp))), tasks: tasks.filter((_task, i) => pendingTasks[i] === true) };
  }

  /**
   * POSTs the work to its cell; resolves with what the cell refused, as it was sent, and whether that went back
   * into the batch: a cell scheduled on a reused state refuses what a fresh state may not have given it, so its
   * refusals are auctioned again by a round that asks every cell. A cell that cannot be reached or answers badly
   * may have started part of it: nothing is failed then, convergence sorts it out.
   */
  private async commit(presence: CellPresence | undefined, work: Work, stateReused: boolean): Promise<{ work: Work; requeued: boolean }> {
    const none = { work: { LRPs: [], Tasks: [] }, requeued: false };
    if (presence === undefined) return none;
    const fields = { cell_id: presence.cell_id, lrps: work.LRPs.length, tasks: work.Tasks.length };
    let refusedWork: Work;
    try {
      refusedWork = await this.rep.perform(presence, work);
    } catch (err) {
      this.logger.error({ ...fields, err: convertError(err).message }, 'failed-to-commit-work');
      this.cellStates.forget(presence.cell_id);
      return none;
    }
    const refusedLRPs = new Set(refusedWork.LRPs.map(lrpIdentifier));
    const refusedTasks = new Set(refusedWork.Tasks.map((task) => task.TaskGuid));
    this.logger.info({ ...fields, lrps_refused: refusedLRPs.size, tasks_refused: refusedTasks.size }, 'committed-work');
    const refused: Work = {
      LRPs: work.LRPs.filter((lrp) => refusedLRPs.has(lrpIdentifier(lrp))),
      Tasks: work.Tasks.filter((task) => refusedTasks.has(task.TaskGuid)),
    };
    if (refused.LRPs.length === 0 && refused.Tasks.length === 0) {
      this.cellStates.placed(presence.cell_id, work);
      return { work: refused, requeued: false };
    }
    // What we knew of the cell was wrong: it is asked again.
    this.cellStates.forget(presence.cell_id);
    if (!stateReused) return { work: refused, requeued: false };
    this.batch.addRefused(refused);
    return { work: refused, requeued: true };
  }

  private async failLRP(lrp: RepLRP, placementError: string): Promise<void> {
    const fields = { process_guid: lrp.process_guid, index: lrp.index, placement_error: placementError };
    try {
      await this.db.failActualLRP({ process_guid: lrp.process_guid, index: lrp.index, domain: lrp.domain }, placementError);
      this.logger.info(fields, 'failed-to-place-actual-lrp');
    } catch (err) {
      this.logger.error({ ...fields, err: convertError(err).message }, 'failed-to-fail-actual-lrp');
    }
  }

  private async failTask(task: RepTask, placementError: string): Promise<void> {
    const fields = { task_guid: task.TaskGuid, placement_error: placementError };
    try {
      await this.db.failTask(task.TaskGuid, placementError);
      this.logger.info(fields, 'failed-to-place-task');
    } catch (err) {
      this.logger.error({ ...fields, err: convertError(err).message }, 'failed-to-fail-task');
    }
  }
}

function taskStartRequest(task: Task): TaskStartRequest {
  return { task_guid: task.task_guid, domain: task.domain, memory_mb: task.memory_mb, disk_mb: task.disk_mb, rootfs: task.rootfs };
}

function nsToMs(ns: bigint): number {
  return Number(ns / 1_000_000n);
}
