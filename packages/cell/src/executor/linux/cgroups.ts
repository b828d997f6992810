/**
 * Containers' cgroups: memory, CPU shares and pids, on cgroup v1 or v2, whichever the machine mounts. Everything
 * lives under the cell's own cgroup, as `<own>/diego-<cellId>/<containerGuid>`, so a cell never touches another
 * cell's (or another process's) cgroups and a successor with the same cellId finds what a killed cell left.
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type pino from 'pino';

export interface ContainerLimits {
  /** 0 = none. */
  memoryBytes: number;
  /** v1 cpu.shares; v2's cpu.weight is derived from it as the kernel's and runc's mapping does. */
  cpuShares: number;
  /** 0 = none. */
  pidsMax: number;
}

/** The controllers the cell limits. */
const CONTROLLERS = ['memory', 'cpu', 'pids'] as const;
type Controller = (typeof CONTROLLERS)[number];

/** Where a hierarchy is mounted and the cell's own cgroup in it. */
export interface Hierarchy {
  version: 1 | 2;
  /** The v1 controllers it carries (for v2: the ones the cell uses, when available). */
  controllers: Controller[];
  /** The directory of the process's own cgroup: mount point + own path. */
  ownDir: string;
}

/** The kernel's default shares, and Diego's default -containerMaxCpuShares. */
export const DEFAULT_MAX_CPU_SHARES = 1024;

/**
 * Diego's executor mapping from a DesiredLRP's cpu_weight (1-100) to shares: max(2, round(maxShares * weight / 100));
 * weight 0 -> maxShares.
 */
export function cpuSharesFor(cpuWeight: number, maxShares = DEFAULT_MAX_CPU_SHARES): number {
  if (cpuWeight <= 0) return maxShares;
  return Math.max(2, Math.round((maxShares * Math.min(cpuWeight, 100)) / 100));
}

/** runc's conversion from v1 shares [2, 262144] to v2 weight [1, 10000]. */
export function cpuWeightForShares(shares: number): number {
  const clamped = Math.min(Math.max(shares, 2), 262144);
  return Math.floor(1 + ((clamped - 2) * 9999) / 262142);
}

/**
 * The hierarchies the cell uses, from /proc/self/mountinfo and /proc/self/cgroup: v1 when a v1 hierarchy carries
 * the memory controller (a hybrid machine keeps its controllers there), else the unified v2 hierarchy.
 */
export function findHierarchies(mountinfo: string, ownCgroups: string): Hierarchy[] {
  const ownPaths = new Map<string, string>(); // "memory" / "cpu,cpuacct" / "" (v2) -> path
  for (const line of ownCgroups.split('\n')) {
    const match = /^\d+:([^:]*):(.*)$/.exec(line);
    if (match !== null) ownPaths.set(match[1] ?? '', match[2] ?? '/');
  }
  const mounts = mountinfo
    .split('\n')
    .map((line) => {
      const [before, after] = line.split(' - ');
      if (before === undefined || after === undefined) return null;
      const fields = before.split(' ');
      const [fsType, , superOptions = ''] = after.split(' ');
      return { root: fields[3] ?? '/', mountPoint: fields[4] ?? '', fsType, options: superOptions.split(',') };
    })
    .filter((mount) => mount !== null);

  const v1: Hierarchy[] = [];
  for (const mount of mounts) {
    if (mount.fsType !== 'cgroup') continue;
    const controllers = CONTROLLERS.filter((controller) => mount.options.includes(controller));
    if (controllers.length === 0 || v1.some((known) => known.controllers.some((c) => controllers.includes(c)))) continue;
    const ownEntry = [...ownPaths].find(([names]) => names.split(',').some((name) => controllers.some((c) => c === name)));
    if (ownEntry === undefined) continue;
    v1.push({ version: 1, controllers, ownDir: ownDirOf(mount.mountPoint, ownEntry[1], mount.root) });
  }
  if (v1.some((hierarchy) => hierarchy.controllers.includes('memory'))) return v1;

  const unified = mounts.find((mount) => mount.fsType === 'cgroup2');
  const ownV2 = ownPaths.get('');
  if (unified === undefined || ownV2 === undefined) return v1;
  return [{ version: 2, controllers: [...CONTROLLERS], ownDir: ownDirOf(unified.mountPoint, ownV2, unified.root) }];
}

