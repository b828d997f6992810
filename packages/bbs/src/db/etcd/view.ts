/**
 * A watch-maintained copy of everything under `/v1/` in this BBS's memory (the informer of Kubernetes, the
 * cache Diego's BBS never had): listed once at a revision, then kept current by one etcd watch from the next
 * revision. The store serves its reads from here at a known revision, and writes still go to etcd as
 * compare-and-swaps on the `mod_revision` the view holds, so a view that lags can cost a retry, never a lost
 * update.
 *
 * Reads are consistent with every write made through this BBS: each successful write notes its revision and a
 * read first waits until the view has applied it. Writes by other BBSes show up within the watch's latency
 * (milliseconds), which is what any reader of a replicated store sees.
 *
 * Each record is one object for as long as its value does not change, so what is derived from it (a decoded
 * model, an encoded response) can be remembered against it and is dropped with it. Values are held as the
 * records' JSON, opened once as they arrive (an encrypted value is not decrypted again on every read).
 */
import type { Namespace } from 'etcd3';
import type { Logger } from 'pino';
import { RevisionWatch, type KeyChange } from './revision-watch';
import { ACTUAL_LRP_PREFIX, CELL_PREFIX, DESIRED_LRP_PREFIX, DOMAIN_PREFIX, TASK_PREFIX, V1_PREFIX } from './keys';
import type { EtcdStore, StoreView, ViewIndex, ViewRecord } from './store';

/**
 * A collection whose values the view does not keep, only what `decoders` make of them (decoded as each change
 * arrives): reads of whole values go to etcd. For DesiredLRPs, a few KiB each, of which convergence and the
 * auctioneer need a small part.
 */
export interface DerivedOnly {
  prefix: string;
  decoders: ReadonlyArray<(text: string) => unknown>;
}

export interface EtcdViewOptions {
  logger: Logger;
  indexes?: readonly ViewIndex[];
  derivedOnly?: readonly DerivedOnly[];
  /** How long a read waits for the view to apply this BBS's own write before it asks etcd instead. */
  catchUpTimeoutMs?: number;
}

/** One changed record as the view held it before and holds it after a batch (undefined: absent). */
export interface ViewRecordChange {
  key: string;
  before: ViewRecord | undefined;
  after: ViewRecord | undefined;
}

/** Whole revisions the view has just applied. */
export interface ViewBatch {
  /** etcd's changes, in revision order, with their previous values (for events' befores). */
  changes: readonly KeyChange[];
  /** The records they changed, in the same order (a key changed twice in a batch appears twice). */
  records: readonly ViewRecordChange[];
  /** The view's revision once they are applied. */
  revision: bigint;
}

/**
 * What follows the view's changes: the one etcd watch of a BBS feeds the view first and then everything that
 * follows the store (events, the leader's loops), so each change is received once.
 */
export interface ViewFollower {
  /** Called after the view has applied the batch: reads made from here see it. */
  onBatch(batch: ViewBatch): void;
  /**
   * The view was (re)loaded from a list at `revision`: after the first load, and after a compaction outran its
   * watch, when changes before `revision` were never delivered as batches.
   */
  onLoaded(revision: bigint): void;
}

/** What the view holds, for /debug/vars. */
export interface EtcdViewStatus {
  live: boolean;
  revision: string;
  records: number;
  loads: number;
}

const DEFAULT_CATCH_UP_TIMEOUT_MS = 2_000;
/**
 * What the view holds, listed one collection at a time (at one revision) so that each list's pages are sized by
 * records alike: a page sized by small ActualLRPs would overflow gRPC's limit with DesiredLRPs.
 */
const COLLECTIONS: readonly string[] = [ACTUAL_LRP_PREFIX, CELL_PREFIX, DESIRED_LRP_PREFIX, DOMAIN_PREFIX, TASK_PREFIX];
/** After a failed load, before the next attempt. */
const RELOAD_PAUSE_MS = 1_000;

/**
 * Records grouped so that every range the store asks for is cheap and in etcd's key order: one group per
 * ActualLRP process guid (`/v1/actual/<guid>/`), one group per key elsewhere.
 */
class Collection {
  readonly groups = new Map<string, Map<string, ViewRecord>>();
  private sortedGroups: string[] | null = [];

  set(group: string, record: ViewRecord): void {
    let members = this.groups.get(group);
    if (members === undefined) {
      members = new Map();
      this.groups.set(group, members);
      this.sortedGroups = null;
    }
    members.set(record.key, record);
  }

  delete(group: string, key: string): void {
    const members = this.groups.get(group);
    if (members === undefined || !members.delete(key)) return;
    if (members.size === 0) {
      this.groups.delete(group);
      this.sortedGroups = null;
    }
  }

