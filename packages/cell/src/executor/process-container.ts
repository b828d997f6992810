/**
 * One container of the cell's executor: a directory on the host (<workDir>/containers/<guid>), host ports, and the
 * processes of its run actions. What isolates it depends on the cell:
 *
 * - Without root (the process mode): no namespaces. Processes run on the host's /tmp (TMPDIR points at the
 *   container's tmp, and `/tmp/...` paths the executor resolves itself, like a task's result file, map there), on
 *   the host's network (PORT is the host port), cannot switch user or raise the nofile hard limit, and a process
 *   that leaves its process group survives destroy(). Each run action still gets its own process group and
 *   `--pdeathsig KILL`.
 * - As root, the container has mount and pid namespaces held by a sleeping init (container-init.ts), which every
 *   run action enters with `nsenter`. Killing the init kills every process of the container, and the init dies
 *   with the cell. On top of that, each as the cell was given it:
 *   - a root of its own (a `docker://` image or a preloaded rootfs with a path): an overlay of that root with an
 *     upper directory of the container's, so no container writes into a shared root; on an ext4 image of
 *     disk_mb when disk limits are on. A preloaded rootfs with no path runs on the host's root with the
 *     container's tmp over /tmp.
 *   - cgroups: memory, CPU shares and pids limits, and the OOM killer's verdict for crash reasons.
 *   - a network namespace of its own on the cell's bridge: its ports forwarded from the host ports, its egress
 *     rules enforced inside it; PORT is then what the LRP's env says (the first container port by default).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { chmod, mkdir, readFile, rm, stat, statfs } from 'node:fs/promises';
import { constants as osConstants } from 'node:os';
import { join, posix, resolve, sep } from 'node:path';
import { createInterface } from 'node:readline';
import type { Logger } from 'pino';
import type { PortMapping } from '@diego/models';
import type { Container, ContainerSpec } from './contracts';
import { holderCommand, inCgroups, initLayout, type ContainerRootSpec } from './container-init';
import type { ContainerLog } from './container-logs';

/** What a run action asks for, after the executor resolved its env and dir. */
export interface ProcessLaunch {
  path: string;
  args: string[];
  /** The working directory: a host path for the host root, a path inside the container for a root of its own. */
  dir: string;
  env: Record<string, string>;
  /** 0 = the cell's own limit. */
  nofile: number;
  /** The user to run as; null = the cell's own (without root) or root. */
  user: { uid: number; gid: number } | null;
  logSource: string;
  suppressOutput: boolean;
}

/** How a process ended: its exit status (128 + signal when killed by one), or cancelled through its signal. */
export type ProcessExit = { cancelled: false; status: number } | { cancelled: true };

/** The image's settings a container's processes start from (Docker's image config). */
export interface RootDefaults {
  /** `K=V` entries, under the container's and the run action's env. */
  env: string[];
  /** The default working directory ('' = the user's home). */
  workingDir: string;
  /** The default user ('' = root). */
  user: string;
}

/** The container's cgroup as the container uses it (see linux/cgroups.ts). */
export interface ContainerCgroupHandle {
  readonly procsFiles: string[];
  oomKilled(): Promise<boolean>;
  destroy(): Promise<void>;
}

/** The container's network as the container uses it (see linux/network.ts). */
export interface ContainerNetworkHandle {
  readonly ip: string;
  release(): Promise<void>;
}

/** What the executor gives a container as root. All null/false for a cell without root. */
export interface ContainerIsolation {
  root: ContainerRootSpec;
  rootDefaults: RootDefaults;
  cgroup: ContainerCgroupHandle | null;
  /** Wires the network namespace of the init (pid) and forwards the host ports; null = the host's network. */
  attachNetwork: ((initPid: number) => Promise<{ network: ContainerNetworkHandle; close(): Promise<void> }>) | null;
  /** The ext4 image the writable layer lives on ('' = no disk limit). */
  diskImage: string;
}

const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** One line of /etc/passwd: the user a run action names, as a root of its own has it. */
interface PasswdEntry {
  uid: number;
  gid: number;
  home: string;
}

