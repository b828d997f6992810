/**
 * The cell's executor. Without root each container is a directory with its own tmp and home and host ports from
 * a range, its processes plain processes; as root it also gets namespaces and, as the cell was given them, a root
 * of its own (`docker://` images from the ImageStore, preloaded rootfses with a path), cgroup limits, a disk
 * limit, and a network namespace on the cell's bridge with its egress rules (see process-container.ts).
 *
 * @example
 *   const executor = new ProcessExecutor({ workDir: '/var/vcap/data/cell', logger });
 *   const container = await executor.createContainer(spec);
 *   const { failed, result } = await executor.runTask(container, { action, resultFile: '/tmp/result' }, signal);
 *   await container.destroy();
 */
import { randomInt } from 'node:crypto';
import { createServer } from 'node:net';
import { mkdir, open, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pino, { type Logger } from 'pino';
import { machineIpv4 } from '@diego/server-support';
import type { PortMapping, SecurityGroupRule } from '@diego/models';
import { errorMessage, linkedController, runAction, type ActionContext } from './actions';
import type {
  Container,
  ContainerSpec,
  Executor,
  LrpRunCallbacks,
  LrpRunSpec,
  RunResult,
  TaskRunSpec,
} from './contracts';
import type { ContainerRootSpec } from './container-init';
import { ContainerLogs } from './container-logs';
import {
  ProcessContainer,
  type ContainerCgroupHandle,
  type ContainerIsolation,
  type ContainerNetworkHandle,
  type RootDefaults,
} from './process-container';
import { cpuSharesFor, runCommand } from './linux';

const RESULT_FILE_LIMIT_BYTES = 10 * 1024;

export interface ProcessExecutorOptions {
  /** Each container lives in <workDir>/containers/<guid>. */
  workDir: string;
  /** CF_INSTANCE_IP: the host address containers' ports are reached on. Default: the first non-internal
   *  IPv4 address, else 127.0.0.1. */
  cellAddress?: string;
  /** Host ports handed to container ports, inclusive. Default 61000-61999. */
  hostPortRange?: { start: number; end: number };
  /** Preloaded rootfs name (the `cflinuxfs2` of `preloaded:cflinuxfs2`) -> its root on the host. Default:
   *  every preloaded rootfs runs on the host's root `/`. */
  preloadedRootfs?: Record<string, string>;
  /** Where downloads with a cache_key are kept. Default <workDir>/cache. */
  cacheDir?: string;
  logger?: Logger;
  /** The cell's log store (default: one of its own). */
  logs?: ContainerLogs;
  /** As root: where `docker://` rootfses come from; null = the cell offers no docker rootfs. */
  images?: ImageProvider | null;
  /** As root: each container's cgroup with its limits; null = no limits. */
  cgroups?: CgroupProvider | null;
  /** As root: a network namespace of its own per container on the cell's bridge; null = the host's network. */
  network?: NetworkProvider | null;
  /** As root: the writable layer of a container with a root of its own on an ext4 image of disk_mb. Default true. */
  diskLimits?: boolean;
  /** As root: how a container gets a root of its own; default overlay where the kernel has it, else copy. */
  rootfsBackend?: 'overlay' | 'copy';
  /** As root, with cgroups: the most processes a container may have (0 = no limit). Default 1024. */
  maxPids?: number;
  /** Give instances CF_INSTANCE_IP, _PORT, _ADDR, _PORTS, _INTERNAL_IP. Default true. */
  exportNetworkEnvVars?: boolean;
  /** The cpu shares of a container of cpu_weight 100 (Diego's -containerMaxCpuShares). Default 1024. */
  containerMaxCpuShares?: number;
  /** Monitor intervals: until the first success (0.5 s), and after it (30 s). */
  unhealthyMonitoringIntervalMs?: number;
  healthyMonitoringIntervalMs?: number;
}

/** The image side of a root cell (images/image-store.ts). */
export interface ImageProvider {
  provide(rootfs: string, signal?: AbortSignal): Promise<{ rootDir: string; config: { env: string[]; workingDir: string; user: string } }>;
}

/** The cgroup side of a root cell (linux/cgroups.ts). */
export interface CgroupProvider {
  create(guid: string, limits: { memoryBytes: number; cpuShares: number; pidsMax: number }): Promise<ContainerCgroupHandle>;
}

/** The network side of a root cell (linux/network.ts and linux/port-forwarder.ts). */
export interface NetworkProvider {
  attach(guid: string, pid: number, egress: SecurityGroupRule[]): Promise<ContainerNetworkHandle>;
  forwardPort(options: { hostPort: number; targetIp: string; targetPort: number }): Promise<{ close(): Promise<void> }>;
}

const DEFAULT_MAX_PIDS = 1024;
const MEGABYTE = 1024 * 1024;

export class ProcessExecutor implements Executor {
  private readonly containers = new Map<string, ProcessContainer>();
  private readonly usedHostPorts = new Set<number>();
  private readonly missingUsers = new Set<string>();
  private readonly logger: Logger;
  private readonly address: string;
  private readonly portRange: { start: number; end: number };
  /**
   * Where the next search for a free host port starts: a random place in the range, then after the last port handed
   * out. Two cells on one machine (process cells) would otherwise probe the same first ports at once, both find one
   * free before either app listens on it, and hand it out twice.
   */
  private nextPortSearch: number;
  private readonly cacheDir: string;
  private readonly isolated = process.getuid?.() === 0;
  readonly logs: ContainerLogs;
  private overlaySupported: Promise<boolean> | null = null;

  constructor(private readonly options: ProcessExecutorOptions) {
    this.logger = (options.logger ?? pino({ level: 'silent' })).child({ session: 'executor' });
    this.address = options.cellAddress ?? machineIpv4();
    this.portRange = options.hostPortRange ?? { start: 61000, end: 61999 };
    this.nextPortSearch = this.portRange.start + randomInt(this.portRange.end - this.portRange.start + 1);
    this.cacheDir = options.cacheDir ?? join(options.workDir, 'cache');
    this.logs = options.logs ?? new ContainerLogs();
  }

  /** Whether this cell can run `docker://` rootfses: it is root and was given an image store. */
  get runsDockerImages(): boolean {
    return this.isolated && (this.options.images ?? null) !== null;
  }

  async createContainer(spec: ContainerSpec): Promise<Container> {
    if (this.containers.has(spec.guid)) throw new Error(`container ${spec.guid} already exists`);
    const logger = this.logger.child({ container_guid: spec.guid });
    const dir = join(this.options.workDir, 'containers', spec.guid);
    const root = await this.rootFor(spec.rootfs);
    const ports = await this.allocatePorts(spec.ports);
    const release: Array<() => Promise<void>> = [];
    try {
      const isolation = this.isolated ? await this.isolationFor(spec, dir, root, ports, release) : null;
      const container = await ProcessContainer.create({
        spec,
        dir,
        address: this.address,
        ports,
        isolation,
        logger,
        log: this.logs.forContainer(spec.logGuid),
        onDestroyed: () => {
          this.containers.delete(spec.guid);
          for (const p of ports) this.usedHostPorts.delete(p.host_port);
          logger.info('container-destroyed');
        },
      });
      this.containers.set(spec.guid, container);
      logger.info({
        ports, isolated: this.isolated, root: root.spec.kind === 'own' ? root.spec.lowerDir : '/', rootfs: spec.rootfs,
        internal_address: container.internalAddress,
      }, 'container-created');
      return container;
    } catch (err) {
      for (const undo of release.reverse()) await undo().catch(() => undefined);
      for (const p of ports) this.usedHostPorts.delete(p.host_port);
      throw err;
    }
  }

  async runLrp(container: Container, spec: LrpRunSpec, callbacks: LrpRunCallbacks, signal: AbortSignal): Promise<void> {
    const ctx = this.contextFor(container);
    const run = linkedController(signal);
    let crashReason: string | null = null;
    const crash = (reason: string): void => {
      if (crashReason !== null || signal.aborted) return;
      crashReason = reason;
      run.abort();
    };
    try {
      if (spec.setup !== null) {
        const setup = await runAction(spec.setup, ctx, run.signal);
        if (setup.failed) crash(setup.failureReason);
      }
      if (crashReason === null && !signal.aborted) {
        const { monitor } = spec;
        const spawned = ctx.container.nextSpawn();
        const action = runAction(spec.action, ctx, run.signal).then((result) => {
          if (run.signal.aborted) return;
          const reason = result.failed ? result.failureReason : 'Exited with status 0';
          if (monitor === null) crash(reason);
          else ctx.logger.info({ reason }, 'action-exited-still-monitoring');
        });
        if (monitor === null) {
          // Running once its process is: the store says RUNNING only of what runs. An action that ends first
          // (a failure to start, a download-only action) has crashed instead.
          await Promise.race([spawned, action]);
          if (crashReason === null && !run.signal.aborted) callbacks.onRunning();
        } else await this.monitor(monitor, spec.startTimeoutSeconds, ctx, callbacks, crash, run.signal);
        await action;
      }
    } finally {
      run.dispose();
    }
    if (crashReason !== null && !signal.aborted) callbacks.onCrashed(crashReason);
  }

  async runTask(container: Container, spec: TaskRunSpec, signal: AbortSignal): Promise<RunResult & { result: string }> {
    const ctx = this.contextFor(container);
    const outcome = await runAction(spec.action, ctx, signal);
    if (outcome.failed || spec.resultFile === '') return { ...outcome, result: '' };
    try {
      return { failed: false, failureReason: '', result: await readHead(ctx.container.resolvePath(spec.resultFile)) };
    } catch (err) {
      return { failed: true, failureReason: `failed to read result file ${spec.resultFile}: ${errorMessage(err)}`, result: '' };
    }
  }

  async destroyAll(): Promise<void> {
    await Promise.all([...this.containers.values()].map((c) => c.destroy()));
  }

  /** Polls the monitor: every unhealthy interval until it first succeeds, then every healthy interval. */
  private async monitor(
    monitor: NonNullable<LrpRunSpec['monitor']>,
    startTimeoutSeconds: number,
    ctx: ActionContext,
    callbacks: LrpRunCallbacks,
    crash: (reason: string) => void,
    signal: AbortSignal,
  ): Promise<void> {
    const startedAt = Date.now();
    let healthy = false;
    while (!signal.aborted) {
      const check = await runAction(monitor, ctx, signal);
      if (signal.aborted) return;
      if (!check.failed && !healthy) {
        healthy = true;
        callbacks.onRunning();
      } else if (check.failed && healthy) {
        return crash(check.failureReason);
      } else if (check.failed && startTimeoutSeconds > 0 && Date.now() - startedAt >= startTimeoutSeconds * 1000) {
        return crash(`Instance never healthy after ${startTimeoutSeconds}s: ${check.failureReason}`);
      }
      const interval = healthy
        ? (this.options.healthyMonitoringIntervalMs ?? 30_000)
        : (this.options.unhealthyMonitoringIntervalMs ?? 500);
      try {
        await sleep(interval, undefined, { signal });
      } catch {
        return; // aborted
      }
    }
  }

  private contextFor(container: Container): ActionContext {
    const own = this.containers.get(container.guid);
    if (own === undefined) throw new Error(`container ${container.guid} does not exist on this cell`);
    return {
      container: own,
      cacheDir: this.cacheDir,
      logger: this.logger.child({ container_guid: own.guid }),
      missingUsers: this.missingUsers,
      exportNetworkEnvVars: this.options.exportNetworkEnvVars ?? true,
    };
  }

  /**
   * The root a rootfs URL names: the host's (`preloaded:` with no path), or one of the container's own over a
   * preloaded rootfs's path or an image's layers (root only).
   */
  private async rootFor(rootfs: string): Promise<{ spec: ContainerRootSpec; defaults: RootDefaults }> {
    const noDefaults: RootDefaults = { env: [], workingDir: '', user: '' };
    if (rootfs.startsWith('docker://')) {
      const images = this.options.images ?? null;
      if (!this.isolated || images === null) {
        throw new Error(`rootfs ${rootfs} is not supported: this cell runs preloaded rootfses only`);
      }
      const image = await images.provide(rootfs);
      return { spec: { kind: 'own', lowerDir: image.rootDir, backend: await this.backend() }, defaults: image.config };
    }
    const preloaded = /^preloaded:(.+)$/.exec(rootfs)?.[1];
    if (preloaded === undefined) throw new Error(`rootfs ${rootfs} is not supported: this cell runs preloaded rootfses only`);
    const root = this.options.preloadedRootfs === undefined ? '/' : this.options.preloadedRootfs[preloaded];
    if (root === undefined) throw new Error(`preloaded rootfs ${preloaded} is not on this cell`);
    if (root === '/') return { spec: { kind: 'host' }, defaults: noDefaults };
    if (!this.isolated) throw new Error(`preloaded rootfs ${preloaded} needs a chroot, and the cell is not root`);
    const exists = await stat(root).then((s) => s.isDirectory(), () => false);
    if (!exists) throw new Error(`preloaded rootfs ${preloaded}: ${root} does not exist`);
    return { spec: { kind: 'own', lowerDir: root, backend: await this.backend() }, defaults: noDefaults };
  }

  /** Overlay where the kernel has it (the default), else a copy of the root per container. */
  private backend(): Promise<'overlay' | 'copy'> {
    const chosen = this.options.rootfsBackend;
    if (chosen !== undefined) return Promise.resolve(chosen);
    this.overlaySupported ??= readFile('/proc/filesystems', 'utf8').then((text) => /\boverlay\b/.test(text), () => false);
    return this.overlaySupported.then((overlay) => (overlay ? 'overlay' : 'copy'));
  }

  /**
   * A root cell's resources for one container: its cgroup, its disk image, its network. Each one made is pushed
   * on `release`, undone in reverse if a later step fails.
   */
  private async isolationFor(
    spec: ContainerSpec,
    dir: string,
    root: { spec: ContainerRootSpec; defaults: RootDefaults },
    ports: PortMapping[],
    release: Array<() => Promise<void>>,
  ): Promise<ContainerIsolation> {
    const cgroups = this.options.cgroups ?? null;
    const cgroup = cgroups === null
      ? null
      : await cgroups.create(spec.guid, {
        memoryBytes: spec.memoryMB * MEGABYTE,
        cpuShares: cpuSharesFor(spec.cpuWeight, this.options.containerMaxCpuShares),
        pidsMax: this.options.maxPids ?? DEFAULT_MAX_PIDS,
      });
    if (cgroup !== null) release.push(() => cgroup.destroy());
    await mkdir(dir, { recursive: true });
    const diskImage = root.spec.kind === 'own' && spec.diskMB > 0 && this.options.diskLimits !== false
      ? await makeDiskImage(join(dir, 'disk.img'), spec.diskMB)
      : '';
    const network = this.options.network ?? null;
    return {
      root: root.spec,
      rootDefaults: root.defaults,
      cgroup,
      diskImage,
      attachNetwork: network === null ? null : async (initPid) => {
        const attached = await network.attach(spec.guid, initPid, spec.egressRules);
        const forwards: Array<{ close(): Promise<void> }> = [];
        const close = async (): Promise<void> => {
          await Promise.all(forwards.map((forward) => forward.close()));
        };
        try {
          for (const port of ports) {
            forwards.push(await network.forwardPort({ hostPort: port.host_port, targetIp: attached.ip, targetPort: port.container_port }));
          }
        } catch (err) {
          await close();
          await attached.release();
          throw err;
        }
        return { network: attached, close };
      },
    };
  }

  /** A distinct host port for each container port: one not handed out already and free to listen on now. */
  private async allocatePorts(containerPorts: number[]): Promise<PortMapping[]> {
    const { start, end } = this.portRange;
    const size = end - start + 1;
    const mappings: PortMapping[] = [];
    for (const containerPort of containerPorts) {
      let found: number | null = null;
      for (let tried = 0; tried < size && found === null; tried++) {
        const candidate = start + ((this.nextPortSearch - start + tried) % size);
        if (this.usedHostPorts.has(candidate)) continue;
        // Taken before the probe: a container created meanwhile must not probe, and get, the same port.
        this.usedHostPorts.add(candidate);
        if (await canListen(candidate)) found = candidate;
        else this.usedHostPorts.delete(candidate);
      }
      if (found === null) {
        for (const m of mappings) this.usedHostPorts.delete(m.host_port);
        throw new Error(`no free host port in ${start}-${end}`);
      }
      this.nextPortSearch = found === end ? start : found + 1;
      mappings.push({ container_port: containerPort, host_port: found });
    }
    return mappings;
  }
}

/**
 * A sparse file of `megabytes` with an ext4 file system on it, for a container's writable layer: writes past it fail
 * with ENOSPC. No journal and lazy init keep it at a few milliseconds.
 */
async function makeDiskImage(file: string, megabytes: number): Promise<string> {
  const handle = await open(file, 'w');
  try {
    await handle.truncate(megabytes * MEGABYTE);
  } finally {
    await handle.close();
  }
  await runCommand('mkfs.ext4', ['-q', '-F', '-O', '^has_journal', '-m', '0', '-E', 'lazy_itable_init=1,nodiscard', file]);
  return file;
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolvePromise) => {
    const server = createServer();
    server.once('error', () => resolvePromise(false));
    server.listen(port, '0.0.0.0', () => server.close(() => resolvePromise(true)));
  });
}

async function readHead(file: string): Promise<string> {
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.alloc(RESULT_FILE_LIMIT_BYTES);
    const { bytesRead } = await handle.read(buffer, 0, RESULT_FILE_LIMIT_BYTES, 0);
    return buffer.subarray(0, bytesRead).toString('utf8');
  } finally {
    await handle.close();
  }
}
