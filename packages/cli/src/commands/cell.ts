/**
 * `diego cell`: the rep + executor (@diego/cell). It registers with the BBS, takes work from the auctioneer and
 * runs it as processes on this machine. SIGTERM evacuates (its instances move to other cells first), SIGINT
 * stops at once; a second signal during an evacuation stops at once.
 */
import { statfsSync } from 'node:fs';
import { hostname, totalmem } from 'node:os';
import { dirname, isAbsolute, resolve } from 'node:path';
import pino, { type Logger } from 'pino';
import { startCell, type CellConfig, type PreloadedRootFs, type RunningCell } from '@diego/cell';
export type { CellConfig, PreloadedRootFs } from '@diego/cell';
import { UsageError, type FlagDef } from '../flags';
import { logIgnoredFlags, type CliIo, type Command, type StartNotes } from '../command';
import {
  addressFlag,
  autoOrPositiveIntegerFlag,
  boolFlag,
  durationFlag,
  hostPortListFlag,
  ignored,
  logLevelFlag,
  nonNegativeIntegerFlag,
  optional,
  positiveIntegerFlag,
  stringFlag,
  urlFlag,
  urlListFlag,
} from '../flag-types';
import { bbsClientTlsFlags, compileBbsClientTls, consulFlags, DROPSONDE, leaseTtlFlag } from './shared-flags';
import { isCidr } from '@diego/models';

// The cell ID is the last segment of its etcd key, /v1/cell/<cellID>.
const CELL_ID = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const ROOTFS_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const MEGABYTE = 1024 * 1024;
const GARDEN = 'the cell runs its containers itself: there is no Garden server';

function cellIdFlag(): FlagDef<string> {
  return {
    usage: 'the ID this cell registers with (its key is /v1/cell/<cellID>)',
    valueName: 'id',
    defaultText: hostname(),
    parse: (written) => {
      const text = written[written.length - 1] ?? '';
      if (!CELL_ID.test(text)) throw new Error('a cell ID is letters, digits, ".", "_" and "-", starting with a letter or digit');
      return text;
    },
  };
}

function parsePreloadedRootFs(text: string): PreloadedRootFs {
  const colon = text.indexOf(':');
  const name = colon === -1 ? text : text.slice(0, colon);
  const path = colon === -1 ? null : text.slice(colon + 1);
  if (!ROOTFS_NAME.test(name)) throw new Error(`"${text}" is not name[:path] with a name of letters, digits, ".", "_", "-"`);
  if (path !== null && !isAbsolute(path)) throw new Error(`the path of rootfs "${name}" must be absolute`);
  return { name, path };
}

function preloadedRootFsFlag(): FlagDef<PreloadedRootFs[]> {
  return {
    usage: 'a rootfs this cell has on disk, offered as preloaded:<name>',
    valueName: 'name[:path]',
    defaultText: '',
    isRepeatable: true,
    parse: (written) => {
      const rootFses = written.map(parsePreloadedRootFs);
      const names = rootFses.map((rootFs) => rootFs.name);
      const repeated = names.find((name, index) => names.indexOf(name) !== index);
      if (repeated !== undefined) throw new Error(`rootfs "${repeated}" is given twice`);
      return rootFses;
    },
  };
}

/** An IPv4 CIDR with room for a bridge and containers (a /30 at the smallest). */
function networkPoolFlag(): FlagDef<string> {
  return {
    usage: "the IPv4 range a root cell's containers take their addresses from (its first address is the cell's bridge)",
    valueName: 'cidr',
    defaultText: '10.254.0.0/22',
    parse: (written) => {
      const text = written[written.length - 1] ?? '';
      const prefix = Number(text.split('/')[1]);
      if (!isCidr(text) || text.includes(':') || !(prefix <= 30)) throw new Error('expected an IPv4 range a.b.c.d/n with n at most 30');
      return text;
    },
  };
}

