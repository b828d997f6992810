/**
 * Ours: GET /v1/logs/:log_guid, what the containers of a log printed (an LRP's instances, a task), gathered from
 * every cell's rep (GET /v1/logs/:log_guid there), oldest first, one JSON object per line as the cells wrote it.
 * With `?follow=true` the response stays open and each new line follows as a cell prints it. A cell that cannot
 * be reached is left out (and logged): the others' lines are still worth having.
 */
import type { Logger } from 'pino';
import { repLogLines, type RepLogLine } from '@diego/rep-api';
import type { BbsClient } from '@diego/bbs-client';
import type { CellPresence } from '@diego/models';
import type { Handlers } from './handler';

export type LogsHandlers = Pick<Handlers, 'Logs'>;

export function logsHandlers(bbs: BbsClient, logger: Logger): LogsHandlers {
  return {
    async Logs({ req, res, param }) {
      const logGuid = param('log_guid');
      const follow = req.query['follow'] === 'true';
      const cells = await bbs.cells();
      const gone = new AbortController();
      res.once('close', () => gone.abort());
      res.writeHead(200, { 'Content-Type': 'application/x-ndjson', 'Cache-Control': 'no-cache' });
      const unreachable = (cell: CellPresence, err: unknown): void => {
        if (!gone.signal.aborted) logger.info({ cell_id: cell.cell_id, log_guid: logGuid, err: String(err) }, 'cell-logs-unreachable');
      };
      const histories = await Promise.all(cells.map(async (cell) => {
        const lines: RepLogLine[] = [];
        try {
          for await (const line of repLogLines(cell, logGuid, false, gone.signal)) lines.push(line);
        } catch (err) {
          unreachable(cell, err);
        }
        return lines;
      }));
      for (const line of histories.flat().sort((a, b) => a.timestamp.localeCompare(b.timestamp))) res.write(`${line.json}\n`);
      if (!follow || gone.signal.aborted) {
        res.end();
        return;
      }
      // Each cell's followed stream starts with its history again: that many lines are skipped.
      await Promise.all(cells.map(async (cell, i) => {
        let skip = histories[i]?.length ?? 0;
        try {
          for await (const line of repLogLines(cell, logGuid, true, gone.signal)) {
            if (skip > 0) skip -= 1;
            else res.write(`${line.json}\n`);
          }
        } catch (err) {
          unreachable(cell, err);
        }
      }));
      res.end();
    },
  };
}
