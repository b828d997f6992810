/** CONTRACT: the compiled receptor configuration the CLI (`diego receptor`) builds from flags and env. */
import type { LogLevel } from '@diego/bbs';

export interface ReceptorConfig {
  /** host:port, default 0.0.0.0:8887 (`--address`). */
  address: string;
  /** BBS URLs (`--bbsAddress`, comma-separated), e.g. ["http://127.0.0.1:8889"]; the client fails over in order. */
  bbsAddress: string[];
  /** Basic auth is on when username is non-empty (`--username`, `--password`). */
  username: string;
  password: string;
  corsEnabled: boolean;
  logLevel: LogLevel;
  debugAddress: string | null;
  /** How often an idle event stream gets a `: heartbeat` comment (`--eventHeartbeatInterval`), default 15 s. */
  eventHeartbeatIntervalMs?: number;
}
