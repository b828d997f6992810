/**
 * `diego cell`: the rep in front of an executor. It serves the rep API, registers its presence through the BBS
 * (DESIGN.md: cells never touch etcd) and runs the work the auctioneer sends it.
 */
import pino, { type Logger } from 'pino';
import {
  CellPresenceMaintainer,
  HttpBbsClient,
  closeServer,
  listenOn,
  parseListenAddress,
  rootfsProvidersFromPresence,
  type BbsClient,
  type CellState,
  type RunningServer,
} from '@diego/bbs';
import type { CellPresence } from '@diego/models';
import type { CellConfig } from './config';
import type { Executor } from './executor/contracts';
import { openCellExecutor, type CellExecutor } from './executor/cell-executor';
import { Rep, type RepBbs } from './rep/rep';
import { repServer } from './rep/rep-server';
import { machineIpv4 } from './host-address';

/** The BBS calls of a cell: its presence and its rep's. */
export type CellBbs = RepBbs & Pick<BbsClient, 'registerCell' | 'cellHeartbeat' | 'removeCell'>;

export interface CellOptions {
  /** Runs the containers. Default: the cell's executor from its config (executor/cell-executor.ts). */
  executor?: Executor;
  /** Default: an HttpBbsClient over `config.bbsAddress`, closed on stop. */
  bbs?: CellBbs;
  /** Default: pino at `config.logLevel`. */
  logger?: Logger;
  /** The presence's lease TTL (default 10 s). */
  presenceTtlSeconds?: number;
  /** How often an evacuating cell checks on its instances (default 1 s). */
  evacuationPollingIntervalMs?: number;
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
    const http = new HttpBbsClient(config.bbsAddress);
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
    ...(options.evacuationPollingIntervalMs === undefined ? {} : { evacuationPollingIntervalMs: options.evacuationPollingIntervalMs }),
  });
  const server = repServer({ rep, logs: executor.logs, imageConfig }, logger);
  let address: string;
  try {
    address = await listenOn(server, config.listenAddress);
  } catch (err) {
    closeBbs();
    await closeExecutor();
    throw err;
  }
  const repAddress = `http://${advertisedAddress(address)}`;
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
    ...(options.presenceTtlSeconds === undefined ? {} : { ttlSeconds: options.presenceTtlSeconds }),
  });
  const giveUp = (): void => void maintainer.stop();
  options.signal?.addEventListener('abort', giveUp, { once: true });
  await maintainer.start();
  options.signal?.removeEventListener('abort', giveUp);
  if (options.signal?.aborted === true) {
    await closeServer(server);
    closeBbs();
    await closeExecutor();
    throw new Error('stopped before the cell registered');
  }
  logger.info({ address, rep_address: repAddress, zone: config.zone, rootfs_providers: rootfsProviders }, 'cell-started');

  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      // Presence first: the auctioneer stops sending work, then nothing is left running.
      await maintainer.stop();
      await rep.shutdown();
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

/**
 * The host the BBS and the auctioneer reach the cell on: the listen host, or for every interface (0.0.0.0, ::)
 * this machine's first external IPv4 address (loopback when it has none).
 */
function advertisedAddress(address: string): string {
  const { host, port } = parseListenAddress(address);
  if (host !== '0.0.0.0' && host !== '::') return address;
  return `${machineIpv4()}:${port}`;
}
