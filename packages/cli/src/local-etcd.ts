/**
 * The single-member etcd `diego up` runs beside the BBS: its data under a directory that survives a restart,
 * its log in a file, and no way for it to outlive this process.
 */
import { spawn } from 'node:child_process';
import { accessSync, closeSync, constants, mkdirSync, openSync, readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { connect } from 'node:net';
import { delimiter, dirname, join } from 'node:path';
import { dialableUrl } from './address';

export interface LocalEtcdOptions {
  /** host:port for clients, e.g. 127.0.0.1:2379. */
  clientAddress: string;
  /** host:port for peers, e.g. 127.0.0.1:2380. */
  peerAddress: string;
  dataDir: string;
  logFile: string;
  /** PATH to look for `etcd` (and `setpriv`) in. */
  path: string;
  /** Start-up gives up (and kills etcd) when this aborts. */
  aborted: AbortSignal;
  /** Serve clients over https only, requiring a client certificate signed by `caFile` (etcd's --client-cert-auth). */
  tls?: LocalEtcdTls;
}

/** PEM files: etcd's CA and its own certificate, and the client certificate its health check presents. */
export interface LocalEtcdTls {
  caFile: string;
  certFile: string;
  keyFile: string;
  client: { certFile: string; keyFile: string };
}

export interface LocalEtcd {
  clientUrl: string;
  /** Stops etcd (SIGTERM, then SIGKILL after a grace period) and waits for it to exit. Safe to call twice. */
  stop(): Promise<void>;
}

const START_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 10_000;
const HEALTH_POLL_MS = 100;
const HEALTH_TIMEOUT_MS = 1_000;
const LOG_TAIL_LINES = 20;

/** The executable `name` in one of PATH's directories, or null. */
function findExecutable(name: string, path: string): string | null {
  for (const dir of path.split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return null;
}

/** True when something accepts TCP connections on host:port. */
function isListening(address: string): Promise<boolean> {
  const url = new URL(dialableUrl(address));
  return new Promise((resolve) => {
    const socket = connect({ host: url.hostname.replace(/^\[(.*)\]$/, '$1'), port: Number(url.port) });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-LOG_TAIL_LINES).join('\n');
  } catch {
    return '';
  }
}

/** Whether etcd answers `/health` with `{"health":"true"}` (presenting the client certificate over https). */
function isHealthy(clientUrl: string, tls: LocalEtcdTls | undefined): Promise<boolean> {
  return new Promise((resolve) => {
    const onResponse = (response: http.IncomingMessage): void => {
      let text = '';
      response.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      response.once('end', () => {
        try {
          const body: unknown = JSON.parse(text);
          resolve(response.statusCode === 200 && typeof body === 'object' && body !== null && 'health' in body && body.health === 'true');
        } catch {
          resolve(false);
        }
      });
      response.once('error', () => resolve(false));
    };
    const url = `${clientUrl}/health`;
    const request = tls === undefined
      ? http.get(url, { timeout: HEALTH_TIMEOUT_MS }, onResponse)
      : https.get(url, {
          timeout: HEALTH_TIMEOUT_MS,
          ca: readFileSync(tls.caFile),
          cert: readFileSync(tls.client.certFile),
          key: readFileSync(tls.client.keyFile),
        }, onResponse);
    request.once('timeout', () => request.destroy());
    request.once('error', () => resolve(false));
  });
}

/**
 * Starts etcd and resolves once it reports itself healthy.
 *
 * etcd runs in its own process group, so a Ctrl-C at the terminal reaches only us and we stop it last,
 * after the BBS. It is killed by our exit handler if this process exits without stopping it, and, through
 * `setpriv --pdeathsig KILL` (util-linux), by the kernel if this process is killed outright.
 *
 * @example
 * const etcd = await startLocalEtcd({ clientAddress: '127.0.0.1:2379', peerAddress: '127.0.0.1:2380',
 *   dataDir: '.diego/etcd', logFile: '.diego/etcd.log', path: process.env.PATH ?? '', aborted });
 */
export async function startLocalEtcd(options: LocalEtcdOptions): Promise<LocalEtcd> {
  const etcd = findExecutable('etcd', options.path);
  if (etcd === null) {
    throw new Error(
      'etcd is not on the PATH: `npm start` installs it (Debian package etcd-server), or run ' +
        '`sudo apt-get install etcd-server`, or use a running etcd with --etcdCluster',
    );
  }
  const tls = options.tls;
  const clientUrl = dialableUrl(options.clientAddress, tls === undefined ? 'http' : 'https');
  const peerUrl = dialableUrl(options.peerAddress);
  if (await isListening(options.clientAddress)) {
    throw new Error(
      `something already listens on ${options.clientAddress} (an etcd service?): stop it, or use it with ` +
        `--etcdCluster ${clientUrl}, or move ours with --etcdListenAddress`,
    );
  }

  const etcdArgs = [
    '--name', 'diego-up',
    '--data-dir', options.dataDir,
    '--listen-client-urls', `${tls === undefined ? 'http' : 'https'}://${options.clientAddress}`,
    '--advertise-client-urls', clientUrl,
    '--listen-peer-urls', `http://${options.peerAddress}`,
    '--initial-advertise-peer-urls', peerUrl,
    '--initial-cluster', `diego-up=${peerUrl}`,
    ...(tls === undefined ? [] : ['--client-cert-auth', '--trusted-ca-file', tls.caFile, '--cert-file', tls.certFile, '--key-file', tls.keyFile]),
  ];
  const setpriv = findExecutable('setpriv', options.path);
  const [command, args] = setpriv === null ? [etcd, etcdArgs] : [setpriv, ['--pdeathsig', 'KILL', '--', etcd, ...etcdArgs]];

  mkdirSync(dirname(options.dataDir), { recursive: true });
  mkdirSync(dirname(options.logFile), { recursive: true });
  const log = openSync(options.logFile, 'a');
  const child = spawn(command, args, { stdio: ['ignore', log, log], detached: true });
  closeSync(log);

  let exitReason: string | null = null;
  const exited = new Promise<void>((resolve) => {
    child.once('error', (error) => {
      exitReason = error.message;
      resolve();
    });
    child.once('exit', (code, signal) => {
      exitReason = signal === null ? `exit code ${code ?? '?'}` : `signal ${signal}`;
      resolve();
    });
  });
  const killNow = (): void => {
    if (exitReason === null) child.kill('SIGKILL');
  };
  process.once('exit', killNow);

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (exitReason === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(killNow, STOP_GRACE_MS);
        await exited;
        clearTimeout(timer);
      }
      process.off('exit', killNow);
    })();
    return stopping;
  };

  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    // Checked before health: a second etcd that failed to bind must not pass for the one already listening.
    if (exitReason !== null) {
      await stop();
      throw new Error(`etcd stopped during start-up (${exitReason}); the end of ${options.logFile}:\n${tail(options.logFile)}`);
    }
    if (options.aborted.aborted) {
      await stop();
      throw new Error('interrupted while etcd was starting');
    }
    if (await isHealthy(clientUrl, tls)) return { clientUrl, stop };
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`etcd was not healthy within ${START_TIMEOUT_MS / 1000} s; the end of ${options.logFile}:\n${tail(options.logFile)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, HEALTH_POLL_MS));
  }
}
