/**
 * The generic etcd helper under every resource (k8s `registry.Store` / `storage.Interface`): reads return the
 * value with its `mod_revision`, creates are create-if-absent transactions, updates and deletes compare the
 * `mod_revision` they read, and lists are paged, consistent snapshots. Values are record JSON here; the resource
 * modules own the models' codecs, and every value goes to and comes from etcd through the store's RecordCodec
 * (record-codec.ts: plain JSON, or encrypted at rest). Failures come out as BbsErrors (see errors.ts).
 *
 * Every call is retried through etcd's transient failures (faults.ts). Writes stay exact under retries: a
 * compare-and-write or create whose earlier attempt may have been applied (its answer lost) counts a lost compare
 * as its own success when the key's history shows that attempt's write (the first change after the revision
 * compared, or the put that created the key) holding exactly what it wrote, even if later writes have replaced
 * it. That identifies the write because every record this store writes carries a stamp (a modification tag's
 * epoch or index, an `updated_at`), and an encrypted value its own random nonce. Records change through the
 * guaranteed update (guaranteed-update.ts), which builds on these compare-and-writes.
 */
import { Range, type ILeaseKeepAliveResponse, type IKeyValue, type ITxnResponse, type Namespace } from 'etcd3';
import { BbsError, isBbsError } from '@diego/models';
import { GRPCDeadlineExceededError } from 'etcd3';
import type { Logger } from 'pino';
import { etcdCall, fromEtcdError, invalidRecord, resourceConflict, resourceExists, resourceNotFound } from './errors';
import { ETCD_ATTEMPT_TIMEOUT_MS, withEtcdRetries, type AttemptContext } from './faults';
import { KeyedQueue } from './keyed-queue';
import { V1_PREFIX } from './keys';
import { RecordCodec } from './record-codec';

/** A stored value with the etcd revision of its last write (opaque; never stored in the value). */
export interface Versioned<T> {
  key: string;
  value: T;
  modRevision: string;
  /** The attached lease id, '0' for none. */
  lease: string;
}

/** A record as read from etcd: its value is the record's JSON, whatever etcd holds. */
export interface StoredRecord extends Versioned<string> {
  /** The label of the encryption key etcd holds the value under; null for plain JSON. */
  keyLabel: string | null;
  /** Why the value cannot be read (a key this BBS was not given, ...); `value` is then empty. */
  unreadable?: BbsError;
}

/** What a decoder made of a record's value: the model, or why it does not decode. */
export interface Decoded {
  decoder: unknown;
  decoded?: unknown;
  error?: unknown;
}

/** A stored record as the view holds it. */
export interface ViewRecord extends StoredRecord {
  /** What decoders made of `value` (see EtcdStore's memoized decoders); at most a couple per record. */
  memo?: Decoded[];
}

/** A secondary index the view keeps over one collection, e.g. ActualLRPs by cell. */
export interface ViewIndex {
  name: string;
  /** The collection indexed (`/v1/actual/`). */
  prefix: string;
  /** The value a record is found under; null (or a throw, for a record that does not decode) for none. */
  valueOf(record: ViewRecord): string | null;
}

/**
 * What the store reads through when a watch-maintained copy of `/v1/` is attached (view.ts's EtcdView): the
 * store knows this shape only, so the view builds on the store and not the other way round.
 */
export interface StoreView {
  /** The revision the view is at: the state after every change up to it. */
  readonly revision: string;
  /** Reads from now on must reflect `revision`: a write of `keys` made through this BBS, or (no keys) a change seen on a watch. */
  expect(revision: string, keys?: readonly string[]): void;
  /**
   * Whether reads may be served from the view now; may wait (bounded) for it to apply this BBS's writes (those of
   * `key` only, for a read of that one key).
   */
  current(key?: string): boolean | Promise<boolean>;
  /** Whether reads of `keyOrPrefix` with `decoder` can be answered from the view. */
  holds(keyOrPrefix: string, decoder?: unknown): boolean;
  record(key: string): ViewRecord | undefined;
  /** The records an index finds under `value`, in key order; null for an index the view does not keep. */
  lookup(indexName: string, value: string): ViewRecord[] | null;
  /** The records under `prefix`, in key order. */
  range(prefix: string): ViewRecord[];
}

