import type { Namespace } from 'etcd3';
import pino, { type Logger } from 'pino';
import type { Clock, Db } from '../db';
import { ACTUAL_LRPS_BY_CELL, EtcdActualLRPDb } from './actual-lrp-db';
import { EtcdCellDb } from './cell-db';
import type { DbContext } from './context';
import { decodeSchedulingInfo, EtcdDesiredLRPDb } from './desired-lrp-db';
import { DESIRED_LRP_PREFIX } from './keys';
import { EtcdDomainDb } from './domain-db';
import { EtcdEvacuationDb } from './evacuation-db';
import { checkEncryptionKeyLabel, Encryptor } from './encryptor';
import { RecordCodec, type EncryptionOptions } from './record-codec';
import { ETCD_MAX_REQUEST_BYTES, EtcdStore } from './store';
import { EtcdTaskDb } from './task-db';
import { EtcdView, type EtcdViewStatus, type ViewFollower } from './view';

export interface EtcdDbOptions {
  /** Unix nanoseconds; the system clock by default. */
  clock?: Clock;
  logger?: Logger;
  /** At most this many keys per range request of a list (default 10,000). */
  pageSize?: number;
  /** The byte size a list aims its pages at (default 2 MiB; gRPC refuses answers over 4 MiB). */
  pageBytes?: number;
  /**
   * The largest request a write may make: etcd's `--max-request-bytes` (default 1.5 MiB, ETCD_MAX_REQUEST_BYTES).
   * A record whose write would exceed it is refused as InvalidRequest before it is sent.
   */
  maxRequestBytes?: number;
  /**
   * Serve reads from a watch-maintained copy of `/v1/` in memory (view.ts), as every BBS does; `close()` stops
   * it. Off by default: a test that writes etcd behind the store's back reads it at once.
   */
  view?: boolean;
  /**
   * Encrypt records at rest (record-codec.ts); plain JSON by default. Throws at construction for keys that are
   * inconsistent (an active label that names none of them, ...).
   */
  encryption?: EncryptionOptions;
}

const DEFAULT_PAGE_SIZE = 10_000;
const DEFAULT_PAGE_BYTES = 2 * 1024 * 1024;

const NS_PER_MS = 1_000_000n;
/** Beyond this much disagreement with the wall clock (an NTP step, a suspended VM) the anchor is reset. */
const MAX_DRIFT_NS = 1_000n * NS_PER_MS;
let anchor = { wallNs: BigInt(Date.now()) * NS_PER_MS, monotonicNs: process.hrtime.bigint() };

/**
 * The system clock in Unix nanoseconds with nanosecond resolution: the wall clock read once, advanced by the
 * monotonic clock (Date.now() alone would end every timestamp in six zeros, which reads as a corrupted value).
 */
export const systemClock: Clock = () => {
  const now = anchor.wallNs + (process.hrtime.bigint() - anchor.monotonicNs);
  const wallNs = BigInt(Date.now()) * NS_PER_MS;
  const drift = now > wallNs ? now - wallNs : wallNs - now;
  if (drift <= MAX_DRIFT_NS) return now;
  anchor = { wallNs, monotonicNs: process.hrtime.bigint() };
  return wallNs;
};

/** The methods of `T` that its type shows (its public ones). */
type Methods<T> = { [K in keyof T as T[K] extends (...args: never[]) => unknown ? K : never]: T[K] };

/**
 * Every method of `part`'s class (and its ancestors'), bound to `part`, so that one object offers the methods of
 * several parts as its own without a line per method. TypeScript's `private` helpers come along at run time but
 * are not in the type, so no caller sees them.
 */
function methodsOf<T extends object>(part: T): Methods<T> {
  const methods: Record<string, unknown> = {};
  for (let proto: unknown = Object.getPrototypeOf(part); proto !== null && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
    for (const [name, descriptor] of Object.entries(Object.getOwnPropertyDescriptors(proto))) {
      const method: unknown = descriptor.value;
      if (name !== 'constructor' && !(name in methods) && typeof method === 'function') methods[name] = method.bind(part);
    }
  }
  return methods as Methods<T>;
}

