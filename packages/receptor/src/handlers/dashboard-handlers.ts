/**
 * Ours, for the dashboard (README "Dashboard"): reads that answer one page, or a summary, whatever the size of the
 * cluster, so that no request moves every record to a browser; and an image's config, read by a cell that runs
 * images. Every page is `?offset=` (default 0) and `?limit=` (1 to 1000, default 50).
 */
import type { Request } from 'express';
import type { Logger } from 'pino';
import { HttpRepClient } from '@diego/rep-api';
import { TASK_SUMMARY_STATES, type BbsClient } from '@diego/bbs-client';
import { convertError, type CellPresence } from '@diego/models';
import { receptorError } from '../errors';
import { queryParam } from '../request-body';
import { sendJson, sendListedJson } from '../responses';
import type { Handlers } from './handler';

export type DashboardHandlers = Pick<
  Handlers,
  'DesiredLRPSummaries' | 'TaskSummaries' | 'CellSummaries' | 'CellActualLRPs' | 'DomainFreshness' | 'ImageConfig'
>;

const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 1000;
/** A cell that does not answer `/state` within this is shown without what it holds: the page must not wait. */
const CELL_STATE_TIMEOUT_MS = 1_000;
/** Reading an image's config may mean asking a registry for its manifest and config blob. */
const IMAGE_CONFIG_TIMEOUT_MS = 30_000;

/** `?offset=&limit=`, checked: a bad one is 400 InvalidRequest naming it. */
function pageOf(req: Request): { offset: number; limit: number } {
  const whole = (name: string, fallback: number, min: number, max: number): number => {
    const raw = queryParam(req, name);
    if (raw === undefined) return fallback;
    const value = /^\d+$/.test(raw) ? Number(raw) : NaN;
    if (!(value >= min && value <= max)) {
      throw receptorError(400, 'InvalidRequest', `${name} must be a whole number from ${min} to ${max}`);
    }
    return value;
  };
  return { offset: whole('offset', 0, 0, Number.MAX_SAFE_INTEGER), limit: whole('limit', DEFAULT_LIMIT, 1, MAX_LIMIT) };
}

/** A cell's row: its presence and, when it answered in time, what it holds (its rep's `/state`). */
export interface CellSummary {
  cell_id: string;
  zone: string;
  rep_address: string;
  capacity: { memory_mb: number; disk_mb: number; containers: number };
  in_use: { memory_mb: number; disk_mb: number; containers: number } | null;
  lrps: number | null;
  tasks: number | null;
  evacuating: boolean | null;
  /** Why `in_use` is null: the cell did not answer `/state` in time, or answered something else. */
  state_error: string | null;
}

/** GET /v1/cell_summaries: one page of cells in cell_id order, and how many there are. */
export interface CellPage {
  total: number;
  offset: number;
  cells: CellSummary[];
}

export function dashboardHandlers(bbs: BbsClient, logger: Logger): DashboardHandlers {
  const rep = new HttpRepClient();

  async function cellSummary(cell: CellPresence): Promise<CellSummary> {
    const base = { cell_id: cell.cell_id, zone: cell.zone, rep_address: cell.rep_address, capacity: cell.capacity };
    try {
      const state = await rep.state(cell, CELL_STATE_TIMEOUT_MS);
      const total = state.TotalResources;
      const available = state.AvailableResources;
      return {
        ...base,
        in_use: {
          memory_mb: total.MemoryMB - available.MemoryMB,
          disk_mb: total.DiskMB - available.DiskMB,
          containers: total.Containers - available.Containers,
        },
        lrps: state.LRPs.length,
        tasks: state.Tasks.length,
        evacuating: state.Evacuating,
        state_error: null,
      };
    } catch (err) {
      return { ...base, in_use: null, lrps: null, tasks: null, evacuating: null, state_error: convertError(err).message };
    }
  }

  return {
    async DesiredLRPSummaries({ req, res }) {
      const { offset, limit } = pageOf(req);
      sendListedJson(res, await bbs.desiredLRPSummariesReceptorJSON({
        domain: queryParam(req, 'domain') ?? '',
        search: queryParam(req, 'search') ?? '',
        offset,
        limit,
      }));
    },

    // Newest first (what was just submitted is what one looks for), paged by the BBS from its memory.
    async TaskSummaries({ req, res }) {
      const { offset, limit } = pageOf(req);
      const state = queryParam(req, 'state') ?? '';
      if (state !== '' && !TASK_SUMMARY_STATES.some((known) => known === state)) {
        throw receptorError(400, 'InvalidRequest', `state must be one of ${TASK_SUMMARY_STATES.join(', ')}`);
      }
      sendListedJson(res, await bbs.taskSummariesReceptorJSON({
        domain: queryParam(req, 'domain') ?? '',
        state,
        search: queryParam(req, 'search') ?? '',
        offset,
        limit,
      }));
    },

    async CellSummaries({ req, res }) {
      const { offset, limit } = pageOf(req);
      const cells = (await bbs.cells()).sort((a, b) => (a.cell_id < b.cell_id ? -1 : a.cell_id > b.cell_id ? 1 : 0));
      const page = await Promise.all(cells.slice(offset, offset + limit).map(cellSummary));
      const unanswered = page.filter((cell) => cell.state_error !== null);
      if (unanswered.length > 0) {
        logger.info({ cell_ids: unanswered.map((cell) => cell.cell_id) }, 'cell-state-unavailable');
      }
      const answer: CellPage = { total: cells.length, offset, cells: page };
      sendJson(res, 200, JSON.stringify(answer));
    },

    async CellActualLRPs({ res, param }) {
      sendListedJson(res, await bbs.actualLRPsReceptorJSON({ cell_id: param('cell_id') }));
    },

    async DomainFreshness({ res }) {
      sendJson(res, 200, await bbs.domainFreshnessReceptorJSON());
    },

    async ImageConfig({ req, res }) {
      const rootfs = queryParam(req, 'rootfs');
      if (rootfs === undefined || !rootfs.startsWith('docker://')) {
        throw receptorError(400, 'InvalidRequest', 'rootfs must be a docker:// URL');
      }
      // Any cell that runs arbitrary images can read one's config (its presence lists `docker` with no stacks).
      const reader = (await bbs.cells()).find((cell) => cell.rootfs_providers['docker']?.length === 0);
      if (reader === undefined) throw receptorError(404, 'ImageConfigUnavailable', 'no cell runs docker images');
      let answer: { status: number; json: string };
      try {
        answer = await rep.imageConfig(reader, rootfs, IMAGE_CONFIG_TIMEOUT_MS);
      } catch (err) {
        throw receptorError(502, 'ImageConfigUnavailable', `cell ${reader.cell_id} did not answer: ${convertError(err).message}`);
      }
      if (answer.status === 200) {
        sendJson(res, 200, answer.json);
        return;
      }
      throw receptorError(answer.status === 400 ? 400 : 422, answer.status === 400 ? 'InvalidRequest' : 'ImageConfigUnavailable',
        `cell ${reader.cell_id}: ${cellErrorMessage(answer)}`);
    },
  };
}

/** The `error` of a cell's `{"error": ...}` answer, or its status when it said nothing readable. */
function cellErrorMessage({ status, json }: { status: number; json: string }): string {
  try {
    const parsed: unknown = JSON.parse(json);
    if (typeof parsed === 'object' && parsed !== null && 'error' in parsed && typeof parsed.error === 'string') return parsed.error;
  } catch {
    // Not JSON: fall through to the status.
  }
  return `answered ${status}`;
}