/** The directory of cgroup `path` under a mount of the hierarchy whose root is `root` (a bind mount of a sub-tree). */
function ownDirOf(mountPoint: string, path: string, root: string): string {
  const relative = root !== '/' && path.startsWith(root) ? path.slice(root.length) : path;
  return join(mountPoint, relative).replace(/(.)\/$/, '$1');
}

/**
 * The cell's cgroups: `diego-<cellId>` below its own cgroup in each hierarchy.
 *
 * @example
 *   const cgroups = await CellCgroups.open(cellId, logger);
 *   const cgroup = await cgroups?.create(guid, { memoryBytes: 256 << 20, cpuShares: cpuSharesFor(50), pidsMax: 1024 });
 *   // start the init with `echo $$ > f` for every f in cgroup.procsFiles, then...
 *   await cgroup?.destroy();
 */
export class CellCgroups {
  private constructor(
    readonly version: 1 | 2,
    /** The cell's directory in each hierarchy, with the controllers that hierarchy carries. */
    private readonly cellDirs: { dir: string; controllers: Controller[] }[],
    private readonly logger: pino.Logger,
  ) {}

  /** null when this machine has no usable cgroup hierarchy (not root, nothing mounted): the cell then runs without limits and says so. */
  static async open(cellId: string, logger: pino.Logger): Promise<CellCgroups | null> {
    const log = logger.child({ session: 'cgroups' }); // the cell's logger names the cell
    const withoutLimits = (reason: string): null => {
      log.warn({ reason }, 'cgroups-unavailable-containers-run-without-limits');
      return null;
    };
    if (process.getuid?.() !== 0) return withoutLimits('the cell is not root');
    let hierarchies: Hierarchy[];
    try {
      hierarchies = findHierarchies(await readFile('/proc/self/mountinfo', 'utf8'), await readFile('/proc/self/cgroup', 'utf8'));
    } catch (error) {
      return withoutLimits(`cannot read /proc/self: ${(error as Error).message}`);
    }
    if (hierarchies.length === 0) return withoutLimits('no cgroup hierarchy with memory, cpu or pids is mounted');
    const version = hierarchies[0]?.version ?? 1;
    const name = `diego-${cellId}`;
    try {
      const cellDirs =
        version === 2
          ? [{ dir: await openV2CellDir(hierarchies[0]?.ownDir ?? '', name, log), controllers: [...CONTROLLERS] }]
          : await Promise.all(
              hierarchies.map(async ({ ownDir, controllers }) => {
                const dir = join(ownDir, name);
                await mkdir(dir, { recursive: true });
                return { dir, controllers };
              }),
            );
      const missing = CONTROLLERS.filter((controller) => !cellDirs.some((d) => d.controllers.includes(controller)));
      log.info({ version, dirs: cellDirs.map((d) => d.dir), missing_controllers: missing }, 'cgroups-opened');
      return new CellCgroups(version, cellDirs, log);
    } catch (error) {
      return withoutLimits((error as Error).message);
    }
  }

  /** Creates the container's cgroups with its limits; nothing is left behind when a limit cannot be set. */
  async create(guid: string, limits: ContainerLimits): Promise<ContainerCgroup> {
    const dirs = this.cellDirs.map(({ dir, controllers }) => ({ dir: join(dir, guid), controllers }));
    const cgroup = new LinuxContainerCgroup(this.version, dirs);
    try {
      for (const { dir, controllers } of dirs) {
        await mkdir(dir);
        for (const [file, value, optional] of limitFiles(this.version, controllers, limits)) {
          await writeLimit(join(dir, file), value, optional);
        }
      }
    } catch (error) {
      await cgroup.destroy();
      throw error;
    }
    this.logger.debug({ container_guid: guid, limits }, 'container-cgroup-created');
    return cgroup;
  }

