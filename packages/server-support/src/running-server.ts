/** What every one of our server processes shares: how verbosely it logs, and how it is stopped. */
export type LogLevel = 'debug' | 'info' | 'error' | 'fatal';

/** A started process component. */
export interface RunningServer {
  /** The address it actually listens on, as host:port (the port is resolved when 0 was asked for). */
  address: string;
  stop(): Promise<void>;
}