/** A consistent snapshot of a prefix, and the revision it was read at (to watch from). */
export interface ListResult<T> {
  items: Versioned<T>[];
  revision: string;
}

/** `ListResult` of the records undecoded. */
export interface StoredList {
  items: StoredRecord[];
  revision: string;
}

export interface StoreOptions {
  /** At most this many keys per range request. */
  pageSize: number;
  /** Aim for pages of about this many bytes (gRPC refuses answers over 4 MiB). */
  pageBytes: number;
  /** The largest request a write may make (default ETCD_MAX_REQUEST_BYTES). */
  maxRequestBytes?: number;
  logger: Logger;
  /** How values are stored (plain JSON by default). */
  codec?: RecordCodec;
}

/**
 * etcd's default `--max-request-bytes`, 1.5 MiB: etcd refuses a larger request (and gRPC one over that plus
 * 512 KiB). A write is measured against it before it is sent, so that a too-large record is the client's
 * `InvalidRequest` and never an etcd failure. A cluster run with a larger limit sets the BBS's to match.
 */
export const ETCD_MAX_REQUEST_BYTES = 1.5 * 1024 * 1024;
/** An estimate, on the safe side, of a request's bytes beyond its keys and values: framing, compares, lease ids. */
const REQUEST_BASE_BYTES = 1024;
const REQUEST_BYTES_PER_OP = 64;

/** A key and value to create. */
export interface Entry {
  key: string;
  value: string;
}

/** A value decoder; throws for a record that does not decode or validate. */
export type Decode<T> = (text: string) => T;

const memoizable = new WeakSet<Decode<unknown>>();

/**
 * Marks a decoder whose results the view may keep with the record (until its value changes), so each stored
 * value is decoded once rather than on every read. Only for models that are small and read in bulk (ActualLRPs,
 * scheduling infos, tasks, cells): the results are shared, and nobody may change them.
 */
export function memoizedDecoder<T>(decode: Decode<T>): Decode<T> {
  memoizable.add(decode);
  return decode;
}

/** A list filter, applied to the decoded values before anything is built for the records that fail it. */
export type Keep<T> = (value: T) => boolean;

/** A compaction between two pages restarts the list; after this many restarts the error is the caller's. */
const LIST_RESTARTS = 3;
/**
 * Pages start small and grow at most this much per page while the largest record seen so far says they fit in
 * `pageBytes`. An answer over gRPC's 4 MiB must never happen: etcd3 retries it as a transport failure and then
 * opens its circuit breaker on the host.
 */
const FIRST_PAGE_KEYS = 16;
const PAGE_GROWTH = 4;

export class EtcdStore {
  private view: StoreView | null = null;
  readonly codec: RecordCodec;
  /**
   * The guaranteed updates of one key made through this store, one at a time (guaranteed-update.ts): each then
   * reads what the one before it wrote, and only updates from other BBSes can race it, instead of every concurrent
   * request here losing its compare-and-swap to the others in turn.
   */
  readonly updates = new KeyedQueue();

  constructor(
    private readonly ns: Namespace,
    private readonly options: StoreOptions,
  ) {
    this.codec = options.codec ?? RecordCodec.PLAIN;
  }

  /** From now on reads are served by `view` whenever it is current (see view.ts). */
  attachView(view: StoreView): void {
    this.view = view;
  }

  detachView(view: StoreView): void {
    if (this.view === view) this.view = null;
  }

  /** The record undecoded, or null when absent. */
  async find(key: string): Promise<StoredRecord | null> {
    return this.findFor(key);
  }

  /** `find`, from the view when it can decode the record with `decode` (see DerivedOnly). */
  private async findFor(key: string, decode?: Decode<unknown>): Promise<StoredRecord | null> {
    const view = await this.currentView(key, decode, 'one-key');
    if (view !== null) return view.record(key) ?? null;
    return this.findInEtcd(key);
  }

  /** `find`, always from etcd. */
  async findInEtcd(key: string): Promise<StoredRecord | null> {
    const res = await this.retrying('get', () => this.ns.get(key).exec());
    const kv = res.kvs[0];
    return kv === undefined ? null : this.stored(key, kv);
  }

