/**
 * `diego cell`: the rep in front of an executor. It serves the rep API, registers its presence through the BBS
 * (DESIGN.md: cells never touch etcd) and runs the work the auctioneer sends it. It settles what it runs with the
 * BBS before it registers (a restarted cell's predecessor may have left records behind) and every bulk sync
 * interval after.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import pino, { type Logger } from 'pino';
import { BBS_CLIENT_TLS_FLAGS, readMutualTls } from '@diego/tls';
import { CellPresenceMaintainer } from './cell-presence';
import { HttpBbsClient, type BbsClient } from '@diego/bbs-client';
import { closeServer, listenOn, reachableHostPort, startDebugServer, type RunningServer } from '@diego/server-support';
import { rootfsProvidersFromPresence, type CellState } from '@diego/rep-api';
import { convertError, type CellPresence } from '@diego/models';
import { DEFAULT_BULK_SYNC_INTERVAL_MS, type CellConfig } from './config';
import type { Executor } from './executor/contracts';
import { openCellExecutor, type CellExecutor } from './executor/cell-executor';
import { Rep, type RepBbs } from './rep/rep';
import { repServer } from './rep/rep-server';
import { BulkSyncLoop } from './rep/bulk-sync';

/** The BBS calls of a cell: its presence and its rep's. */
export type CellBbs = RepBbs & Pick<BbsClient, 'registerCell' | 'cellHeartbeat' | 'removeCell'>;

export interface CellOptions {
  /** Runs the containers. Default: the cell's executor from its config (executor/cell-executor.ts). */
  executor?: Executor;
  /** Default: an HttpBbsClient over `config.bbsAddress`, closed on stop. */
  bbs?: CellBbs;
  /** Default: pino at `config.logLevel`. */
  logger?: Logger;
  /** Gives up starting (registration is retried until the BBS answers): startCell then rejects. */
  signal?: AbortSignal;
}

/** A started cell. */
export interface RunningCell extends RunningServer {
  readonly cellId: string;
  /** Its presence's rep_address, `http://host:port`. */
  readonly repAddress: string;
  /** What `GET /state` answers now. */
  state(): CellState;
  /**
   * SIGTERM: drains (spec/bbs.md §5.3) for up to `config.evacuationTimeoutMs`, then stops. `stop()` during it
   * stops at once.
   */
  evacuate(): Promise<void>;
}

/**
 * @example
 *   const cell = await startCell(config);
 *   process.once('SIGTERM', () => void cell.evacuate());
 *   process.once('SIGINT', () => void cell.stop());
 */
