/**
 * GET /v1/events (spec/receptor-api.md §9): the BBS's events relayed as the receptor's server-sent events. Only
 * the six LRP event types reach receptor clients (a 2015 Go client fails on any other name); actual LRPs are sent
 * resolved (§3.11). The SSE `id:` is the BBS's, `<etcd revision>.<place in revision>`: the client's `Last-Event-ID`
 * (or `?last_event_id=`) is passed on to the BBS, which resumes after that event (after the whole revision for a
 * bare revision), or ends with `event: compacted` (relayed) when etcd no longer holds that history. An idle stream
 * gets a `: heartbeat` comment every interval. A client that falls more than the BBS's buffer behind is ended.
 * Ours, GET /v1/task_events: the same stream, ids and resumption, carrying the three task events instead; and
 * GET /v1/cluster_events, carrying the cell presence and domain events.
 */
import type { Request, Response } from 'express';
import type { Logger } from 'pino';
import { actualLrpGroupResponseJson, cellResponseJson, desiredLrpResponseJson, taskResponseJson } from '@diego/models';
import {
  COMPACTED_EVENT, DEFAULT_HEARTBEAT_INTERVAL_MS, HEARTBEAT_COMMENT, resumeEventId, type BbsClient, type BbsEvent, type EventSubscription, DEFAULT_SUBSCRIBER_BUFFER,
} from '@diego/bbs-client';
import type { Handlers } from './handler';

export type EventStreamHandlers = Pick<Handlers, 'EventStream' | 'TaskEventStream' | 'ClusterEventStream'>;

/** The event's `data:` JSON as receptor clients know it; null for the events they never had (tasks, cells, domains). */
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
    case 'cell_appeared':
    case 'cell_changed':
    case 'cell_disappeared':
    case 'domain_fresh':
    case 'domain_expired':
      return null;
  }
}

/**
 * Ours (GET /v1/task_events): the task events' `data:` JSON, each task as GET /v1/tasks/:task_guid answers it;
 * null for the LRP events, which GET /v1/events carries.
 */
export function receptorTaskEventData(event: BbsEvent): string | null {
  switch (event.type) {
    case 'task_created':
    case 'task_removed':
      return `{"task":${taskResponseJson(event.task)}}`;
    case 'task_changed':
      return `{"task_before":${taskResponseJson(event.before)},"task_after":${taskResponseJson(event.after)}}`;
    default:
      return null;
  }
}

/**
 * Ours (GET /v1/cluster_events): `cell_appeared`/`cell_changed` with `{"cell"}` (as GET /v1/cells lists it),
 * `cell_disappeared` with `{"cell_id"}`, `domain_fresh`/`domain_expired` with `{"domain"}`; null for the rest.
 */
