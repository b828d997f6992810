/**
 * `diego bbs`: the protobuf-over-HTTP API in front of the etcd store. Every BBS serves the API; the one that
 * wins the etcd election /v1/locks/bbs_lock also runs the leader's loops: the task completion workers, the
 * auctioneer and the converger.
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { Etcd3, type Namespace } from 'etcd3';
import pino, { type Logger } from 'pino';
import { Auctioneer } from '../auctioneer/auctioneer';
import type { TaskConvergenceDurations } from '@diego/bbs-client';
import type { BbsConfig } from '../config';
import { type RunningServer, startDebugServer, closeServer, listenOn, parseListenAddress } from '@diego/server-support';
import {
  Converger,
  DEFAULT_CONVERGE_FULL_REPEAT_INTERVAL_MS,
  DEFAULT_CONVERGE_REPEAT_INTERVAL_MS,
  DEFAULT_TASK_CONVERGENCE_DURATIONS,
  taskConvergenceDurationsNs,
} from '../converger/converger';
import { LRPConvergenceController } from '../converger/lrp-convergence-controller';
import type { ConvergenceChangeFeed } from '../converger/lrp-convergence-tracking';
import { TaskConvergenceController } from '../converger/task-convergence-controller';
import type { AuctionRequester, LeaderLoop, TaskCompletionSubmitter } from '../leader/contracts';
import { LeaderElection } from '../leader/election';
import { BbsMetrics } from '../metrics';
import { TaskCompletionWorkers } from '../task-callbacks/task-completion-workers';
import { ActualLRPController } from '../controllers/actual-lrp-controller';
import { DesiredLRPController } from '../controllers/desired-lrp-controller';
import { HttpRepClient, type RepClient } from '@diego/rep-api';
import { TaskController } from '../controllers/task-controller';
import type { Clock, Db } from '../db/db';
import { etcdClientOptions } from '../db/etcd/client-options';
import { checkEtcdTls, etcdTlsFor } from '../db/etcd/etcd-tls';
import { errorCodeOf, BBS_SERVER_TLS_FLAGS, readMutualTls, type TlsMaterial } from '@diego/tls';
import { EtcdDb, systemClock } from '../db/etcd/etcd-db';
import { EtcdPackageRepositoryDb } from '../db/etcd/package-repository-db';
import type { EncryptionOptions } from '../db/etcd/record-codec';
import type { EtcdViewStatus } from '../db/etcd/view';
import { EventHub, type EventHubCounts } from '../events/event-hub';
import { EventStreams } from './event-stream';
import { actualLRPHandlers } from './handlers/actual-lrp-handlers';
import { cellHandlers } from './handlers/cell-handlers';
import { convergenceHandlers } from './handlers/convergence-handlers';
import { dashboardHandlers } from './handlers/dashboard-handlers';
import { desiredLRPHandlers } from './handlers/desired-lrp-handlers';
import { domainHandlers } from './handlers/domain-handlers';
import { packageRepositoryHandlers } from './handlers/package-repository-handlers';
import { taskHandlers } from './handlers/task-handlers';
import { createBbsRequestListener, type BbsHandlers } from './router';

export interface BbsServerOptions {
  /** The store's key space: an `Etcd3` client, or a namespace of one (tests use one per file). */
  etcd: Namespace;
  /** host:port; port 0 picks a free port (read it from the returned `address`). */
  listenAddress: string;
  /** Silent by default. */
  logger?: Logger;
  clock?: Clock;
  /** How often an idle event stream gets a heartbeat comment (default 15 s, `--eventHeartbeatInterval`). */
  eventHeartbeatIntervalMs?: number;
  /** Events an event subscriber may have waiting before it is dropped (default 1024). */
  eventBufferSize?: number;
  /** Recent events the hub keeps for subscribers that resume (default 1024). */
  eventHistorySize?: number;
  /**
   * Campaign in the election and, while leading, run the completion workers, the auctioneer and the converger.
   * Off by default: an API-only BBS that never campaigns (the loops would act on a test's fixtures).
   */
  leader?: BbsLeaderOptions;
  /** Where requests, convergence and leadership are recorded; a registry of its own by default. */
  metrics?: BbsMetrics;
  /**
   * The store to serve: by default one of its own over `etcd`, reading through a view. A given store stays the
   * caller's (tests write through the very store the server reads).
   */
  db?: EtcdDb;
  /**
   * Serve https only, to clients presenting a certificate signed by `tls.ca` (Diego's `-requireSSL`); a client
   * without one, or with one from another CA, is refused at the handshake. Absent: plain HTTP.
   */
  tls?: TlsMaterial;
  /** How long a call to a cell's rep or a task's callback URL may take (`-communicationTimeout`, default 10 s). */
  communicationTimeoutMs?: number;
  /** A convergence pass's writes in flight at once (`-convergenceWorkers`, default 20). */
  convergenceWorkers?: number;
  /** Task completion callbacks in flight at once (`-taskCallBackWorkers`, default 1000). */
  taskCallbackWorkers?: number;
  /** Records encrypted at rest (`-encryptionKey`, `-activeKeyLabel`) in the store of its own; plain JSON by default. */
  encryption?: EncryptionOptions;
}

