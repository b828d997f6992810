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
import { EtcdView, type EtcdViewStatus } from './view';

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

/**
 * The store on etcd v3: every resource of the Db contract under the key schema of DESIGN.md, inside the given
 * namespace (an `Etcd3` client is the root namespace).
 *
 * @example
 *   const client = new Etcd3(etcdClientOptions(['http://127.0.0.1:2379']));
 *   const db = new EtcdDb(client, { logger });
 *   await db.desireLRP(lrp);
 */
export class EtcdDb implements Db {
  private readonly domainDb: EtcdDomainDb;
  private readonly cellDb: EtcdCellDb;
  private readonly desiredDb: EtcdDesiredLRPDb;
  private readonly actualDb: EtcdActualLRPDb;
  private readonly evacuationDb: EtcdEvacuationDb;
  private readonly taskDb: EtcdTaskDb;
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
    this.domainDb = new EtcdDomainDb(ctx);
    this.cellDb = new EtcdCellDb(ctx);
    this.actualDb = new EtcdActualLRPDb(ctx, this.cellDb);
    this.evacuationDb = new EtcdEvacuationDb(ctx, this.actualDb);
    this.desiredDb = new EtcdDesiredLRPDb(ctx, this.actualDb);
    this.taskDb = new EtcdTaskDb(ctx);
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

  /** Stops the view; the store reads etcd from then on. */
  close(): void {
    this.view?.close();
  }

  readonly observedRevision: Db['observedRevision'] = (revision) => this.view?.expect(revision);

  // Domains
  readonly domains: Db['domains'] = (...args) => this.domainDb.domains(...args);
  readonly domainFreshness: Db['domainFreshness'] = (...args) => this.domainDb.domainFreshness(...args);
  readonly upsertDomain: Db['upsertDomain'] = (...args) => this.domainDb.upsertDomain(...args);

  // Cells
  readonly cells: Db['cells'] = (...args) => this.cellDb.cells(...args);
  readonly cellById: Db['cellById'] = (...args) => this.cellDb.cellById(...args);
  readonly registerCell: Db['registerCell'] = (...args) => this.cellDb.registerCell(...args);
  readonly heartbeatCell: Db['heartbeatCell'] = (...args) => this.cellDb.heartbeatCell(...args);
  readonly removeCell: Db['removeCell'] = (...args) => this.cellDb.removeCell(...args);
  readonly watchCellDisappearances: Db['watchCellDisappearances'] = (...args) => this.cellDb.watchCellDisappearances(...args);
  readonly watchCellArrivals: Db['watchCellArrivals'] = (...args) => this.cellDb.watchCellArrivals(...args);

  // Desired LRPs
  readonly desiredLRPs: Db['desiredLRPs'] = (...args) => this.desiredDb.desiredLRPs(...args);
  readonly desiredLRPSchedulingInfos: Db['desiredLRPSchedulingInfos'] = (...args) =>
    this.desiredDb.desiredLRPSchedulingInfos(...args);
  readonly desiredLRPByProcessGuid: Db['desiredLRPByProcessGuid'] = (...args) =>
    this.desiredDb.desiredLRPByProcessGuid(...args);
  readonly eachDesiredLRP: Db['eachDesiredLRP'] = (...args) => this.desiredDb.eachDesiredLRP(...args);
  readonly desireLRP: Db['desireLRP'] = (...args) => this.desiredDb.desireLRP(...args);
  readonly updateDesiredLRP: Db['updateDesiredLRP'] = (...args) => this.desiredDb.updateDesiredLRP(...args);
  readonly removeDesiredLRP: Db['removeDesiredLRP'] = (...args) => this.desiredDb.removeDesiredLRP(...args);
  readonly listDesiredLRPs: Db['listDesiredLRPs'] = (...args) => this.desiredDb.listDesiredLRPs(...args);
  readonly listDesiredLRPSchedulingInfos: Db['listDesiredLRPSchedulingInfos'] = (...args) =>
    this.desiredDb.listDesiredLRPSchedulingInfos(...args);