  /**
   * A key-value etcd gave (`key` relative to the namespace) as the record it holds: opened by the codec, or marked
   * unreadable, with a log line naming the record and the key label (never a passphrase).
   */
  stored(key: string, kv: IKeyValue): StoredRecord {
    const base = { key, modRevision: kv.mod_revision, lease: kv.lease };
    try {
      const { text, label } = this.codec.open(key, kv.value.toString());
      return { ...base, value: text, keyLabel: label };
    } catch (err) {
      const unreadable = invalidRecord(err);
      this.options.logger.error({ key, error: unreadable.message }, 'record-unreadable');
      return { ...base, value: '', keyLabel: null, unreadable };
    }
  }

  /** ResourceNotFound when absent; InvalidRecord when it does not decode. */
  async get<T>(key: string, decode: Decode<T>): Promise<Versioned<T>> {
    const found = await this.tryGet(key, decode);
    if (found === null) throw resourceNotFound();
    return found;
  }

  /**
   * `tryGet`, always from etcd rather than the view: for a record another BBS may have written a moment ago (a
   * create that found its key taken reads what took it).
   */
  async tryGetFromEtcd<T>(key: string, decode: Decode<T>): Promise<Versioned<T> | null> {
    const raw = await this.findInEtcd(key);
    if (raw === null) return null;
    try {
      return withValue(raw, decodeRecord(raw, decode));
    } catch (err) {
      throw invalidRecord(err);
    }
  }

  /** Null when absent; InvalidRecord when it does not decode. */
  async tryGet<T>(key: string, decode: Decode<T>): Promise<Versioned<T> | null> {
    const raw = await this.findFor(key, decode);
    if (raw === null) return null;
    try {
      return withValue(raw, decodeRecord(raw, decode));
    } catch (err) {
      throw invalidRecord(err);
    }
  }

  /** Create-if-absent; ResourceExists when the key is present. Returns the write's revision. */
  async create(key: string, text: string, lease?: string): Promise<string> {
    const value = this.codec.seal(key, text);
    this.checkSize([{ key, value }]);
    const revision = await this.retrying('create', async ({ outcomeUnknown }) => {
      const res = await this.ns.if(key, 'Create', '==', 0).then(this.putOp(key, value, lease)).else(this.ns.get(key)).commit();
      if (res.succeeded) return res.header.revision;
      const kv = elseRead(res);
      if (outcomeUnknown && kv !== undefined && (await this.createdBy(key, kv, value, lease))) return kv.create_revision;
      throw resourceExists();
    });
    return this.wrote(key, revision);
  }

  /**
   * Creates every entry in one transaction, or none when any key is present (returns false then).
   * At most 128 entries (etcd's default `--max-txn-ops`).
   */
  async createAll(records: readonly Entry[]): Promise<boolean> {
    const entries = records.map((entry) => ({ key: entry.key, value: this.codec.seal(entry.key, entry.value) }));
    const [first, ...rest] = entries;
    if (first === undefined) return true;
    this.checkSize(entries);
    const revision = await this.retrying('create-all', async ({ outcomeUnknown }) => {
      const txn = this.ns.if(first.key, 'Create', '==', 0);
      for (const entry of rest) txn.and(entry.key, 'Create', '==', 0);
      const res = await txn
        .then(...entries.map((entry) => this.putOp(entry.key, entry.value)))
        .else(...entries.map((entry) => this.ns.get(entry.key)))
        .commit();
      if (res.succeeded) return res.header.revision;
      if (!outcomeUnknown) return null;
      // Our own earlier attempt, if every key holds what it wrote (they were written in one transaction).
      const found = entries.map((_entry, i) => res.responses[i]?.response_range?.kvs[0]);
      const ours = found.every((kv, i) => kv !== undefined && kv.value.toString() === entries[i]?.value);
      return ours ? (found[0]?.mod_revision ?? null) : null;
    });
    if (revision === null) return false;
    this.wrote(entries.map((entry) => entry.key), revision);
    return true;
  }