export interface BbsLeaderOptions {
  /** This BBS's API URL, announced in the election value. */
  advertiseUrl: string;
  /** Default 30 s. */
  convergeRepeatIntervalMs?: number;
  /** How often an LRP convergence pass covers every record rather than what changed (default 5 min). */
  convergeFullRepeatIntervalMs?: number;
  /** Diego's defaults: 30 s, 30 min, 120 s. */
  taskConvergenceDurations?: Partial<TaskConvergenceDurations>;
  /** The election lease's TTL (default 10 s). */
  electionTtlSeconds?: number;
  /** After a failed or lost campaign (default 5 s). */
  campaignRetryIntervalMs?: number;
  /** Records rewritten at once when moving them to the active encryption key (`-updateWorkers`, default 1000). */
  updateWorkers?: number;
}

/** A started BBS server. */
export interface BbsServer extends RunningServer {
  /** Open event subscriptions and etcd watches (read-only; they go back to 0 when every stream has closed). */
  readonly events: EventHubCounts;
  /** Whether this BBS leads now (never without the `leader` option). */
  isLeader(): boolean;
  readonly metrics: BbsMetrics;
  /** The in-memory view the store reads from: live once loaded, and the revision it is at. */
  readonly view: EtcdViewStatus | null;
}

/** How long stopping waits for event streams to send their last bytes to clients that stopped reading. */
const STREAM_CLOSE_GRACE_MS = 1_000;

/**
 * Serves the BBS API over a store in `options.etcd`. Stopping (once; again is a no-op) ends open event streams
 * and closes the listener; the etcd client stays the caller's.
 *
 * @example
 *   const bbs = await startBbsServer({ etcd: keys.namespace, listenAddress: '127.0.0.1:0' });
 *   const client = new HttpBbsClient([`http://${bbs.address}`]);
 */
