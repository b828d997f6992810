/** `diego up`: a whole control plane on one machine (local etcd, one BBS, one receptor), in one process. */
import { join, resolve } from 'node:path';
import { startBbs, type LogLevel, type RunningServer } from '@diego/bbs';
import { startReceptor } from '@diego/receptor';
import { dialableUrl } from '../address';
import { listenForStopSignals, type CliIo, type Command } from '../command';
import { UsageError } from '../flags';
import { addressFlag, logLevelFlag, optional, stringFlag, urlListFlag } from '../flag-types';
import { startLocalEtcd } from '../local-etcd';
import { checkBasicAuth, receptorFlags } from './receptor';

export const upFlags = {
  etcdCluster: optional(urlListFlag('use this etcd (client URLs, comma-separated) instead of starting one', '')),
  etcdListenAddress: addressFlag('where the local etcd serves clients', '127.0.0.1:2379'),
  etcdPeerAddress: addressFlag('where the local etcd listens for peers', '127.0.0.1:2380'),
  dataDir: stringFlag("where the local etcd keeps its data (<dataDir>/etcd) and log (<dataDir>/etcd.log)", '.diego', 'dir'),
  bbsListenAddress: addressFlag('where the BBS listens', '127.0.0.1:8889'),
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

function banner(config: UpConfig, etcdUrl: string, bbs: RunningServer, receptor: RunningServer): string {
  const receptorUrl = dialableUrl(receptor.address);
  const etcdWhere = config.etcdCluster === null ? ` (data ${join(config.dataDir, 'etcd')}, log ${join(config.dataDir, 'etcd.log')})` : '';
  // curl asks for the password itself when given only the user name, so it is never printed here.
  const auth = config.username === '' ? '' : ` -u '${config.username}'`;
  return [
    'diego up: running; Ctrl-C stops everything.',
    `  etcd      ${etcdUrl}${etcdWhere}`,
    `  bbs       ${dialableUrl(bbs.address)}`,
    `  receptor  ${receptorUrl}`,
    'Try:',
    `  curl -i${auth} -X PUT ${receptorUrl}/v1/domains/cf-apps`,
    `  curl -s${auth} ${receptorUrl}/v1/domains`,
    '',
  ].join('\n');
}

interface Running {
  etcdUrl: string;
  bbs: RunningServer;
  receptor: RunningServer;
}

/** Starts etcd (unless one is given), the BBS and the receptor in order, recording each in `started`; null when interrupted. */
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
  return { etcdUrl: etcdCluster.join(','), bbs, receptor };
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
      io.stdout.write(banner(config, running.etcdUrl, running.bbs, running.receptor));
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
  summary: 'a local etcd, one BBS and one receptor in one process, for one machine',
  description:
    'Starts etcd (its data under <dataDir>/etcd, so state survives a restart; or uses --etcdCluster), one BBS\n' +
    'and one receptor, prints where each listens, and stops them all on Ctrl-C or SIGTERM. The cell,\n' +
    'auctioneer and converger are not built yet.',
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
      receptorAddress: values.address,
      username: values.username,
      password: values.password,
      corsEnabled: values.corsEnabled,
      logLevel: values.logLevel,
    };
  },
  run: runUp,
};
