/** The compiled `diego packages` configuration the CLI builds from flags and environment variables. */
import type { BbsFrontConfig } from '@diego/receptor';
import type { PackageRepository } from './repository-indexes';

/** Basic auth, CORS and the BBS as the receptor's (its auth cookie works here too). */
export interface PackageServiceConfig extends BbsFrontConfig {
  /** host:port, default 0.0.0.0:7070, Cosmos's port (`--address`). */
  address: string;
  /** Where repository indexes are kept (`--dataDir`). */
  dataDir: string;
  /** Written as the repository list when none exists yet, on the first start (`--defaultRepositories`). */
  defaultRepositories: PackageRepository[];
  /** How often every repository's index is fetched again (`--refreshInterval`); 0 only on demand. */
  refreshIntervalMs: number;
  /** How long fetching one index may take (`--fetchTimeout`), default 30 s. */
  fetchTimeoutMs?: number;
  /**
   * The exact origins whose pages may call with credentials (`--dashboardOrigins`, e.g. ["http://127.0.0.1:8887"]):
   * the receptor's dashboard, as the user opens it. Absent or empty: none.
   */
  dashboardOrigins?: string[];
}
