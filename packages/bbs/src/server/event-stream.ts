/**
 * GET /v1/events (spec/bbs.md §9.4, with resume): a subscription to the event hub written as server-sent events,
 * `id: <etcd revision>.<place in revision>`, `event: <name>`, `data: <base64 protobuf>`. `Last-Event-ID` (or
 * `?last_event_id=`) resumes after that event, even in the middle of a revision (a bare revision: after that
 * revision); when etcd no longer has that history the stream ends with
 * `event: compacted` and the compact revision. An idle stream gets a `: heartbeat` comment every interval.
 * This is the r0 stream: desired LRPs go out in their V0 form (§4.2).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import { convertError, type BbsError } from '@diego/models';
import type { Logger } from 'pino';
import {
  type BbsEvent, encodeEvent, COMPACTED_EVENT, DEFAULT_HEARTBEAT_INTERVAL_MS, HEARTBEAT_COMMENT, resumeEventId,
} from '@diego/bbs-client';
import type { StreamHandler } from './router';
import { eventToV0 } from './v0';
import type { EventHub, HubSubscription } from '../events/event-hub';

const SSE_HEADERS = {
  'Content-Type': 'text/event-stream; charset=utf-8',
  'Cache-Control': 'no-cache, no-store, must-revalidate',
  Connection: 'keep-alive',
} as const;

/** The SSE frame of one event. */
function sseFrame(event: BbsEvent): string {
  return `id: ${event.id ?? event.revision}\nevent: ${event.type}\ndata: ${Buffer.from(encodeEvent(event)).toString('base64')}\n\n`;
}

const v0Frames = new WeakMap<BbsEvent, string>();

/**
 * The V0 frame of an event as the hub hands it to every subscriber: encoded once, whatever the number of
 * subscribers (the hub gives each of them the same event object).
 */
function v0Frame(event: BbsEvent): string {
  let frame = v0Frames.get(event);
  if (frame === undefined) {
    frame = sseFrame(eventToV0(event));
    v0Frames.set(event, frame);
  }
  return frame;
}

/**
 * After a write, how long a stream lets events gather before its next one. At a thousand changes a second to a
 * hundred streams, a write per revision per stream (each a system call) was most of the BBS's work; the first
 * event after a quiet spell still goes out at once.
 */
const WRITE_GATHER_MS = 20;

/** The frame that ends a stream whose resume point was compacted away. */
function compactedFrame(compactRevision: string): string {
  return `event: ${COMPACTED_EVENT}\ndata: ${compactRevision}\n\n`;
}

export interface EventStreamsOptions {
  logger: Logger;
  /** How often an idle stream gets a heartbeat comment (default 15 s). */
  heartbeatIntervalMs?: number;
}

/** Serves event streams from the hub, and ends them all when the server stops. */
export class EventStreams {
  /** Each open stream's handler, settled once its response has ended. */
  private readonly open = new Set<Promise<void>>();
  private readonly logger: Logger;
  private readonly heartbeatIntervalMs: number;

  constructor(
    private readonly hub: EventHub,
    options: EventStreamsOptions,
  ) {
    this.logger = options.logger;
    this.heartbeatIntervalMs = options.heartbeatIntervalMs ?? DEFAULT_HEARTBEAT_INTERVAL_MS;
  }

  readonly handler: StreamHandler = async (request, response) => {
    const streaming = this.serve(request, response);
    this.open.add(streaming);
    try {
      await streaming;
    } finally {
      this.open.delete(streaming);
    }
  };

  /**
   * Resolves once every open stream has ended and its last bytes are out (the hub must be closed first, which
   * ends them), or after `graceMs` for streams whose clients stopped reading.
   */
  async closeAll(graceMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)));
    try {
      await Promise.race([Promise.allSettled([...this.open]), grace]);
    } finally {
      clearTimeout(timer);
    }
  }

  private async serve(request: IncomingMessage, response: ServerResponse): Promise<void> {
    let subscription: HubSubscription;
    try {
      const url = new URL(request.url ?? '/', 'http://bbs');
      subscription = await this.hub.subscribe(resumeEventId(request.headers['last-event-id'], url.searchParams.get('last_event_id')));
    } catch (err) {
      this.refuse(response, convertError(err));
      return;
    }
    if (response.destroyed) {
      // The client left while the subscription was being made.
      subscription.close();
      return;
    }
    const leave = (): void => subscription.close();
    response.once('close', leave);
    response.writeHead(200, SSE_HEADERS);
    response.flushHeaders();
    const heartbeat = setInterval(() => {
      if (!response.destroyed && !response.writableNeedDrain) response.write(HEARTBEAT_COMMENT);
    }, this.heartbeatIntervalMs);
    try {
      for (let batch = await subscription.next(); batch !== null && !response.destroyed; batch = await subscription.next()) {
        if (!response.write(batch.map(v0Frame).join(''))) await drained(response);
        await delay(WRITE_GATHER_MS);
      }
      const end = subscription.end;
      if (end?.reason === 'compacted' && !response.destroyed) response.write(compactedFrame(end.compactRevision));
    } finally {
      clearInterval(heartbeat);
      response.off('close', leave);
      subscription.close();
      response.end();
    }
    await sent(response);
  }

  /** 400 with the reason for an id that is no revision; otherwise Diego's 500 with no body. */
  private refuse(response: ServerResponse, error: BbsError): void {
    if (error.type === 'InvalidRequest') {
      this.logger.info({ err: error.message }, 'refused-event-subscription');
      const body = `${error.message}\n`;
      response.writeHead(400, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(body) }).end(body);
      return;
    }
    this.logger.error({ err: error.message }, 'failed-to-subscribe-to-events');
    response.writeHead(500, { 'Content-Length': 0 }).end();
  }
}

/** Resolves once the response's last bytes went out, or its connection closed. */
function sent(response: ServerResponse): Promise<void> {
  if (response.writableFinished || response.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    response.once('finish', resolve);
    response.once('close', resolve);
  });
}

/** Resolves once the response can take more, or has closed. */
function drained(response: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      response.off('drain', done);
      response.off('close', done);
      resolve();
    };
    response.on('drain', done);
    response.on('close', done);
  });
}
