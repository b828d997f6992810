/** The dashboard's reads (ours): which page of summaries to read, and what a page holds. */
import type { ActualLRPState, TaskState } from '@diego/models';

/** Which page of DesiredLRP summaries to read (the dashboard's); empty strings filter nothing, limit 0 is 50. */
export interface DesiredLRPSummaryQuery {
  domain: string;
  /** Kept when the process guid contains it, ignoring case. */
  search: string;
  offset: number;
  limit: number;
}

/** Which page of task summaries to read (the dashboard's); empty strings filter nothing, limit 0 is 50. */
export interface TaskSummaryQuery {
  domain: string;
  /** PENDING, RUNNING, COMPLETED or RESOLVING. */
  state: string;
  /** Kept when the task guid contains it, ignoring case. */
  search: string;
  offset: number;
  limit: number;
}

/** One DesiredLRP of a page: what its row shows, and its instances counted by (resolved) state. */
export interface DesiredLRPSummary {
  process_guid: string;
  domain: string;
  rootfs: string;
  instances: number;
  memory_mb: number;
  disk_mb: number;
  annotation: string;
  actual_lrps: Record<ActualLRPState, number>;
}

export interface DesiredLRPSummaryPage {
  /** How many DesiredLRPs the domain and search keep, on all pages. */
  total: number;
  offset: number;
  /** Every domain that has a DesiredLRP, whatever the filter (for choosing one). */
  domains: string[];
  desired_lrps: DesiredLRPSummary[];
}

/** The states a task summary may be filtered by (a stored task is never INVALID). */
export const TASK_SUMMARY_STATES: readonly TaskState[] = ['PENDING', 'RUNNING', 'COMPLETED', 'RESOLVING'];