  /**
   * Writes `value` if the key is still at `modRevision`: ResourceNotFound when it is gone, ResourceConflict when
   * someone wrote it since. `lease` attaches the key to a lease (none: the put detaches it from any).
   */
  async compareAndSwap(key: string, modRevision: string, text: string, lease?: string): Promise<string> {
    const value = this.codec.seal(key, text);
    this.checkSize([{ key, value }]);
    const revision = await this.retrying('compare-and-swap', async ({ outcomeUnknown }) => {
      const res = await this.ns.if(key, 'Mod', '==', modRevision).then(this.putOp(key, value, lease)).else(this.ns.get(key)).commit();
      if (res.succeeded) return res.header.revision;
      if (outcomeUnknown) {
        const ours = await this.firstChangeAfter(key, modRevision, res.header.revision);
        if (ours !== null && holds(ours, value, lease)) return ours.mod_revision;
      }
      throw lostCompare(res);
    });
    return this.wrote(key, revision);
  }

  /**
   * The key's first change after `modRevision` (by `latest`, a revision at which it had changed): the key-value
   * that change wrote, or null for a delete. A compare on `modRevision` can only succeed as that first change, so
   * this is where an earlier attempt whose answer was lost is found, even under later writes (taking it for lost
   * would have the caller apply its update twice). Bisects the key's state over the revisions in between, one
   * read each; a history etcd has compacted leaves the outcome unknown (Unavailable).
   */
  private async firstChangeAfter(key: string, modRevision: string, latest: string): Promise<IKeyValue | null> {
    let unchangedAt = BigInt(modRevision);
    let changedAt = BigInt(latest);
    while (changedAt - unchangedAt > 1n) {
      const probe = (unchangedAt + changedAt) / 2n;
      const kv = await this.keyAt(key, probe);
      if (kv !== null && kv.mod_revision === modRevision) unchangedAt = probe;
      else changedAt = probe;
    }
    return this.keyAt(key, changedAt);
  }

  /** The key as it was at `revision` (null when absent then). */
  private async keyAt(key: string, revision: bigint): Promise<IKeyValue | null> {
    try {
      const res = await this.ns.get(key).revision(revision.toString()).exec();
      return res.kvs[0] ?? null;
    } catch (err) {
      const failure = fromEtcdError(err);
      if (failure.type !== 'ResourceVersionTooOld') throw err;
      throw new BbsError('Unavailable', `cannot tell whether an earlier attempt to write ${key} was applied: ${failure.message}`);
    }
  }

  /** A key found present after a create whose earlier attempt may have been applied: that attempt created it. */
  private async createdBy(key: string, present: IKeyValue, value: string, lease: string | undefined): Promise<boolean> {
    if (holds(present, value, lease)) return true;
    // Written since: the put that created the key, if ours, is still the key's state at its create revision.
    const created = await this.keyAt(key, BigInt(present.create_revision));
    return created !== null && holds(created, value, lease);
  }

  /** Deletes the key if it is still at `modRevision`; ResourceNotFound / ResourceConflict otherwise. */
  async compareAndDelete(key: string, modRevision: string): Promise<void> {
    const revision = await this.retrying('compare-and-delete', async ({ outcomeUnknown }) => {
      const res = await this.ns.if(key, 'Mod', '==', modRevision).then(this.ns.delete().key(key)).else(this.ns.get(key)).commit();
      if (res.succeeded) return res.header.revision;
      // The first change after the revision compared is a delete: the earlier attempt's (or one just like it).
      if (outcomeUnknown && (await this.firstChangeAfter(key, modRevision, res.header.revision)) === null) return null;
      throw lostCompare(res);
    });
    if (revision !== null) this.wrote(key, revision);
  }

  /**
   * Every record under `prefix` as one snapshot: the first page fixes the revision and later pages read at it.
   * Pages hold at most `pageSize` keys and about `pageBytes` (judged by the largest record seen).
   */
  async list(prefix: string): Promise<StoredList> {
    return this.listFor(prefix);
  }

  private async listFor(prefix: string, decode?: Decode<unknown>): Promise<StoredList> {
    const view = await this.currentView(prefix, decode);
    if (view !== null) return { items: view.range(prefix), revision: view.revision };
    return this.listFromEtcd(prefix);
  }