  /** Every record, in key order. */
  all(out: ViewRecord[]): void {
    this.sortedGroups ??= [...this.groups.keys()].sort(byCodeUnits);
    for (const group of this.sortedGroups) {
      const members = this.groups.get(group);
      if (members !== undefined) pushSorted(members, out);
    }
  }
}

interface Waiter {
  revision: bigint;
  resolve(caughtUp: boolean): void;
  timer: NodeJS.Timeout;
}

/**
 * @example
 *   const view = EtcdView.start(namespace, store, { logger });
 *   await view.current(); // true once the view has applied this BBS's writes
 *   view.record('/v1/desired/web');
 */
export class EtcdView implements StoreView {
  private readonly records = new Map<string, ViewRecord>();
  private readonly collections = new Map<string, Collection>();
  /** Per index: value -> the records found under it, by key. */
  private readonly indexed = new Map<string, { index: ViewIndex; entries: Map<string, Map<string, ViewRecord>> }>();
  private watch: RevisionWatch | null = null;
  private live = false;
  private closed = false;
  private loads = 0;
  private applied = 0n;
  /** The newest revision this BBS wrote under `/v1/` or saw elsewhere: reads of ranges wait for the view to reach it. */
  private written = 0n;
  /** The newest revision seen on other watches: every read waits for it. */
  private observed = 0n;
  /**
   * The keys this BBS wrote that the view has not applied yet, with the revision of each write: a read of one key
   * waits for its own writes only (and for what was observed), not for every write in flight on other keys.
   */
  private readonly writtenKeys = new Map<string, bigint>();
  private waiters: Waiter[] = [];
  private readonly catchUpTimeoutMs: number;
  private readonly followers = new Set<ViewFollower>();

  private constructor(
    private readonly etcd: Namespace,
    private readonly store: EtcdStore,
    private readonly options: EtcdViewOptions,
  ) {
    this.catchUpTimeoutMs = options.catchUpTimeoutMs ?? DEFAULT_CATCH_UP_TIMEOUT_MS;
    for (const index of options.indexes ?? []) this.indexed.set(index.name, { index, entries: new Map() });
  }

  /** Starts loading at once; until the load is done `current()` says false and the store reads etcd. */
  static start(etcd: Namespace, store: EtcdStore, options: EtcdViewOptions): EtcdView {
    const view = new EtcdView(etcd, store, options);
    store.attachView(view);
    view.load();
    return view;
  }

  /** Stops following etcd; reads go to etcd again. */
  close(): void {
    this.closed = true;
    this.stopFollowing();
    this.store.detachView(this);
  }

  get status(): EtcdViewStatus {
    return { live: this.live, revision: this.applied.toString(), records: this.records.size, loads: this.loads };
  }

  /** The revision the view is at: the state after every change up to it. */
  get revision(): string {
    return this.applied.toString();
  }

  /**
   * Reads from now on must reflect `revision`: a write made through this BBS (of `keys`), or a change seen on
   * another watch (no keys: one that changed a key under `/v1/`, so that the view's watch delivers it too).
   */
  expect(revision: string, keys?: readonly string[]): void {
    const value = BigInt(revision);
    if (value > this.written) this.written = value;
    if (keys === undefined) {
      if (value > this.observed) this.observed = value;
      return;
    }
    if (value <= this.applied) return;
    for (const key of keys) if (value > (this.writtenKeys.get(key) ?? 0n)) this.writtenKeys.set(key, value);
  }

  /**
   * Whether reads may be served from the view: it is live and has applied every write this BBS has made (to `key`
   * alone, for a read of one key) and every change observed elsewhere. Waits (up to the catch-up timeout) for the
   * watch to deliver them.
   */
  current(key?: string): boolean | Promise<boolean> {
    if (!this.live) return false;
    const wanted = key === undefined ? this.written : max(this.writtenKeys.get(key) ?? 0n, this.observed);
    if (this.applied >= wanted) return true;
    return new Promise<boolean>((resolve) => {
      const waiter: Waiter = {
        revision: wanted,
        resolve,
        timer: setTimeout(() => {
          this.waiters = this.waiters.filter((other) => other !== waiter);
          this.options.logger.info({ wanted: waiter.revision.toString(), applied: this.revision }, 'view-catch-up-timed-out');
          resolve(false);
        }, this.catchUpTimeoutMs),
      };
      this.waiters.push(waiter);
    });
  }

