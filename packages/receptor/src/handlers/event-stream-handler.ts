/**
 * GET /v1/events (spec/receptor-api.md §9): the BBS's events relayed as the receptor's server-sent events. Only
 * the six LRP event types reach receptor clients (a 2015 Go client fails on any other name); actual LRPs are sent
 * resolved (§3.11). The SSE `id:` is the etcd revision that produced the event: the client's `Last-Event-ID` (or
 * `?last_event_id=`) is passed on to the BBS, which resumes after it, or ends with `event: compacted` (relayed)
 * when etcd no longer holds that history. An idle stream gets a `: heartbeat` comment every interval.
 */
import type { Request, Response } from 'express';
import { actualLrpGroupResponseJson, desiredLrpResponseJson } from '@diego/models';
import {
  COMPACTED_EVENT,
  DEFAULT_HEARTBEAT_INTERVAL_MS,
  HEARTBEAT_COMMENT,
  resumeRevision,
  type BbsClient,
  type BbsEvent,
  type EventSubscription,
} from '@diego/bbs';
import type { Handlers } from './handler';

export type EventStreamHandlers = Pick<Handlers, 'EventStream'>;

/** The event's `data:` JSON as receptor clients know it; null for the events they never had (tasks). */
export function receptorEventData(event: BbsEvent): string | null {
  switch (event.type) {
    case 'desired_lrp_created':
    case 'desired_lrp_removed':
      return `{"desired_lrp":${desiredLrpResponseJson(event.desired_lrp)}}`;
    case 'desired_lrp_changed':
      return `{"desired_lrp_before":${desiredLrpResponseJson(event.before)},"desired_lrp_after":${desiredLrpResponseJson(event.after)}}`;
    case 'actual_lrp_created':
    case 'actual_lrp_removed':
      return `{"actual_lrp":${actualLrpGroupResponseJson(event.actual_lrp_group)}}`;
    case 'actual_lrp_changed':
      return `{"actual_lrp_before":${actualLrpGroupResponseJson(event.before)},"actual_lrp_after":${actualLrpGroupResponseJson(event.after)}}`;
    case 'task_created':
    case 'task_changed':
    case 'task_removed':
      return null;
  }
}

/** Settles with `outcome` or with null when the client goes away first; no listener outlives the call. */
function unlessClientLeaves<T>(res: Response, outcome: Promise<T>): Promise<T | null> {
  return new Promise<T | null>((resolve, reject) => {
    const onClose = (): void => resolve(null);
    res.once('close', onClose);
    outcome.then(resolve, reject).finally(() => res.off('close', onClose));
  });
}

function clientLeft(res: Response): boolean {
  return res.destroyed || res.writableEnded;
}

async function relay(subscription: EventSubscription, res: Response): Promise<void> {
  for (;;) {
    if (clientLeft(res)) return;
    const event = await unlessClientLeaves(res, subscription.next());
    if (event === null) return;
    const data = receptorEventData(event);
    if (data === null) continue;
    // One `data:` line: the encoders write compact JSON, which never holds a newline.
    if (!res.write(`id: ${event.revision}\nevent: ${event.type}\ndata: ${data}\n\n`)) {
      await unlessClientLeaves(res, new Promise<void>((resolve) => res.once('drain', resolve)));
    }
  }
}

export interface EventStreamOptions {
  /** How often an idle stream gets a heartbeat comment (default 15 s, `--eventHeartbeatInterval`). */
  heartbeatIntervalMs?: number;
}

/** The revision the client resumes after, if it asked to. */
function resumeAfter(req: Request): string | undefined {
  const query = req.query.last_event_id;
  return resumeRevision(req.headers['last-event-id'], typeof query === 'string' ? query : undefined);
}

export function eventStreamHandlers(bbs: BbsClient, options: EventStreamOptions = {}): EventStreamHandlers {
  const heartbeatIntervalMs = options.heartbeatIntervalMs ?? DEFAULT_HEARTBEAT_INTERVAL_MS;
  return {
    async EventStream({ req, res }) {
      const afterRevision = resumeAfter(req);
      const subscription = await bbs.subscribeToEvents(afterRevision === undefined ? {} : { afterRevision });
      let heartbeat: NodeJS.Timeout | undefined;
      try {
        if (clientLeft(res)) return;
        res.writeHead(200, {
          'Content-Type': 'text/event-stream; charset=utf-8',
          'Cache-Control': 'no-cache, no-store, must-revalidate',
          Connection: 'keep-alive',
        });
        res.flushHeaders();
        heartbeat = setInterval(() => {
          if (!clientLeft(res) && !res.writableNeedDrain) res.write(HEARTBEAT_COMMENT);
        }, heartbeatIntervalMs);
        await relay(subscription, res);
        if (subscription.compactRevision !== null && !clientLeft(res)) {
          res.write(`event: ${COMPACTED_EVENT}\ndata: ${subscription.compactRevision}\n\n`);
        }
      } finally {
        clearInterval(heartbeat);
        subscription.close();
      }
      // The BBS's stream ended (or the client left): so does this one. A failure goes to the error middleware,
      // which ends the response it cannot change.
      res.end();
    },
  };
}