export class ProcessContainer implements Container {
  readonly tmpDir: string;
  readonly homeDir: string;
  private readonly running = new Set<ChildProcess>();
  /** Waiting for the next process of the container to be spawned (see nextSpawn). */
  private readonly spawnWaiters = new Set<() => void>();
  private readonly logFile: WriteStream;
  private namespace: { holder: ChildProcess; initPid: number } | null = null;
  private network: { network: ContainerNetworkHandle; close(): Promise<void> } | null = null;
  private destroying: Promise<void> | null = null;

  private constructor(
    readonly spec: ContainerSpec,
    readonly dir: string,
    readonly address: string,
    readonly ports: PortMapping[],
    /** null without root: plain processes. */
    readonly isolation: ContainerIsolation | null,
    private readonly logger: Logger,
    private readonly log: ContainerLog,
    private readonly onDestroyed: () => void,
  ) {
    this.tmpDir = join(dir, 'tmp');
    this.homeDir = join(dir, 'home');
    this.logFile = createWriteStream(join(dir, 'log'), { flags: 'a' });
  }

  get guid(): string {
    return this.spec.guid;
  }

  /** Whether processes run in namespaces (and may switch user): the cell is root. */
  get isolated(): boolean {
    return this.isolation !== null;
  }

  /** Whether the container's `/` is its own (an image or a preloaded rootfs with a path), not the host's. */
  get ownRoot(): boolean {
    return this.isolation?.root.kind === 'own';
  }

  /** Whether the container has a network namespace of its own. */
  get ownNetwork(): boolean {
    return this.network !== null;
  }

  /** The container's address on the cell's bridge, '' on the host's network. */
  get internalAddress(): string {
    return this.network?.network.ip ?? '';
  }

  static async create(options: {
    spec: ContainerSpec;
    dir: string;
    address: string;
    ports: PortMapping[];
    isolation: ContainerIsolation | null;
    logger: Logger;
    log: ContainerLog;
    onDestroyed: () => void;
  }): Promise<ProcessContainer> {
    // Writable by any user a run action names, as /tmp is (the container's users are not known yet).
    await mkdir(join(options.dir, 'tmp'), { recursive: true });
    await chmod(join(options.dir, 'tmp'), 0o1777);
    await mkdir(join(options.dir, 'home'), { recursive: true });
    await chmod(join(options.dir, 'home'), 0o1777);
    const container = new ProcessContainer(
      options.spec, options.dir, options.address, options.ports, options.isolation, options.logger, options.log,
      options.onDestroyed,
    );
    if (options.isolation !== null) {
      try {
        await container.startNamespace(options.isolation);
        if (options.isolation.attachNetwork !== null && container.namespace !== null) {
          container.network = await options.isolation.attachNetwork(container.namespace.initPid);
        }
      } catch (err) {
        await container.destroy();
        throw err;
      }
    }
    return container;
  }

  /**
   * A path as a process of the container names it, on the host. A root of its own: the path inside that root,
   * reached through the init's view of its mounts; relative paths start at `relativeTo` (the process's working
   * directory). The host root: `/tmp/...` is the container's tmp, any other path (relative, or absolute) lies
   * inside the container dir. Throws if `..` leaves the container.
   */
  resolvePath(path: string, relativeTo = '/'): string {
    if (this.ownRoot) {
      const inside = posix.resolve('/', relativeTo, path);
      return `${this.rootOnHost()}${inside === '/' ? '' : inside}`;
    }
    const resolved = path === '/tmp' || path.startsWith('/tmp/')
      ? join(this.tmpDir, path.slice('/tmp'.length))
      : resolve(this.dir, `.${sep}${path}`);
    if (resolved !== this.dir && !resolved.startsWith(this.dir + sep)) {
      throw new Error(`path ${path} is outside the container`);
    }
    return resolved;
  }