  /**
   * Whether reads of `keyOrPrefix` can be answered here: it lies in a collection the view holds, and for a
   * collection kept as derived values only, `decoder` is one of those it keeps (a raw read has none).
   */
  holds(keyOrPrefix: string, decoder?: unknown): boolean {
    if (collectionOf(keyOrPrefix) === null) return false;
    const derived = this.derivedOnly(keyOrPrefix);
    return derived === undefined || (decoder !== undefined && derived.decoders.includes(decoder as (text: string) => unknown));
  }

  /**
   * Delivers every batch applied from now on, and each (re)load, to `follower`; returns the function that stops
   * it. A follower added while the view is live is told nothing of what came before: it reads that itself.
   */
  addFollower(follower: ViewFollower): () => void {
    this.followers.add(follower);
    return () => this.followers.delete(follower);
  }

  record(key: string): ViewRecord | undefined {
    return this.records.get(key);
  }

  /** The records an index finds under `value`, in key order; null for an index the view does not keep. */
  lookup(indexName: string, value: string): ViewRecord[] | null {
    const indexed = this.indexed.get(indexName);
    if (indexed === undefined) return null;
    const out: ViewRecord[] = [];
    const members = indexed.entries.get(value);
    if (members !== undefined) pushSorted(members, out);
    return out;
  }

  /** The records under `prefix`, in key order. */
  range(prefix: string): ViewRecord[] {
    const out: ViewRecord[] = [];
    const collection = this.collections.get(collectionOf(prefix) ?? '');
    if (collection === undefined) return out;
    if (prefix === collectionOf(prefix)) {
      collection.all(out);
      return out;
    }
    const group = groupOf(prefix);
    if (group !== null && prefix.startsWith(group)) {
      const members = collection.groups.get(group);
      if (members !== undefined) pushSorted(members, out, prefix);
      return out;
    }
    const all: ViewRecord[] = [];
    collection.all(all);
    return all.filter((record) => record.key.startsWith(prefix));
  }

  private load(): void {
    if (this.closed) return;
    this.loads += 1;
    this.listCollections().then(
      ({ lists, revision }) => {
        if (this.closed) return;
        this.records.clear();
        this.collections.clear();
        for (const indexed of this.indexed.values()) indexed.entries.clear();
        for (const items of lists) for (const item of items) this.put(item);
        this.applied = BigInt(revision);
        this.forgetAppliedWrites();
        this.follow(this.applied + 1n);
        this.live = true;
        this.options.logger.info({ revision, records: this.records.size }, 'view-loaded');
        this.wake();
        for (const follower of this.followers) this.tell(() => follower.onLoaded(this.applied));
      },
      (err: unknown) => {
        if (this.closed) return;
        this.options.logger.error({ error: String(err) }, 'view-load-failed');
        setTimeout(() => this.load(), RELOAD_PAUSE_MS).unref();
      },
    );
  }

  private async listCollections(): Promise<{ lists: ViewRecord[][]; revision: string }> {
    const lists: ViewRecord[][] = [];
    let revision: string | undefined;
    for (const prefix of COLLECTIONS) {
      const listed = await this.store.listFromEtcd(prefix, revision);
      revision ??= listed.revision;
      lists.push(listed.items);
    }
    return { lists, revision: revision ?? '0' };
  }

  private follow(from: bigint): void {
    this.watch = new RevisionWatch(
      this.etcd,
      V1_PREFIX,
      from,
      {
        onChanges: (changes) => this.apply(changes),
        onCompacted: (compactRevision) => {
          // The history the view needed is gone: read everything again (reads go to etcd meanwhile).
          this.options.logger.error({ compact_revision: compactRevision, revision: this.revision }, 'view-compacted');
          this.stopFollowing();
          this.load();
        },
        onClosed: () => this.stopFollowing(),
      },
      // Previous values are for the followers' events (a change's before); the view itself needs only the after.
      { logger: this.options.logger, prevKv: true },
    );
  }

  private stopFollowing(): void {
    this.live = false;
    this.watch?.close();
    this.watch = null;
    for (const waiter of this.waiters) {
      clearTimeout(waiter.timer);
      waiter.resolve(false);
    }
    this.waiters = [];
  }

  private apply(changes: readonly KeyChange[]): void {
    const records: ViewRecordChange[] = [];
    for (const change of changes) {
      const key = change.kv.key.toString();
      const before = this.records.get(key);
      if (change.type === 'Delete') this.remove(key);
      else this.put(this.store.stored(key, change.kv));
      records.push({ key, before, after: this.records.get(key) });
    }
    const last = changes[changes.length - 1];
    if (last !== undefined) this.applied = BigInt(last.kv.mod_revision);
    if (this.writtenKeys.size > 0) {
      for (const { key } of records) if ((this.writtenKeys.get(key) ?? 0n) <= this.applied) this.writtenKeys.delete(key);
    }
    this.wake();
    const batch: ViewBatch = { changes, records, revision: this.applied };
    for (const follower of this.followers) this.tell(() => follower.onBatch(batch));
  }

