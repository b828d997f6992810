/** The compiled `diego packages` configuration the CLI builds from flags and environment variables. */
import type { LogLevel, MutualTlsFiles } from '@diego/bbs';
import type { PackageRepository } from './repository-indexes';

export interface PackageServiceConfig {
  /** host:port, default 0.0.0.0:7070, Cosmos's port (`--address`). */
  address: string;
  /** BBS URLs, tried in order (`--bbsAddress`). */
  bbsAddress: string[];
  bbsTls?: MutualTlsFiles | null;
  /** How long a call to the BBS may take (`--communicationTimeout`), default 10 s. */
  communicationTimeoutMs?: number;
  /** Basic auth is on when username is non-empty, with the receptor's conventions (`--username`, `--password`). */
  username: string;
  password: string;
  corsEnabled: boolean;
  logLevel: LogLevel;
  /** Where repository indexes are kept (`--dataDir`). */
  dataDir: string;
  /** Written as the repository list when none exists yet, on the first start (`--defaultRepositories`). */
  defaultRepositories: PackageRepository[];
  /** How often every repository's index is fetched again (`--refreshInterval`); 0 only on demand. */
  refreshIntervalMs: number;
  /** How long fetching one index may take (`--fetchTimeout`), default 30 s. */
  fetchTimeoutMs?: number;
}