/**
 * The store on etcd v3: every resource of the Db contract under the key schema of DESIGN.md, inside the given
 * namespace (an `Etcd3` client is the root namespace).
 *
 * @example
 *   const client = new Etcd3(etcdClientOptions(['http://127.0.0.1:2379']));
 *   const db = new EtcdDb(client, { logger });
 *   await db.desireLRP(lrp);
 */
// The class offers the Db's methods through the interface it merges with: the constructor assigns them from the parts.
export interface EtcdDb extends Db {}
export class EtcdDb {
  private readonly view: EtcdView | null;
  private readonly store: EtcdStore;
  private readonly logger: Logger;

  constructor(namespace: Namespace, options: EtcdDbOptions = {}) {
    const baseLogger = options.logger ?? pino();
    const logger = baseLogger.child({ session: 'etcd-db' });
    const codec = RecordCodec.create(options.encryption);
    const ctx: DbContext = {
      store: new EtcdStore(namespace, {
        pageSize: options.pageSize ?? DEFAULT_PAGE_SIZE,
        pageBytes: options.pageBytes ?? DEFAULT_PAGE_BYTES,
        maxRequestBytes: options.maxRequestBytes ?? ETCD_MAX_REQUEST_BYTES,
        logger,
        codec,
      }),
      clock: options.clock ?? systemClock,
      logger,
    };
    const cellDb = new EtcdCellDb(ctx);
    const actualDb = new EtcdActualLRPDb(ctx, cellDb);
    // Typed as the Db's resource methods, so a method no part offers is a compile error.
    const resources: Omit<Db, 'observedRevision'> = {
      ...methodsOf(new EtcdDomainDb(ctx)),
      ...methodsOf(cellDb),
      ...methodsOf(actualDb),
      ...methodsOf(new EtcdEvacuationDb(ctx, actualDb)),
      ...methodsOf(new EtcdDesiredLRPDb(ctx, actualDb)),
      ...methodsOf(new EtcdTaskDb(ctx)),
    };
    Object.assign(this, resources);
    const viewOptions = {
      logger: baseLogger.child({ session: 'view' }),
      indexes: [ACTUAL_LRPS_BY_CELL],
      derivedOnly: [{ prefix: DESIRED_LRP_PREFIX, decoders: [decodeSchedulingInfo] }],
    };
    this.view = options.view === true ? EtcdView.start(namespace, ctx.store, viewOptions) : null;
    this.store = ctx.store;
    this.logger = baseLogger;
  }

  /** How records are stored: what a watch of the store's keys opens their values with. */
  get codec(): RecordCodec {
    return this.store.codec;
  }

  /**
   * Throws, saying what to do, when the store's records are under an encryption key this store was not given
   * (`/encryption-key`; see encryptor.ts): a BBS checks before it serves.
   */
  checkEncryptionKeyLabel(): Promise<void> {
    return checkEncryptionKeyLabel(this.store);
  }

  /** The leader's loop that rewrites every record under the active encryption key when `/encryption-key` differs. */
  encryptor(options: { workers?: number; retryIntervalMs?: number } = {}): Encryptor {
    return new Encryptor({ store: this.store, logger: this.logger.child({ session: 'encryptor' }), ...options });
  }

  /** What the in-memory view holds (null without one). */
  get viewStatus(): EtcdViewStatus | null {
    return this.view?.status ?? null;
  }

  /**
   * Hands every change the view applies, and each (re)load, to `follower` (see view.ts); returns the function
   * that stops it, or null for a store without a view.
   */
  followView(follower: ViewFollower): (() => void) | null {
    return this.view?.addFollower(follower) ?? null;
  }

  /** Stops the view; the store reads etcd from then on. */
  close(): void {
    this.view?.close();
  }

  readonly observedRevision: Db['observedRevision'] = (revision) => this.view?.expect(revision);
}