export async function startBbsServer(options: BbsServerOptions): Promise<BbsServer> {
  const logger = options.logger ?? pino({ level: 'silent' });
  const ownDb = options.db === undefined;
  const db = options.db ?? new EtcdDb(options.etcd, {
    logger,
    view: true,
    ...(options.clock === undefined ? {} : { clock: options.clock }),
    ...(options.encryption === undefined ? {} : { encryption: options.encryption }),
  });
  const eventLogger = logger.child({ session: 'events' });
  const hub = new EventHub(options.etcd, {
    logger: eventLogger,
    codec: db.codec,
    feed: db,
    ...(options.eventBufferSize === undefined ? {} : { bufferSize: options.eventBufferSize }),
    ...(options.eventHistorySize === undefined ? {} : { historySize: options.eventHistorySize }),
  });
  const events = new EventStreams(hub, {
    logger: eventLogger,
    ...(options.eventHeartbeatIntervalMs === undefined ? {} : { heartbeatIntervalMs: options.eventHeartbeatIntervalMs }),
  });
  const clock = options.clock ?? systemClock;
  const metrics = options.metrics ?? new BbsMetrics();
  const auctioneer = new Auctioneer({ db, etcd: options.etcd, codec: db.codec, logger, clock });
  const timeout = options.communicationTimeoutMs;
  const completions = new TaskCompletionWorkers({
    db,
    etcd: options.etcd,
    codec: db.codec,
    logger,
    ...(timeout === undefined ? {} : { callbackTimeoutMs: timeout }),
    ...(options.taskCallbackWorkers === undefined ? {} : { taskCallbackWorkers: options.taskCallbackWorkers }),
  });
  const rep = new HttpRepClient(timeout === undefined ? {} : { timeoutMs: timeout });
  const packageRepositories = new EtcdPackageRepositoryDb(options.etcd, logger.child({ session: 'package-repositories' }));
  const { handlers, lrpConvergence, taskConvergence } = bbsHandlers(db, packageRepositories, rep, events, logger, {
    auctioneer,
    completions,
    clock,
    metrics,
    changes: db,
    ...(options.convergenceWorkers === undefined ? {} : { workers: options.convergenceWorkers }),
  });
  const listener = createBbsRequestListener(handlers, logger, (route, seconds) => metrics.recordRequest(route, seconds));
  const server = options.tls === undefined
    ? createServer({ keepAlive: true }, listener)
    : createHttpsServer({ keepAlive: true, ...options.tls, requestCert: true, rejectUnauthorized: true }, listener);
  if (options.tls !== undefined) server.on('tlsClientError', (err: Error, socket: TLSSocket) => logRefusedClient(logger, err, socket));

  let address: string;
  try {
    // Records under a key this BBS was not given: refused before serving anything (a malformed address first,
    // without waiting on etcd).
    parseListenAddress(options.listenAddress);
    await db.checkEncryptionKeyLabel();
    address = await listenOn(server, options.listenAddress);
  } catch (err) {
    if (ownDb) db.close();
    throw err;
  }
  let election: LeaderElection | null = null;
  if (options.leader !== undefined) {
    const leader = options.leader;
    const converger = new Converger({
      lrps: lrpConvergence,
      tasks: taskConvergence,
      cells: db,
      taskDurations: taskConvergenceDurationsNs({ ...DEFAULT_TASK_CONVERGENCE_DURATIONS, ...leader.taskConvergenceDurations }),
      repeatIntervalMs: leader.convergeRepeatIntervalMs ?? DEFAULT_CONVERGE_REPEAT_INTERVAL_MS,
      fullRepeatIntervalMs: leader.convergeFullRepeatIntervalMs ?? DEFAULT_CONVERGE_FULL_REPEAT_INTERVAL_MS,
      logger: logger.child({ session: 'converger' }),
    });
    // In this order: callbacks and auctions are taken in before the converger's first pass sends them any. The
    // encryptor's rotation, if any, runs in the background beside them.
    const encryptor = db.encryptor(leader.updateWorkers === undefined ? {} : { workers: leader.updateWorkers });
    const loops: LeaderLoop[] = [encryptor, completions, auctioneer, converger];
    election = new LeaderElection({
      etcd: options.etcd,
      presence: { id: randomUUID(), url: leader.advertiseUrl },
      loops,
      logger,
      ...(leader.electionTtlSeconds === undefined ? {} : { ttlSeconds: leader.electionTtlSeconds }),
      ...(leader.campaignRetryIntervalMs === undefined ? {} : { retryIntervalMs: leader.campaignRetryIntervalMs }),
      onLeadershipChange: (isLeader) => metrics.recordLeadership(isLeader),
    });
    metrics.recordLeadership(false);
    election.start();
  }
  let stopped: Promise<void> | undefined;
  return {
    address,
    metrics,
    isLeader: () => election?.isLeader ?? false,
    get events() {
      return hub.counts;
    },
    get view() {
      return db.viewStatus;
    },
    stop() {
      stopped ??= (async () => {
        // The loops stop, and the election is resigned, while the store is still there for them.
        await election?.stop();
        // Streams end first, between revisions, so that their clients can resume from the last id they got.
        hub.close();
        await events.closeAll(STREAM_CLOSE_GRACE_MS);
        await closeServer(server);
        if (ownDb) db.close();
      })();
      return stopped;
    },
  };
}

