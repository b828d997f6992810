import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from '@diego/test-support';
import { CpuSpan, clockTicksPerSecond, cpuSecondsOf } from './cpu';

let dir: string;
let burner: ChildProcess | null = null;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'diego-bench-cpu-'));
});

afterEach(async () => {
  if (burner !== null && burner.exitCode === null && burner.signalCode === null) {
    const exited = new Promise((resolve) => burner?.once('exit', resolve));
    burner.kill('SIGKILL');
    await exited;
  }
  burner = null;
  rmSync(dir, { recursive: true, force: true });
});

/**
 * A Node process that spins until `stopFile` exists. Its title (the kernel's command name in /proc/<pid>/stat)
 * holds a space and parentheses, as a command name may: the reader must count fields after the last `)`.
 */
function startBurner(stopFile: string): ChildProcess {
  const script = `process.title = 'b (x) y'; const fs = require('fs'); for (;;) { let s = 0; for (let i = 0; i < 1e6; i++) s += i; if (fs.existsSync(${JSON.stringify(stopFile)})) break; }`;
  const child = spawn(process.execPath, ['-e', script], { stdio: 'ignore' });
  burner = child;
  return child;
}

describe('cpuSecondsOf', () => {
  it('reads the clock ticks of the machine', () => {
    expect(clockTicksPerSecond()).toBeGreaterThan(0);
  });

  it("grows while this process works, in seconds of the process's own clock", async () => {
    const before = cpuSecondsOf(process.pid) ?? Number.NaN;
    expect(before).toBeGreaterThan(0);
    // Work until the kernel has charged at least two ticks more, whatever the machine's load.
    const tick = 1 / clockTicksPerSecond();
    let after = before;
    while (after < before + 2 * tick) {
      let s = 0;
      for (let i = 0; i < 1e6; i++) s += i;
      expect(s).toBeGreaterThan(0);
      after = cpuSecondsOf(process.pid) ?? Number.NaN;
    }
    expect(after).toBeGreaterThanOrEqual(before + 2 * tick);
    // Never more than the process's own count (process.cpuUsage, microseconds) plus one tick of rounding.
    const own = process.cpuUsage();
    expect(after).toBeLessThanOrEqual((own.user + own.system) / 1e6 + tick);
  });

  it("counts a child's CPU while it burns, and answers null once it is gone", async () => {
    const stopFile = join(dir, 'stop');
    const child = startBurner(stopFile);
    const pid = child.pid ?? -1;
    const first = await eventually(async () => cpuSecondsOf(pid), (s) => s !== null);
    const grown = await eventually(async () => cpuSecondsOf(pid), (s) => s !== null && first !== null && s >= first + 0.1, { timeoutMs: 20_000 });
    expect(grown).toBeGreaterThan(first ?? Number.POSITIVE_INFINITY);

    const exited = new Promise((resolve) => child.once('exit', resolve));
    writeFileSync(stopFile, '');
    await exited;
    expect(existsSync(stopFile)).toBe(true);
    expect(cpuSecondsOf(pid)).toBeNull();
  });
});

describe('CpuSpan', () => {
  it('adds up what each process spent over its stretches, and nothing between them', async () => {
    const stopFile = join(dir, 'stop');
    const child = startBurner(stopFile);
    const pid = child.pid ?? -1;
    await eventually(async () => cpuSecondsOf(pid), (s) => s !== null);
    const span = new CpuSpan(new Map([['bench', pid]]));

    span.start();
    const startedAt = cpuSecondsOf(pid) ?? 0;
    await eventually(async () => cpuSecondsOf(pid) ?? 0, (s) => s >= startedAt + 0.1, { timeoutMs: 20_000 });
    span.stop();
    const first = span.seconds().bench ?? 0;
    expect(first).toBeGreaterThanOrEqual(0.1);

    // Between stretches the child keeps burning; none of it is counted.
    const pausedAt = cpuSecondsOf(pid) ?? 0;
    await eventually(async () => cpuSecondsOf(pid) ?? 0, (s) => s >= pausedAt + 0.2, { timeoutMs: 20_000 });
    expect(span.seconds().bench).toBe(first);

    const exited = new Promise((resolve) => child.once('exit', resolve));
    await span.around(async () => {
      writeFileSync(stopFile, '');
      await exited;
    });
    // Gone at the end of the last stretch: it adds nothing, and the first stretch stays.
    expect(span.seconds()).toEqual({ bench: first });
  });

  it('refuses a stop without a start', () => {
    expect(() => new CpuSpan(new Map()).stop()).toThrow(/without start/);
  });
});
