/**
 * The built `diego` (dist/main.js, what `npx diego` runs) as a child process, for tests that drive it as an
 * operator does. Every process started is tracked so that `stopAll` leaves none behind.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { eventually, freePorts, uniqueNetworkPool } from '@diego/test-support';

export const DIEGO_MAIN = join(__dirname, '..', 'dist', 'main.js');

export function assertBuilt(): void {
  if (!existsSync(DIEGO_MAIN)) throw new Error(`${DIEGO_MAIN} is missing: run \`npm run build\` (npm test does)`);
}

/** A running `diego` and what it wrote so far. */
export interface DiegoProcess {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** stdout and stderr as they came. */
  output(): string;
  exitCode: Promise<number | null>;
}

const started = new Set<DiegoProcess>();

export interface SpawnOptions {
  cwd?: string;
  /** Added to PATH, the only variable passed on otherwise. */
  env?: Record<string, string>;
  /** The script node runs; dist/main.js by default (node_modules/.bin/diego to test the link). */
  executable?: string;
}

export function spawnDiego(args: readonly string[], { cwd, env = {}, executable = DIEGO_MAIN }: SpawnOptions = {}): DiegoProcess {
  // Only what the test gives: no RECEPTOR_URL or DIEGO_* of the developer's shell leaks in.
  const child = spawn(process.execPath, [executable, ...args], {
    ...(cwd === undefined ? {} : { cwd }),
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let output = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    output += chunk;
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
    output += chunk;
  });
  const exitCode = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  const diego: DiegoProcess = { child, stdout: () => stdout, stderr: () => stderr, output: () => output, exitCode };
  started.add(diego);
  void exitCode.then(() => started.delete(diego));
  return diego;
}

/** Runs a short-lived `diego` command to its end. */
export async function runDiego(
  args: readonly string[],
  options: SpawnOptions = {},
): Promise<{ exitCode: number | null; stdout: string; stderr: string }> {
  const diego = spawnDiego(args, options);
  const exitCode = await diego.exitCode;
  return { exitCode, stdout: diego.stdout(), stderr: diego.stderr() };
}

/** Waits until the process's stdout contains `text`; fails early, with what it wrote, if it exits first. */
export async function stdoutContains(diego: DiegoProcess, text: string, timeoutMs = 20_000): Promise<void> {
  await eventually(
    () => Promise.resolve(diego.stdout()),
    (seen) => seen.includes(text) || diego.child.exitCode !== null,
    { timeoutMs },
  );
  if (!diego.stdout().includes(text)) {
    throw new Error(`diego exited with ${String(diego.child.exitCode)} before printing "${text}":\n${diego.stdout()}\n${diego.stderr()}`);
  }
}

/** Kills whatever a test left running (after a failure) and waits for it to be gone. */
export async function stopAll(): Promise<void> {
  for (const diego of [...started]) {
    if (diego.child.exitCode === null && diego.child.signalCode === null) diego.child.kill('SIGKILL');
    await diego.exitCode;
  }
}

/** The loopback ports of a whole `diego up`. */
export interface UpPorts {
  etcd: number;
  etcdPeer: number;
  bbs: number;
  receptor: number;
  cell: number;
  packages: number;
}

/**
 * `diego up` on free loopback ports, logging errors only: its command line and the ports it uses. Its cell has a
 * network pool of its own, the given ID (cells' cgroups, bridges and rules are named after it: one per machine),
 * and pulls `docker:///` images from a closed loopback port, never from off this machine.
 */
export async function upOnFreePorts(cellId = 'cell-z1-0'): Promise<{ ports: UpPorts; args: string[] }> {
  const [etcd = 0, etcdPeer = 0, bbs = 0, receptor = 0, cell = 0, packages = 0] = await freePorts(6);
  const args = [
    'up',
    `--etcdListenAddress=127.0.0.1:${etcd}`,
    `--etcdPeerAddress=127.0.0.1:${etcdPeer}`,
    `--bbsListenAddress=127.0.0.1:${bbs}`,
    `--address=127.0.0.1:${receptor}`,
    `--cellListenAddress=127.0.0.1:${cell}`,
    `--networkPool=${uniqueNetworkPool()}`,
    `--cellID=${cellId}`,
    `--packagesAddress=127.0.0.1:${packages}`,
    '--dockerRegistryURL=http://127.0.0.1:1',
    '--logLevel=error',
  ];
  return { ports: { etcd, etcdPeer, bbs, receptor, cell, packages }, args };
}
