/**
 * The dashboard's reads (ours): answers small enough for a browser at any size of store, computed here from the
 * view's memory rather than by moving every record to the receptor (README "Dashboard").
 */
import {
  BbsError, resolveActualLrpGroup, taskResponseJson, type ActualLRPState, type DesiredLRPSchedulingInfo, type Task,
} from '@diego/models';
import { TASK_SUMMARY_STATES, type DesiredLRPSummary, type DesiredLRPSummaryPage } from '@diego/bbs-client';
import type { Db } from '../../db/db';
import type { QueryHandlers, RpcHandlers } from '../router';

/** A page when the request names no limit, and the most one request may ask for. */
export const DEFAULT_PAGE_LIMIT = 50;
export const MAX_PAGE_LIMIT = 1000;

/** The page bounds asked for, checked: 0 means the default limit. */
export function pageBounds(offset: number, limit: number): { offset: number; limit: number } {
  if (!Number.isInteger(offset) || offset < 0) throw new BbsError('InvalidRequest', 'offset must be 0 or more');
  if (!Number.isInteger(limit) || limit < 0 || limit > MAX_PAGE_LIMIT) {
    throw new BbsError('InvalidRequest', `limit must be between 1 and ${MAX_PAGE_LIMIT}`);
  }
  return { offset, limit: limit === 0 ? DEFAULT_PAGE_LIMIT : limit };
}

/** Newest first; tasks created in the same nanosecond in guid order, so that pages never overlap. */
function newestFirst(a: Task, b: Task): number {
  if (a.created_at !== b.created_at) return a.created_at > b.created_at ? -1 : 1;
  return a.task_guid < b.task_guid ? -1 : a.task_guid > b.task_guid ? 1 : 0;
}

function jsonResponse(value: unknown): { json: Uint8Array } {
  return { json: Buffer.from(JSON.stringify(value), 'utf8') };
}

export type DashboardHandlerStore = Pick<
  Db, 'listDesiredLRPSchedulingInfos' | 'actualLRPGroupsByProcessGuid' | 'domainFreshness' | 'listTasks'
>;

export function dashboardHandlers(
  db: DashboardHandlerStore,
): Pick<RpcHandlers, 'DesiredLRPSummariesReceptorJSON' | 'TaskSummariesReceptorJSON'> & Pick<QueryHandlers, 'DomainFreshnessReceptorJSON'> {
  async function summary(info: DesiredLRPSchedulingInfo): Promise<DesiredLRPSummary> {
    const actual_lrps: Record<ActualLRPState, number> = { UNCLAIMED: 0, CLAIMED: 0, RUNNING: 0, CRASHED: 0 };
    for (const group of await db.actualLRPGroupsByProcessGuid(info.process_guid)) {
      const resolved = resolveActualLrpGroup(group);
      if (resolved !== null) actual_lrps[resolved.lrp.state] += 1;
    }
    const { process_guid, domain, rootfs, instances, memory_mb, disk_mb, annotation } = info;
    return { process_guid, domain, rootfs, instances, memory_mb, disk_mb, annotation, actual_lrps };
  }

  return {
    DesiredLRPSummariesReceptorJSON: async (request, reply) => {
      const { offset, limit } = pageBounds(request.offset, request.limit);
      // Scheduling infos are what the view keeps decoded: a pass over them costs no etcd read and no JSON parse.
      const { items, revision } = await db.listDesiredLRPSchedulingInfos();
      const search = request.search.toLowerCase();
      const domains = new Set<string>();
      const kept: DesiredLRPSchedulingInfo[] = [];
      for (const info of items) {
        domains.add(info.domain);
        if (request.domain !== '' && info.domain !== request.domain) continue;
        if (search !== '' && !info.process_guid.toLowerCase().includes(search)) continue;
        kept.push(info);
      }
      const page: DesiredLRPSummaryPage = {
        total: kept.length,
        offset,
        domains: [...domains].sort(),
        desired_lrps: await Promise.all(kept.slice(offset, offset + limit).map(summary)),
      };
      reply.readAt(revision);
      return jsonResponse(page);
    },

    DomainFreshnessReceptorJSON: async () => jsonResponse(await db.domainFreshness()),

    TaskSummariesReceptorJSON: async (request, reply) => {
      const { offset, limit } = pageBounds(request.offset, request.limit);
      const state = request.state;
      if (state !== '' && !TASK_SUMMARY_STATES.some((known) => known === state)) {
        throw new BbsError('InvalidRequest', `state must be one of ${TASK_SUMMARY_STATES.join(', ')}`);
      }
      // Tasks are what the view keeps decoded (memoized with each record): the pass costs no etcd read or parse.
      const { items, revision } = await db.listTasks(request.domain === '' ? {} : { domain: request.domain });
      const search = request.search.toLowerCase();
      const kept = items.filter((task) => (state === '' || task.state === state)
        && (search === '' || task.task_guid.toLowerCase().includes(search)));
      const page = kept.sort(newestFirst).slice(offset, offset + limit);
      reply.readAt(revision);
      return { json: Buffer.from(`{"total":${kept.length},"offset":${offset},"tasks":[${page.map(taskResponseJson).join(',')}]}`, 'utf8') };
    },
  };
}
