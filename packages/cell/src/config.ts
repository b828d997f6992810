/** The cell's configuration, compiled from `diego cell`'s flags (packages/cli/src/commands/cell.ts). */
import type { LogLevel } from '@diego/server-support';
import type { MutualTlsFiles } from '@diego/tls';

/** Diego's rep `-bulkSyncInterval`. */
export const DEFAULT_BULK_SYNC_INTERVAL_MS = 30_000;

/** A rootfs the cell has on disk, offered as `preloaded:<name>`. */
export interface PreloadedRootFs {
  name: string;
  /** Where it lives on the cell; null when only the name was given. */
  path: string | null;
}

/**
 * @example
 *   { cellId: 'cell-z1-0', zone: 'z1', listenAddress: '0.0.0.0:1800', bbsAddress: ['http://127.0.0.1:8889'],
 *     memoryMb: 8192, diskMb: 40960, containers: 256, preloadedRootFses: [{ name: 'cflinuxfs2', path: null }],
 *     evacuationTimeoutMs: 600_000, bulkSyncIntervalMs: 30_000, workDir: '/var/vcap/data/cell', dockerRegistryURL: 'https://registry-1.docker.io',
 *     insecureDockerRegistries: [], dockerImageDir: null, networkPool: '10.254.0.0/22', logLevel: 'info' }
 */
export interface CellConfig {
  cellId: string;
  zone: string;
  listenAddress: string;
  bbsAddress: string[];
  memoryMb: number;
  diskMb: number;
  containers: number;
  preloadedRootFses: PreloadedRootFs[];
  /** How long an evacuating cell keeps its instances and tasks before it stops them anyway. */
  evacuationTimeoutMs: number;
  /**
   * How often the rep settles what it runs with what the BBS says it runs (it also does at start, before it
   * registers); default DEFAULT_BULK_SYNC_INTERVAL_MS.
   */
  bulkSyncIntervalMs?: number;
  /** Absolute. */
  workDir: string;
  /** Where `docker:///org/image` images come from (a root cell only), e.g. https://registry-1.docker.io. */
  dockerRegistryURL: string;
  /** Registries (`host:port`) reached over plain HTTP. */
  insecureDockerRegistries: string[];
  /** A directory of `docker save` tarballs and OCI layouts, tried before the registry; null = none. */
  dockerImageDir: string | null;
  /** The CIDR a root cell's containers take their addresses from (Garden's --network-pool). */
  networkPool: string;
  logLevel: LogLevel;
  /** The certificates for https BBS URLs (`-bbsCACert -bbsClientCert -bbsClientKey`); null or absent: none. */
  bbsTls?: MutualTlsFiles | null;
  /** How long a call to the BBS may take (`-communicationTimeout`), default 10 s. */
  communicationTimeoutMs?: number;
  /** Give instances CF_INSTANCE_IP, _PORT, _ADDR, _PORTS, _INTERNAL_IP (`-exportNetworkEnvVars`); default true. */
  exportNetworkEnvVars?: boolean;
  /** How often an evacuating cell looks whether its instances run elsewhere yet (`-evacuationPollingInterval`), default 1 s. */
  evacuationPollingIntervalMs?: number;
  /** A monitor action runs this often once it has passed (`-healthyMonitoringInterval`), default 30 s. */
  healthyMonitoringIntervalMs?: number;
  /** ...and this often until it first passes (`-unhealthyMonitoringInterval`), default 0.5 s. */
  unhealthyMonitoringIntervalMs?: number;
  /** The cpu shares of a container of cpu_weight 100 (`-containerMaxCpuShares`), default 1024. */
  containerMaxCpuShares?: number;
  /** The TTL of the cell's presence (`-lockTTL`): a dead cell leaves the cells this long after dying; default 10 s. */
  presenceTtlSeconds?: number;
  /** host:port for the debug endpoints (`-debugAddr`); null or absent: none. */
  debugAddress?: string | null;
}
