/** CONTRACT: the compiled BBS configuration the CLI (`diego bbs`) builds from flags and env. */
import type { LogLevel } from '@diego/server-support';
import type { EtcdTlsFiles, MutualTlsFiles } from '@diego/tls';

/** An encryption key as `-encryptionKey label:passphrase` gives it. */
export interface EncryptionKey {
  label: string;
  passphrase: string;
}

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
  /** How often an LRP convergence pass covers every record, not only what changed (`--convergeFullRepeatInterval`), default 5 min. */
  convergeFullRepeatIntervalMs?: number;
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
  /**
   * Serve the API over mutual TLS only (`-requireSSL -caFile -certFile -keyFile`): a client must present a
   * certificate signed by `caFile`. Null or absent: plain HTTP.
   */
  serverTls?: MutualTlsFiles | null;
  /** TLS material for https `etcdCluster` URLs; null or absent: the system's CAs and no client certificate. */
  etcdTls?: EtcdTlsFiles | null;
  /**
   * Keys record values are encrypted with at rest (`-encryptionKey`, repeatable). Empty or absent: values are the
   * readable JSON operators read with etcdctl.
   */
  encryptionKeys?: EncryptionKey[];
  /** The label of the key new values are written with (`-activeKeyLabel`); one of `encryptionKeys` when they are given. */
  activeKeyLabel?: string | null;
  /** How long the BBS waits on a cell's rep or a task's callback URL (`-communicationTimeout`), default 10 s. */
  communicationTimeoutMs?: number;
  /** The lease TTL of the leader election (`-lockTTL`), default 10 s. */
  lockTtlSeconds?: number;
  /** How long a BBS that lost the election waits before campaigning again (`-lockRetryInterval`). */
  lockRetryIntervalMs?: number;
  /** A convergence pass's writes in flight at once (`-convergenceWorkers`), default 20. */
  convergenceWorkers?: number;
  /** Task completion callbacks in flight at once (`-taskCallBackWorkers`), default 1000. */
  taskCallbackWorkers?: number;
  /** Records rewritten at once when moving values to the active encryption key (`-updateWorkers`), default 1000. */
  updateWorkers?: number;
}