export const cellFlags = {
  cellID: cellIdFlag(),
  zone: stringFlag('the availability zone of this cell (required)', '', 'zone'),
  listenAddr: addressFlag("where the cell's API (state, work) listens", '0.0.0.0:1800'),
  bbsAddress: urlListFlag('the BBS URLs, comma-separated, tried in order', 'http://127.0.0.1:8889'),
  memoryMB: autoOrPositiveIntegerFlag("the memory this cell offers; auto = this machine's total memory", 'MB'),
  diskMB: autoOrPositiveIntegerFlag('the disk this cell offers; auto = the size of the file system holding -workDir', 'MB'),
  containers: positiveIntegerFlag('how many containers this cell runs at most', '256'),
  preloadedRootFS: preloadedRootFsFlag(),
  evacuationTimeout: durationFlag('how long an evacuating cell waits for its instances to start elsewhere', '10m'),
  bulkSyncInterval: durationFlag('how often the cell settles what it runs with what the BBS says it runs (also at start)', '30s'),
  workDir: stringFlag("where the cell keeps its containers' files and its image cache", '.diego/cell', 'dir'),
  dockerRegistryURL: urlFlag('where docker:///org/image rootfses are pulled from (a root cell only)', 'https://registry-1.docker.io'),
  insecureDockerRegistryList: hostPortListFlag('registries reached over plain HTTP, comma-separated'),
  dockerImageDir: stringFlag('a directory of `docker save` tarballs and OCI layouts (<repository>:<tag>.tar), tried before the registry', '', 'dir'),
  networkPool: networkPoolFlag(),
  ...bbsClientTlsFlags,
  communicationTimeout: durationFlag('how long a call to the BBS may take', '10s'),
  pollingInterval: optional(durationFlag("the rep's name for -bulkSyncInterval; wins over it when given", '')),
  evacuationPollingInterval: durationFlag('how often an evacuating cell looks whether its instances run elsewhere yet', '1s'),
  exportNetworkEnvVars: boolFlag("give LRP instances CF_INSTANCE_IP, CF_INSTANCE_PORT, CF_INSTANCE_ADDR, CF_INSTANCE_PORTS (and CF_INSTANCE_INTERNAL_IP in a network of their own)", true),
  healthyMonitoringInterval: durationFlag("how often an instance's monitor action runs once it has passed", '30s'),
  unhealthyMonitoringInterval: durationFlag("how often an instance's monitor action runs until it first passes", '500ms'),
  containerMaxCpuShares: positiveIntegerFlag('the cpu shares of a container of cpu_weight 100 (a root cell only)', '1024'),
  lockTTL: leaseTtlFlag("the TTL of the cell's presence: a dead cell leaves the cells this long after it died"),
  debugAddr: optional(addressFlag('where the debug endpoints listen; none when empty', '')),
  logLevel: logLevelFlag(),
  lockRetryInterval: ignored(durationFlag('how soon a failed presence is taken again', '5s'), "the cell retries its presence every second until the BBS takes it"),
  rootFSProvider: ignored(
    { ...stringFlag('a rootfs provider this cell offers', '', 'name'), isRepeatable: true, parse: (written: readonly string[]) => [...written] },
    'a root cell offers docker:// itself, and every cell its -preloadedRootFS',
  ),
  gardenNetwork: ignored(stringFlag("Garden's network", '', 'tcp|unix'), GARDEN),
  gardenAddr: ignored(stringFlag("Garden's address", '', 'address'), GARDEN),
  containerOwnerName: ignored(stringFlag('the owner name containers are tagged with', '', 'name'), 'containers are named after the cell and found under -workDir'),
  tempDir: ignored(stringFlag('where downloads are staged', '', 'dir'), 'downloads are staged under -workDir'),
  cachePath: ignored(stringFlag('where downloads are cached', '', 'dir'), 'downloads and image layers are cached under -workDir'),
  maxCacheSizeInBytes: ignored(nonNegativeIntegerFlag('the cache size'), 'the download cache is not pruned by size'),
  allowPrivileged: ignored(boolFlag('allow privileged run actions'), "a run action's privileged flag is not honoured: containers run as their user"),
  skipCertVerify: ignored(boolFlag('skip TLS verification of downloads'), 'downloads always verify TLS certificates'),
  containerInodeLimit: ignored(nonNegativeIntegerFlag('inodes per container'), "a root cell's disk limit (an ext4 image of disk_mb) bounds inodes too"),
  pruneInterval: ignored(durationFlag('how long a container may stay allocated', '1m'), 'containers are created at once, never left allocated'),
  createWorkPoolSize: ignored(positiveIntegerFlag('concurrent Garden creates', '32'), GARDEN),
  deleteWorkPoolSize: ignored(positiveIntegerFlag('concurrent Garden deletes', '32'), GARDEN),
  readWorkPoolSize: ignored(positiveIntegerFlag('concurrent Garden reads', '64'), GARDEN),
  metricsWorkPoolSize: ignored(positiveIntegerFlag('concurrent Garden metrics reads', '8'), GARDEN),
  healthCheckWorkPoolSize: ignored(positiveIntegerFlag('concurrent monitor checks', '64'), 'monitor actions run in the cell process as they fall due'),
  dropsondePort: ignored(positiveIntegerFlag("the metron agent's port", '3457'), DROPSONDE),
  etcdCluster: ignored(optional(urlListFlag('etcd client URLs', '')), 'the cell talks only to the BBS, the one process that touches etcd'),
  ...consulFlags,
};

/** The size of the file system that holds `path`, or would hold it once created. */
function fileSystemMegabytes(path: string): number {
  for (let dir = path; ; dir = dirname(dir)) {
    try {
      const stats = statfsSync(dir);
      return Math.floor((stats.bsize * stats.blocks) / MEGABYTE);
    } catch (error) {
      if (dir === dirname(dir)) throw error;
    }
  }
}