  /**
   * The environment a run action's own starts from: the host's basics (host root) or the image's env (own root),
   * then HOME and TMPDIR for the user it runs as.
   */
  baseEnvironment(home: string): Record<string, string> {
    if (!this.ownRoot) {
      return {
        HOME: this.homeDir,
        TMPDIR: this.isolated ? '/tmp' : this.tmpDir,
        PATH: process.env['PATH'] ?? DEFAULT_PATH,
      };
    }
    const env: Record<string, string> = { PATH: DEFAULT_PATH };
    for (const entry of this.isolation?.rootDefaults.env ?? []) {
      const equals = entry.indexOf('=');
      if (equals > 0) env[entry.slice(0, equals)] = entry.slice(equals + 1);
    }
    env['HOME'] = home;
    env['TMPDIR'] = '/tmp';
    return env;
  }

  /**
   * The user a run action runs as and its home: `user` (or the image's default) looked up in the container's own
   * /etc/passwd, or a numeric `uid[:gid]`; on the host root, in the host's. Null where the user cannot be switched
   * to (no root) or the host has no such user (then the cell's own user runs it, as before).
   */
  async resolveUser(user: string): Promise<{ ids: { uid: number; gid: number } | null; home: string }> {
    if (!this.ownRoot) {
      if (!this.isolated || user === '') return { ids: null, home: this.homeDir };
      const entry = await passwdEntry('/etc/passwd', user);
      return { ids: entry === null ? null : { uid: entry.uid, gid: entry.gid }, home: this.homeDir };
    }
    const name = user === '' ? (this.isolation?.rootDefaults.user ?? '') : user;
    if (name === '' || name === 'root' || name === '0') {
      return { ids: { uid: 0, gid: 0 }, home: await this.existingHome((await passwdEntry(this.resolvePath('/etc/passwd'), 'root'))?.home) };
    }
    const numeric = /^(\d+)(?::(\d+))?$/.exec(name);
    if (numeric !== null) {
      const uid = Number(numeric[1]);
      return { ids: { uid, gid: Number(numeric[2] ?? numeric[1]) }, home: '/' };
    }
    const [userName = '', groupName] = name.split(':');
    const entry = await passwdEntry(this.resolvePath('/etc/passwd'), userName);
    if (entry === null) throw new Error(`user ${userName} does not exist in the container's /etc/passwd`);
    const gid = groupName === undefined ? entry.gid : await groupId(this.resolvePath('/etc/group'), groupName);
    return { ids: { uid: entry.uid, gid }, home: await this.existingHome(entry.home) };
  }

  /** A home the root has, else `/` (an image need not have the home its passwd names). */
  private async existingHome(home: string | undefined): Promise<string> {
    if (home === undefined) return '/';
    return (await stat(this.resolvePath(home)).then((s) => s.isDirectory(), () => false)) ? home : '/';
  }

  /** A root of its own: where a run action starts when it names no dir (the image's WorkingDir, else home). */
  defaultDir(home: string): string {
    return this.isolation?.rootDefaults.workingDir || home;
  }

  /** One line of the container's output: to the cell's log store with the container's tags, and its log file. */
  writeLine(line: string, logSource: string, stream: 'stdout' | 'stderr' | 'executor'): void {
    const source = logSource || this.spec.logSource;
    const index = this.spec.instance?.index ?? 0;
    this.logger.info({ log_guid: this.spec.logGuid, log_source: source, index, stream, line }, 'container-output');
    this.log.append({ source, index, stream, line });
    if (!this.logFile.destroyed) this.logFile.write(`${line}\n`);
  }

  /**
   * Why a process that exited with `status` failed, as Diego said it: `Exited with status N`, with what the
   * container's limits did to it when they did (the OOM killer, a full disk).
   */
  async exitReason(status: number): Promise<string> {
    const reason = `Exited with status ${status}`;
    if (this.isolation === null) return reason;
    if ((await this.isolation.cgroup?.oomKilled()) === true) return `${reason} (out of memory)`;
    if (this.isolation.diskImage !== '' && (await this.diskFull())) {
      return `${reason} (disk limit of ${this.spec.diskMB} MB exceeded)`;
    }
    return reason;
  }