  /**
   * `list`, always from etcd (the view loads itself with it), at `atRevision` when given (then a compaction
   * past it is the caller's error).
   */
  async listFromEtcd(prefix: string, atRevision?: string): Promise<StoredList> {
    for (let restart = 0; ; restart++) {
      try {
        return await this.listOnce(prefix, atRevision);
      } catch (err) {
        if (atRevision === undefined && restart < LIST_RESTARTS && isBbsError(err, 'ResourceVersionTooOld')) continue;
        throw err;
      }
    }
  }

  /**
   * `list`, decoded, keeping the records `keep` accepts (all by default); records that fail to decode are
   * logged and skipped.
   */
  async listDecoded<T>(prefix: string, decode: Decode<T>, keep?: Keep<T>): Promise<ListResult<T>> {
    const { items, revision } = await this.listFor(prefix, decode);
    const kept: Versioned<T>[] = [];
    for (const item of items) {
      this.decodeKept(item, decode, keep, (value) => kept.push(withValue(item, value)));
    }
    return { items: kept, revision };
  }

  /** Hands `item` decoded to `take` when it decodes and `keep` accepts it; one that does not decode is logged. */
  private decodeKept<T>(item: StoredRecord, decode: Decode<T>, keep: Keep<T> | undefined, take: (value: T) => void): void {
    let value: T;
    try {
      value = decodeRecord(item, decode);
    } catch (err) {
      this.skipUndecodable(item, err);
      return;
    }
    if (keep === undefined || keep(value)) take(value);
  }

  /**
   * `listDecoded` of the records an index of the view finds under `value` (without a view: every record under the
   * index's prefix, which `keep` must then narrow to the same ones).
   */
  async listIndexed<T>(index: ViewIndex, value: string, decode: Decode<T>, keep: Keep<T>): Promise<ListResult<T>> {
    const view = await this.currentView(index.prefix, decode);
    const found = view?.lookup(index.name, value) ?? null;
    if (view === null || found === null) return this.listDecoded(index.prefix, decode, keep);
    const kept: Versioned<T>[] = [];
    for (const item of found) this.decodeKept(item, decode, keep, (value) => kept.push(withValue(item, value)));
    return { items: kept, revision: view.revision };
  }

  /**
   * `list`, decoded, deleting the records that fail to decode (convergence prunes them, spec §8.2, §8.3). Each
   * delete compares the revision listed, so a record rewritten since is left alone. A record this BBS cannot
   * open (encrypted with a key it was not given) is left alone too: it is not invalid, only unreadable here.
   */
  async listDecodedPruning<T>(prefix: string, decode: Decode<T>): Promise<ListResult<T> & { pruned: number }> {
    const { items, revision } = await this.listFor(prefix, decode);
    const kept: Versioned<T>[] = [];
    let pruned = 0;
    for (const item of items) {
      try {
        kept.push(withValue(item, decodeRecord(item, decode)));
      } catch (err) {
        if (item.unreadable !== undefined) {
          this.options.logger.error({ key: item.key, error: item.unreadable.message }, 'unreadable-record-not-pruned');
          continue;
        }
        try {
          await this.compareAndDelete(item.key, item.modRevision);
          pruned += 1;
          this.options.logger.error({ key: item.key, error: invalidRecord(err).message }, 'pruned-invalid-record');
        } catch (deleteErr) {
          if (!isBbsError(deleteErr, 'ResourceNotFound') && !isBbsError(deleteErr, 'ResourceConflict')) throw deleteErr;
        }
      }
    }
    return { items: kept, revision, pruned };
  }

  /** Calls `onCreate` for every key created under `prefix` from now on (a put of a new key, not an update). */
  async watchCreates(prefix: string, onCreate: (key: string) => void, onError: (err: Error) => void): Promise<() => Promise<void>> {
    const watcher = await etcdCall(this.ns.watch().prefix(prefix).only('put').create());
    watcher.on('put', (kv) => {
      if (kv.create_revision !== kv.mod_revision) return;
      this.view?.expect(kv.mod_revision);
      onCreate(kv.key.toString());
    });
    watcher.on('error', onError);
    return () => watcher.cancel();
  }