  /** Removes what a killed predecessor with this cellId left: kills any process still in a container cgroup, removes the directories. */
  async removeLeftovers(): Promise<{ removed: number }> {
    const guids = new Set<string>();
    for (const { dir } of this.cellDirs) {
      for (const entry of await readdir(dir, { withFileTypes: true })) if (entry.isDirectory()) guids.add(entry.name);
    }
    for (const guid of guids) {
      const dirs = this.cellDirs.map(({ dir, controllers }) => ({ dir: join(dir, guid), controllers }));
      await new LinuxContainerCgroup(this.version, dirs).destroy();
    }
    if (guids.size > 0) this.logger.info({ removed: guids.size, container_guids: [...guids] }, 'removed-leftover-cgroups');
    return { removed: guids.size };
  }

  /** Removes every container cgroup and the cell's own directories (the cell stops). */
  async close(): Promise<void> {
    await this.removeLeftovers();
    for (const { dir } of this.cellDirs) await removeDir(dir);
  }
}

/**
 * v2's no-internal-process rule: a cgroup that holds processes cannot hand controllers to its children. The cell's
 * own cgroup enables them for `diego-<cellId>` (allowed only at the root or where the own cgroup holds no process),
 * and `diego-<cellId>`, which holds none, enables them for the containers.
 */
async function openV2CellDir(ownDir: string, name: string, log: pino.Logger): Promise<string> {
  const available = (await readFile(join(ownDir, 'cgroup.controllers'), 'utf8')).trim().split(/\s+/);
  const wanted = CONTROLLERS.filter((controller) => available.includes(controller));
  if (wanted.length === 0) throw new Error(`the cell's cgroup ${ownDir} has none of ${CONTROLLERS.join(', ')} available`);
  try {
    await enableControllers(ownDir, wanted);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EBUSY') throw error;
    throw new Error(
      `cannot enable ${wanted.join(', ')} below the cell's cgroup ${ownDir} (EBUSY): cgroup v2 lets a cgroup other than ` +
        'the root hand controllers to its children only while it holds no process, and it holds the cell; ' +
        'start the cell in a cgroup whose parent it can use (e.g. systemd-run --scope -p Delegate=yes)',
    );
  }
  const cellDir = join(ownDir, name);
  await mkdir(cellDir, { recursive: true });
  await enableControllers(cellDir, wanted);
  log.debug({ cell_dir: cellDir, controllers: wanted }, 'cgroup-v2-controllers-enabled');
  return cellDir;
}

async function enableControllers(dir: string, controllers: readonly Controller[]): Promise<void> {
  const enabled = (await readFile(join(dir, 'cgroup.subtree_control'), 'utf8')).trim().split(/\s+/);
  const missing = controllers.filter((controller) => !enabled.includes(controller));
  if (missing.length > 0) await writeFile(join(dir, 'cgroup.subtree_control'), missing.map((c) => `+${c}`).join(' '));
}

/** The files and values that set `limits`, in the order the kernel accepts them (memsw after memory). */
function limitFiles(version: 1 | 2, controllers: readonly Controller[], limits: ContainerLimits): [string, string, boolean?][] {
  const files: [string, string, boolean?][] = [];
  if (controllers.includes('memory') && limits.memoryBytes > 0) {
    const bytes = String(limits.memoryBytes);
    // memsw (v1) and swap.max (v2) close the way around the limit through swap; absent when the kernel has no swap accounting.
    if (version === 1) files.push(['memory.limit_in_bytes', bytes], ['memory.memsw.limit_in_bytes', bytes, true]);
    else files.push(['memory.max', bytes], ['memory.swap.max', '0', true]);
  }
  if (controllers.includes('cpu') && limits.cpuShares > 0) {
    files.push(version === 1 ? ['cpu.shares', String(limits.cpuShares)] : ['cpu.weight', String(cpuWeightForShares(limits.cpuShares))]);
  }
  if (controllers.includes('pids') && limits.pidsMax > 0) files.push(['pids.max', String(limits.pidsMax)]);
  return files;
}

async function writeLimit(path: string, value: string, optional = false): Promise<void> {
  if (optional && !existsSync(path)) return;
  await writeFile(path, value);
}

