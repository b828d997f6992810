/** `diego up`: a whole Diego on one machine (local etcd, one BBS, one receptor, one cell), in one process. */
import { join, resolve } from 'node:path';
import {
  LOOPBACK_HOSTS, LOOPBACK_IPS, localClusterCertificates, type CertificateFiles, type LocalClusterCertificates, type MutualTlsFiles,
} from '@diego/tls';
import { startBbs } from '@diego/bbs';
import type { LogLevel, RunningServer } from '@diego/server-support';
import { startCell, type CellConfig, type RunningCell } from '@diego/cell';
import { startPackageService } from '@diego/package-service';
import { DASHBOARD_PATH, startReceptor } from '@diego/receptor';
import { dialableUrl } from '../address';
import { listenForStopSignals, type CliIo, type Command } from '../command';
import { defaultValues, UsageError } from '../flags';
import { addressFlag, boolFlag, logLevelFlag, optional, stringFlag, urlListFlag } from '../flag-types';
import { startLocalEtcd } from '../local-etcd';
import { cellCommand, cellFlags } from './cell';
import { packagesCommand, packagesFlags } from './packages';
import { receptorCommand, receptorFlags } from './receptor';
import { bbsClientTlsValues, checkBasicAuth } from './shared-flags';

/** The one cell of `diego up`: what `diego cell -cellID=cell-z1-0 -zone=z1` would be (-cellID may name another). */
const CELL_ID = 'cell-z1-0';
const CELL_ZONE = 'z1';
/** Apps ask for `preloaded:cflinuxfs2`; on one machine the host's own root stands in for it. */
const CELL_ROOTFS = { name: 'cflinuxfs2', path: '/' };

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
  packagesAddress: addressFlag('where the package service (diego packages) listens', '0.0.0.0:7070'),
  tls: boolFlag('run etcd and the BBS over mutual TLS, with a CA and certificates made under <dataDir>/tls'),
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
  /** The package service's address; its repository indexes go under <dataDir>/packages. */
  packagesAddress: string;
  /** etcd and the BBS over mutual TLS, every client with a certificate (made under <dataDir>/tls). */
  tls: boolean;
  logLevel: LogLevel;
}

/** Something started, stopped in reverse order of starting. */
interface Member {
  name: string;
  stop(): Promise<void>;
}

function banner(config: UpConfig, { etcdUrl, bbsUrl, receptor, packages, cell, certificates }: Running): string {
  const receptorUrl = dialableUrl(receptor.address);
  const etcdWhere = config.etcdCluster === null ? ` (data ${join(config.dataDir, 'etcd')}, log ${join(config.dataDir, 'etcd.log')})` : '';
  // curl asks for the password itself when given only the user name, so it is never printed here.
  const auth = config.username === '' ? '' : ` -u '${config.username}'`;
  const lines = [
    'diego up: running; Ctrl-C stops everything.',
    `  etcd      ${etcdUrl}${etcdWhere}${certificates === null ? '' : ', clients need a certificate of the CA'}`,
    `  bbs       ${bbsUrl}${certificates === null ? '' : ' (mutual TLS: clients need a certificate of the CA)'}`,
    `  receptor  ${receptorUrl}`,
    `  dashboard ${receptorUrl}${DASHBOARD_PATH}${config.username === '' ? '' : ' (it asks for the receptor\'s user name and password)'}`,
    `  packages  ${dialableUrl(packages.address)} (repository indexes under ${join(config.dataDir, 'packages')})`,
    `  cell      ${cell.cellId} in zone ${CELL_ZONE} at ${cell.repAddress} (containers under ${join(config.dataDir, 'cell')})`,
  ];
  if (certificates !== null) {
    const { ca, server, etcdClient, bbsClient } = certificates;
    lines.push(
      `  tls       ${certificates.created ? 'made' : 'reused'} under ${certificates.dir}: CA ${ca.certFile}; etcd's and the BBS's ${server.certFile};`,
      `            the BBS's to etcd ${etcdClient.certFile}; the receptor's and the cell's to the BBS ${bbsClient.certFile} (keys beside them)`,
    );
  }
  lines.push(
    'Try:',
    `  curl -i${auth} -X PUT ${receptorUrl}/v1/domains/cf-apps`,
    `  curl -s${auth} ${receptorUrl}/v1/domains`,
    `  npx diego cells --receptorURL=${receptorUrl}`,
  );
  if (certificates !== null) {
    const { ca, etcdClient, bbsClient } = certificates;
    lines.push(
      `  curl -sS -o /dev/null -w '%{http_code}\\n' --cacert ${ca.certFile} --cert ${bbsClient.certFile} --key ${bbsClient.keyFile} -X POST ${bbsUrl}/v1/ping`,
      `  etcdctl --endpoints=${etcdUrl} --cacert=${ca.certFile} --cert=${etcdClient.certFile} --key=${etcdClient.keyFile} get /v1/ --prefix --keys-only`,
    );
  }
  lines.push('');
  return lines.join('\n');
}