/**
 * A client the TLS handshake turned away. Node checks a client's certificate once the handshake is done and then
 * closes the connection without telling the client why: this line is where the operator learns it.
 */
function logRefusedClient(logger: Logger, err: Error, socket: TLSSocket): void {
  const remote = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
  // `authorizationError` is the verdict on the certificate the client presented (another CA, expired...).
  const verdict: unknown = socket.authorizationError;
  const reason = verdict === null || verdict === undefined ? errorCodeOf(err) ?? err.message : String(verdict);
  if (reason === 'ECONNRESET') {
    logger.debug({ remote_address: remote }, 'bbs-tls-handshake-abandoned');
    return;
  }
  const noCertificate = reason === 'ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE';
  logger.info(
    { remote_address: remote, reason: noCertificate ? 'no client certificate' : reason },
    'bbs-tls-client-refused',
  );
}

/** How long /healthz waits for etcd to answer. */
const HEALTH_CHECK_TIMEOUT_MS = 2_000;

/** A started `diego bbs`. */
export interface RunningBbs extends RunningServer {
  isLeader(): boolean;
}

/** `diego bbs`: connects to the etcd cluster, serves, and campaigns to lead, until stopped. */
export async function startBbs(config: BbsConfig): Promise<RunningBbs> {
  const logger = pino({ level: config.logLevel }).child({ component: 'bbs' });
  // Every TLS file is read and checked before anything starts: a mistake stops the BBS with the flag it is about.
  const serverTls = config.serverTls === undefined || config.serverTls === null ? null : await readMutualTls(config.serverTls, BBS_SERVER_TLS_FLAGS);
  const etcdTls = await etcdTlsFor(config.etcdCluster, config.etcdTls);
  if (etcdTls !== null) await checkEtcdTls(config.etcdCluster, etcdTls);
  // Fault handling that reflects each member's health, not one request's (client-options.ts).
  const etcd = new Etcd3(etcdClientOptions(config.etcdCluster, etcdTls));
  const advertiseUrl = config.advertiseUrl ?? `${serverTls === null ? 'http' : 'https'}://${config.listenAddress}`;
  let server: BbsServer;
  let debug: RunningServer | null = null;
  try {
    server = await startBbsServer({
      etcd,
      listenAddress: config.listenAddress,
      logger,
      ...(serverTls === null ? {} : { tls: serverTls }),
      ...(config.communicationTimeoutMs === undefined ? {} : { communicationTimeoutMs: config.communicationTimeoutMs }),
      ...(config.eventHeartbeatIntervalMs === undefined ? {} : { eventHeartbeatIntervalMs: config.eventHeartbeatIntervalMs }),
      ...(config.convergenceWorkers === undefined ? {} : { convergenceWorkers: config.convergenceWorkers }),
      ...(config.taskCallbackWorkers === undefined ? {} : { taskCallbackWorkers: config.taskCallbackWorkers }),
      encryption: { keys: config.encryptionKeys ?? [], activeKeyLabel: config.activeKeyLabel ?? null },
      ...(config.apiOnly === true ? {} : { leader: leaderOptions(config, advertiseUrl) }),
    });
    try {
      if (config.debugAddress !== null) {
        const started = server;
        debug = await startDebugServer(config.debugAddress, logger, {
          metrics: started.metrics.registry,
          healthy: () => etcdAnswers(etcd, HEALTH_CHECK_TIMEOUT_MS),
          vars: () => ({ leader: started.isLeader(), advertise_url: advertiseUrl, events: started.events, view: started.view }),
        });
      }
    } catch (err) {
      await server.stop();
      throw err;
    }
  } catch (err) {
    etcd.close();
    throw err;
  }
  logger.info(
    {
      address: server.address,
      etcd_cluster: config.etcdCluster,
      advertise_url: advertiseUrl,
      require_ssl: serverTls !== null,
      etcd_client_certificate: etcdTls !== null && etcdTls.clientCertificate !== null,
    },
    'bbs-started',
  );
  let stopped: Promise<void> | undefined;
  const running = server;
  return {
    address: running.address,
    isLeader: () => running.isLeader(),
    stop() {
      stopped ??= (async () => {
        await debug?.stop();
        await server.stop();
        etcd.close();
        logger.info({ address: server.address }, 'bbs-stopped');
      })();
      return stopped;
    },
  };
}

