/**
 * The store's interfaces, one per resource (bbs `db/*.go`). The etcd implementation in `etcd/` is the only
 * code that knows keys. Every write is one etcd transaction guarded by `mod_revision` (create-if-absent for
 * creates). Errors are BbsErrors: ResourceNotFound, ResourceExists, ResourceConflict, InvalidStateTransition,
 * the ActualLRPCannotBe* family, InvalidRecord, Unavailable.
 *
 * Consumers declare the narrow slice they use (`Pick<Db, 'taskByGuid' | 'startTask'>`).
 */
import type {
  ActualLRP, ActualLRPGroup, ActualLRPInstanceKey, ActualLRPKey, ActualLRPNetInfo, CellPresence, DesiredLRP,
  DesiredLRPSchedulingInfo, DesiredLRPUpdate, Int64, Task, TaskDefinition,
} from '@diego/models';
import type { ActualLRPFilter, DesiredLRPFilter, Listed, TaskFilter } from '@diego/bbs-client';

/** A record before and after a write. */
export interface Change<T> {
  before: T;
  after: T;
}

/** A fresh domain and how long it stays fresh. */
export interface DomainFreshness {
  domain: string;
  /** Whole seconds its freshness has left; null when it is fresh for ever (upserted with TTL 0). */
  ttl_seconds: number | null;
}

export interface DomainDb {
  /** The fresh domains. */
  domains(): Promise<string[]>;
  /** The fresh domains in key order, each with the time left on its lease (one etcd lease query each). */
  domainFreshness(): Promise<DomainFreshness[]>;
  /** Marks a domain fresh for `ttlSeconds` (0 = for ever: no lease). */
  upsertDomain(domain: string, ttlSeconds: number): Promise<void>;
}

export interface CellDb {
  /** Live cells (their presence lease has not expired). */
  cells(): Promise<CellPresence[]>;
  /** ResourceNotFound when absent. */
  cellById(cellId: string): Promise<CellPresence>;
  /** Writes /v1/cell/<id> under a new lease of `ttlSeconds`; returns the lease id (decimal string). */
  registerCell(cell: CellPresence, ttlSeconds: number): Promise<string>;
  /** Keeps the lease alive once; ResourceNotFound when it has expired (the cell must register again). */
  heartbeatCell(cellId: string, leaseId: string): Promise<void>;
  /** Revokes the cell's lease: the presence is gone at once. */
  removeCell(cellId: string): Promise<void>;
  /**
   * Calls `onGone` with the id of every presence that disappears from now on (lease expired, removed); resolves
   * once watching. `onError` gets a watch that etcd ended. Resolves to the function that stops watching.
   */
  watchCellDisappearances(onGone: (cellId: string) => void, onError: (err: Error) => void): Promise<() => Promise<void>>;
  /**
   * Calls `onArrived` with the id of every presence that appears from now on (a cell registering, or registering
   * again after its lease was lost; heartbeats are no arrivals). Resolves to the function that stops watching.
   */
  watchCellArrivals(onArrived: (cellId: string) => void, onError: (err: Error) => void): Promise<() => Promise<void>>;
}

/** What convergence gathered: the records that decode, after deleting those that do not. */
export interface Gathered<T> {
  records: T[];
  /** Records deleted because they did not decode or validate. */
  pruned: number;
}

/** A DesiredLRP record as stored: its JSON, and the model when it had to be decoded to be read (else null). */
export interface StoredDesiredLRP {
  json: string;
  lrp: DesiredLRP | null;
}

