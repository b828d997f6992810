/**
 * The cell's executor on a plain Linux host: each container is a directory with its own tmp and home, host
 * ports from a range, and (as root) its own mount and pid namespace; see process-container.ts for what that
 * isolation is and what a cell without root gives up.
 *
 * @example
 *   const executor = new ProcessExecutor({ workDir: '/var/vcap/data/cell', logger });
 *   const container = await executor.createContainer(spec);
 *   const { failed, result } = await executor.runTask(container, { action, resultFile: '/tmp/result' }, signal);
 *   await container.destroy();
 */
import { createServer } from 'node:net';
import { open, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pino, { type Logger } from 'pino';
import type { PortMapping } from '@diego/models';
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
import { ProcessContainer } from './process-container';
import { machineIpv4 } from '../host-address';

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
  /** Monitor intervals: until the first success (0.5 s), and after it (30 s). */
  unhealthyMonitoringIntervalMs?: number;
  healthyMonitoringIntervalMs?: number;
}

export class ProcessExecutor implements Executor {
  private readonly containers = new Map<string, ProcessContainer>();
  private readonly usedHostPorts = new Set<number>();
  private readonly missingUsers = new Set<string>();
  private readonly logger: Logger;
  private readonly address: string;
  private readonly portRange: { start: number; end: number };
  private readonly cacheDir: string;
  private readonly isolated = process.getuid?.() === 0;

  constructor(private readonly options: ProcessExecutorOptions) {
    this.logger = (options.logger ?? pino({ level: 'silent' })).child({ session: 'executor' });
    this.address = options.cellAddress ?? machineIpv4();
    this.portRange = options.hostPortRange ?? { start: 61000, end: 61999 };
    this.cacheDir = options.cacheDir ?? join(options.workDir, 'cache');
  }

  async createContainer(spec: ContainerSpec): Promise<Container> {
    if (this.containers.has(spec.guid)) throw new Error(`container ${spec.guid} already exists`);
    const rootPath = await this.rootFor(spec.rootfs);
    const ports = await this.allocatePorts(spec.ports);
    const logger = this.logger.child({ container_guid: spec.guid });
    try {
      const container = await ProcessContainer.create({
        spec,
        dir: join(this.options.workDir, 'containers', spec.guid),
        rootPath,
        address: this.address,
        ports,
        isolated: this.isolated,
        logger,
        onDestroyed: () => {
          this.containers.delete(spec.guid);
          for (const p of ports) this.usedHostPorts.delete(p.host_port);
          logger.info('container-destroyed');
        },
      });
      this.containers.set(spec.guid, container);
      logger.info({ ports, isolated: this.isolated, root: rootPath }, 'container-created');
      return container;
    } catch (err) {
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
        const action = runAction(spec.action, ctx, run.signal).then((result) => {
          if (run.signal.aborted) return;
          const reason = result.failed ? result.failureReason : 'Exited with status 0';
          if (monitor === null) crash(reason);
          else ctx.logger.info({ reason }, 'action-exited-still-monitoring');
        });
        if (monitor === null) callbacks.onRunning();
        else await this.monitor(monitor, spec.startTimeoutSeconds, ctx, callbacks, crash, run.signal);
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
      canSwitchUser: this.isolated,
      logger: this.logger.child({ container_guid: own.guid }),
      missingUsers: this.missingUsers,
    };
  }

  private async rootFor(rootfs: string): Promise<string> {
    const preloaded = /^preloaded:(.+)$/.exec(rootfs)?.[1];
    if (preloaded === undefined) throw new Error(`rootfs ${rootfs} is not supported: this cell runs preloaded rootfses only`);
    const root = this.options.preloadedRootfs === undefined ? '/' : this.options.preloadedRootfs[preloaded];
    if (root === undefined) throw new Error(`preloaded rootfs ${preloaded} is not on this cell`);
    if (root === '/') return root;
    if (!this.isolated) throw new Error(`preloaded rootfs ${preloaded} needs a chroot, and the cell is not root`);
    const exists = await stat(root).then((s) => s.isDirectory(), () => false);
    if (!exists) throw new Error(`preloaded rootfs ${preloaded}: ${root} does not exist`);
    return root;
  }

  /** A distinct host port for each container port: one not handed out already and free to listen on now. */
  private async allocatePorts(containerPorts: number[]): Promise<PortMapping[]> {
    const mappings: PortMapping[] = [];
    let candidate = this.portRange.start;
    for (const containerPort of containerPorts) {
      for (; ; candidate++) {
        if (candidate > this.portRange.end) {
          for (const m of mappings) this.usedHostPorts.delete(m.host_port);
          throw new Error(`no free host port in ${this.portRange.start}-${this.portRange.end}`);
        }
        if (!this.usedHostPorts.has(candidate) && (await canListen(candidate))) break;
      }
      this.usedHostPorts.add(candidate);
      mappings.push({ container_port: containerPort, host_port: candidate });
    }
    return mappings;
  }
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
