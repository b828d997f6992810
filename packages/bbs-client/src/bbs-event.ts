import type { ActualLRPGroup, CellPresence, DesiredLRP, Task } from '@diego/models';

/**
 * A BBS event, decoded; `revision` is the etcd revision that produced it. `id` names the event in an event stream
 * (`<revision>.<place>`, the SSE `id:`); events from the hub or a BBS stream carry it, in-process watches need none.
 */
export type BbsEvent = { revision: string; id?: string } & (
  | { type: 'desired_lrp_created'; desired_lrp: DesiredLRP }
  | { type: 'desired_lrp_changed'; before: DesiredLRP; after: DesiredLRP }
  | { type: 'desired_lrp_removed'; desired_lrp: DesiredLRP }
  | { type: 'actual_lrp_created'; actual_lrp_group: ActualLRPGroup }
  | { type: 'actual_lrp_changed'; before: ActualLRPGroup; after: ActualLRPGroup }
  | { type: 'actual_lrp_removed'; actual_lrp_group: ActualLRPGroup }
  | { type: 'task_created'; task: Task }
  | { type: 'task_changed'; before: Task; after: Task }
  | { type: 'task_removed'; task: Task }
  // Ours (no Diego event): a cell's presence written, rewritten, or gone (removed or its lease expired)...
  | { type: 'cell_appeared'; cell_presence: CellPresence }
  | { type: 'cell_changed'; cell_presence: CellPresence }
  | { type: 'cell_disappeared'; cell_id: string }
  // ...and a domain set fresh (again), or no longer fresh (its TTL ran out).
  | { type: 'domain_fresh'; domain: string }
  | { type: 'domain_expired'; domain: string }
);