export interface DesiredLRPDb {
  desiredLRPs(filter?: DesiredLRPFilter): Promise<DesiredLRP[]>;
  desiredLRPSchedulingInfos(filter?: DesiredLRPFilter): Promise<DesiredLRPSchedulingInfo[]>;
  /**
   * The scheduling infos of these process guids (those absent are left out; one that does not decode is logged
   * and left out, as `desiredLRPSchedulingInfos` does): convergence's pass over what changed.
   */
  desiredLRPSchedulingInfosOf(processGuids: Iterable<string>): Promise<DesiredLRPSchedulingInfo[]>;
  /** `desiredLRPs` with the revision it was read at. */
  listDesiredLRPs(filter?: DesiredLRPFilter): Promise<Listed<DesiredLRP>>;
  /** `desiredLRPSchedulingInfos` with the revision it was read at. */
  listDesiredLRPSchedulingInfos(filter?: DesiredLRPFilter): Promise<Listed<DesiredLRPSchedulingInfo>>;
  /**
   * `listDesiredLRPs` a page at a time as etcd's pages arrive, with the revision read at, each page waited for
   * before the next: a list of every one (hundreds of MiB) is never held at once. Resolves to the revision.
   */
  eachDesiredLRPPage(filter: DesiredLRPFilter, onPage: (lrps: DesiredLRP[], revision: string) => Promise<void>): Promise<string>;
  /**
   * `eachDesiredLRPPage` of the records as stored, left undecoded where the view has decoded the same write of
   * the key; records that do not decode are left out (and logged) all the same.
   */
  eachStoredDesiredLRPPage(filter: DesiredLRPFilter, onPage: (records: StoredDesiredLRP[], revision: string) => Promise<void>): Promise<string>;
  /** ResourceNotFound when absent. */
  desiredLRPByProcessGuid(processGuid: string): Promise<DesiredLRP>;
  /**
   * Stores the desired LRP (new epoch, index 0) and UNCLAIMED actuals for [0, instances), in transactions of at
   * most 128 operations; the first holds the desired record. ResourceExists when the guid is taken. Indices whose
   * actual already existed are skipped. Returns the stored record and the indices created (to auction).
   */
  desireLRP(lrp: DesiredLRP): Promise<{ desired: DesiredLRP; createdIndices: number[] }>;
  /**
   * Applies instances/routes/annotation, tag index + 1, to the record as it is (re-read on every lost race; only one
   * that keeps changing under every attempt is ResourceConflict).
   * Creates UNCLAIMED actuals for new indices (returned, to auction); retiring extra ones is the caller's job.
   */
  updateDesiredLRP(processGuid: string, update: DesiredLRPUpdate): Promise<Change<DesiredLRP> & { createdIndices: number[] }>;
  /** Deletes the desired record; returns it. Retiring its actuals is the caller's job. ResourceNotFound. */
  removeDesiredLRP(processGuid: string): Promise<DesiredLRP>;
}

/** What RetireActualLRP left to do: nothing (the record was removed), or ask this cell to stop the instance. */
export type RetireResult = { removed: true } | { removed: false; cell: CellPresence; lrp: ActualLRP };

export interface EvacuationResult {
  keepContainer: boolean;
  /** The instance record became UNCLAIMED: the caller must request an auction for it. */
  auctionNeeded: boolean;
}

export interface ActualLRPDb {
  /** A group appears when at least one of its records passes the filter (applied per record). */
  actualLRPGroups(filter?: ActualLRPFilter): Promise<ActualLRPGroup[]>;
  actualLRPGroupsByProcessGuid(processGuid: string): Promise<ActualLRPGroup[]>;
  /** `actualLRPGroups` with the revision it was read at. */
  listActualLRPGroups(filter?: ActualLRPFilter): Promise<Listed<ActualLRPGroup>>;
  /** `actualLRPGroupsByProcessGuid` with the revision it was read at. */
  listActualLRPGroupsByProcessGuid(processGuid: string): Promise<Listed<ActualLRPGroup>>;
  /** ResourceNotFound when neither record exists. */
  actualLRPGroupByProcessGuidAndIndex(processGuid: string, index: number): Promise<ActualLRPGroup>;

  /** Creates an UNCLAIMED instance record (new epoch). ResourceExists when present. */
  createUnclaimedActualLRP(key: ActualLRPKey): Promise<ActualLRP>;
  /** §5.2 Claim: ResourceNotFound, ActualLRPCannotBeClaimed. */
  claimActualLRP(processGuid: string, index: number, instanceKey: ActualLRPInstanceKey): Promise<Change<ActualLRP>>;
  /** §5.2 Start: creates a RUNNING record when missing (`before` null); no write when nothing changes. */
  startActualLRP(key: ActualLRPKey, instanceKey: ActualLRPInstanceKey, netInfo: ActualLRPNetInfo):
    Promise<{ before: ActualLRP | null; after: ActualLRP }>;
  /** §5.2 Crash with §6: `restarted` when the record went straight back to UNCLAIMED (auction it). */
  crashActualLRP(key: ActualLRPKey, instanceKey: ActualLRPInstanceKey, errorMessage: string):
    Promise<Change<ActualLRP> & { restarted: boolean }>;
  /** §5.2 Fail: placement_error on an UNCLAIMED record. */
  failActualLRP(key: ActualLRPKey, errorMessage: string): Promise<Change<ActualLRP>>;
  /** §5.2 Remove: compare-and-delete with no state check; an instance key, when given, must match. */
  removeActualLRP(processGuid: string, index: number, instanceKey?: ActualLRPInstanceKey): Promise<ActualLRP>;
  /** §5.2 Retire: UNCLAIMED/CRASHED or on a missing cell: removed. Otherwise: stop on the cell. */
  retireActualLRP(key: ActualLRPKey): Promise<RetireResult>;
  /** §5.2 Unclaim (evacuation, crash restarts); `changed` false when already UNCLAIMED. */
  unclaimActualLRP(key: ActualLRPKey, instanceKey?: ActualLRPInstanceKey): Promise<{ changed: boolean; after: ActualLRP }>;

