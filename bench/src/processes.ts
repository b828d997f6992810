/** The BBS and receptor child processes (the built `diego` CLI), their readiness and their memory. */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { HttpBbsClient } from '@diego/bbs-client';
import { freePorts } from '@diego/test-support';
import { progress, sleep, waitFor } from './stats';

export const CLI_MAIN = join(__dirname, '..', '..', 'packages', 'cli', 'dist', 'main.js');

const STDERR_TAIL_LINES = 40;

export class Child {
  private readonly stderrTail: string[] = [];
  exitReason: string | null = null;
  private readonly exited: Promise<void>;

  constructor(
    readonly name: string,
    readonly proc: ChildProcess,
  ) {
    proc.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderrTail.push(...chunk.split('\n').filter((l) => l !== ''));
      this.stderrTail.splice(0, Math.max(0, this.stderrTail.length - STDERR_TAIL_LINES));
    });
    this.exited = new Promise((resolve) => {
      proc.once('exit', (code, signal) => {
        this.exitReason = `exited with ${signal ?? `code ${code}`}`;
        resolve();
      });
      proc.once('error', (err) => {
        this.exitReason = err.message;
        resolve();
      });
    });
  }

  get pid(): number {
    return this.proc.pid ?? -1;
  }

  stderr(): string {
    return this.stderrTail.join('\n');
  }

  /** VmHWM and VmRSS from /proc, MB; null once gone. */
  memory(): { peakMb: number; rssMb: number } | null {
    try {
      const status = readFileSync(`/proc/${this.pid}/status`, 'utf8');
      const kb = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
      return { peakMb: kb('VmHWM') / 1024, rssMb: kb('VmRSS') / 1024 };
    } catch {
      return null;
    }
  }

  /** `signal` first (a cell drains on SIGTERM and stops at once on SIGINT), SIGKILL after `graceMs`. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 5000): Promise<void> {
    if (this.exitReason !== null) return;
    this.proc.kill(signal);
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  killNow(): void {
    if (this.exitReason === null) this.proc.kill('SIGKILL');
  }
}

/** Every child started, killed when the bench exits whatever the reason. */
const children = new Set<Child>();
process.on('exit', () => {
  for (const child of children) child.killNow();
});

/**
 * The children's log level: `error` unless DIEGO_BENCH_LOG_LEVEL says otherwise. With DIEGO_BENCH_LOG_DIR set,
 * each child's stdout (its log) and stderr are written to `<dir>/<name>.log`.
 */
const LOG_LEVEL = process.env['DIEGO_BENCH_LOG_LEVEL'] ?? 'error';
const LOG_DIR = process.env['DIEGO_BENCH_LOG_DIR'] ?? '';
/** With DIEGO_BENCH_CPU_PROF_DIR set, each child writes a V8 CPU profile there as it exits (`--cpu-prof`). */
const CPU_PROF_DIR = process.env['DIEGO_BENCH_CPU_PROF_DIR'] ?? '';

