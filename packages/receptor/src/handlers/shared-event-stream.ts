/**
 * The BBS event streams a receptor reads on behalf of its clients. Every client that follows from now shares one
 * BBS stream, so that the BBS encodes and writes each event once per receptor rather than once per client; a
 * client that resumes from an id reads a stream of its own, from there. Each client takes the events through a
 * buffer of its own: a client that stops reading is ended alone (see EventClient), and the others go on.
 */
import type { BbsClient, BbsEvent, EventSubscription } from '@diego/bbs-client';
import type { Logger } from 'pino';

/** A client of an upstream stream. */
export interface EventSink {
  /** Takes an event; false once it wants no more (it ended, for its own reasons). */
  deliver(event: BbsEvent): boolean;
  /** The upstream stream ended: with the compact revision when the BBS said `compacted`. */
  end(compactRevision: string | null): void;
}

/** One BBS event stream and the clients reading it; closed once its last client leaves. */
class Upstream {
  private readonly sinks = new Set<EventSink>();
  private ended = false;

  private constructor(
    private readonly subscription: EventSubscription,
    private readonly onEnd: (upstream: Upstream) => void,
    private readonly logger: Logger,
  ) {}

  /** Opens the BBS stream (rejects as `subscribeToEvents` does) and starts reading it. */
  static async open(bbs: BbsClient, afterRevision: string | undefined, logger: Logger, onEnd: (upstream: Upstream) => void): Promise<Upstream> {
    const subscription = await bbs.subscribeToEvents(afterRevision === undefined ? {} : { afterRevision });
    const upstream = new Upstream(subscription, onEnd, logger);
    // Read once every client waiting for this stream has joined (they resume in microtasks): the first events may
    // already be here, and the clients that asked for the stream must not miss them.
    setImmediate(() => void upstream.read());
    return upstream;
  }

  /** Adds a client; false when the stream has already ended (the caller opens another). */
  join(sink: EventSink): boolean {
    if (this.ended) return false;
    this.sinks.add(sink);
    return true;
  }

  leave(sink: EventSink): void {
    this.sinks.delete(sink);
    if (this.sinks.size === 0) this.finish();
  }

  private async read(): Promise<void> {
    try {
      for (let event = await this.subscription.next(); event !== null; event = await this.subscription.next()) {
        for (const sink of this.sinks) if (!sink.deliver(event)) this.leave(sink);
      }
    } catch (err) {
      this.logger.error({ err: err instanceof Error ? err.message : String(err) }, 'event-stream-read-failed');
    }
    const compactRevision = this.subscription.compactRevision;
    const sinks = [...this.sinks];
    this.finish();
    for (const sink of sinks) sink.end(compactRevision);
  }

  private finish(): void {
    if (this.ended) return;
    this.ended = true;
    this.sinks.clear();
    this.subscription.close();
    this.onEnd(this);
  }
}

/**
 * @example
 *   const streams = new SharedEventStreams(bbs, logger);
 *   const leave = await streams.join(sink, lastEventId); // undefined: from now, on the shared stream
 *   leave();
 */
export class SharedEventStreams {
  /** The stream clients following from now share (or the promise of it, while it opens). */
  private shared: Promise<Upstream> | null = null;

  constructor(
    private readonly bbs: BbsClient,
    private readonly logger: Logger,
  ) {}

  /**
   * Gives `sink` every event after `afterRevision` (an event id or revision), or from now on the shared stream;
   * returns the function that takes it off. Rejects as the BBS subscription does.
   */
  async join(sink: EventSink, afterRevision?: string): Promise<() => void> {
    if (afterRevision !== undefined) {
      const own = await Upstream.open(this.bbs, afterRevision, this.logger, () => undefined);
      if (!own.join(sink)) sink.end(null);
      return () => own.leave(sink);
    }
    for (;;) {
      const opening = (this.shared ??= this.openShared());
      const upstream = await opening;
      if (upstream.join(sink)) return () => upstream.leave(sink);
      // It ended while this client waited for it: the next attempt opens a fresh one.
      if (this.shared === opening) this.shared = null;
    }
  }

  private openShared(): Promise<Upstream> {
    const opening = Upstream.open(this.bbs, undefined, this.logger, () => {
      if (this.shared === opening) this.shared = null;
    });
    // A failed open is every waiting client's failure, and the next client tries again.
    opening.catch(() => {
      if (this.shared === opening) this.shared = null;
    });
    return opening;
  }
}
