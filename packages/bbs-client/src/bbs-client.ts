/**
 * CONTRACT: the typed BBS client (bbs `client.go`). The HTTP implementation is built from `BbsRoutes`
 * (routes.ts), speaks protobuf, and rejects with the BbsError carried in the response's `error` field.
 * It takes a list of BBS URLs and moves to the next one when a BBS cannot be reached.
 */
import type {
  ActualLRPGroup, ActualLRPInstanceKey, ActualLRPKey, ActualLRPNetInfo, CellPresence, DesiredLRP,
  DesiredLRPSchedulingInfo, DesiredLRPUpdate, Task, TaskDefinition,
} from '@diego/models';
import type { Readable } from 'node:stream';
import type { BbsEvent } from './bbs-event';
import type { ActualLRPFilter, DesiredLRPFilter, Listed, TaskFilter } from './lists';
import type { DesiredLRPSummaryQuery, TaskSummaryQuery } from './summaries';

/** The three durations of task convergence (spec §8.2), in milliseconds. */
export interface TaskConvergenceDurations {
  /** A task untouched this long is kicked: re-auctioned when PENDING, its callback re-sent when COMPLETED. */
  kickTaskDurationMs: number;
  /** A task still PENDING this long after its creation fails. */
  expirePendingTaskDurationMs: number;
  /** A completed task is deleted this long after it first completed. */
  expireCompletedTaskDurationMs: number;
}

export interface EventSubscription {
  /** Resolves with the next event; null when the stream has ended. */
  next(): Promise<BbsEvent | null>;
  close(): void;
  /**
   * Once the stream has ended: the compact revision when it ended because etcd no longer holds the history after
   * the revision it resumed from (`event: compacted`): re-list, then subscribe after the list's revision. Null
   * otherwise.
   */
  readonly compactRevision: string | null;
}

export interface SubscribeOptions {
  /**
   * Every event after this event id (an event's `id`, `<revision>.<place>`: the rest of its revision, then later
   * ones) or bare etcd revision (a list's: every later revision), none twice; from now when absent. Sent as
   * `Last-Event-ID`.
   */
  afterRevision?: string;
}

/** A list already in the receptor's JSON (UTF-8), and the etcd revision it was read at. */
export interface ListedJSON {
  json: Uint8Array;
  revision: string;
}

/**
 * A list's JSON array (UTF-8) as the BBS writes it, relayed as it arrives, and the etcd revision it was read at.
 * `json` ends with an error, never early, when the BBS's answer breaks off.
 */
export interface StreamedJSON {
  json: Readable;
  revision: string;
}

export interface BbsClient {
  ping(): Promise<boolean>;

  domains(): Promise<string[]>;
  upsertDomain(domain: string, ttlSeconds: number): Promise<void>;

  actualLRPGroups(filter?: ActualLRPFilter): Promise<ActualLRPGroup[]>;
  actualLRPGroupsByProcessGuid(processGuid: string): Promise<ActualLRPGroup[]>;
  /** `actualLRPGroups` with the etcd revision it was read at. */
  listActualLRPGroups(filter?: ActualLRPFilter): Promise<Listed<ActualLRPGroup>>;
  /** `actualLRPGroupsByProcessGuid` with the etcd revision it was read at. */
  listActualLRPGroupsByProcessGuid(processGuid: string): Promise<Listed<ActualLRPGroup>>;
  actualLRPGroupByProcessGuidAndIndex(processGuid: string, index: number): Promise<ActualLRPGroup>;
  /** GET /v1/actual_lrps's JSON array (each group resolved, §3.11) as the BBS spliced it, and its revision. */
  actualLRPsReceptorJSON(filter?: ActualLRPFilter): Promise<ListedJSON>;
  /** `actualLRPsReceptorJSON`, streamed. */
  actualLRPsReceptorJSONStream(filter?: ActualLRPFilter): Promise<StreamedJSON>;

  claimActualLRP(processGuid: string, index: number, instanceKey: ActualLRPInstanceKey): Promise<void>;
  startActualLRP(key: ActualLRPKey, instanceKey: ActualLRPInstanceKey, netInfo: ActualLRPNetInfo): Promise<void>;
  crashActualLRP(key: ActualLRPKey, instanceKey: ActualLRPInstanceKey, errorMessage: string): Promise<void>;
  failActualLRP(key: ActualLRPKey, errorMessage: string): Promise<void>;
  removeActualLRP(processGuid: string, index: number, instanceKey?: ActualLRPInstanceKey): Promise<void>;
  retireActualLRP(key: ActualLRPKey): Promise<void>;

