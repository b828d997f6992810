/**
 * One container of the ProcessExecutor: a directory on the host (<workDir>/containers/<guid>) with its own
 * tmp/ and home/, host ports, and the processes of its run actions.
 *
 * Isolation when the cell runs as root: the container has one mount and pid namespace, held by a sleeping
 * init process (`unshare --mount --pid --fork`), in which the container's tmp dir is bind-mounted over /tmp
 * (so two instances writing /tmp/out never see each other's). Every run action enters it with `nsenter`.
 * Killing that init kills every process of the container, daemonised or not, and the init itself dies with
 * the cell (`setpriv --pdeathsig KILL` on unshare, `--kill-child` on its child): no orphans.
 *
 * Without root there are no namespaces: processes run on the host's /tmp (TMPDIR points at the container's
 * tmp, and `/tmp/...` paths the executor resolves itself, like a task's result file, map there), cannot
 * switch user, cannot raise the nofile hard limit, and a process that leaves its process group survives
 * destroy(). Each run action still gets its own process group and `--pdeathsig KILL`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { chmod, mkdir, readFile, rm } from 'node:fs/promises';
import { constants as osConstants } from 'node:os';
import { join, resolve, sep } from 'node:path';
import { createInterface } from 'node:readline';
import type { Logger } from 'pino';
import type { PortMapping } from '@diego/models';
import type { Container, ContainerSpec } from './contracts';

/** What a run action asks for, after the executor resolved its env, dir and user. */
export interface ProcessLaunch {
  path: string;
  args: string[];
  /** Absolute host path of the working directory (inside the container dir). */
  dir: string;
  env: Record<string, string>;
  /** 0 = the cell's own limit. */
  nofile: number;
  /** The user to run as, when it exists on the host and the cell is root. */
  user: { uid: number; gid: number } | null;
  logSource: string;
  suppressOutput: boolean;
}

/** How a process ended: its exit status (128 + signal when killed by one), or cancelled through its signal. */
export type ProcessExit = { cancelled: false; status: number } | { cancelled: true };

const NAMESPACE_INIT_SCRIPT = [
  'set -e',
  // $1: the container's tmp dir; $2: the root (/ or a preloaded rootfs); $3: the container dir.
  'if [ "$2" = / ]; then mount --bind "$1" /tmp',
  // A preloaded rootfs: the container's tmp over its /tmp, and the container dir at the same path inside it
  // (left as an empty directory in the rootfs afterwards), so paths mean the same in and out of the chroot.
  // In that order, as the container dir may lie under /tmp (then the directory is made in the container's tmp).
  'else mkdir -p "$2/tmp"; mount --bind "$1" "$2/tmp"; mkdir -p "$2$3"; mount --bind "$3" "$2$3"; fi',
  'echo ready',
  'exec sleep infinity',
].join('\n');

export class ProcessContainer implements Container {
  readonly tmpDir: string;
  readonly homeDir: string;
  private readonly running = new Set<ChildProcess>();
  private readonly logFile: WriteStream;
  private namespace: { holder: ChildProcess; initPid: number } | null = null;
  private destroying: Promise<void> | null = null;

  private constructor(
    readonly spec: ContainerSpec,
    readonly dir: string,
    /** '/' for the host root, else the preloaded rootfs the processes are chrooted into. */
    readonly rootPath: string,
    readonly address: string,
    readonly ports: PortMapping[],
    readonly isolated: boolean,
    private readonly logger: Logger,
    private readonly onDestroyed: () => void,
  ) {
    this.tmpDir = join(dir, 'tmp');
    this.homeDir = join(dir, 'home');
    this.logFile = createWriteStream(join(dir, 'log'), { flags: 'a' });
  }

  get guid(): string {
    return this.spec.guid;
  }