  /**
   * Calls `onDelete` with every key under `prefix` deleted from now on, lease expiry included; resolves once etcd
   * has the watch. `onError` gets a watch that etcd ended. The returned function cancels the watch.
   */
  async watchDeletes(prefix: string, onDelete: (key: string) => void, onError: (err: Error) => void): Promise<() => Promise<void>> {
    const watcher = await etcdCall(this.ns.watch().prefix(prefix).only('delete').create());
    watcher.on('delete', (kv) => {
      // A delete's kv carries the revision of the delete: what the watcher reads next must not show the key.
      this.view?.expect(kv.mod_revision);
      onDelete(kv.key.toString());
    });
    watcher.on('error', onError);
    return () => watcher.cancel();
  }

  /** The keys under `prefix`, without values (domains are keys only). */
  async keys(prefix: string): Promise<string[]> {
    const view = await this.currentView(prefix);
    if (view !== null) return view.range(prefix).map((item) => item.key);
    return this.retrying('keys', () => this.ns.getAll().prefix(prefix).keys());
  }

  /** A new lease of `ttlSeconds` (etcd raises very short TTLs to its minimum); returns its id. */
  async grantLease(ttlSeconds: number): Promise<string> {
    // Retried even after a lost answer: a lease granted and never used ends by its TTL.
    const res = await this.retrying('grant-lease', () => this.ns.leaseClient.leaseGrant({ TTL: ttlSeconds }));
    return res.ID;
  }

  /** The whole seconds a lease has left; null when it has expired or was revoked. */
  async leaseSecondsLeft(lease: string): Promise<number | null> {
    const res = await this.retrying('lease-time-to-live', () => this.ns.leaseClient.leaseTimeToLive({ ID: lease }));
    const seconds = Number(res.TTL);
    return seconds >= 0 ? seconds : null;
  }

  /** Revokes a lease, deleting the keys still attached to it; a lease already gone is fine. */
  async revokeLease(lease: string): Promise<void> {
    if (lease === '0') return;
    try {
      await this.retrying('revoke-lease', () => this.ns.leaseClient.leaseRevoke({ ID: lease }));
    } catch (err) {
      if (!isBbsError(err, 'ResourceNotFound')) throw err;
    }
  }

  /** `revokeLease` for a superseded lease: a failure is logged, the lease then ends by its TTL. */
  async revokeSupersededLease(lease: string): Promise<void> {
    try {
      await this.revokeLease(lease);
    } catch (err) {
      this.options.logger.info({ lease, error: fromEtcdError(err).message }, 'failed-to-revoke-superseded-lease');
    }
  }

  /**
   * Renews a lease once; false when it has expired or was revoked. A member that does not answer in time (a slow
   * or stopped etcd) is asked again until the retry deadline, as a presence must outlive a short stall.
   */
  async keepLeaseAlive(lease: string): Promise<boolean> {
    const res = await this.retrying('keep-lease-alive', () => this.keepLeaseAliveOnce(lease));
    return Number(res.TTL) > 0;
  }

  private async keepLeaseAliveOnce(lease: string): Promise<ILeaseKeepAliveResponse> {
    const stream = await this.ns.leaseClient.leaseKeepAlive();
    let timer: NodeJS.Timeout | undefined;
    try {
      return await new Promise<ILeaseKeepAliveResponse>((resolve, reject) => {
        // A stream has no gRPC deadline (client-options.ts): this is the attempt's.
        timer = setTimeout(
          () => reject(new GRPCDeadlineExceededError(`lease keep-alive got no answer within ${ETCD_ATTEMPT_TIMEOUT_MS} ms`)),
          ETCD_ATTEMPT_TIMEOUT_MS,
        );
        stream.on('data', resolve);
        stream.on('error', reject);
        stream.write({ ID: lease });
      });
    } finally {
      clearTimeout(timer);
      stream.end();
    }
  }

  /** The view, when it may serve a read of `keyOrPrefix` (it holds `/v1/` and has applied our writes). */
  private async currentView(keyOrPrefix: string, decode?: Decode<unknown>, read: 'one-key' | 'range' = 'range'): Promise<StoreView | null> {
    const view = this.view;
    if (view === null || !view.holds(keyOrPrefix, decode)) return null;
    const current = view.current(read === 'one-key' ? keyOrPrefix : undefined);
    return (current === true || (current !== false && (await current))) ? view : null;
  }

