/**
 * The one HTTP client of a cell's rep API (see rep-api.ts): the auctioneer's `/state` and `/work`, the BBS's
 * stop of an LRP instance (spec/bbs.md §5.2 retire) and cancel of a task (§7).
 */
import type { CellPresence } from '@diego/models';
import { cellStateFromJson, workFromJson, type CellState, type Work } from './rep-api';

/** BBS `-communicationTimeout`: for every call but `/state`, whose timeout the auctioneer chooses. */
const DEFAULT_TIMEOUT_MS = 10_000;

export interface RepClient {
  /** `GET /state` within `timeoutMs`. Rejects when the cell does not answer 200 with a CellState in time. */
  state(cell: CellPresence, timeoutMs: number): Promise<CellState>;
  /** `POST /work`: resolves with the work the cell refused. Rejects when the cell does not answer 200 with Work. */
  perform(cell: CellPresence, work: Work): Promise<Work>;
  /** Asks the cell to stop an instance; it answers 202 and calls RemoveActualLRP once the container is gone. */
  stopLrpInstance(cell: CellPresence, processGuid: string, instanceGuid: string): Promise<void>;
  /** Asks the cell to stop a cancelled task's container (202). */
  cancelTask(cell: CellPresence, taskGuid: string): Promise<void>;
}

export interface HttpRepClientOptions {
  /** For `/work`, stop and cancel. Default 10 s. */
  timeoutMs?: number;
}

/**
 * @example
 *   const rep = new HttpRepClient();
 *   const state = await rep.state(cell, 1000);
 *   const refused = await rep.perform(cell, { LRPs: [lrp], Tasks: [] });
 */
export class HttpRepClient implements RepClient {
  private readonly timeoutMs: number;

  constructor(options: HttpRepClientOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  async state(cell: CellPresence, timeoutMs: number): Promise<CellState> {
    return cellStateFromJson(await this.request(cell, 'GET', '/state', timeoutMs, isOk));
  }

  async perform(cell: CellPresence, work: Work): Promise<Work> {
    return workFromJson(await this.request(cell, 'POST', '/work', this.timeoutMs, isOk, JSON.stringify(work)));
  }

  async stopLrpInstance(cell: CellPresence, processGuid: string, instanceGuid: string): Promise<void> {
    const path = `/v1/lrps/${encodeURIComponent(processGuid)}/instances/${encodeURIComponent(instanceGuid)}/stop`;
    await this.request(cell, 'POST', path, this.timeoutMs, isAccepted);
  }

  async cancelTask(cell: CellPresence, taskGuid: string): Promise<void> {
    await this.request(cell, 'POST', `/v1/tasks/${encodeURIComponent(taskGuid)}/cancel`, this.timeoutMs, isAccepted);
  }

  /**
   * Ours: `GET /v1/image_config?rootfs=docker://...`, an image's config as the cell reads it from its registry.
   * Resolves with whatever the cell answered (200 the config; 400, 404 or 422 `{"error": ...}`).
   */
  async imageConfig(cell: CellPresence, rootfs: string, timeoutMs: number): Promise<{ status: number; json: string }> {
    const url = `${repBaseUrl(cell.rep_address)}/v1/image_config?rootfs=${encodeURIComponent(rootfs)}`;
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    return { status: response.status, json: await response.text() };
  }

  /** The answer's body; rejects on a transport error, a timeout or a status `accepts` refuses. */
  private async request(cell: CellPresence, method: string, path: string, timeoutMs: number,
    accepts: (status: number) => boolean, body?: string): Promise<string> {
    const url = `${repBaseUrl(cell.rep_address)}${path}`;
    const response = await fetch(url, {
      method,
      signal: AbortSignal.timeout(timeoutMs),
      ...(body === undefined ? {} : { body, headers: { 'Content-Type': 'application/json' } }),
    });
    const text = await response.text();
    if (!accepts(response.status)) throw new Error(`rep ${cell.cell_id} answered ${response.status} to ${method} ${url}`);
    return text;
  }
}

/** The rep answers `/state` and `/work` with 200 and nothing else (Diego's rep client checks exactly that). */
function isOk(status: number): boolean {
  return status === 200;
}

/** Stop and cancel are answered 202; any 2xx means the cell took the request. */
function isAccepted(status: number): boolean {
  return status >= 200 && status < 300;
}

/** Cells register `http://host:port`; a bare `host:port` is taken as plain HTTP. */
function repBaseUrl(repAddress: string): string {
  const base = /^https?:\/\//.test(repAddress) ? repAddress : `http://${repAddress}`;
  return base.replace(/\/+$/, '');
}

/** One line of a rep's `GET /v1/logs/:log_guid`: its JSON as the cell wrote it, and its timestamp for ordering. */
export interface RepLogLine {
  timestamp: string;
  json: string;
}

/**
 * A cell's lines of a log (ours: the rep serves its containers' output as one JSON object per line). Following,
 * the lines keep coming until `signal` aborts or the cell ends the response.
 */
export async function* repLogLines(cell: CellPresence, logGuid: string, follow: boolean, signal: AbortSignal): AsyncGenerator<RepLogLine> {
  const url = `${repBaseUrl(cell.rep_address)}/v1/logs/${encodeURIComponent(logGuid)}${follow ? '?follow=true' : ''}`;
  const response = await fetch(url, { signal });
  if (!response.ok || response.body === null) throw new Error(`rep ${cell.cell_id} answered ${response.status} to GET ${url}`);
  const decoder = new TextDecoder();
  let pending = '';
  for await (const chunk of response.body) {
    pending += decoder.decode(chunk, { stream: true });
    let newline: number;
    while ((newline = pending.indexOf('\n')) !== -1) {
      const json = pending.slice(0, newline);
      pending = pending.slice(newline + 1);
      if (json === '') continue;
      const timestamp = /"timestamp":"([^"]*)"/.exec(json)?.[1] ?? '';
      yield { timestamp, json };
    }
  }
}
