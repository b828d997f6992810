/** CONTRACT: the compiled BBS configuration the CLI (`diego bbs`) builds from flags and env. */
export type LogLevel = 'debug' | 'info' | 'error' | 'fatal';

export interface BbsConfig {
  /** host:port, default 0.0.0.0:8889 (`--listenAddress`). */
  listenAddress: string;
  /** etcd endpoints (`--etcdCluster`, comma-separated), default ["http://127.0.0.1:2379"]. */
  etcdCluster: string[];
  logLevel: LogLevel;
  /** host:port for /debug endpoints (`--debugAddr`); null = none. */
  debugAddress: string | null;
  /** This BBS's API URL as announced in the leader election (`--advertiseURL`); default http://<listenAddress>. */
  advertiseUrl?: string;
  /** The converger's period (`--convergeRepeatInterval`), default 30 s. */
  convergeRepeatIntervalMs?: number;
  /** Task convergence kicks tasks untouched this long (`--kickTaskDuration`), default 30 s. */
  kickTaskDurationMs?: number;
  /** ...fails tasks PENDING this long (`--expirePendingTaskDuration`), default 30 min. */
  expirePendingTaskDurationMs?: number;
  /** ...deletes tasks completed this long ago (`--expireCompletedTaskDuration`), default 120 s. */
  expireCompletedTaskDurationMs?: number;
  /** How often an idle event stream gets a `: heartbeat` comment (`--eventHeartbeatInterval`), default 15 s. */
  eventHeartbeatIntervalMs?: number;
  /** Serve the API only, never campaigning to lead (`--apiOnly`); default false. */
  apiOnly?: boolean;
}

/** A started process component. */
export interface RunningServer {
  /** The address it actually listens on, as host:port (the port is resolved when 0 was asked for). */
  address: string;
  stop(): Promise<void>;
}
