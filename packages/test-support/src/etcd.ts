import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exitOf, manageChild, terminate } from './child';

/** A running etcd started by {@link startEtcd}. */
export interface EtcdProcess {
  /** The client URL, e.g. `http://127.0.0.1:40123`. */
  endpoint: string;
  /** Its data directory, removed by `stop()`. */
  dataDir: string;
  /** The etcd process's id (the bench reads its CPU time from /proc). */
  pid: number;
  /** Kills etcd, waits for it to exit and removes its data directory. Safe to call twice. */
  stop(): Promise<void>;
}

export interface StartEtcdOptions {
  /** The binary to run; `etcd` from PATH by default. */
  binary?: string;
  /** How long to wait for etcd to answer its health check. */
  startTimeoutMs?: number;
  /** More flags for etcd, after ours (e.g. `['--quota-backend-bytes', '8589934592']`). */
  extraArgs?: string[];
  /**
   * Serve clients over https only, with etcd's `--client-cert-auth`: `certFile`/`keyFile` are etcd's own, a client
   * must present a certificate signed by `caFile`; the health check presents `client`.
   */
  clientTls?: EtcdClientTls;
}

/** PEM files of an etcd run with `--client-cert-auth`. */
export interface EtcdClientTls {
  caFile: string;
  certFile: string;
  keyFile: string;
  client: { certFile: string; keyFile: string };
}

const HEALTH_POLL_MS = 50;
const STDERR_TAIL_LINES = 30;

/**
 * Starts a real single-member etcd on free loopback client and peer ports with its own temp data directory,
 * and resolves once it answers `/health`. The process is also killed when this Node process exits, so a
 * failing test run leaks neither the process nor (on stop) the directory.
 *
 * @example
 *   const etcd = await startEtcd();
 *   const client = new Etcd3({ hosts: etcd.endpoint });
 *   // ...
 *   await etcd.stop();
 */
export async function startEtcd(opts: StartEtcdOptions = {}): Promise<EtcdProcess> {
  const binary = opts.binary ?? 'etcd';
  const deadline = Date.now() + (opts.startTimeoutMs ?? 15000);
  const [clientPort, peerPort] = await freePorts(2);
  const tls = opts.clientTls;
  const endpoint = `${tls === undefined ? 'http' : 'https'}://127.0.0.1:${clientPort}`;
  const peerUrl = `http://127.0.0.1:${peerPort}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'diego-etcd-'));
  const child = spawn(
    binary,
    [
      '--name', 'diego-test',
      '--data-dir', dataDir,
      '--listen-client-urls', endpoint,
      '--advertise-client-urls', endpoint,
      '--listen-peer-urls', peerUrl,
      '--initial-advertise-peer-urls', peerUrl,
      '--initial-cluster', `diego-test=${peerUrl}`,
      '--logger', 'zap',
      '--log-level', 'warn',
      ...(tls === undefined
        ? []
        : ['--client-cert-auth', '--trusted-ca-file', tls.caFile, '--cert-file', tls.certFile, '--key-file', tls.keyFile]),
      ...(opts.extraArgs ?? []),
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const stderrTail: string[] = [];
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderrTail.push(...chunk.split('\n').filter((line) => line !== ''));
    stderrTail.splice(0, Math.max(0, stderrTail.length - STDERR_TAIL_LINES));
  });
  const { exited, stop } = manageChild(child, {
    notFound: `${binary} not found on PATH`,
    cleanUp: () => rmSync(dataDir, { recursive: true, force: true }),
  });

  let exitReason: string | undefined;
  void exited.then((why) => {
    exitReason = why;
  });
  const early = await waitHealthy(endpoint, deadline, () => exitReason, tls);
  if (early !== null) {
    await stop();
    throw new Error(`could not start ${binary} on ${endpoint}: ${early}\n${stderrTail.join('\n')}`);
  }
  return { endpoint, dataDir, pid: child.pid ?? -1, stop };
}

/** One member of a cluster started by {@link startEtcdCluster}. */
export interface EtcdMember {
  name: string;
  /** The client URL. */
  endpoint: string;
  /** Sends a signal to the member's process: SIGKILL to lose it, SIGSTOP/SIGCONT to stall and resume it. */
  signal(signal: NodeJS.Signals): void;
}

/** A running etcd cluster started by {@link startEtcdCluster}. */
export interface EtcdCluster {
  members: EtcdMember[];
  /** Every member's client URL, for a client's `hosts`. */
  endpoints: string[];
  /** Kills every member (resuming a stopped one first), waits for them to exit and removes their data. */
  stop(): Promise<void>;
}

/**
 * Starts a real etcd cluster of `size` members on loopback (each with its own free ports and temp data
 * directory) and resolves once every member answers `/health`, which needs a leader. For fault tests: kill the
 * leader, stall a member.
 *
 * @example
 *   const cluster = await startEtcdCluster(3);
 *   const client = new Etcd3({ hosts: cluster.endpoints });
 *   cluster.members[0]?.signal('SIGKILL');
 *   await cluster.stop();
 */
export async function startEtcdCluster(size: number, opts: Omit<StartEtcdOptions, 'extraArgs'> = {}): Promise<EtcdCluster> {
  const binary = opts.binary ?? 'etcd';
  const deadline = Date.now() + (opts.startTimeoutMs ?? 30000);
  const ports = await freePorts(2 * size);
  const specs = Array.from({ length: size }, (_, i) => ({
    name: `diego-test-${i}`,
    endpoint: `http://127.0.0.1:${ports[2 * i]}`,
    peerUrl: `http://127.0.0.1:${ports[2 * i + 1]}`,
    dataDir: mkdtempSync(join(tmpdir(), 'diego-etcd-')),
  }));
  const initialCluster = specs.map((spec) => `${spec.name}=${spec.peerUrl}`).join(',');
  const children = specs.map((spec) => {
    const child = spawn(
      binary,
      [
        '--name', spec.name,
        '--data-dir', spec.dataDir,
        '--listen-client-urls', spec.endpoint,
        '--advertise-client-urls', spec.endpoint,
        '--listen-peer-urls', spec.peerUrl,
        '--initial-advertise-peer-urls', spec.peerUrl,
        '--initial-cluster', initialCluster,
        '--initial-cluster-state', 'new',
        '--logger', 'zap',
        '--log-level', 'error',
      ],
      { stdio: ['ignore', 'ignore', 'ignore'] },
    );
    const exited = exitOf(child);
    let exitReason: string | undefined;
    void exited.then((why) => {
      exitReason = why;
    });
    return { child, exited, exitReason: () => exitReason };
  });
  const killOnExit = (): void => {
    for (const { child } of children) child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      await Promise.all(
        children.map(async ({ child, exited }) => {
          child.kill('SIGCONT');
          await terminate(child, exited);
        }),
      );
      process.removeListener('exit', killOnExit);
      for (const spec of specs) rmSync(spec.dataDir, { recursive: true, force: true });
    })();
    return stopped;
  };
  const failures = await Promise.all(specs.map((spec, i) => waitHealthy(spec.endpoint, deadline, () => children[i]?.exitReason())));
  const failure = failures.find((reason) => reason !== null);
  if (failure !== undefined && failure !== null) {
    await stop();
    throw new Error(`could not start an etcd cluster of ${size}: ${failure}`);
  }
  const members = specs.map((spec, i) => ({
    name: spec.name,
    endpoint: spec.endpoint,
    signal: (signal: NodeJS.Signals) => {
      children[i]?.child.kill(signal);
    },
  }));
  return { members, endpoints: specs.map((spec) => spec.endpoint), stop };
}