  // §8.3 convergence
  /** Every actual LRP group, after deleting the records that do not decode or validate. */
  gatherAndPruneActualLRPs(): Promise<Gathered<ActualLRPGroup>>;
  /** `gatherAndPruneActualLRPs` of these process guids only (a pass over what changed), one guid at a time. */
  gatherAndPruneActualLRPsOf(processGuids: Iterable<string>): Promise<Gathered<ActualLRPGroup>>;
  /**
   * Unclaims an instance CLAIMED or RUNNING on `cellId` while that cell has no presence (the post-2016-04 rule:
   * the record stays, since = now, crash_count kept). False, without a write, when the record is no longer on
   * that cell or the cell is back.
   */
  unclaimActualLRPOnMissingCell(key: ActualLRPKey, cellId: string): Promise<boolean>;

  // §5.3 evacuation
  removeEvacuatingActualLRP(key: ActualLRPKey, instanceKey: ActualLRPInstanceKey): Promise<void>;
  evacuateClaimedActualLRP(key: ActualLRPKey, instanceKey: ActualLRPInstanceKey): Promise<EvacuationResult>;
  evacuateRunningActualLRP(key: ActualLRPKey, instanceKey: ActualLRPInstanceKey, netInfo: ActualLRPNetInfo,
    ttlSeconds: number): Promise<EvacuationResult>;
  evacuateStoppedActualLRP(key: ActualLRPKey, instanceKey: ActualLRPInstanceKey): Promise<EvacuationResult>;
  evacuateCrashedActualLRP(key: ActualLRPKey, instanceKey: ActualLRPInstanceKey, errorMessage: string):
    Promise<EvacuationResult>;
}

/** The evacuation half of ActualLRPDb; the lifecycle half is etcd/actual-lrp-db.ts's. */
export type EvacuationDb = Pick<
  ActualLRPDb,
  | 'removeEvacuatingActualLRP'
  | 'evacuateClaimedActualLRP'
  | 'evacuateRunningActualLRP'
  | 'evacuateStoppedActualLRP'
  | 'evacuateCrashedActualLRP'
>;

export interface TaskDb {
  tasks(filter?: TaskFilter): Promise<Task[]>;
  /** `tasks` with the revision it was read at. */
  listTasks(filter?: TaskFilter): Promise<Listed<Task>>;
  /** ResourceNotFound when absent. */
  taskByGuid(taskGuid: string): Promise<Task>;
  /** PENDING, created_at = updated_at = now. ResourceExists. */
  desireTask(definition: TaskDefinition, taskGuid: string, domain: string): Promise<Task>;
  /** `shouldStart` false (no write) when already RUNNING on this cell. */
  startTask(taskGuid: string, cellId: string): Promise<{ shouldStart: boolean; task: Task }>;
  /** Completes as failed with "task was cancelled"; `before.cell_id` tells the caller which cell to tell. */
  cancelTask(taskGuid: string): Promise<Change<Task>>;
  failTask(taskGuid: string, failureReason: string): Promise<Change<Task>>;
  completeTask(taskGuid: string, cellId: string, failed: boolean, failureReason: string, result: string):
    Promise<Change<Task>>;
  resolvingTask(taskGuid: string): Promise<Change<Task>>;
  /** Requires RESOLVING; a plain delete. */
  deleteTask(taskGuid: string): Promise<Task>;

  // §8.2 convergence: each write is made only if the task is still exactly as gathered (else ResourceConflict).
  /** Every task, after deleting the records that do not decode or validate. */
  gatherAndPruneTasks(): Promise<Gathered<Task>>;
  /** Completes a PENDING or RUNNING task as failed (first_completed_at = updated_at = now). */
  failTaskIfUnchanged(task: Task, failureReason: string): Promise<Change<Task>>;
  /** RESOLVING -> COMPLETED (updated_at = now), so that its callback is sent again. */
  demoteResolvingTaskIfUnchanged(task: Task): Promise<Change<Task>>;
  /** Deletes an expired task. */
  deleteTaskIfUnchanged(task: Task): Promise<void>;
}

export interface Db extends DomainDb, CellDb, DesiredLRPDb, ActualLRPDb, TaskDb {
  /**
   * A change at this etcd revision was seen on a watch: the store's reads from now on reflect at least it (a
   * BBS's in-memory view may otherwise still be applying it).
   */
  observedRevision(revision: string): void;
}

/** The store's clock: Unix nanoseconds. Injectable so tests control time (bbs's fakeclock). */
export type Clock = () => Int64;