  /**
   * Tells the view about a write of `keys`, so that later reads of them (and every range) wait for it; returns the
   * revision. Only writes under `/v1/`, which the view watches: it would wait in vain for the revision of any other.
   */
  private wrote(keys: string | readonly string[], revision: string): string {
    const written = (typeof keys === 'string' ? [keys] : keys).filter((key) => key.startsWith(V1_PREFIX));
    if (written.length > 0) this.view?.expect(revision, written);
    return revision;
  }

  /** `call` through etcd's transient failures (faults.ts), failures translated to BbsErrors. */
  private retrying<T>(operation: string, call: (context: AttemptContext) => Promise<T>): Promise<T> {
    return withEtcdRetries(operation, call, { logger: this.options.logger });
  }

  /** InvalidRequest, before anything is sent, for a write larger than etcd takes. */
  private checkSize(entries: readonly Entry[]): void {
    let bytes = REQUEST_BASE_BYTES;
    // A key goes out up to three times (compare, put, the else-branch's read).
    for (const entry of entries) bytes += 3 * Buffer.byteLength(entry.key) + Buffer.byteLength(entry.value) + REQUEST_BYTES_PER_OP;
    const limit = this.options.maxRequestBytes ?? ETCD_MAX_REQUEST_BYTES;
    if (bytes <= limit) return;
    const what = entries.length === 1 ? `the record ${entries[0]?.key ?? ''}` : `the ${entries.length} records`;
    throw new BbsError(
      'InvalidRequest',
      `${what} is too large: it would take ${bytes} bytes to store, more than the ${limit} bytes etcd accepts in one request`,
    );
  }

  private putOp(key: string, value: string, lease?: string) {
    const put = this.ns.put(key).value(value);
    return lease === undefined ? put : put.lease(lease);
  }

  private async listOnce(prefix: string, atRevision?: string): Promise<StoredList> {
    const items: StoredRecord[] = [];
    const revision = await this.pages(prefix, { atRevision, pinned: true }, async (page) => {
      for (const item of page) items.push(item);
    });
    return { items, revision };
  }

  /**
   * `listDecoded` a page at a time, for lists too large to hold decoded (every DesiredLRP): `onPage` gets each
   * page's kept values with the revision the list is read at, and is waited for before the next page is taken
   * (the one after is read meanwhile). Returns the revision read at.
   */
  async eachDecodedPage<T>(
    prefix: string,
    decode: Decode<T>,
    keep: Keep<T> | undefined,
    onPage: (values: T[], revision: string) => Promise<void>,
  ): Promise<string> {
    return this.eachRecordPage(prefix, async (records, revision) => {
      const values: T[] = [];
      for (const record of records) this.decodeKept(record, decode, keep, (value) => values.push(value));
      await onPage(values, revision);
    });
  }

  /**
   * Every record under `prefix` from etcd, a page at a time at one revision (passed with each page and returned),
   * `onPage` waited for before the next page is taken. One pass: a compaction under it fails the list rather than
   * restarting it half-visited.
   */
  async eachRecordPage(prefix: string, onPage: (records: StoredRecord[], revision: string) => Promise<void>): Promise<string> {
    return this.pages(prefix, { atRevision: undefined, pinned: true }, onPage);
  }

  /**
   * What the view made of `record` with `decode` when it took the same write of the key (same mod revision), so
   * that a record read from etcd need not be decoded again; undefined when the view has no such result. Throws
   * the view's error for a record that did not decode.
   */
  viewDecoded<T>(record: StoredRecord, decode: Decode<T>): T | undefined {
    const held = this.view?.record(record.key);
    if (held === undefined || held.modRevision !== record.modRevision) return undefined;
    const entry = held.memo?.find((decoded) => decoded.decoder === decode);
    if (entry === undefined) return undefined;
    if (entry.error !== undefined) throw entry.error;
    return entry.decoded as T;
  }

  /** Logs a record of a list that does not decode, which the list then leaves out. */
  skipUndecodable(record: StoredRecord, err: unknown): void {
    this.options.logger.error({ key: record.key, error: invalidRecord(err).message }, 'failed-to-decode-record');
  }

