/**
 * Real cgroups on this machine (v1 or v2, whichever it mounts), as root: limits hold, OOM kills are seen, and
 * nothing is left behind by destroy(), by a killed cell's successor, or by the test.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { eventually } from '@diego/test-support';
import { CellCgroups, findHierarchies, type ContainerCgroup } from '../../src/executor/linux';

const logger = pino({ level: 'silent' });
const asRoot = process.getuid?.() === 0 ? describe : describe.skip;

/** The cell's directory in each hierarchy, as CellCgroups.open makes it. */
const cellDirs = (cellId: string): string[] =>
  findHierarchies(readFileSync('/proc/self/mountinfo', 'utf8'), readFileSync('/proc/self/cgroup', 'utf8')).map(({ ownDir }) =>
    join(ownDir, `diego-${cellId}`),
  );

/** Every cgroup directory at and below the cell's, in every hierarchy. */
const countCgroupDirs = (cellId: string): number => {
  const count = (dir: string): number =>
    existsSync(dir)
      ? 1 + readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).reduce((n, e) => n + count(join(dir, e.name)), 0)
      : 0;
  return cellDirs(cellId).reduce((n, dir) => n + count(dir), 0);
};

interface Joined {
  pid: number;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
}

/** A shell that joins `cgroup` and then runs `script`, the way the launcher starts a container's init. */
function runInCgroup(cgroup: ContainerCgroup, script: string): Joined {
  const join = cgroup.procsFiles.map((file) => `echo $$ > ${file}`).join('; ');
  const child = spawn('/bin/sh', ['-c', `${join}; ${script}`], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exit = new Promise<Awaited<Joined['exit']>>((resolve) =>
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
  return { pid: child.pid ?? -1, exit };
}

const procs = (cgroup: ContainerCgroup): number[] =>
  [...new Set(cgroup.procsFiles.flatMap((file) => (existsSync(file) ? readFileSync(file, "utf8").split("\n").filter(Boolean).map(Number) : [])))];

/** Running, or stopped but not yet dead: a zombie (killed, waiting for its parent to reap it) counts as dead. */
const alive = (pid: number): boolean => {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};

asRoot('CellCgroups', () => {
  const cellId = `cgtest-${process.pid}`;
  let cgroups: CellCgroups;

  beforeAll(async () => {
    const opened = await CellCgroups.open(cellId, logger);
    if (opened === null) throw new Error('no usable cgroup hierarchy on this machine');
    cgroups = opened;
  });

  afterAll(async () => {
    await cgroups.close();
    expect(countCgroupDirs(cellId)).toBe(0);
  });

  it('lets the OOM killer kill a container that allocates past its memory limit, and says so', async () => {
    const cgroup = await cgroups.create('oom', { memoryBytes: 32 * 1024 * 1024, cpuShares: 512, pidsMax: 0 });
    try {
      expect(await cgroup.oomKilled()).toBe(false);
      // dash keeps a command substitution's output in memory: 100 MB of it.
      const shell = runInCgroup(cgroup, `x=$(head -c 100000000 /dev/zero | tr '\\0' x); echo survived \${#x}`);
      const exit = await shell.exit;
      expect(exit).toMatchObject({ signal: 'SIGKILL', stdout: '' });
      expect(await cgroup.oomKilled()).toBe(true);
      expect(await cgroup.memoryUsageBytes()).toBeLessThanOrEqual(32 * 1024 * 1024);
    } finally {
      await cgroup.destroy();
    }
  });

  it('stops a container forking past its pids limit', async () => {
    const cgroup = await cgroups.create('pids', { memoryBytes: 0, cpuShares: 1024, pidsMax: 5 });
    try {
      const shell = runInCgroup(cgroup, 'i=0; while [ $i -lt 20 ]; do sleep 1000 >/dev/null 2>&1 & i=$((i+1)); done; echo forked-all');
      const exit = await shell.exit;
      expect(exit.stdout).not.toContain('forked-all');
      expect(exit.stderr).toMatch(/fork/i);
      expect(procs(cgroup).length).toBeLessThanOrEqual(5);
      expect(procs(cgroup).length).toBeGreaterThan(0); // the sleeps it started before the limit
    } finally {
      await cgroup.destroy();
    }
  });

  it('destroy() kills what is left, removes the directories, and can be called again', async () => {
    const before = countCgroupDirs(cellId);
    const cgroup = await cgroups.create('destroy', { memoryBytes: 64 * 1024 * 1024, cpuShares: 10, pidsMax: 100 });
    expect(countCgroupDirs(cellId)).toBe(before + cgroup.procsFiles.length);
    const shell = runInCgroup(cgroup, 'sleep 1000 >/dev/null 2>&1 & sleep 1000 >/dev/null 2>&1 & wait');
    const sleepers = await eventually(async () => procs(cgroup), (pids) => pids.length === 3);

    await cgroup.destroy();

    expect(await shell.exit).toMatchObject({ signal: 'SIGKILL' });
    expect(sleepers.filter(alive)).toEqual([]);
    expect(cgroup.procsFiles.filter((file) => existsSync(file))).toEqual([]);
    expect(countCgroupDirs(cellId)).toBe(before);
    await cgroup.destroy();
  });

  it("removeLeftovers() clears the cgroups and processes a killed cell with the same cellId left", async () => {
    const leftoverCellId = `${cellId}-killed`;
    const killedCell = await CellCgroups.open(leftoverCellId, logger);
    const successor = await CellCgroups.open(leftoverCellId, logger);
    if (killedCell === null || successor === null) throw new Error('no usable cgroup hierarchy');
    try {
      const sleepers: number[] = [];
      for (const guid of ['left-1', 'left-2']) {
        const cgroup = await killedCell.create(guid, { memoryBytes: 0, cpuShares: 0, pidsMax: 0 });
        runInCgroup(cgroup, 'exec sleep 1000 >/dev/null 2>&1');
        sleepers.push(...(await eventually(async () => procs(cgroup), (pids) => pids.length === 1)));
      }
      const perContainer = cellDirs(leftoverCellId).length;
      expect(countCgroupDirs(leftoverCellId)).toBe(perContainer * 3);

      expect(await successor.removeLeftovers()).toEqual({ removed: 2 });

      expect(countCgroupDirs(leftoverCellId)).toBe(perContainer);
      await eventually(async () => sleepers.filter(alive), (pids) => pids.length === 0);
    } finally {
      await successor.close();
    }
    expect(countCgroupDirs(leftoverCellId)).toBe(0);
  });
});
