/**
 * The BBS's event hub (spec/bbs.md §9.3, bbs `events/hub.go`, with replay): the store's one watch (its view's,
 * see view.ts; a watch of the hub's own for a store without a view) feeds every subscriber, each through a
 * bounded buffer. Each revision's events are decoded once, for the hub and the leader's loops alike. A subscriber that lets its buffer fill is dropped: it gets what
 * it had buffered, then its end. Unlike Diego's hub, a subscriber may start after any etcd revision and gets
 * every event after it, once: recent events come from the hub's history, older ones from a watch of its own
 * that hands over to the shared one when they meet.
 */
import { BbsError } from '@diego/models';
import type { Namespace } from 'etcd3';
import type { Logger } from 'pino';
import { type BbsEvent, DEFAULT_SUBSCRIBER_BUFFER, parseEventId, type ResumePoint } from '@diego/bbs-client';
import { etcdCall } from '../db/etcd/errors';
import { V1_PREFIX } from '../db/etcd/keys';
import type { RecordCodec } from '../db/etcd/record-codec';
import { RevisionWatch } from '../db/etcd/revision-watch';
import { batchEventGroups, eventGroups, type EventGroup, type StoreFeed } from './watch-events';

/** Events the hub keeps for subscribers that resume a little behind. */
const DEFAULT_HISTORY_SIZE = 1024;

export interface EventHubOptions {
  logger: Logger;
  /** Events a subscriber may have waiting; one more revision's worth and it is dropped. Default 1024. */
  bufferSize?: number;
  /** Recent events kept for resuming subscribers. Default 1024. */
  historySize?: number;
  /** How the store's values are stored (the store's codec); plain JSON by default. */
  codec?: RecordCodec;
  /** The store whose view's watch feeds the hub; without one (or without a view) the hub watches etcd itself. */
  feed?: StoreFeed;
}

/** Why a subscription ended. */
export type SubscriptionEnd =
  /** The subscriber closed it, or the hub stopped. */
  | { reason: 'closed' }
  /** Its buffer filled: it did not keep up. */
  | { reason: 'slow' }
  /** etcd no longer has the history after the revision it asked for (re-list, then subscribe after the list). */
  | { reason: 'compacted'; compactRevision: string }
  /** The etcd client was closed under the hub. */
  | { reason: 'failed' };

/**
 * One subscriber's view of the hub.
 *
 * @example
 *   const subscription = await hub.subscribe('1041'); // everything after revision 1041
 *   for (let batch = await subscription.next(); batch !== null; batch = await subscription.next()) apply(batch);
 *   if (subscription.end?.reason === 'compacted') relist();
 */
export interface HubSubscription {
  /**
   * Every event waiting (at least one), in revision order and always whole revisions; null once the subscription
   * has ended and nothing is left.
   */
  next(): Promise<BbsEvent[] | null>;
  /** Why it ended; null while it has not. */
  readonly end: SubscriptionEnd | null;
  /** Ends it and releases what it holds; `next()` then resolves null. */
  close(): void;
}

/** Subscriber and watch counts, for operators and for tests that check nothing is left behind. */
export interface EventHubCounts {
  /** Open subscriptions. */
  readonly subscribers: number;
  /**
   * Open etcd watches of the hub's own: those of subscribers still catching up, and the shared one (while anyone
   * subscribes) only where no view feeds the hub.
   */
  readonly watches: number;
}

/** The shared feed and what it has seen. */
interface Live {
  /** Stops the feed: the view's follower, or the hub's own watch. */
  stop(): void;
  /** Whether the feed is an etcd watch of the hub's own (no view). */
  ownWatch: boolean;
  /**
   * Every event after this revision is in `history` (the hub started here, or dropped the groups up to it); null
   * while the view it follows is still loading (subscribers catch up by themselves meanwhile).
   */
  floor: bigint | null;
  history: EventGroup[];
  historyEvents: number;
}

class Subscriber implements HubSubscription {
  /** The last revision queued; only later ones are taken. */
  cursor: bigint;
  /** Resuming in the middle of a revision: the events of that revision it already had (up to this place). */
  private seenOfNext: { revision: bigint; place: number } | null;
  /** Its own watch while it catches up on history the hub does not hold; null once it follows the hub. */
  catchUp: RevisionWatch | null = null;
  end: SubscriptionEnd | null = null;
  private queue: BbsEvent[] = [];
  private wake: (() => void) | null = null;