  /**
   * Every record under `prefix`, a page at a time, each page read at the latest revision (not one snapshot: for
   * a walk that may outlast etcd's history, such as rewriting every record under a new key). Waits for `visit`
   * before reading the next page.
   */
  async walk(prefix: string, visit: (items: StoredRecord[]) => Promise<void>): Promise<void> {
    await this.pages(prefix, { atRevision: undefined, pinned: false }, visit);
  }

  /**
   * Pages through `prefix`; pinned, every page is read at `atRevision` or else the first page's revision, which
   * is returned (and passed with each page). Waits for `onPage` before handing over the next page; pinned, that
   * page is read meanwhile (etcd and the caller work at once, and no more than two pages are held), unpinned it is
   * read after, at the state `onPage` left.
   */
  private async pages(
    prefix: string,
    at: { atRevision: string | undefined; pinned: boolean },
    onPage: (items: StoredRecord[], revision: string) => Promise<void>,
  ): Promise<string> {
    const { pageSize, pageBytes } = this.options;
    const end = Range.prefix(prefix).end;
    let limit = Math.min(pageSize, FIRST_PAGE_KEYS);
    let largest = 1;
    const read = (start: Buffer, revision: string | undefined) => {
      const range = this.ns.getAll().inRange(new Range(start, end)).limit(limit);
      if (revision !== undefined && at.pinned) range.revision(revision);
      const answer = this.retrying('range', () => range.exec());
      // Read ahead of a caller that may fail first: its rejection is then nobody's to handle.
      answer.catch(() => undefined);
      return answer;
    };
    let next = read(Buffer.from(prefix), at.atRevision);
    let revision = at.atRevision;
    for (;;) {
      const page = await next;
      revision ??= page.header.revision;
      const items: StoredRecord[] = [];
      for (const kv of page.kvs) {
        items.push(this.stored(kv.key.toString(), kv));
        largest = Math.max(largest, kv.key.length + kv.value.length);
      }
      const last = page.kvs[page.kvs.length - 1];
      const more = page.more && last !== undefined;
      if (!more) {
        await onPage(items, revision);
        return revision;
      }
      limit = Math.max(1, Math.min(pageSize, limit * PAGE_GROWTH, Math.floor(pageBytes / largest)));
      const nextStart = Buffer.concat([last.key, Buffer.from([0])]);
      if (at.pinned) next = read(nextStart, revision);
      await onPage(items, revision);
      if (!at.pinned) next = read(nextStart, revision);
    }
  }
}

/** `item` with `value` in place of its text (and nothing else of it: a view record's memo stays behind). */
export function withValue<T>(item: Versioned<string>, value: T): Versioned<T> {
  return { key: item.key, value, modRevision: item.modRevision, lease: item.lease };
}

/**
 * The record's value decoded, remembered with a view's record when the decoder allows it; the record's own
 * error when it could not be read (see StoredRecord).
 */
export function decodeRecord<T>(item: StoredRecord & Pick<ViewRecord, 'memo'>, decode: Decode<T>): T {
  if (item.unreadable !== undefined) throw item.unreadable;
  if (!memoizable.has(decode)) return decode(item.value);
  const memo = (item.memo ??= []);
  for (const entry of memo) {
    if (entry.decoder !== decode) continue;
    if (entry.error !== undefined) throw entry.error;
    return entry.decoded as T;
  }
  const value = decode(item.value);
  memo.push({ decoder: decode, decoded: value });
  return value;
}

/** The key a transaction's else-branch read (its first response), if present. */
function elseRead(res: ITxnResponse): IKeyValue | undefined {
  return res.responses[0]?.response_range?.kvs[0];
}

/** The key holds exactly `value` under `lease` (none: no lease), as our own write would have left it. */
function holds(kv: IKeyValue, value: string, lease: string | undefined): boolean {
  return kv.value.toString() === value && kv.lease === (lease ?? '0');
}

/** A compare-and-write whose else-branch read the key: gone means not found, present means conflict. */
function lostCompare(res: ITxnResponse): Error {
  const kvs = res.responses[0]?.response_range?.kvs ?? [];
  return kvs.length === 0 ? resourceNotFound() : resourceConflict();
}
