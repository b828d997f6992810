/**
 * The two calls the BBS makes to a cell's rep (spec/bbs.md §5.2 retire, §7 cancel). The rep answers 202 and
 * does the work afterwards: stopping the container ends in RemoveActualLRP, cancelling in the task's failure.
 */
import type { CellPresence } from '@diego/models';

/** BBS `-communicationTimeout`. */
const REP_TIMEOUT_MS = 10_000;

export interface RepClient {
  stopLrpInstance(cell: CellPresence, processGuid: string, instanceGuid: string): Promise<void>;
  cancelTask(cell: CellPresence, taskGuid: string): Promise<void>;
}

export class HttpRepClient implements RepClient {
  async stopLrpInstance(cell: CellPresence, processGuid: string, instanceGuid: string): Promise<void> {
    await this.post(cell, `/v1/lrps/${encodeURIComponent(processGuid)}/instances/${encodeURIComponent(instanceGuid)}/stop`);
  }

  async cancelTask(cell: CellPresence, taskGuid: string): Promise<void> {
    await this.post(cell, `/v1/tasks/${encodeURIComponent(taskGuid)}/cancel`);
  }

  private async post(cell: CellPresence, path: string): Promise<void> {
    const url = `${repBaseUrl(cell.rep_address)}${path}`;
    const response = await fetch(url, { method: 'POST', signal: AbortSignal.timeout(REP_TIMEOUT_MS) });
    await response.arrayBuffer();
    if (!response.ok) throw new Error(`rep ${cell.cell_id} answered ${response.status} to POST ${url}`);
  }
}

/** Cells register `http://host:port`; a bare `host:port` is taken as plain HTTP. */
function repBaseUrl(repAddress: string): string {
  const base = /^https?:\/\//.test(repAddress) ? repAddress : `http://${repAddress}`;
  return base.replace(/\/+$/, '');
}