  constructor(
    after: ResumePoint,
    private readonly bufferSize: number,
    private readonly release: (subscriber: Subscriber) => void,
  ) {
    this.cursor = after.place === null ? after.revision : after.revision - 1n;
    this.seenOfNext = after.place === null ? null : { revision: after.revision, place: after.place };
  }

  get following(): boolean {
    return this.catchUp === null;
  }

  /** Queues a revision's events; false (and the subscriber is dropped) when they do not fit. */
  offer(group: EventGroup): boolean {
    if (this.end !== null) return false;
    if (group.revision <= this.cursor) return true;
    const seen = this.seenOfNext?.revision === group.revision ? this.seenOfNext.place + 1 : 0;
    this.seenOfNext = null;
    const events = seen === 0 ? group.events : group.events.slice(seen);
    if (this.queue.length > 0 && this.queue.length + events.length > this.bufferSize) {
      this.finish({ reason: 'slow' });
      return false;
    }
    this.queue.push(...events);
    this.cursor = group.revision;
    this.wakeUp();
    return true;
  }

  /** Ends the subscription; what is queued is still delivered. */
  finish(end: SubscriptionEnd): void {
    if (this.end !== null) return;
    this.end = end;
    this.catchUp?.close();
    this.catchUp = null;
    this.release(this);
    this.wakeUp();
  }

  async next(): Promise<BbsEvent[] | null> {
    while (this.queue.length === 0 && this.end === null) {
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
    if (this.queue.length === 0) return null;
    const batch = this.queue;
    this.queue = [];
    return batch;
  }

  close(): void {
    this.queue = [];
    this.finish({ reason: 'closed' });
  }

  private wakeUp(): void {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }
}

/**
 * @example
 *   const hub = new EventHub(etcd, { logger });
 *   const subscription = await hub.subscribe(); // from now
 *   hub.close();
 */
export class EventHub {
  private readonly subscribers = new Set<Subscriber>();
  private live: Live | null = null;
  private closed = false;
  private readonly bufferSize: number;
  private readonly historySize: number;

  constructor(
    private readonly etcd: Namespace,
    private readonly options: EventHubOptions,
  ) {
    this.bufferSize = options.bufferSize ?? DEFAULT_SUBSCRIBER_BUFFER;
    this.historySize = options.historySize ?? DEFAULT_HISTORY_SIZE;
  }

  get counts(): EventHubCounts {
    let catchingUp = 0;
    for (const subscriber of this.subscribers) if (!subscriber.following) catchingUp++;
    return { subscribers: this.subscribers.size, watches: (this.live?.ownWatch === true ? 1 : 0) + catchingUp };
  }

  /**
   * Subscribes to every event after `after`: an event id (`<revision>.<place>`: the rest of that revision, then
   * later ones) or a bare etcd revision (a list's: every later revision); after the current revision when absent.
   * Rejects with BbsError `InvalidRequest` for an id that is neither, `Unavailable` when etcd cannot be reached or
   * the hub has stopped.
   */
  async subscribe(after?: string): Promise<HubSubscription> {
    const resumeAfter = after === undefined ? undefined : parseEventId(after);
    this.assertOpen();
    const current = await this.currentRevision();
    this.assertOpen();
    const subscriber = new Subscriber(resumeAfter ?? { revision: current, place: null }, this.bufferSize, (s) => this.release(s));
    this.subscribers.add(subscriber);
    const live = (this.live ??= this.startLive(current));
    if (live.floor !== null && subscriber.cursor >= live.floor) this.follow(subscriber, live);
    else this.catchUp(subscriber);
    return subscriber;
  }

  /** Ends every subscription (what they have queued is still delivered) and stops watching. */
  close(): void {
    this.closed = true;
    for (const subscriber of this.subscribers) subscriber.finish({ reason: 'closed' });
    this.stopLive();
  }

  private assertOpen(): void {
    if (this.closed) throw new BbsError('Unavailable', 'the event hub has stopped');
  }

  private async currentRevision(): Promise<bigint> {
    const response = await etcdCall(this.etcd.get(V1_PREFIX).exec());
    return BigInt(response.header.revision);
  }

