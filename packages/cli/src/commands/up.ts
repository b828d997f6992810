/** `diego up`: a whole Diego on one machine (local etcd, one BBS, one receptor, one cell), in one process. */
import { join, resolve } from 'node:path';
import { startBbs, type LogLevel, type RunningServer } from '@diego/bbs';
import { DEFAULT_BULK_SYNC_INTERVAL_MS, startCell, type CellConfig, type RunningCell } from '@diego/cell';
import { startReceptor } from '@diego/receptor';
import { dialableUrl } from '../address';
import { listenForStopSignals, type CliIo, type Command } from '../command';
import { defaultValues, UsageError } from '../flags';
import { addressFlag, logLevelFlag, optional, stringFlag, urlListFlag } from '../flag-types';
import { startLocalEtcd } from '../local-etcd';
import { cellCommand, cellFlags } from './cell';
import { checkBasicAuth, receptorFlags } from './receptor';

/** The one cell of `diego up`: what `diego cell -cellID=cell-z1-0 -zone=z1` would be (-cellID may name another). */
const CELL_ID = 'cell-z1-0';
const CELL_ZONE = 'z1';
/** Apps ask for `preloaded:cflinuxfs2`; on one machine the host's own root stands in for it. */
const CELL_ROOTFS = { name: 'cflinuxfs2', path: '/' };
const CELL_CONTAINERS = 256;
const CELL_EVACUATION_TIMEOUT_MS = 10 * 60 * 1000;

export const upFlags = {
  etcdCluster: optional(urlListFlag('use this etcd (client URLs, comma-separated) instead of starting one', '')),
  etcdListenAddress: addressFlag('where the local etcd serves clients', '127.0.0.1:2379'),
  etcdPeerAddress: addressFlag('where the local etcd listens for peers', '127.0.0.1:2380'),
  dataDir: stringFlag("where the local etcd keeps its data (<dataDir>/etcd) and log (<dataDir>/etcd.log)", '.diego', 'dir'),
  bbsListenAddress: addressFlag('where the BBS listens', '127.0.0.1:8889'),
  cellListenAddress: addressFlag("where the cell's rep API (/state, /work) listens", '127.0.0.1:1800'),
  cellID: { ...cellFlags.cellID, defaultText: CELL_ID },
  dockerRegistryURL: cellFlags.dockerRegistryURL,
  insecureDockerRegistryList: cellFlags.insecureDockerRegistryList,
  dockerImageDir: cellFlags.dockerImageDir,
  networkPool: cellFlags.networkPool,
  address: receptorFlags.address,
  username: receptorFlags.username,
  password: receptorFlags.password,
  corsEnabled: receptorFlags.corsEnabled,
  logLevel: logLevelFlag(),
};

export interface UpConfig {
  /** An etcd to use; null to start one. */
  etcdCluster: string[] | null;
  etcdListenAddress: string;
  etcdPeerAddress: string;
  /** Absolute. */
  dataDir: string;
  bbsListenAddress: string;
  cellListenAddress: string;
  /** The cell's ID: one per machine, as its cgroups, bridge and firewall rules are named after it. */
  cellId: string;
  /** The cell's images and network (as root), as `diego cell` takes them. */
  dockerRegistryURL: string;
  insecureDockerRegistryList: string[];
  dockerImageDir: string;
  networkPool: string;
  receptorAddress: string;
  username: string;
  password: string;
  corsEnabled: boolean;
  logLevel: LogLevel;
}

/** Something started, stopped in reverse order of starting. */
interface Member {
  name: string;
  stop(): Promise<void>;
}

function banner(config: UpConfig, { etcdUrl, bbs, receptor, cell }: Running): string {
  const receptorUrl = dialableUrl(receptor.address);
  const etcdWhere = config.etcdCluster === null ? ` (data ${join(config.dataDir, 'etcd')}, log ${join(config.dataDir, 'etcd.log')})` : '';
  // curl asks for the password itself when given only the user name, so it is never printed here.
  const auth = config.username === '' ? '' : ` -u '${config.username}'`;
  return [
    'diego up: running; Ctrl-C stops everything.',
    `  etcd      ${etcdUrl}${etcdWhere}`,
    `  bbs       ${dialableUrl(bbs.address)}`,
    `  receptor  ${receptorUrl}`,
    `  cell      ${cell.cellId} in zone ${CELL_ZONE} at ${cell.repAddress} (containers under ${join(config.dataDir, 'cell')})`,
    'Try:',
    `  curl -i${auth} -X PUT ${receptorUrl}/v1/domains/cf-apps`,
    `  curl -s${auth} ${receptorUrl}/v1/domains`,
    `  npx diego cells --receptorURL=${receptorUrl}`,
    '',
  ].join('\n');
}

interface Running {
  etcdUrl: string;
  bbs: RunningServer;
  receptor: RunningServer;
  cell: RunningCell;
}

