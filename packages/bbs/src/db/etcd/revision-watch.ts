/**
 * One etcd watch over a key prefix from a given revision, that never skips or repeats a revision.
 *
 * Written on etcd's watch stream directly rather than etcd3's `Watcher`, which (1.1.2) resumes a broken watch
 * from the revision in the last response's header: while a watch catches up on history, that header is etcd's
 * current revision, not the last one sent, so a reconnect then loses the rest of the history. It also drops the
 * compact revision of a watch that etcd cancelled for compaction, which a resuming client must be told.
 */
import {
  ClientClosedError,
  Range,
  type IDuplexStream,
  type IEvent,
  type IKeyValue,
  type IWatchRequest,
  type IWatchResponse,
  type Namespace,
} from 'etcd3';
import type { Logger } from 'pino';

/** A key changed: the key of `kv` (and `prev_kv`) is relative to the namespace, as every other read gives it. */
export interface KeyChange {
  type: 'Put' | 'Delete';
  kv: IKeyValue;
  /** The value before the change; absent for a create, or when compaction already removed it. */
  prev_kv?: IKeyValue | null;
}

export interface RevisionWatchHandlers {
  /** The changes of one or more whole revisions, in revision order. Never a revision twice, never half of one. */
  onChanges(changes: KeyChange[]): void;
  /** etcd has compacted the history past the next revision to watch: the watch is over. */
  onCompacted(compactRevision: string): void;
  /** The etcd client was closed under the watch: the watch is over. */
  onClosed(): void;
}

export interface RevisionWatchOptions {
  logger: Logger;
  /** Ask etcd for each change's previous value (default true); a watcher that needs only the new state says false. */
  prevKv?: boolean;
}

/** The first pause before reopening a broken stream; it doubles up to the second. */
const FIRST_RETRY_MS = 100;
const MAX_RETRY_MS = 5_000;

/**
 * Watches `prefix` (with previous values) from `startRevision`. A broken stream is reopened from the revision
 * after the last whole response delivered, after a growing pause; large responses come in fragments, which are
 * joined before delivery so that a break between fragments loses nothing.
 *
 * etcd lets a watch start at the compact revision itself, but a change at that revision may come without its
 * previous value (compacted away), and a change without its before cannot be told. So the watch starts one
 * revision early (a revision etcd must still hold, or it says "compacted") and drops what it gets of that one.
 *
 * @example
 *   const watch = new RevisionWatch(etcd, '/v1/', 1042n, { onChanges, onCompacted, onClosed }, { logger });
 *   watch.close();
 */
export class RevisionWatch {
  private stream: IDuplexStream<IWatchRequest, IWatchResponse> | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private closed = false;
  private nextRevision: bigint;
  private pause = FIRST_RETRY_MS;

  constructor(
    private readonly etcd: Namespace,
    private readonly prefix: string,
    startRevision: bigint,
    private readonly handlers: RevisionWatchHandlers,
    private readonly options: RevisionWatchOptions,
  ) {
    this.nextRevision = startRevision;
    this.open();
  }

  /** Stops watching; no handler is called after this. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.release();
  }

  private open(): void {
    this.etcd.watchClient.watch().then(
      (stream) => this.attach(stream),
      (err: unknown) => this.broken(err),
    );
  }

  private attach(stream: IDuplexStream<IWatchRequest, IWatchResponse>): void {
    if (this.closed) {
      endStream(stream);
      return;
    }
    this.stream = stream;
    let fragments: IEvent[] = [];
    const current = (): boolean => this.stream === stream;
    stream.on('data', (response) => {
      if (!current()) return;
      if (response.compact_revision !== '0') {
        this.close();
        this.handlers.onCompacted(response.compact_revision);
        return;
      }
      if (response.canceled) {
        this.broken(new Error(`etcd cancelled the watch: ${response.cancel_reason}`));
        return;
      }
      if (response.created) {
        this.pause = FIRST_RETRY_MS;
        return;
      }
      fragments.push(...response.events);
      if (response.fragment) return;
      const events = fragments.filter((event) => BigInt(event.kv.mod_revision) >= this.nextRevision);
      fragments = [];
      const last = events[events.length - 1];
      // Nothing new: the revision before the start, or a progress notification.
      if (last === undefined) return;
      const lost = this.options.prevKv === false
        ? undefined
        : events.find((event) => event.kv.create_revision !== event.kv.mod_revision && !event.prev_kv);
      if (lost !== undefined) {
        // Only a compaction racing the watch removes a previous value it was still to send.
        this.close();
        this.handlers.onCompacted(lost.kv.mod_revision);
        return;
      }
      this.nextRevision = BigInt(last.kv.mod_revision) + 1n;
      this.handlers.onChanges(events.map((event) => this.keyChange(event)));
    });
    stream.on('error', (err) => {
      if (current()) this.broken(err);
    });
    stream.on('end', () => {
      if (current()) this.broken(new Error('etcd ended the watch stream'));
    });
    const range = Range.prefix(Buffer.concat([this.etcd.prefix, Buffer.from(this.prefix)]));
    stream.write({
      create_request: {
        key: range.start,
        range_end: range.end,
        // Revision 0 would mean "from now".
        start_revision: (this.nextRevision > 1n ? this.nextRevision - 1n : 1n).toString(),
        prev_kv: this.options.prevKv !== false,
        fragment: true,
      },
    });
  }

  /** The stream failed: reopen it after a pause, unless the client itself is gone. */
  private broken(err: unknown): void {
    if (this.closed) return;
    this.release();
    if (err instanceof ClientClosedError) {
      this.close();
      this.handlers.onClosed();
      return;
    }
    this.options.logger.error(
      { next_revision: this.nextRevision.toString(), retry_ms: this.pause, err: err instanceof Error ? err.message : String(err) },
      'event-watch-broken',
    );
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (!this.closed) this.open();
    }, this.pause);
    this.pause = Math.min(this.pause * 2, MAX_RETRY_MS);
  }

  private release(): void {
    if (this.stream !== null) endStream(this.stream);
    this.stream = null;
  }

  private keyChange(event: IEvent): KeyChange {
    const unprefix = (kv: IKeyValue): IKeyValue => ({ ...kv, key: kv.key.subarray(this.etcd.prefix.length) });
    return {
      type: event.type,
      kv: unprefix(event.kv),
      ...(event.prev_kv === null || event.prev_kv === undefined ? {} : { prev_kv: unprefix(event.prev_kv) }),
    };
  }
}

/**
 * Ends a watch stream: our side first, then the call. Cancelling a stream still open for writing would count, in
 * etcd3's connection pool, as a failure of the host, and three in a row open its circuit breaker.
 */
function endStream(stream: IDuplexStream<IWatchRequest, IWatchResponse>): void {
  stream.end();
  stream.cancel();
}