  private startLive(after: bigint): Live {
    const live: Live = { stop: () => undefined, ownWatch: false, floor: null, history: [], historyEvents: 0 };
    const { feed } = this.options;
    const view = feed?.viewStatus ?? null;
    const stopFollowing = feed?.followView({
      onBatch: (batch) => this.publish(live, batchEventGroups(batch, this.options.logger, this.options.codec)),
      onLoaded: (revision) => this.reloaded(live, revision),
    }) ?? null;
    if (stopFollowing !== null && view !== null) {
      live.stop = stopFollowing;
      // Every batch from here on comes after the view's revision (none while it loads: its load says where).
      if (view.live) live.floor = BigInt(view.revision);
      return live;
    }
    const watch = new RevisionWatch(
      this.etcd,
      V1_PREFIX,
      after + 1n,
      {
        onChanges: (changes) => this.publish(live, eventGroups(changes, this.options.logger, this.options.codec)),
        onCompacted: (compactRevision) => this.liveLost(live, { reason: 'compacted', compactRevision }),
        onClosed: () => this.liveLost(live, { reason: 'failed' }),
      },
      { logger: this.options.logger },
    );
    live.stop = () => watch.close();
    live.ownWatch = true;
    live.floor = after;
    return live;
  }

  private stopLive(): void {
    this.live?.stop();
    this.live = null;
  }

  private publish(live: Live, groups: readonly EventGroup[]): void {
    if (this.live !== live) return;
    for (const group of groups) {
      live.history.push(group);
      live.historyEvents += group.events.length;
      while (live.historyEvents > this.historySize) {
        const dropped = live.history.shift();
        if (dropped === undefined) break;
        live.historyEvents -= dropped.events.length;
        live.floor = dropped.revision;
      }
      for (const subscriber of this.subscribers) {
        if (subscriber.following) this.deliver(subscriber, group);
      }
    }
  }

  /**
   * The view was (re)loaded at `revision`: the changes before it never came as batches (its first load, or etcd
   * compacted them away under its watch). The hub's history starts again there; a subscriber that had not seen
   * up to it catches up with a watch of its own, which ends it as `compacted` where etcd no longer has what it
   * missed, as the hub's own watch would have.
   */
  private reloaded(live: Live, revision: bigint): void {
    if (this.live !== live) return;
    if (live.floor !== null) this.options.logger.error({ revision: revision.toString() }, 'event-hub-view-reloaded');
    live.floor = revision;
    live.history = [];
    live.historyEvents = 0;
    for (const subscriber of this.subscribers) {
      if (subscriber.cursor >= revision) {
        if (!subscriber.following) this.follow(subscriber, live);
      } else if (subscriber.following) {
        this.catchUp(subscriber);
      }
    }
  }

  /** The shared watch cannot go on: its followers end; subscribers still catching up carry on by themselves. */
  private liveLost(live: Live, end: SubscriptionEnd): void {
    if (this.live !== live) return;
    this.live = null;
    this.options.logger.error({ ...end }, 'event-hub-watch-lost');
    for (const subscriber of this.subscribers) {
      if (subscriber.following) subscriber.finish(end);
    }
  }

  /** Hands the hub's history after the subscriber's cursor to it, then live events. */
  private follow(subscriber: Subscriber, live: Live): void {
    subscriber.catchUp?.close();
    subscriber.catchUp = null;
    for (const group of live.history) {
      if (!this.deliver(subscriber, group)) return;
    }
  }

  /** Watches from the subscriber's cursor until it meets the hub's history, then follows the hub. */
  private catchUp(subscriber: Subscriber): void {
    subscriber.catchUp = new RevisionWatch(
      this.etcd,
      V1_PREFIX,
      subscriber.cursor + 1n,
      {
        onChanges: (changes) => {
          for (const group of eventGroups(changes, this.options.logger, this.options.codec)) {
            if (!this.deliver(subscriber, group)) return;
          }
          // Every change up to the last one's revision has been seen, events or not (domains, cells).
          const seen = BigInt(changes[changes.length - 1]?.kv.mod_revision ?? '0');
          const live = this.live;
          if (live?.floor != null && seen >= live.floor) this.follow(subscriber, live);
        },
        onCompacted: (compactRevision) => subscriber.finish({ reason: 'compacted', compactRevision }),
        onClosed: () => subscriber.finish({ reason: 'failed' }),
      },
      { logger: this.options.logger },
    );
  }

  private deliver(subscriber: Subscriber, group: EventGroup): boolean {
    if (subscriber.offer(group)) return true;
    if (subscriber.end?.reason === 'slow') {
      this.options.logger.info({ revision: group.revision.toString(), buffer_size: this.bufferSize }, 'event-subscriber-dropped');
    }
    return false;
  }

  private release(subscriber: Subscriber): void {
    this.subscribers.delete(subscriber);
    if (this.subscribers.size === 0) this.stopLive();
  }
}