/** The cell's configuration, compiled as `diego cell` compiles its flags (memory and disk: this machine's). */
function cellConfig(config: UpConfig, bbsUrl: string): CellConfig {
  return cellCommand.compile(
    {
      ...defaultValues('cell', cellFlags),
      cellID: config.cellId,
      zone: CELL_ZONE,
      listenAddr: config.cellListenAddress,
      bbsAddress: [bbsUrl],
      memoryMB: 'auto',
      diskMB: 'auto',
      containers: CELL_CONTAINERS,
      preloadedRootFS: [CELL_ROOTFS],
      evacuationTimeout: CELL_EVACUATION_TIMEOUT_MS,
      bulkSyncInterval: DEFAULT_BULK_SYNC_INTERVAL_MS,
      workDir: join(config.dataDir, 'cell'),
      dockerRegistryURL: config.dockerRegistryURL,
      insecureDockerRegistryList: config.insecureDockerRegistryList,
      dockerImageDir: config.dockerImageDir,
      networkPool: config.networkPool,
      logLevel: config.logLevel,
    },
    [],
  );
}

/** Starts etcd (unless one is given), the BBS, the receptor and the cell in order, recording each in `started`; null when interrupted. */
async function startAll(config: UpConfig, io: CliIo, aborted: AbortSignal, started: Member[]): Promise<Running | null> {
  let etcdCluster = config.etcdCluster;
  if (etcdCluster === null) {
    const etcd = await startLocalEtcd({
      clientAddress: config.etcdListenAddress,
      peerAddress: config.etcdPeerAddress,
      dataDir: join(config.dataDir, 'etcd'),
      logFile: join(config.dataDir, 'etcd.log'),
      path: io.env.PATH ?? '',
      aborted,
    });
    started.push({ name: 'etcd', stop: etcd.stop });
    etcdCluster = [etcd.clientUrl];
  }
  if (aborted.aborted) return null;
  const bbs = await startBbs({ listenAddress: config.bbsListenAddress, etcdCluster, logLevel: config.logLevel, debugAddress: null });
  started.push({ name: 'bbs', stop: () => bbs.stop() });
  if (aborted.aborted) return null;
  const receptor = await startReceptor({
    address: config.receptorAddress,
    bbsAddress: [dialableUrl(bbs.address)],
    username: config.username,
    password: config.password,
    corsEnabled: config.corsEnabled,
    logLevel: config.logLevel,
    debugAddress: null,
  });
  started.push({ name: 'receptor', stop: () => receptor.stop() });
  if (aborted.aborted) return null;
  // Stopped first: its containers go before the BBS it reports their end to.
  const cell = await startCell(cellConfig(config, dialableUrl(bbs.address)), { signal: aborted });
  started.push({ name: 'cell', stop: () => cell.stop() });
  return { etcdUrl: etcdCluster.join(','), bbs, receptor, cell };
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function runUp(config: UpConfig, io: CliIo): Promise<number> {
  const signals = listenForStopSignals(io);
  const started: Member[] = [];
  let exitCode = 0;
  try {
    const running = await startAll(config, io, signals.aborted, started);
    if (running !== null) {
      io.stdout.write(banner(config, running));
      await signals.received;
    }
  } catch (error) {
    // Failing because we were interrupted while starting is the stop that was asked for, not an error.
    if (!signals.aborted.aborted) {
      io.stderr.write(`diego up: ${describe(error)}\n`);
      exitCode = 1;
    }
  }
  for (const member of started.reverse()) {
    io.stdout.write(`diego up: stopping ${member.name}\n`);
    try {
      await member.stop();
    } catch (error) {
      io.stderr.write(`diego up: ${member.name} did not stop cleanly: ${describe(error)}\n`);
      exitCode = 1;
    }
  }
  signals.dispose();
  return exitCode;
}

export const upCommand: Command<typeof upFlags, UpConfig> = {
  name: 'up',
  summary: 'a local etcd, one BBS, one receptor and one cell in one process, for one machine',
  description:
    'Starts etcd (its data under <dataDir>/etcd, so state survives a restart; or uses --etcdCluster), one BBS\n' +
    '(the leader: auctioneer and converger), one receptor and one cell (cell-z1-0 in zone z1, containers under\n' +
    '<dataDir>/cell, preloaded:cflinuxfs2 run on the host root), prints where each listens, and stops them all,\n' +
    'the cell first, on Ctrl-C or SIGTERM.',
  flags: upFlags,
  compile: (values) => {
    checkBasicAuth(values.username, values.password);
    if (values.etcdCluster === null) {
      if (values.etcdListenAddress.endsWith(':0') || values.etcdPeerAddress.endsWith(':0')) {
        throw new UsageError('the local etcd needs fixed ports: -etcdListenAddress and -etcdPeerAddress cannot use port 0');
      }
      if (values.etcdListenAddress === values.etcdPeerAddress) {
        throw new UsageError('-etcdListenAddress and -etcdPeerAddress must differ');
      }
    }
    return {
      etcdCluster: values.etcdCluster,
      etcdListenAddress: values.etcdListenAddress,
      etcdPeerAddress: values.etcdPeerAddress,
      dataDir: resolve(values.dataDir),
      bbsListenAddress: values.bbsListenAddress,
      cellListenAddress: values.cellListenAddress,
      cellId: values.cellID,
      dockerRegistryURL: values.dockerRegistryURL,
      insecureDockerRegistryList: values.insecureDockerRegistryList,
      dockerImageDir: values.dockerImageDir,
      networkPool: values.networkPool,
      receptorAddress: values.address,
      username: values.username,
      password: values.password,
      corsEnabled: values.corsEnabled,
      logLevel: values.logLevel,
    };
  },
  run: runUp,
};
