/**
 * CONTRACT between the leader's loops (issue 5): the converger, the auctioneer and the task completion workers
 * run only in the BBS that holds the etcd election `/v1/locks/bbs_lock`, each as a LeaderLoop.
 */
import type { Task } from '@diego/models';

/** Something the leader starts when it wins the election and stops when it loses it or shuts down. */
export interface LeaderLoop {
  readonly name: string;
  start(): Promise<void>;
  /** Resolves once the loop has stopped: no timer, watch or request of it is left running. */
  stop(): Promise<void>;
}

/** Diego's LRPStartRequest (spec/bbs.md §8.4): indices of one process guid to place, with its resources. */
export interface LRPStartRequest {
  process_guid: string;
  domain: string;
  indices: number[];
  memory_mb: number;
  disk_mb: number;
  rootfs: string;
}

/** Diego's TaskStartRequest. */
export interface TaskStartRequest {
  task_guid: string;
  domain: string;
  memory_mb: number;
  disk_mb: number;
  rootfs: string;
}

/** The auctioneer's intake: requests are batched and placed at once (the converger re-auctions through it). */
export interface AuctionRequester {
  requestLRPAuctions(starts: LRPStartRequest[]): void;
  requestTaskAuctions(tasks: TaskStartRequest[]): void;
}

/** The completion workers' intake: a COMPLETED task with a completion_callback_url (convergence resubmits). */
export interface TaskCompletionSubmitter {
  submit(task: Task): void;
}