  /** Runs one process to its end; aborting `signal` kills its whole process group. */
  async runProcess(launch: ProcessLaunch, signal: AbortSignal): Promise<ProcessExit> {
    if (signal.aborted) return { cancelled: true };
    if (this.destroying !== null) throw new Error('container was destroyed');
    const [command = '', ...commandArgs] = this.commandFor(launch);
    const child = spawn(command, commandArgs, {
      cwd: this.isolated ? '/' : launch.dir,
      env: launch.env,
      detached: true, // its own process group, killed as one
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.running.add(child);
    child.once('spawn', () => {
      for (const resolveWaiter of this.spawnWaiters) resolveWaiter();
      this.spawnWaiters.clear();
    });
    const kill = (): void => killGroup(child);
    signal.addEventListener('abort', kill, { once: true });
    const outputDone = Promise.all([
      this.pipeLines(child.stdout, launch, 'stdout'),
      this.pipeLines(child.stderr, launch, 'stderr'),
    ]);
    try {
      const exit = await new Promise<ProcessExit>((resolvePromise, reject) => {
        child.once('error', reject);
        child.once('exit', (code, signalName) => {
          if (signal.aborted) resolvePromise({ cancelled: true });
          else resolvePromise({ cancelled: false, status: code ?? 128 + signalNumber(signalName) });
        });
      });
      // A backgrounded grandchild may hold the pipes open: don't wait for them once the process is gone.
      if (!exit.cancelled) await Promise.race([outputDone, new Promise((r) => setTimeout(r, 100).unref())]);
      return exit;
    } finally {
      signal.removeEventListener('abort', kill);
      this.running.delete(child);
      child.stdout?.destroy();
      child.stderr?.destroy();
    }
  }

  /** Resolves when the container's next process has been spawned: an LRP without a monitor runs from then on. */
  nextSpawn(): Promise<void> {
    return new Promise((resolveWaiter) => this.spawnWaiters.add(resolveWaiter));
  }

  /** Kills every process of the container and removes what it had on the host. Idempotent. */
  destroy(): Promise<void> {
    this.destroying ??= (async () => {
      await this.network?.close();
      await this.kill();
      await this.network?.network.release();
      await this.isolation?.cgroup?.destroy();
      await new Promise<void>((r) => this.logFile.end(r));
      await rm(this.dir, { recursive: true, force: true });
      this.onDestroyed();
    })();
    return this.destroying;
  }

  private async kill(): Promise<void> {
    for (const child of this.running) killGroup(child);
    const namespace = this.namespace;
    if (namespace === null) return;
    killGroup(namespace.holder);
    // The kernel kills every process of a pid namespace before its init is gone: wait for that.
    const deadline = Date.now() + 10_000;
    while (await isAlive(namespace.initPid)) {
      if (Date.now() > deadline) throw new Error(`container ${this.guid}: init ${namespace.initPid} did not die`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** The container's `/` as the host reaches it: through the init's root, which sees the init's private mounts. */
  private rootOnHost(): string {
    if (this.namespace === null) throw new Error(`container ${this.guid} has no init`);
    return `/proc/${this.namespace.initPid}/root${initLayout(this.dir).rootDir}`;
  }

  private async diskFull(): Promise<boolean> {
    if (this.namespace === null) return false;
    try {
      const stats = await statfs(`/proc/${this.namespace.initPid}/root${initLayout(this.dir).writableDir}`);
      // ext4 keeps a few blocks back even with no reserve: a write that failed for space leaves less than this.
      return stats.bavail * stats.bsize < 1024 * 1024;
    } catch {
      return false;
    }
  }

  private commandFor(launch: ProcessLaunch): string[] {
    const limits = launch.nofile > 0 ? ['prlimit', `--nofile=${launch.nofile}:${launch.nofile}`, '--'] : [];
    const program = [launch.path, ...launch.args];
    if (this.namespace === null) return ['setpriv', '--pdeathsig', 'KILL', ...limits, ...program];
    const user = launch.user === null ? [] : [`--setuid=${launch.user.uid}`, `--setgid=${launch.user.gid}`];
    const enter = ['nsenter', `--target=${this.namespace.initPid}`, '--pid', '--mount'];
    if (this.network !== null) enter.push('--net');
    const procsFiles = this.isolation?.cgroup?.procsFiles ?? [];
    if (!this.ownRoot) {
      return ['setpriv', '--pdeathsig', 'KILL', ...limits, ...inCgroups(procsFiles, [...enter, `--wd=${launch.dir}`, ...user, '--', ...program])];
    }
    // nsenter opens --root and --wd before it enters the mount namespace: through the init's root they name the
    // container's root and its working directory there.
    const root = this.rootOnHost();
    return [
      'setpriv', '--pdeathsig', 'KILL', ...limits,
      ...inCgroups(procsFiles, [...enter, '--uts', `--root=${root}`, `--wd=${root}${launch.dir === '/' ? '' : launch.dir}`, ...user, '--', ...program]),
    ];
  }

  private async startNamespace(isolation: ContainerIsolation): Promise<void> {
    const [command = '', ...args] = holderCommand({
      root: isolation.root,
      containerDir: this.dir,
      tmpDir: this.tmpDir,
      cgroupProcsFiles: isolation.cgroup?.procsFiles ?? [],
      ownNetwork: isolation.attachNetwork !== null,
      diskImage: isolation.diskImage,
      hostname: this.guid.slice(0, 63),
    });
    const holder = spawn(command, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    holder.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const ready = await new Promise<boolean>((resolvePromise) => {
      holder.stdout.once('data', () => resolvePromise(true));
      holder.once('exit', () => resolvePromise(false));
      holder.once('error', () => resolvePromise(false));
    });
    if (!ready || holder.pid === undefined) {
      throw new Error(`cannot create the container's namespace: ${stderr.trim() || 'unshare failed'}`);
    }
    holder.stdout.destroy();
    holder.stderr.destroy();
    // The holder execs into unshare, which forks the namespace's init: its pid on the host is unshare's only child.
    const children = await readFile(`/proc/${holder.pid}/task/${holder.pid}/children`, 'utf8');
    const initPid = Number(children.trim().split(/\s+/)[0]);
    if (!Number.isInteger(initPid) || initPid <= 0) {
      killGroup(holder);
      throw new Error(`cannot find the init of container ${this.guid}`);
    }
    this.namespace = { holder, initPid };
  }

  private async pipeLines(
    stream: NodeJS.ReadableStream | null,
    launch: ProcessLaunch,
    name: 'stdout' | 'stderr',
  ): Promise<void> {
    if (stream === null) return;
    const lines = createInterface({ input: stream, crlfDelay: Infinity });
    try {
      for await (const line of lines) {
        if (!launch.suppressOutput) this.writeLine(line, launch.logSource, name);
      }
    } catch {
      // The stream was destroyed after the process ended: nothing more to read.
    }
  }
}

async function passwdEntry(file: string, user: string): Promise<PasswdEntry | null> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return null;
  }
  const fields = text.split('\n').map((line) => line.split(':')).find((entry) => entry[0] === user);
  if (fields === undefined) return null;
  return { uid: Number(fields[2]), gid: Number(fields[3]), home: fields[5] || '/' };
}

async function groupId(file: string, group: string): Promise<number> {
  if (/^\d+$/.test(group)) return Number(group);
  const text = await readFile(file, 'utf8').catch(() => '');
  const fields = text.split('\n').map((line) => line.split(':')).find((entry) => entry[0] === group);
  if (fields === undefined) throw new Error(`group ${group} does not exist in the container's /etc/group`);
  return Number(fields[2]);
}

function killGroup(child: ChildProcess): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

function signalNumber(name: NodeJS.Signals | null): number {
  return name === null ? 0 : osConstants.signals[name];
}

/** A process that exists and is not a zombie (a killed init waits as a zombie until reaped). */
async function isAlive(pid: number): Promise<boolean> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}
