/**
 * Builders for the executor's tests: a ProcessExecutor in a temp work dir whose log lines are kept, container
 * specs and actions written the short way. Everything runs for real; `cleanUp()` destroys what is left.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import type { Action, EnvironmentVariable, RunAction } from '@diego/models';
import { ProcessExecutor, type ContainerSpec, type ProcessExecutorOptions } from '../../src';

export interface LogLine {
  msg: string;
  log_guid?: string;
  log_source?: string;
  index?: number;
  stream?: string;
  line?: string;
  [key: string]: unknown;
}

export interface ExecutorHarness {
  executor: ProcessExecutor;
  workDir: string;
  /** Every line the executor logged so far, parsed. */
  logs: LogLine[];
  cleanUp(): Promise<void>;
}

export function startExecutor(options: Partial<ProcessExecutorOptions> = {}): ExecutorHarness {
  const workDir = mkdtempSync(join(tmpdir(), 'diego-executor-test-'));
  const logs: LogLine[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const text of chunk.toString().split('\n')) if (text !== '') logs.push(JSON.parse(text) as LogLine);
      done();
    },
  });
  const executor = new ProcessExecutor({
    workDir,
    cellAddress: '127.0.0.1',
    logger: pino({ level: 'info' }, sink),
    ...options,
  });
  return {
    executor,
    workDir,
    logs,
    cleanUp: async () => {
      await executor.destroyAll();
      rmSync(workDir, { recursive: true, force: true });
    },
  };
}

export function containerSpec(guid: string, overrides: Partial<ContainerSpec> = {}): ContainerSpec {
  return {
    guid,
    logGuid: `log-${guid}`,
    logSource: 'APP',
    instance: null,
    rootfs: 'preloaded:cflinuxfs2',
    env: [],
    ports: [],
    memoryMB: 128,
    diskMB: 128,
    cpuWeight: 0,
    egressRules: [],
    ...overrides,
  };
}

export function run(path: string, args: string[] = [], overrides: Partial<RunAction> = {}): Action {
  return {
    run: {
      path, args, dir: '', env: [], resource_limits: null, user: '', log_source: '', suppress_log_output: false,
      ...overrides,
    },
  };
}

/** `sh -c script`: most tests describe their process as a line of shell. */
export function sh(script: string, overrides: Partial<RunAction> = {}): Action {
  return run('/bin/sh', ['-c', script], overrides);
}

export function env(values: Record<string, string>): EnvironmentVariable[] {
  return Object.entries(values).map(([name, value]) => ({ name, value }));
}

export const serial = (...actions: Action[]): Action => ({ serial: { actions, log_source: '' } });
export const parallel = (...actions: Action[]): Action => ({ parallel: { actions, log_source: '' } });
export const codependent = (...actions: Action[]): Action => ({ codependent: { actions, log_source: '' } });
export const tryAction = (action: Action): Action => ({ try: { action, log_source: '' } });
export const timeout = (ms: number, action: Action): Action => ({
  timeout: { action, timeout: BigInt(ms) * 1_000_000n, log_source: '' },
});

/** Pids of the processes whose command line is exactly `command` (to prove a process tree is gone). */
export async function processesRunning(command: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const cmdline = (await readFile(`/proc/${entry}/cmdline`, 'utf8')).replace(/\0/g, ' ').trim();
      if (cmdline === command) pids.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return pids;
}
