/**
 * GET /v1/events (spec/receptor-api.md §9): the BBS's events relayed as the receptor's server-sent events. Only
 * the six LRP event types reach receptor clients (a 2015 Go client fails on any other name); actual LRPs are sent
 * resolved (§3.11). The SSE `id:` is the BBS's, `<etcd revision>.<place in revision>`: the client's `Last-Event-ID`
 * (or `?last_event_id=`) is passed on to the BBS, which resumes after that event (after the whole revision for a
 * bare revision), or ends with `event: compacted` (relayed) when etcd no longer holds that history. An idle stream
 * gets a `: heartbeat` comment every interval. A client that falls more than the BBS's buffer behind is ended.
 * Clients that follow from now share one BBS stream (shared-event-stream.ts); each event's frame is made once.
 * Ours, GET /v1/task_events: the same stream, ids and resumption, carrying the three task events instead; and
 * GET /v1/cluster_events, carrying the cell presence and domain events.
 */
import type { Request, Response } from 'express';
import type { Logger } from 'pino';
import { actualLrpGroupResponseJson, cellResponseJson, desiredLrpResponseJson, taskResponseJson } from '@diego/models';
import {
  COMPACTED_EVENT, DEFAULT_HEARTBEAT_INTERVAL_MS, HEARTBEAT_COMMENT, resumeEventId, type BbsClient, type BbsEvent, DEFAULT_SUBSCRIBER_BUFFER,
} from '@diego/bbs-client';
import type { Handlers } from './handler';
import { SharedEventStreams, type EventSink } from './shared-event-stream';

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

type EventData = (event: BbsEvent) => string | null;

/**
 * After a write to a client, how long its events gather before the next write: one write per client every few
 * milliseconds rather than one per event, with the first event after a quiet spell sent at once.
 */
const WRITE_GATHER_MS = 20;

/**
 * `dataOf` as whole SSE frames, each made once per event whatever the number of clients (the clients of a shared
 * BBS stream get the same event objects); null for the events it has no data for.
 */
function framed(dataOf: EventData): (event: BbsEvent) => string | null {
  const frames = new WeakMap<BbsEvent, string | null>();
  return (event) => {
    let frame = frames.get(event);
    if (frame === undefined) {
      const data = dataOf(event);
      // One `data:` line: the encoders write compact JSON, which never holds a newline.
      frame = data === null ? null : `id: ${event.id ?? event.revision}\nevent: ${event.type}\ndata: ${data}\n\n`;
      frames.set(event, frame);
    }
    return frame;
  };
}

/**
 * One client's stream: the events come as the BBS stream gives them (its hub would drop a receptor that lags,
 * and the other clients of a shared stream must not wait), and frames the client has not taken wait here, at most
 * `bufferSize`: a client further behind is ended, as the BBS ends its own slow subscribers, with what it was sent
 * so far; it resumes from the last id it got.
 */
class EventClient implements EventSink {
  private readonly waiting: string[] = [];
  /** While events gather after a write: the timer of the next. */
  private gathering: NodeJS.Timeout | null = null;
  private outcome: RelayEnd | null = null;
  private settle: ((end: RelayEnd) => void) | null = null;
  /** Resolves with how the stream ended. */
  readonly ended: Promise<RelayEnd>;
  /** The compact revision when the BBS ended the stream with `compacted`. */
  compactRevision: string | null = null;

  constructor(
    private readonly res: Response,
    private readonly frameOf: (event: BbsEvent) => string | null,
    private readonly bufferSize: number,
    private readonly stats: EventStreamStats,
  ) {
    this.ended = new Promise((resolve) => (this.settle = resolve));
    res.on('drain', this.flush);
    res.once('close', this.left);
  }

  deliver(event: BbsEvent): boolean {
    if (this.outcome !== null) return false;
    if (clientLeft(this.res)) return this.finish('client-left');
    const frame = this.frameOf(event);
    if (frame === null) return true;
    if (this.waiting.length >= this.bufferSize) return this.finish('slow');
    this.waiting.push(frame);
    this.stats.queuedEvents++;
    if (this.gathering === null) this.flush();
    return true;
  }

  end(compactRevision: string | null): void {
    if (this.outcome !== null) return;
    this.compactRevision = compactRevision;
    // What the client has not taken yet still goes out (into the response's buffer) before the end.
    if (!clientLeft(this.res)) for (const frame of this.waiting) this.res.write(frame);
    this.finish('bbs-ended');
  }

  /**
   * Writes what waits, in one write, unless the client has yet to take the last one; then lets events gather for
   * a while (see WRITE_GATHER_MS).
   */
  private readonly flush = (): void => {
    if (this.waiting.length === 0 || this.res.writableNeedDrain || clientLeft(this.res)) return;
    this.res.write(this.waiting.join(''));
    this.stats.queuedEvents -= this.waiting.length;
    this.waiting.length = 0;
    if (this.gathering !== null) clearTimeout(this.gathering);
    this.gathering = setTimeout(() => {
      this.gathering = null;
      this.flush();
    }, WRITE_GATHER_MS);
  };

  private readonly left = (): void => {
    this.finish('client-left');
  };

  /** Always false: the client takes no more events. */
  private finish(end: RelayEnd): false {
    if (this.outcome !== null) return false;
    this.outcome = end;
    if (this.gathering !== null) clearTimeout(this.gathering);
    this.res.off('drain', this.flush);
    this.res.off('close', this.left);
    this.stats.queuedEvents -= this.waiting.length;
    this.waiting.length = 0;
    this.settle?.(end);
    return false;
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

const eventFrame = framed(receptorEventData);
const taskEventFrame = framed(receptorTaskEventData);
const clusterEventFrame = framed(receptorClusterEventData);

export function eventStreamHandlers(bbs: BbsClient, logger: Logger, options: EventStreamOptions = {}): EventStreamHandlers {
  const heartbeatIntervalMs = options.heartbeatIntervalMs ?? DEFAULT_HEARTBEAT_INTERVAL_MS;
  const bufferSize = options.bufferSize ?? DEFAULT_SUBSCRIBER_BUFFER;
  const stats = options.stats ?? new EventStreamStats();
  // One BBS stream for every client of the three routes that follows from now (they differ only in what they keep).
  const upstreams = new SharedEventStreams(bbs, logger);
  /** Relays the BBS's events that `frameOf` has a frame for, until the BBS's stream or the client ends. */
  async function stream(req: Request, res: Response, frameOf: (event: BbsEvent) => string | null): Promise<void> {
    const client = new EventClient(res, frameOf, bufferSize, stats);
    const leave = await upstreams.join(client, resumeAfter(req));
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
      const end = await client.ended;
      if (end === 'slow') {
        stats.droppedSlow++;
        logger.info({ buffer_size: bufferSize }, 'event-subscriber-dropped');
      }
      if (end === 'bbs-ended' && client.compactRevision !== null && !clientLeft(res)) {
        res.write(`event: ${COMPACTED_EVENT}\ndata: ${client.compactRevision}\n\n`);
      }
    } finally {
      stats.open--;
      clearInterval(heartbeat);
      leave();
    }
    // The BBS's stream ended (or the client left): so does this one. A failure goes to the error middleware,
    // which ends the response it cannot change.
    res.end();
  }

  return {
    EventStream: ({ req, res }) => stream(req, res, eventFrame),
    TaskEventStream: ({ req, res }) => stream(req, res, taskEventFrame),
    ClusterEventStream: ({ req, res }) => stream(req, res, clusterEventFrame),
  };
}