export function spawnCli(name: string, args: string[]): Child {
  const profile = CPU_PROF_DIR === '' ? [] : ['--cpu-prof', `--cpu-prof-dir=${CPU_PROF_DIR}`, `--cpu-prof-name=${name.replace(/[^a-zA-Z0-9-]+/g, '-')}.cpuprofile`];
  const proc = spawn(process.execPath, [...profile, CLI_MAIN, ...args, `-logLevel=${LOG_LEVEL}`], {
    stdio: ['ignore', LOG_DIR === '' ? 'ignore' : 'pipe', 'pipe'],
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  if (LOG_DIR !== '') {
    mkdirSync(LOG_DIR, { recursive: true });
    const log = createWriteStream(`${LOG_DIR}/${name.replace(/[^a-zA-Z0-9-]+/g, '-')}.log`);
    proc.stdout?.pipe(log);
    proc.stderr?.pipe(log);
  }
  const child = new Child(name, proc);
  children.add(child);
  return child;
}

export async function stopAll(): Promise<void> {
  await Promise.all([...children].map((c) => c.stop()));
}

/**
 * Ctrl-C or SIGTERM runs `cleanup` (every child and temp dir) before exiting 130; a second one exits at once.
 * Returns whether one has come (a run checks it between scenarios).
 */
export function cleanUpOnSignals(cleanup: () => Promise<void>): () => boolean {
  let interrupted = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (interrupted) process.exit(130);
    interrupted = true;
    progress(`${signal}: stopping everything`);
    void cleanup().finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return () => interrupted;
}

export interface BbsProcess {
  child: Child;
  url: string;
  debugUrl: string;
  client: HttpBbsClient;
}

export async function startBbsProcess(name: string, etcdUrl: string, extra: string[]): Promise<BbsProcess> {
  const [port, debugPort] = await freePorts(2);
  const child = spawnCli(name, [
    'bbs',
    `-listenAddress=127.0.0.1:${port}`,
    `-etcdCluster=${etcdUrl}`,
    `-debugAddr=127.0.0.1:${debugPort}`,
    ...extra,
  ]);
  const url = `http://127.0.0.1:${port}`;
  const client = new HttpBbsClient([url], { timeoutMs: 120_000 });
  const ready = await waitFor(async () => {
    if (child.exitReason !== null) return true;
    return client.ping().catch(() => false);
  }, 30_000);
  if (child.exitReason !== null || !ready) {
    throw new Error(`${name} did not come up (${child.exitReason ?? 'no ping in 30 s'}):\n${child.stderr()}`);
  }
  return { child, url, debugUrl: `http://127.0.0.1:${debugPort}`, client };
}

export async function debugVars(debugUrl: string): Promise<Record<string, unknown>> {
  const res = await fetch(`${debugUrl}/debug/vars`);
  return (await res.json()) as Record<string, unknown>;
}

export async function waitForLeader(bbs: BbsProcess, timeoutMs: number): Promise<void> {
  const leads = await waitFor(async () => (await debugVars(bbs.debugUrl).catch(() => ({}) as Record<string, unknown>))['leader'] === true, timeoutMs, 100);
  if (!leads) throw new Error(`${bbs.child.name} did not become leader within ${timeoutMs} ms:\n${bbs.child.stderr()}`);
}

/**
 * Waits until a new leader is warm: its in-memory view has loaded (until then it reads etcd) and its first
 * convergence pass, run on becoming leader, has finished. At 200,000 LRPs that takes minutes, and measuring
 * before it would measure the load, not a pass.
 */
export async function waitForWarmLeader(bbs: BbsProcess, timeoutMs: number): Promise<void> {
  const warm = await waitFor(async () => {
    const vars = await debugVars(bbs.debugUrl).catch(() => ({}) as Record<string, unknown>);
    const view = vars['view'];
    if (typeof view !== 'object' || view === null || Reflect.get(view, 'live') !== true) return false;
    const metrics = await fetch(`${bbs.debugUrl}/metrics`).then((res) => res.text()).catch(() => '');
    const runs = /^ConvergenceLRPRuns (\d+)/m.exec(metrics);
    return runs !== null && Number(runs[1]) >= 1;
  }, timeoutMs, 500);
  if (!warm) throw new Error(`${bbs.child.name} did not load its view and converge once within ${timeoutMs} ms:\n${bbs.child.stderr()}`);
}

export interface ReceptorProcess {
  child: Child;
  url: string;
}

/** `extra`: more flags (`-username=`, `-password=`); readiness is asked of GET /v1/session, which needs no credentials. */
export async function startReceptorProcess(bbsUrl: string, name = 'receptor', extra: string[] = []): Promise<ReceptorProcess> {
  const [port] = await freePorts(1);
  const child = spawnCli(name, ['receptor', `-address=127.0.0.1:${port}`, `-bbsAddress=${bbsUrl}`, ...extra]);
  const url = `http://127.0.0.1:${port}`;
  const ready = await waitFor(async () => {
    if (child.exitReason !== null) return true;
    try {
      const res = await fetch(`${url}/v1/session`);
      await res.arrayBuffer();
      return res.status === 200;
    } catch {
      return false;
    }
  }, 30_000);
  if (child.exitReason !== null || !ready) {
    throw new Error(`${name} did not come up (${child.exitReason ?? 'no answer in 30 s'}):\n${child.stderr()}`);
  }
  return { child, url };
}

/** Throws, naming it, when a child has died. */
export function checkAlive(...list: (Child | null | undefined)[]): void {
  for (const child of list) {
    if (child !== null && child !== undefined && child.exitReason !== null) {
      throw new Error(`${child.name} ${child.exitReason}:\n${child.stderr()}`);
    }
  }
}

export { sleep };