export function receptorClusterEventData(event: BbsEvent): string | null {
  switch (event.type) {
    case 'cell_appeared':
    case 'cell_changed':
      return `{"cell":${cellResponseJson(event.cell_presence)}}`;
    case 'cell_disappeared':
      return JSON.stringify({ cell_id: event.cell_id });
    case 'domain_fresh':
    case 'domain_expired':
      return JSON.stringify({ domain: event.domain });
    default:
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

/** How a relay ended. */
type RelayEnd = 'bbs-ended' | 'client-left' | 'slow';

/**
 * Event streams' figures for /debug/vars: the open streams and the events they hold for clients that read slower
 * than events come (each at most the buffer size), and the streams ended for falling behind.
 */
export class EventStreamStats {
  open = 0;
  queuedEvents = 0;
  droppedSlow = 0;

  /** The figures as /debug/vars shows them. */
  vars(): Record<string, number> {
    return { subscribers: this.open, queued_events: this.queuedEvents, dropped_slow: this.droppedSlow };
  }
}

/**
 * Relays the BBS's events to the client. The BBS stream is read as it comes (its hub would drop a receptor that
 * lags), and frames the client has not taken wait here, at most `bufferSize`: a client further behind is ended,
 * as the BBS ends its own slow subscribers, with what it was sent so far; it resumes from the last id it got.
 */
async function relay(
  subscription: EventSubscription,
  res: Response,
  bufferSize: number,
  stats: EventStreamStats,
  dataOf: (event: BbsEvent) => string | null,
): Promise<RelayEnd> {
  const waiting: string[] = [];
  const flush = (): void => {
    while (waiting.length > 0 && !res.writableNeedDrain && !clientLeft(res)) {
      const frame = waiting.shift();
      if (frame !== undefined) res.write(frame);
      stats.queuedEvents--;
    }
  };
  res.on('drain', flush);
  try {
    for (;;) {
      const event = await unlessClientLeaves(res, subscription.next());
      if (clientLeft(res)) return 'client-left';
      if (event === null) {
        // What the client has not taken yet still goes out (into the response's buffer) before the end.
        for (const frame of waiting) res.write(frame);
        return 'bbs-ended';
      }
      const data = dataOf(event);
      if (data === null) continue;
      if (waiting.length >= bufferSize) return 'slow';
      // One `data:` line: the encoders write compact JSON, which never holds a newline.
      waiting.push(`id: ${event.id ?? event.revision}\nevent: ${event.type}\ndata: ${data}\n\n`);
      stats.queuedEvents++;
      flush();
    }
  } finally {
    res.off('drain', flush);
    stats.queuedEvents -= waiting.length;
  }
}

export interface EventStreamOptions {
  /** How often an idle stream gets a heartbeat comment (default 15 s, `--eventHeartbeatInterval`). */
  heartbeatIntervalMs?: number;
  /** Events a client may have waiting before it is ended as slow: the BBS hub's 1024 by default. */
  bufferSize?: number;
  /** Where the streams count themselves (for /debug/vars); a private one by default. */
  stats?: EventStreamStats;
}

/** The id the client resumes after, if it asked to. */
function resumeAfter(req: Request): string | undefined {
  const query = req.query.last_event_id;
  return resumeEventId(req.headers['last-event-id'], typeof query === 'string' ? query : undefined);
}

export function eventStreamHandlers(bbs: BbsClient, logger: Logger, options: EventStreamOptions = {}): EventStreamHandlers {
  const heartbeatIntervalMs = options.heartbeatIntervalMs ?? DEFAULT_HEARTBEAT_INTERVAL_MS;
  const bufferSize = options.bufferSize ?? DEFAULT_SUBSCRIBER_BUFFER;
  const stats = options.stats ?? new EventStreamStats();
  /** Relays the BBS's events that `dataOf` has data for, until the BBS's stream or the client ends. */
  async function stream(req: Request, res: Response, dataOf: (event: BbsEvent) => string | null): Promise<void> {
    const afterRevision = resumeAfter(req);
    const subscription = await bbs.subscribeToEvents(afterRevision === undefined ? {} : { afterRevision });
    let heartbeat: NodeJS.Timeout | undefined;
    stats.open++;
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
      const end = await relay(subscription, res, bufferSize, stats, dataOf);
      if (end === 'slow') {
        stats.droppedSlow++;
        logger.info({ buffer_size: bufferSize }, 'event-subscriber-dropped');
      }
      if (end === 'bbs-ended' && subscription.compactRevision !== null && !clientLeft(res)) {
        res.write(`event: ${COMPACTED_EVENT}\ndata: ${subscription.compactRevision}\n\n`);
      }
    } finally {
      stats.open--;
      clearInterval(heartbeat);
      subscription.close();
    }
    // The BBS's stream ended (or the client left): so does this one. A failure goes to the error middleware,
    // which ends the response it cannot change.
    res.end();
  }

  return {
    EventStream: ({ req, res }) => stream(req, res, receptorEventData),
    TaskEventStream: ({ req, res }) => stream(req, res, receptorTaskEventData),
    ClusterEventStream: ({ req, res }) => stream(req, res, receptorClusterEventData),
  };
}