  removeEvacuatingActualLRP(key: ActualLRPKey, instanceKey: ActualLRPInstanceKey): Promise<void>;
  /** Each returns keep_container; on a failed call, Diego's defaults (claimed/running keep, others don't). */
  evacuateClaimedActualLRP(key: ActualLRPKey, instanceKey: ActualLRPInstanceKey): Promise<boolean>;
  evacuateCrashedActualLRP(key: ActualLRPKey, instanceKey: ActualLRPInstanceKey, errorMessage: string): Promise<boolean>;
  evacuateStoppedActualLRP(key: ActualLRPKey, instanceKey: ActualLRPInstanceKey): Promise<boolean>;
  evacuateRunningActualLRP(key: ActualLRPKey, instanceKey: ActualLRPInstanceKey, netInfo: ActualLRPNetInfo,
    ttlSeconds: number): Promise<boolean>;

  desiredLRPs(filter?: DesiredLRPFilter): Promise<DesiredLRP[]>;
  /** `desiredLRPs` with the etcd revision it was read at (to follow the event stream from). */
  listDesiredLRPs(filter?: DesiredLRPFilter): Promise<Listed<DesiredLRP>>;
  desiredLRPByProcessGuid(processGuid: string): Promise<DesiredLRP>;
  /** GET /v1/desired_lrps's JSON array as the BBS built it, and its revision. */
  desiredLRPsReceptorJSON(filter?: DesiredLRPFilter): Promise<ListedJSON>;
  /** `desiredLRPsReceptorJSON`, streamed: nsync's bulk read, never held whole. */
  desiredLRPsReceptorJSONStream(filter?: DesiredLRPFilter): Promise<StreamedJSON>;
  desiredLRPSchedulingInfos(filter?: DesiredLRPFilter): Promise<DesiredLRPSchedulingInfo[]>;
  /**
   * One page of DesiredLRPs in process guid order with their instances counted by state, as JSON (`{"total",
   * "offset", "domains", "desired_lrps"}`), and the revision it was read at. InvalidRequest for bad bounds.
   */
  desiredLRPSummariesReceptorJSON(query: DesiredLRPSummaryQuery): Promise<ListedJSON>;
  /**
   * One page of tasks, newest first, as JSON (`{"total", "offset", "tasks": [TaskResponse...]}`), and the revision
   * it was read at. InvalidRequest for bad bounds or an unknown state.
   */
  taskSummariesReceptorJSON(query: TaskSummaryQuery): Promise<ListedJSON>;
  /** The fresh domains as JSON, `[{"domain", "ttl_seconds"}]` (null seconds: fresh for ever). */
  domainFreshnessReceptorJSON(): Promise<Uint8Array>;
  desireLRP(lrp: DesiredLRP): Promise<void>;
  updateDesiredLRP(processGuid: string, update: DesiredLRPUpdate): Promise<void>;
  removeDesiredLRP(processGuid: string): Promise<void>;

  tasks(filter?: TaskFilter): Promise<Task[]>;
  /** `tasks` with the etcd revision it was read at. */
  listTasks(filter?: TaskFilter): Promise<Listed<Task>>;
  taskByGuid(taskGuid: string): Promise<Task>;
  desireTask(taskGuid: string, domain: string, definition: TaskDefinition): Promise<void>;
  startTask(taskGuid: string, cellId: string): Promise<boolean>;
  cancelTask(taskGuid: string): Promise<void>;
  failTask(taskGuid: string, failureReason: string): Promise<void>;
  completeTask(taskGuid: string, cellId: string, failed: boolean, failureReason: string, result: string): Promise<void>;
  resolvingTask(taskGuid: string): Promise<void>;
  deleteTask(taskGuid: string): Promise<void>;

  cells(): Promise<CellPresence[]>;
  /** Writes the cell's presence under a new lease of `ttlSeconds`; resolves with the lease id to heartbeat with. */
  registerCell(cell: CellPresence, ttlSeconds: number): Promise<string>;
  /** Keeps the presence alive; ResourceNotFound when its lease is gone (the cell must register again). */
  cellHeartbeat(cellId: string, leaseId: string): Promise<void>;
  /** Ends the presence at once. */
  removeCell(cellId: string): Promise<void>;

  /** One LRP convergence pass (spec §8.3), done when this resolves. */
  convergeLRPs(): Promise<void>;
  /** One task convergence pass (spec §8.2) with these durations (milliseconds), done when this resolves. */
  convergeTasks(durations: TaskConvergenceDurations): Promise<void>;

  /**
   * Rejects when the subscription cannot be made (the receptor answers 500 with an empty body), with
   * `InvalidRequest` for an `afterRevision` that is no revision.
   */
  subscribeToEvents(options?: SubscribeOptions): Promise<EventSubscription>;
}