/** The leader's part of a BbsConfig: every duration the flags did not give keeps Diego's default. */
function leaderOptions(config: BbsConfig, advertiseUrl: string): BbsLeaderOptions {
  return {
    advertiseUrl,
    ...(config.convergeRepeatIntervalMs === undefined ? {} : { convergeRepeatIntervalMs: config.convergeRepeatIntervalMs }),
    ...(config.convergeFullRepeatIntervalMs === undefined ? {} : { convergeFullRepeatIntervalMs: config.convergeFullRepeatIntervalMs }),
    ...(config.lockTtlSeconds === undefined ? {} : { electionTtlSeconds: config.lockTtlSeconds }),
    ...(config.lockRetryIntervalMs === undefined ? {} : { campaignRetryIntervalMs: config.lockRetryIntervalMs }),
    ...(config.updateWorkers === undefined ? {} : { updateWorkers: config.updateWorkers }),
    taskConvergenceDurations: {
      ...(config.kickTaskDurationMs === undefined ? {} : { kickTaskDurationMs: config.kickTaskDurationMs }),
      ...(config.expirePendingTaskDurationMs === undefined ? {} : { expirePendingTaskDurationMs: config.expirePendingTaskDurationMs }),
      ...(config.expireCompletedTaskDurationMs === undefined ? {} : { expireCompletedTaskDurationMs: config.expireCompletedTaskDurationMs }),
    },
  };
}

/** Whether etcd answers a status request within `timeoutMs`. */
async function etcdAnswers(etcd: Etcd3, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  try {
    return await Promise.race([etcd.maintenance.status().then(() => true, () => false), timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

/** Where convergence sends its follow-ups, what it records with, and how many of its writes it has in flight. */
interface ConvergenceParts {
  auctioneer: AuctionRequester;
  completions: TaskCompletionSubmitter;
  clock: Clock;
  metrics: BbsMetrics;
  /** The store's changes, so that the leader's LRP passes cover what changed. */
  changes: ConvergenceChangeFeed;
  workers?: number;
}

function bbsHandlers(
  db: Db,
  packageRepositories: EtcdPackageRepositoryDb,
  rep: RepClient,
  events: EventStreams,
  logger: Logger,
  { auctioneer, completions, clock, metrics, changes, workers }: ConvergenceParts,
): { handlers: BbsHandlers; lrpConvergence: LRPConvergenceController; taskConvergence: TaskConvergenceController } {
  const actualLRPController = new ActualLRPController(db, rep, logger.child({ session: 'actual-lrp-controller' }));
  const desiredLRPController = new DesiredLRPController(db, actualLRPController, logger.child({ session: 'desired-lrp-controller' }));
  const taskController = new TaskController(db, rep, logger.child({ session: 'task-controller' }));
  const convergerLogger = logger.child({ session: 'converger' });
  const convergence = { logger: convergerLogger, clock, metrics, ...(workers === undefined ? {} : { workers }) };
  const lrpConvergence = new LRPConvergenceController({ db, actualLRPs: actualLRPController, auctioneer, changes, ...convergence });
  const taskConvergence = new TaskConvergenceController({ db, auctioneer, completions, ...convergence });
  const handlers: BbsHandlers = {
    Ping: async () => ({ available: true }),
    ...domainHandlers(db),
    ...cellHandlers(db),
    ...actualLRPHandlers(db, actualLRPController),
    ...desiredLRPHandlers(db, desiredLRPController),
    ...taskHandlers(db, taskController),
    ...convergenceHandlers(lrpConvergence, taskConvergence),
    ...dashboardHandlers(db),
    ...packageRepositoryHandlers(packageRepositories),
    EventStream_r0: events.handler,
  };
  return { handlers, lrpConvergence, taskConvergence };
}