/** Resolves null once `/health` answers 200, or a reason when the process is gone or at the deadline. */
async function waitHealthy(
  endpoint: string,
  deadline: number,
  exitReason: () => string | undefined,
  tls?: EtcdClientTls,
): Promise<string | null> {
  let last = 'no answer';
  while (Date.now() < deadline) {
    const exited = exitReason();
    if (exited !== undefined) return exited;
    last = await healthOnce(endpoint, tls);
    if (last === 'ok') return null;
    await new Promise((resolve) => setTimeout(resolve, HEALTH_POLL_MS));
  }
  return `not healthy in time (${last})`;
}

function healthOnce(endpoint: string, tls?: EtcdClientTls): Promise<string> {
  return new Promise((resolve) => {
    const onResponse = (res: IncomingMessage): void => {
      res.resume();
      resolve(res.statusCode === 200 ? 'ok' : `status ${res.statusCode}`);
    };
    const req = tls === undefined
      ? request(`${endpoint}/health`, { timeout: 1000 }, onResponse)
      : httpsRequest(`${endpoint}/health`, {
          timeout: 1000,
          ca: readFileSync(tls.caFile),
          cert: readFileSync(tls.client.certFile),
          key: readFileSync(tls.client.keyFile),
        }, onResponse);
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (err) => resolve(err.message));
    req.end();
  });
}

/** Ports the kernel handed out and released; all held at once so they differ. */
export async function freePorts(count: number): Promise<number[]> {
  const servers = Array.from({ length: count }, () => createServer());
  try {
    return await Promise.all(
      servers.map(
        (server) =>
          new Promise<number>((resolve, reject) => {
            server.once('error', reject);
            server.listen(0, '127.0.0.1', () => {
              const address = server.address();
              if (address === null || typeof address === 'string') reject(new Error('no TCP address'));
              else resolve(address.port);
            });
          }),
      ),
    );
  } finally {
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  }
}
