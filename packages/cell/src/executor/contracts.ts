/**
 * CONTRACT between the executor (containers and actions) and the rep (the cell's API and its BBS calls).
 * Diego split a cell the same way: the executor runs containers and reports their state; the rep turns that
 * state into BBS calls (claim, start, crash, complete) and serves the auctioneer.
 */
import type { Action, EnvironmentVariable, PortMapping, SecurityGroupRule } from '@diego/models';
import type { ContainerLogs } from './container-logs';

/** What to create: one container for one LRP instance or one task. */
export interface ContainerSpec {
  /** The instance guid of an LRP instance, or the task guid. Unique on the cell. */
  guid: string;
  /** Log tags: every line of output goes to the cell's log with these (log_guid, log_source, index). */
  logGuid: string;
  logSource: string;
  /** LRP instances only: the index and instance guid (INSTANCE_INDEX, INSTANCE_GUID). */
  instance: { processGuid: string; index: number } | null;
  /** The rootfs URL (`preloaded:cflinuxfs2`, `docker:///...`); the executor maps it to a root on the host. */
  rootfs: string;
  /** Container-level environment (DesiredLRP.env / Task.env); a run action's env overrides it. */
  env: EnvironmentVariable[];
  /** Container ports to expose; each gets a distinct host port. */
  ports: number[];
  memoryMB: number;
  diskMB: number;
  /** 1-100, relative CPU shares (as root, with cgroups); 0 = the full share. */
  cpuWeight: number;
  /** What may leave the container (as root, on a network of its own); nothing else does. */
  egressRules: SecurityGroupRule[];
}

/** A created container: its own working directory, /tmp and home, its host ports, its processes. */
export interface Container {
  readonly guid: string;
  /** The host address the container's ports are reached on (CF_INSTANCE_IP). */
  readonly address: string;
  /** container_port -> host_port, in the order of ContainerSpec.ports. */
  readonly ports: PortMapping[];
  /** Kills every process of the container (the whole tree) and removes its directories. Idempotent. */
  destroy(): Promise<void>;
}

/** How an action (or an LRP's run) ended. */
export interface RunResult {
  failed: boolean;
  /** Diego's reasons: `Exited with status 17`, `exceeded 5s timeout`, `failed to download ...`, `cancelled`... */
  failureReason: string;
}

export interface LrpRunCallbacks {
  /** The monitor first succeeded (or the action started, with no monitor): StartActualLRP now. */
  onRunning(): void;
  /** The instance stopped on its own: a crash (action exited with no monitor, monitor failed after success,
   *  start timeout). Not called when the run was cancelled through the AbortSignal. */
  onCrashed(reason: string): void;
}

export interface LrpRunSpec {
  setup: Action | null;
  action: Action;
  monitor: Action | null;
  /** Seconds without the monitor succeeding before it counts as a crash; 0 = forever. */
  startTimeoutSeconds: number;
}

export interface TaskRunSpec {
  action: Action;
  /** Absolute path inside the container; its first 10 KB are the task's result. "" = none. */
  resultFile: string;
}

export interface Executor {
  /** Every line the containers printed, by log_guid (what the rep serves at /v1/logs/:log_guid). */
  readonly logs: ContainerLogs;
  createContainer(spec: ContainerSpec): Promise<Container>;
  /** Runs setup, then the action with its monitor (0.5 s until the first success, then every 30 s). Resolves
   *  when the run has ended (crashed or aborted). */
  runLrp(container: Container, spec: LrpRunSpec, callbacks: LrpRunCallbacks, signal: AbortSignal): Promise<void>;
  /** Runs a task's action; the result is read from the result file when it succeeded. */
  runTask(container: Container, spec: TaskRunSpec, signal: AbortSignal): Promise<RunResult & { result: string }>;
  /** Destroys every container (the cell is stopping). */
  destroyAll(): Promise<void>;
}