  // Actual LRPs
  readonly actualLRPGroups: Db['actualLRPGroups'] = (...args) => this.actualDb.actualLRPGroups(...args);
  readonly actualLRPGroupsByProcessGuid: Db['actualLRPGroupsByProcessGuid'] = (...args) =>
    this.actualDb.actualLRPGroupsByProcessGuid(...args);
  readonly actualLRPGroupByProcessGuidAndIndex: Db['actualLRPGroupByProcessGuidAndIndex'] = (...args) =>
    this.actualDb.actualLRPGroupByProcessGuidAndIndex(...args);
  readonly listActualLRPGroups: Db['listActualLRPGroups'] = (...args) => this.actualDb.listActualLRPGroups(...args);
  readonly listActualLRPGroupsByProcessGuid: Db['listActualLRPGroupsByProcessGuid'] = (...args) =>
    this.actualDb.listActualLRPGroupsByProcessGuid(...args);
  readonly createUnclaimedActualLRP: Db['createUnclaimedActualLRP'] = (...args) =>
    this.actualDb.createUnclaimedActualLRP(...args);
  readonly claimActualLRP: Db['claimActualLRP'] = (...args) => this.actualDb.claimActualLRP(...args);
  readonly startActualLRP: Db['startActualLRP'] = (...args) => this.actualDb.startActualLRP(...args);
  readonly crashActualLRP: Db['crashActualLRP'] = (...args) => this.actualDb.crashActualLRP(...args);
  readonly failActualLRP: Db['failActualLRP'] = (...args) => this.actualDb.failActualLRP(...args);
  readonly removeActualLRP: Db['removeActualLRP'] = (...args) => this.actualDb.removeActualLRP(...args);
  readonly retireActualLRP: Db['retireActualLRP'] = (...args) => this.actualDb.retireActualLRP(...args);
  readonly unclaimActualLRP: Db['unclaimActualLRP'] = (...args) => this.actualDb.unclaimActualLRP(...args);
  readonly gatherAndPruneActualLRPs: Db['gatherAndPruneActualLRPs'] = (...args) => this.actualDb.gatherAndPruneActualLRPs(...args);
  readonly unclaimActualLRPOnMissingCell: Db['unclaimActualLRPOnMissingCell'] = (...args) =>
    this.actualDb.unclaimActualLRPOnMissingCell(...args);

  // Evacuation
  readonly removeEvacuatingActualLRP: Db['removeEvacuatingActualLRP'] = (...args) =>
    this.evacuationDb.removeEvacuatingActualLRP(...args);
  readonly evacuateClaimedActualLRP: Db['evacuateClaimedActualLRP'] = (...args) =>
    this.evacuationDb.evacuateClaimedActualLRP(...args);
  readonly evacuateRunningActualLRP: Db['evacuateRunningActualLRP'] = (...args) =>
    this.evacuationDb.evacuateRunningActualLRP(...args);
  readonly evacuateStoppedActualLRP: Db['evacuateStoppedActualLRP'] = (...args) =>
    this.evacuationDb.evacuateStoppedActualLRP(...args);
  readonly evacuateCrashedActualLRP: Db['evacuateCrashedActualLRP'] = (...args) =>
    this.evacuationDb.evacuateCrashedActualLRP(...args);

  // Tasks
  readonly tasks: Db['tasks'] = (...args) => this.taskDb.tasks(...args);
  readonly listTasks: Db['listTasks'] = (...args) => this.taskDb.listTasks(...args);
  readonly taskByGuid: Db['taskByGuid'] = (...args) => this.taskDb.taskByGuid(...args);
  readonly desireTask: Db['desireTask'] = (...args) => this.taskDb.desireTask(...args);
  readonly startTask: Db['startTask'] = (...args) => this.taskDb.startTask(...args);
  readonly cancelTask: Db['cancelTask'] = (...args) => this.taskDb.cancelTask(...args);
  readonly failTask: Db['failTask'] = (...args) => this.taskDb.failTask(...args);
  readonly completeTask: Db['completeTask'] = (...args) => this.taskDb.completeTask(...args);
  readonly resolvingTask: Db['resolvingTask'] = (...args) => this.taskDb.resolvingTask(...args);
  readonly deleteTask: Db['deleteTask'] = (...args) => this.taskDb.deleteTask(...args);
  readonly gatherAndPruneTasks: Db['gatherAndPruneTasks'] = (...args) => this.taskDb.gatherAndPruneTasks(...args);
  readonly failTaskIfUnchanged: Db['failTaskIfUnchanged'] = (...args) => this.taskDb.failTaskIfUnchanged(...args);
  readonly demoteResolvingTaskIfUnchanged: Db['demoteResolvingTaskIfUnchanged'] = (...args) =>
    this.taskDb.demoteResolvingTaskIfUnchanged(...args);
  readonly deleteTaskIfUnchanged: Db['deleteTaskIfUnchanged'] = (...args) => this.taskDb.deleteTaskIfUnchanged(...args);
}