interface Running {
  etcdUrl: string;
  bbsUrl: string;
  receptor: RunningServer;
  packages: RunningServer;
  cell: RunningCell;
  /** With --tls. */
  certificates: LocalClusterCertificates | null;
}

/** One side of mutual TLS: trusting the local CA, presenting `own`. */
function mutualTls(certificates: LocalClusterCertificates, own: CertificateFiles): MutualTlsFiles {
  return { caFile: certificates.ca.certFile, certFile: own.certFile, keyFile: own.keyFile };
}

/** The cell's configuration, compiled as `diego cell` compiles its flags (memory and disk: this machine's). */
function cellConfig(config: UpConfig, bbsUrl: string, bbsTls: MutualTlsFiles | null): CellConfig {
  return cellCommand.compile(
    {
      ...defaultValues('cell', cellFlags),
      ...bbsClientTlsValues(bbsTls),
      cellID: config.cellId,
      zone: CELL_ZONE,
      listenAddr: config.cellListenAddress,
      bbsAddress: [bbsUrl],
      preloadedRootFS: [CELL_ROOTFS],
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

/** Starts etcd (unless one is given), the BBS, the package service, the receptor and the cell in order, recording each in `started`; null when interrupted. */
async function startAll(config: UpConfig, io: CliIo, aborted: AbortSignal, started: Member[]): Promise<Running | null> {
  // Made (or reused) before anything starts; one CA for etcd, the BBS and every client.
  const certificates = config.tls ? await localClusterCertificates(join(config.dataDir, 'tls')) : null;
  let etcdCluster = config.etcdCluster;
  if (etcdCluster === null) {
    const etcd = await startLocalEtcd({
      clientAddress: config.etcdListenAddress,
      peerAddress: config.etcdPeerAddress,
      dataDir: join(config.dataDir, 'etcd'),
      logFile: join(config.dataDir, 'etcd.log'),
      path: io.env.PATH ?? '',
      aborted,
      ...(certificates === null ? {} : { tls: { ...mutualTls(certificates, certificates.server), client: certificates.etcdClient } }),
    });
    started.push({ name: 'etcd', stop: etcd.stop });
    etcdCluster = [etcd.clientUrl];
  }
  if (aborted.aborted) return null;
  const bbs = await startBbs({
    listenAddress: config.bbsListenAddress,
    etcdCluster,
    logLevel: config.logLevel,
    debugAddress: null,
    ...(certificates === null
      ? {}
      : { serverTls: mutualTls(certificates, certificates.server), etcdTls: mutualTls(certificates, certificates.etcdClient) }),
  });
  started.push({ name: 'bbs', stop: () => bbs.stop() });
  if (aborted.aborted) return null;
  const bbsUrl = dialableUrl(bbs.address, certificates === null ? 'http' : 'https');
  const bbsTls = certificates === null ? null : mutualTls(certificates, certificates.bbsClient);
  // The receptor and the package service as `diego receptor` and `diego packages` would run with these flags.
  const front = {
    bbsAddress: [bbsUrl],
    ...bbsClientTlsValues(bbsTls),
    username: config.username,
    password: config.password,
    corsEnabled: config.corsEnabled,
    logLevel: config.logLevel,
  };
  // The dashboard's Packages view calls the package service from the page the banner prints: the service lets that
  // origin in, and the receptor tells the page where the service is (both known only with fixed ports).
  const dashboardOrigin = config.receptorAddress.endsWith(':0') ? null : dialableUrl(config.receptorAddress);
  const packages = await startPackageService(
    packagesCommand.compile(
      {
        ...defaultValues('packages', packagesFlags), ...front, address: config.packagesAddress, dataDir: join(config.dataDir, 'packages'),
        dashboardOrigins: dashboardOrigin === null ? null : [dashboardOrigin],
      },
      [],
    ),
  );
  started.push({ name: 'packages', stop: () => packages.stop() });
  if (aborted.aborted) return null;
  const packagesUrl = dashboardOrigin === null ? null : dialableUrl(packages.address);
  const receptor = await startReceptor(
    receptorCommand.compile({ ...defaultValues('receptor', receptorFlags), ...front, address: config.receptorAddress, packagesURL: packagesUrl }, []),
  );
  started.push({ name: 'receptor', stop: () => receptor.stop() });
  if (aborted.aborted) return null;
  // Stopped first: its containers go before the BBS it reports their end to.
  const cell = await startCell(cellConfig(config, bbsUrl, bbsTls), { signal: aborted });
  started.push({ name: 'cell', stop: () => cell.stop() });
  return { etcdUrl: etcdCluster.join(','), bbsUrl, receptor, packages, cell, certificates };
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

/**
 * --tls makes certificates for the etcd it starts, valid for loopback only (LOOPBACK_IPS, LOOPBACK_HOSTS): an
 * etcd of the operator's would not trust its CA, and a BBS reached at another address would not match them.
 */
function checkTlsAddresses(values: { etcdCluster: string[] | null; etcdListenAddress: string; bbsListenAddress: string }): void {
  if (values.etcdCluster !== null) throw new UsageError('--tls makes certificates for the etcd diego up starts: it cannot be used with --etcdCluster');
  for (const [flag, address] of [['-etcdListenAddress', values.etcdListenAddress], ['-bbsListenAddress', values.bbsListenAddress]] as const) {
    const host = new URL(dialableUrl(address)).hostname.replace(/^\[(.*)\]$/, '$1');
    if (![...LOOPBACK_IPS, ...LOOPBACK_HOSTS].includes(host)) {
      throw new UsageError(`--tls makes certificates for loopback only: ${flag} must be on 127.0.0.1, [::1], localhost or every interface`);
    }
  }
}

export const upCommand: Command<typeof upFlags, UpConfig> = {
  name: 'up',
  summary: 'a local etcd, one BBS, one receptor and one cell in one process, for one machine',
  description:
    'Starts etcd (its data under <dataDir>/etcd, so state survives a restart; or uses --etcdCluster), one BBS\n' +
    '(the leader: auctioneer and converger), one receptor and one cell (cell-z1-0 in zone z1, containers under\n' +
    '<dataDir>/cell, preloaded:cflinuxfs2 run on the host root), prints where each listens, and stops them all,\n' +
    'the cell first, on Ctrl-C or SIGTERM. With --tls, etcd and the BBS serve mutual TLS only, with a CA and\n' +
    'certificates made under <dataDir>/tls (kept for the next start) that the BBS, the receptor and the cell present.',
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
    if (values.tls) checkTlsAddresses(values);
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
      packagesAddress: values.packagesAddress,
      tls: values.tls,
      logLevel: values.logLevel,
    };
  },
  run: runUp,
};