export const cellCommand: Command<typeof cellFlags, CellConfig> = {
  name: 'cell',
  summary: 'a cell (rep + executor): registers with the BBS and runs the work it is given',
  description:
    'Runs a cell: registers its presence with the BBS, serves the rep API (/state, /work) on -listenAddr and\n' +
    'runs the LRP instances and tasks the auctioneer places on it under -workDir. As root each container has\n' +
    'namespaces, a root of its own (docker:// images from -dockerRegistryURL or -dockerImageDir, preloaded\n' +
    'rootfses with a path), memory/cpu/pids/disk limits and an address in -networkPool behind its egress rules;\n' +
    'without root, containers are plain processes.\n' +
    'SIGTERM evacuates: the cell takes no more work, its running instances start on other cells before it\n' +
    'stops its own, its tasks run to their end, for at most -evacuationTimeout. SIGINT, or a second signal,\n' +
    'stops at once. Either way every container is destroyed and the cell leaves the BBS; exit status 0.',
  flags: cellFlags,
  compile: (values) => {
    if (values.zone === '') throw new UsageError('-zone must be specified (the availability zone of this cell)');
    const workDir = resolve(values.workDir);
    return {
      cellId: values.cellID,
      zone: values.zone,
      listenAddress: values.listenAddr,
      bbsAddress: values.bbsAddress,
      memoryMb: values.memoryMB === 'auto' ? Math.floor(totalmem() / MEGABYTE) : values.memoryMB,
      diskMb: values.diskMB === 'auto' ? fileSystemMegabytes(workDir) : values.diskMB,
      containers: values.containers,
      preloadedRootFses: values.preloadedRootFS,
      evacuationTimeoutMs: values.evacuationTimeout,
      workDir,
      dockerRegistryURL: values.dockerRegistryURL,
      insecureDockerRegistries: values.insecureDockerRegistryList,
      dockerImageDir: values.dockerImageDir === '' ? null : resolve(values.dockerImageDir),
      networkPool: values.networkPool,
      logLevel: values.logLevel,
      bbsTls: compileBbsClientTls(values),
      communicationTimeoutMs: values.communicationTimeout,
      bulkSyncIntervalMs: values.pollingInterval ?? values.bulkSyncInterval,
      evacuationPollingIntervalMs: values.evacuationPollingInterval,
      exportNetworkEnvVars: values.exportNetworkEnvVars,
      healthyMonitoringIntervalMs: values.healthyMonitoringInterval,
      unhealthyMonitoringIntervalMs: values.unhealthyMonitoringInterval,
      containerMaxCpuShares: values.containerMaxCpuShares,
      presenceTtlSeconds: values.lockTTL,
      debugAddress: values.debugAddr,
    };
  },
  run: (config, io, notes) => runCell(config, io, notes),
};

/** A signal right after the first is the same Ctrl-C or SIGTERM delivered twice (the terminal and `npm start`). */
const SAME_SIGNAL_WINDOW_MS = 1000;

/** Starts the cell and runs it until a signal has stopped it: SIGTERM evacuates, SIGINT or a second signal stops. */
async function runCell(config: CellConfig, io: CliIo, notes: StartNotes): Promise<number> {
  const logger = pino({ level: config.logLevel });
  logIgnoredFlags(logger.child({ component: 'cell' }), notes);
  const starting = new AbortController();
  let cell: RunningCell | null = null;
  let firstSignalAt: number | null = null;
  let resolveStopped: () => void = () => undefined;
  const stopped = new Promise<void>((resolve) => {
    resolveStopped = resolve;
  });
  const onSignal = (signal: NodeJS.Signals): void => {
    const now = Date.now();
    if (firstSignalAt !== null && now - firstSignalAt < SAME_SIGNAL_WINDOW_MS) return;
    const isFirst = firstSignalAt === null;
    firstSignalAt ??= now;
    if (cell === null) {
      starting.abort();
    } else if (isFirst && signal === 'SIGTERM') {
      logSignal(logger, signal, 'evacuating');
      void cell.evacuate().then(resolveStopped);
    } else {
      logSignal(logger, signal, 'stopping');
      void cell.stop().then(resolveStopped);
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    try {
      cell = await startCell(config, { logger, signal: starting.signal });
    } catch (err) {
      if (starting.signal.aborted) return 0;
      logger.fatal({ component: 'cell', err }, 'failed-to-start');
      io.stderr.write(`diego cell: ${err instanceof Error ? err.message : String(err)}\n`);
      return 1;
    }
    await stopped;
    return 0;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

function logSignal(logger: Logger, signal: NodeJS.Signals, event: string): void {
  logger.info({ component: 'cell', signal }, event);
}