export interface ContainerCgroup {
  /** The cgroup.procs files a process writes its pid into to join (one per v1 controller, one for v2). */
  readonly procsFiles: string[];
  /** Whether the kernel's OOM killer killed a process of this container (v1 memory.oom_control oom_kill counter, or memory.failcnt+under_oom as fallback; v2 memory.events oom_kill). */
  oomKilled(): Promise<boolean>;
  memoryUsageBytes(): Promise<number>;
  /** Kills what is left in it (SIGKILL to every pid in cgroup.procs, v2 cgroup.kill where present), waits until empty, removes the directories. Idempotent. */
  destroy(): Promise<void>;
}

/** How long destroy() waits for killed processes to leave (a process in uninterruptible sleep takes its time). */
const EMPTY_DEADLINE_MS = 10_000;
const EMPTY_POLL_MS = 20;

class LinuxContainerCgroup implements ContainerCgroup {
  readonly procsFiles: string[];
  private readonly memoryDir: string | undefined;

  constructor(
    private readonly version: 1 | 2,
    private readonly dirs: { dir: string; controllers: Controller[] }[],
  ) {
    this.procsFiles = dirs.map(({ dir }) => join(dir, 'cgroup.procs'));
    this.memoryDir = dirs.find(({ controllers }) => controllers.includes('memory'))?.dir;
  }

  async oomKilled(): Promise<boolean> {
    if (this.memoryDir === undefined) return false;
    if (this.version === 2) return counter(await readFile(join(this.memoryDir, 'memory.events'), 'utf8'), 'oom_kill') > 0;
    const control = await readFile(join(this.memoryDir, 'memory.oom_control'), 'utf8');
    // oom_kill is there since Linux 4.13; before it, a hit limit while under OOM is the best sign there is.
    if (/^oom_kill /m.test(control)) return counter(control, 'oom_kill') > 0;
    const failures = Number((await readFile(join(this.memoryDir, 'memory.failcnt'), 'utf8')).trim());
    return failures > 0 && counter(control, 'under_oom') > 0;
  }

  async memoryUsageBytes(): Promise<number> {
    if (this.memoryDir === undefined) return 0;
    const file = this.version === 2 ? 'memory.current' : 'memory.usage_in_bytes';
    return Number((await readFile(join(this.memoryDir, file), 'utf8')).trim());
  }

  async destroy(): Promise<void> {
    const deadline = Date.now() + EMPTY_DEADLINE_MS;
    for (;;) {
      let remaining = 0;
      for (const { dir } of this.dirs) remaining += await killAll(dir, this.version);
      if (remaining === 0) break;
      if (Date.now() > deadline) throw new Error(`cgroup ${this.dirs[0]?.dir ?? ''} still holds ${remaining} processes after SIGKILL`);
      await new Promise((resolve) => setTimeout(resolve, EMPTY_POLL_MS));
    }
    for (const { dir } of this.dirs) await removeDir(dir);
  }
}

/** A `key value` line of a flat-keyed cgroup file, 0 when absent. */
function counter(text: string, key: string): number {
  const match = new RegExp(`^${key} (\\d+)$`, 'm').exec(text);
  return match === null ? 0 : Number(match[1]);
}

/** SIGKILLs every process in `dir` and says how many there were (0: empty or gone). */
async function killAll(dir: string, version: 1 | 2): Promise<number> {
  let pids: number[];
  try {
    pids = (await readFile(join(dir, 'cgroup.procs'), 'utf8')).split('\n').filter(Boolean).map(Number);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw error;
  }
  if (pids.length === 0) return 0;
  // cgroup.kill (Linux 5.14) kills atomically, so a fork between our read and our kill cannot escape.
  if (version === 2 && existsSync(join(dir, 'cgroup.kill'))) await writeFile(join(dir, 'cgroup.kill'), '1');
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Gone between the read and the kill.
    }
  }
  return pids.length;
}

/** rmdir that is done when the directory is gone; EBUSY while the kernel still counts an exited process, retried. */
async function removeDir(dir: string): Promise<void> {
  const deadline = Date.now() + EMPTY_DEADLINE_MS;
  for (;;) {
    try {
      await rmdir(dir);
      return;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return;
      if (code !== 'EBUSY' || Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, EMPTY_POLL_MS));
    }
  }
}
