/**
 * GET /v1/events (spec/bbs.md §9.4): one etcd watch per subscriber, from the moment it connects; each event
 * written and flushed as `id: <etcd revision>`, `event: <name>`, `data: <base64 protobuf>`. The client closing
 * the connection cancels the watch. This is the r0 stream: desired LRPs go out in their V0 form (§4.2).
 */
import type { ServerResponse } from 'node:http';
import { convertError } from '@diego/models';
import type { Namespace, Watcher } from 'etcd3';
import type { Logger } from 'pino';
import type { BbsEvent } from '../bbs-client';
import type { StreamHandler } from '../server/router';
import { eventToV0 } from '../server/v0';
import { encodeEvent } from './event-codec';
import { watchBbsEvents } from './watch-events';

const SSE_HEADERS = {
  'Content-Type': 'text/event-stream; charset=utf-8',
  'Cache-Control': 'no-cache, no-store, must-revalidate',
  Connection: 'keep-alive',
} as const;

/** The SSE frame of one event. */
export function sseFrame(event: BbsEvent): string {
  return `id: ${event.revision}\nevent: ${event.type}\ndata: ${Buffer.from(encodeEvent(event)).toString('base64')}\n\n`;
}

/** Serves event streams, and ends them all when the server stops. */
export class EventStreams {
  /** Each open stream's response, and the promise that settles once its watch is cancelled. */
  private readonly open = new Map<ServerResponse, Promise<void>>();

  constructor(
    private readonly etcd: Namespace,
    private readonly logger: Logger,
  ) {}

  readonly handler: StreamHandler = async (_request, response) => {
    for (const [name, value] of Object.entries(SSE_HEADERS)) response.setHeader(name, value);
    const closed = new Promise<void>((resolve) => response.once('close', resolve));
    let watcher: Watcher;
    try {
      watcher = await watchBbsEvents(
        this.etcd,
        this.logger,
        (event) => response.write(sseFrame(eventToV0(event))),
        (err) => {
          this.logger.error({ err: err.message }, 'event-watch-failed');
          response.end();
        },
      );
    } catch (err) {
      this.logger.error({ err: convertError(err).message }, 'failed-to-subscribe-to-events');
      for (const name of Object.keys(SSE_HEADERS)) response.removeHeader(name);
      response.writeHead(500, { 'Content-Length': 0 }).end();
      return;
    }
    response.flushHeaders();
    const finished = closed.then(() => watcher.cancel());
    this.open.set(response, finished);
    try {
      await finished;
    } finally {
      this.open.delete(response);
    }
  };

  /** Ends every open stream and resolves once their watches are cancelled. */
  async closeAll(): Promise<void> {
    const finishing = [...this.open.entries()].map(([response, finished]) => {
      response.end();
      return finished;
    });
    await Promise.allSettled(finishing);
  }
}