  /** Drops the writes the view has applied (all of them, after a load at a revision past them). */
  private forgetAppliedWrites(): void {
    for (const [key, revision] of this.writtenKeys) if (revision <= this.applied) this.writtenKeys.delete(key);
  }

  /** A follower's failure is its own: logged, and the view and the other followers go on. */
  private tell(call: () => void): void {
    try {
      call();
    } catch (err) {
      this.options.logger.error({ error: err instanceof Error ? err.message : String(err) }, 'view-follower-failed');
    }
  }

  private derivedOnly(key: string): DerivedOnly | undefined {
    return this.options.derivedOnly?.find((derived) => key.startsWith(derived.prefix));
  }

  private put(record: ViewRecord): void {
    const derived = this.derivedOnly(record.key);
    if (derived !== undefined) {
      const { unreadable } = record;
      record.memo = derived.decoders.map((decoder) => {
        if (unreadable !== undefined) return { decoder, error: unreadable };
        try {
          return { decoder, decoded: decoder(record.value) };
        } catch (error) {
          return { decoder, error };
        }
      });
      record.value = '';
    }
    const collection = collectionOf(record.key);
    const group = groupOf(record.key);
    if (collection === null || group === null) return;
    let members = this.collections.get(collection);
    if (members === undefined) {
      members = new Collection();
      this.collections.set(collection, members);
    }
    members.set(group, record);
    this.reindex(this.records.get(record.key), record);
    this.records.set(record.key, record);
  }

  private remove(key: string): void {
    const collection = collectionOf(key);
    const group = groupOf(key);
    if (collection === null || group === null) return;
    this.collections.get(collection)?.delete(group, key);
    this.reindex(this.records.get(key), undefined);
    this.records.delete(key);
  }

  private reindex(before: ViewRecord | undefined, after: ViewRecord | undefined): void {
    const key = after?.key ?? before?.key;
    if (key === undefined) return;
    for (const { index, entries } of this.indexed.values()) {
      if (!key.startsWith(index.prefix)) continue;
      const from = before === undefined ? null : indexValue(index, before);
      if (from !== null) {
        const members = entries.get(from);
        members?.delete(key);
        if (members?.size === 0) entries.delete(from);
      }
      const to = after === undefined ? null : indexValue(index, after);
      if (to === null || after === undefined) continue;
      let members = entries.get(to);
      if (members === undefined) {
        members = new Map();
        entries.set(to, members);
      }
      members.set(key, after);
    }
  }

  private wake(): void {
    if (this.waiters.length === 0) return;
    const waiting: Waiter[] = [];
    for (const waiter of this.waiters) {
      if (waiter.revision <= this.applied) {
        clearTimeout(waiter.timer);
        waiter.resolve(true);
      } else {
        waiting.push(waiter);
      }
    }
    this.waiters = waiting;
  }
}

function max(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}

function indexValue(index: ViewIndex, record: ViewRecord): string | null {
  try {
    return index.valueOf(record);
  } catch {
    return null;
  }
}

/** `/v1/<collection>/` of a collection the view holds, or null (the election's keys, anything else). */
function collectionOf(key: string): string | null {
  if (!key.startsWith(V1_PREFIX)) return null;
  const end = key.indexOf('/', V1_PREFIX.length);
  const collection = end < 0 ? null : key.slice(0, end + 1);
  return collection !== null && COLLECTIONS.includes(collection) ? collection : null;
}

/** An ActualLRP's process guid prefix (`/v1/actual/<guid>/`), or the key itself elsewhere; null for a bare prefix. */
function groupOf(key: string): string | null {
  if (key.startsWith(ACTUAL_LRP_PREFIX)) {
    const end = key.indexOf('/', ACTUAL_LRP_PREFIX.length);
    return end < 0 ? null : key.slice(0, end + 1);
  }
  return key.endsWith('/') ? null : key;
}

/** etcd orders keys by their bytes; for the ASCII of guids and our key schema that is UTF-16 code unit order. */
function byCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function pushSorted(members: Map<string, ViewRecord>, out: ViewRecord[], prefix?: string): void {
  if (members.size === 1) {
    for (const record of members.values()) if (prefix === undefined || record.key.startsWith(prefix)) out.push(record);
    return;
  }
  const keys = [...members.keys()].sort(byCodeUnits);
  for (const key of keys) {
    const record = members.get(key);
    if (record !== undefined && (prefix === undefined || key.startsWith(prefix))) out.push(record);
  }
}