export async function startCell(config: CellConfig, options: CellOptions = {}): Promise<RunningCell> {
  const logger = (options.logger ?? pino({ level: config.logLevel })).child({ component: 'cell', cell_id: config.cellId });
  let bbs: CellBbs;
  let closeBbs = (): void => undefined;
  if (options.bbs === undefined) {
    // Read and checked before anything starts: a file it cannot use stops the cell with the flag it is about.
    const tls = config.bbsTls === undefined || config.bbsTls === null ? null : await readMutualTls(config.bbsTls, BBS_CLIENT_TLS_FLAGS);
    const http = new HttpBbsClient(config.bbsAddress, {
      ...(tls === null ? {} : { tls }),
      ...(config.communicationTimeoutMs === undefined ? {} : { timeoutMs: config.communicationTimeoutMs }),
    });
    bbs = http;
    closeBbs = () => http.close();
  } else {
    bbs = options.bbs;
  }
  let executor: Executor;
  let rootfsProviders: Record<string, string[]>;
  let closeExecutor = (): Promise<void> => Promise.resolve();
  let imageConfig: CellExecutor['imageConfig'] = null;
  if (options.executor === undefined) {
    const opened = await openCellExecutor(config, logger);
    executor = opened.executor;
    rootfsProviders = opened.rootfsProviders;
    imageConfig = opened.imageConfig;
    closeExecutor = opened.close;
  } else {
    executor = options.executor;
    rootfsProviders = { preloaded: config.preloadedRootFses.map((rootfs) => rootfs.name) };
  }
  const rep = new Rep({
    cellId: config.cellId,
    zone: config.zone,
    total: { MemoryMB: config.memoryMb, DiskMB: config.diskMb, Containers: config.containers },
    rootfsProviders: rootfsProvidersFromPresence(rootfsProviders),
    executor,
    bbs,
    logger,
    ...(config.evacuationPollingIntervalMs === undefined ? {} : { evacuationPollingIntervalMs: config.evacuationPollingIntervalMs }),
  });
  const server = repServer({ rep, logs: executor.logs, imageConfig }, logger);
  let address: string;
  let debug: RunningServer | null = null;
  try {
    address = await listenOn(server, config.listenAddress);
    if (config.debugAddress !== undefined && config.debugAddress !== null) {
      debug = await startDebugServer(config.debugAddress, logger, { vars: () => ({ cell_id: config.cellId, state: rep.state() }) });
    }
  } catch (err) {
    await closeServer(server).catch(() => undefined);
    closeBbs();
    await closeExecutor();
    throw err;
  }
  // Where the BBS and the auctioneer reach the cell.
  const reachable = reachableHostPort(address);
  const repAddress = `http://${reachable.host.includes(':') ? `[${reachable.host}]` : reachable.host}:${reachable.port}`;
  const presence: CellPresence = {
    cell_id: config.cellId,
    rep_address: repAddress,
    zone: config.zone,
    capacity: { memory_mb: config.memoryMb, disk_mb: config.diskMb, containers: config.containers },
    rootfs_providers: rootfsProviders,
  };
  const maintainer = new CellPresenceMaintainer({
    bbs,
    presence,
    logger,
    ...(config.presenceTtlSeconds === undefined ? {} : { ttlSeconds: config.presenceTtlSeconds }),
  });
  const giveUp = async (): Promise<never> => {
    await maintainer.stop();
    await rep.shutdown();
    await debug?.stop();
    await closeServer(server);
    closeBbs();
    await closeExecutor();
    throw new Error('stopped before the cell registered');
  };
  const aborted = (): boolean => options.signal?.aborted === true;
  // Before registering: a restarted cell hands back what its predecessor left in the BBS before it offers itself
  // for new work.
  const firstSync = await firstBulkSync(rep, logger, options.signal);
  if (aborted()) return giveUp();
  const stopRegistering = (): void => void maintainer.stop();
  options.signal?.addEventListener('abort', stopRegistering, { once: true });
  await maintainer.start();
  options.signal?.removeEventListener('abort', stopRegistering);
  if (aborted()) return giveUp();
  if (firstSync.removedClaims) await rep.replaceRemovedClaims();
  const bulkSync = new BulkSyncLoop({
    sync: async () => {
      if ((await rep.bulkSync()).removedClaims) await rep.replaceRemovedClaims();
    },
    intervalMs: config.bulkSyncIntervalMs ?? DEFAULT_BULK_SYNC_INTERVAL_MS,
    logger,
  });
  bulkSync.start();
  logger.info({ address, rep_address: repAddress, zone: config.zone, rootfs_providers: rootfsProviders }, 'cell-started');

  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      // Presence first: the auctioneer stops sending work, then nothing is left running.
      await maintainer.stop();
      await bulkSync.stop();
      await rep.shutdown();
      await debug?.stop();
      await closeServer(server);
      closeBbs();
      await closeExecutor();
      logger.info('cell-stopped');
    })();
    return stopped;
  };
  let evacuated: Promise<void> | undefined;
  return {
    cellId: config.cellId,
    address,
    repAddress,
    state: () => rep.state(),
    evacuate: () => {
      evacuated ??= (async () => {
        await rep.evacuate(config.evacuationTimeoutMs);
        await stop();
      })();
      return evacuated;
    },
    stop,
  };
}

/** How soon a failed first bulk sync (the BBS not answering yet) is tried again. */
const FIRST_BULK_SYNC_RETRY_MS = 1_000;

/** The bulk sync before the cell registers, retried until it succeeds or the start is given up. */
async function firstBulkSync(rep: Rep, logger: Logger, signal: AbortSignal | undefined): Promise<{ removedClaims: boolean }> {
  while (signal?.aborted !== true) {
    try {
      return await rep.bulkSync();
    } catch (err) {
      logger.error({ err: convertError(err).message }, 'bulk-sync-failed');
    }
    await sleep(FIRST_BULK_SYNC_RETRY_MS, undefined, signal === undefined ? {} : { signal }).catch(() => undefined);
  }
  return { removedClaims: false };
}
