/** CONTRACT: the compiled receptor configuration the CLI (`diego receptor`) builds from flags and env. */
import type { LogLevel } from '@diego/server-support';
import type { MutualTlsFiles } from '@diego/tls';

/**
 * Announcing the receptor to the Cloud Foundry router over NATS (`-registerWithRouter -domainNames
 * -natsAddresses -natsUsername -natsPassword`).
 */
export interface RouterRegistrationConfig {
  /** NATS servers as host:port, tried in order. */
  natsAddresses: string[];
  natsUsername: string;
  /** Never logged. */
  natsPassword: string;
  /** The route(s) the router sends to this receptor (`uris` of `router.register`). */
  domainNames: string[];
}

/** What every HTTP API in front of the BBS is configured with: the receptor's, and the package service's. */
export interface BbsFrontConfig {
  /** BBS URLs (`--bbsAddress`, comma-separated), e.g. ["http://127.0.0.1:8889"]; the client fails over in order. */
  bbsAddress: string[];
  /** The certificates for https BBS URLs (`-bbsCACert -bbsClientCert -bbsClientKey`); null or absent: none. */
  bbsTls?: MutualTlsFiles | null;
  /** How long a call to the BBS may take (`-communicationTimeout`), default 10 s. */
  communicationTimeoutMs?: number;
  /** Basic auth is on when username is non-empty (`--username`, `--password`). */
  username: string;
  password: string;
  corsEnabled: boolean;
  logLevel: LogLevel;
}

export interface ReceptorConfig extends BbsFrontConfig {
  /** host:port, default 0.0.0.0:8887 (`--address`). */
  address: string;
  debugAddress: string | null;
  /** How often an idle event stream gets a `: heartbeat` comment (`--eventHeartbeatInterval`), default 15 s. */
  eventHeartbeatIntervalMs?: number;
  /** Register with the router over NATS; null or absent: do not. */
  routerRegistration?: RouterRegistrationConfig | null;
  /** Where `GET /v1/sync/:arch/:artifact` serves files from (`-artifactPath`); null or absent: nothing to serve. */
  artifactPath?: string | null;
  /** Where `GET /v1/version` reads release versions from (`-versionFilesPath`); null or absent: none. */
  versionFilesPath?: string | null;
  /**
   * The package service the dashboard's Packages view calls from the browser (`-packagesURL`, e.g.
   * http://127.0.0.1:7070); null or absent: no Packages view. The service must name the dashboard's origin in its
   * `--dashboardOrigins`.
   */
  packagesUrl?: string | null;
}