  static async create(options: {
    spec: ContainerSpec;
    dir: string;
    rootPath: string;
    address: string;
    ports: PortMapping[];
    isolated: boolean;
    logger: Logger;
    onDestroyed: () => void;
  }): Promise<ProcessContainer> {
    // Writable by any user a run action names, as /tmp is (the container's users are not known yet).
    await mkdir(join(options.dir, 'tmp'), { recursive: true });
    await chmod(join(options.dir, 'tmp'), 0o1777);
    await mkdir(join(options.dir, 'home'), { recursive: true });
    await chmod(join(options.dir, 'home'), 0o1777);
    const container = new ProcessContainer(
      options.spec, options.dir, options.rootPath, options.address, options.ports, options.isolated,
      options.logger, options.onDestroyed,
    );
    if (options.isolated) {
      try {
        await container.startNamespace();
      } catch (err) {
        await container.destroy();
        throw err;
      }
    }
    return container;
  }

  /**
   * A path as a process of the container names it, on the host: `/tmp/...` is the container's tmp, any
   * other path (relative, or absolute) lies inside the container dir. Throws if `..` leaves the container.
   */
  resolvePath(path: string): string {
    const resolved = path === '/tmp' || path.startsWith('/tmp/')
      ? join(this.tmpDir, path.slice('/tmp'.length))
      : resolve(this.dir, `.${sep}${path}`);
    if (resolved !== this.dir && !resolved.startsWith(this.dir + sep)) {
      throw new Error(`path ${path} is outside the container`);
    }
    return resolved;
  }

  /** One line of the container's output: to the cell's log with the container's tags, and to its log file. */
  writeLine(line: string, logSource: string, stream: 'stdout' | 'stderr' | 'executor'): void {
    this.logger.info(
      {
        log_guid: this.spec.logGuid,
        log_source: logSource || this.spec.logSource,
        index: this.spec.instance?.index ?? 0,
        stream,
        line,
      },
      'container-output',
    );
    if (!this.logFile.destroyed) this.logFile.write(`${line}\n`);
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

  /** Kills every process of the container and removes its directory. Idempotent. */
  destroy(): Promise<void> {
    this.destroying ??= this.kill().then(async () => {
      await new Promise<void>((r) => this.logFile.end(r));
      await rm(this.dir, { recursive: true, force: true });
      this.onDestroyed();
    });
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

  private commandFor(launch: ProcessLaunch): string[] {
    const limits = launch.nofile > 0 ? ['prlimit', `--nofile=${launch.nofile}:${launch.nofile}`, '--'] : [];
    const program = [launch.path, ...launch.args];
    if (this.namespace === null) return ['setpriv', '--pdeathsig', 'KILL', ...limits, ...program];
    const user = launch.user === null ? [] : [`--setuid=${launch.user.uid}`, `--setgid=${launch.user.gid}`];
    const enter = ['nsenter', `--target=${this.namespace.initPid}`, '--pid', '--mount'];
    if (this.rootPath === '/') {
      return ['setpriv', '--pdeathsig', 'KILL', ...limits, ...enter, `--wd=${launch.dir}`, ...user, '--', ...program];
    }
    // nsenter's --root would open the rootfs outside the namespace (without its mounts): chroot once inside.
    const userspec = launch.user === null ? [] : [`--userspec=${launch.user.uid}:${launch.user.gid}`];
    return [
      'setpriv', '--pdeathsig', 'KILL', ...limits, ...enter, '--wd=/', '--',
      'chroot', ...userspec, this.rootPath, '/bin/sh', '-c', 'cd "$0" && exec "$@"', launch.dir, ...program,
    ];
  }

  private async startNamespace(): Promise<void> {
    const holder = spawn(
      'setpriv',
      [
        '--pdeathsig', 'KILL',
        'unshare', '--mount', '--pid', '--fork', '--kill-child=KILL', '--mount-proc',
        '--', '/bin/sh', '-c', NAMESPACE_INIT_SCRIPT, 'sh', this.tmpDir, this.rootPath, this.dir,
      ],
      { detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
    );
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
    // unshare forks the namespace's init; its pid on the host is unshare's only child.
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
