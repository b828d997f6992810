/** `diego receptor`: the receptor app listening on its address, talking to the BBS at `bbsAddress`. */
import { createServer } from 'node:http';
import pino, { type Logger } from 'pino';
import { BBS_CLIENT_TLS_FLAGS, readMutualTls } from '@diego/tls';
import { HttpBbsClient } from '@diego/bbs-client';
import { closeServer, listenOn, startDebugServer, type RunningServer } from '@diego/server-support';
import { createReceptorApp } from './app';
import type { ReceptorConfig } from './config';
import { EventStreamStats } from './handlers/event-stream-handler';
import { RouterRegistration } from './router-registration';

export interface StartReceptorOptions {
  /** Where the logs go; pino on stdout at `config.logLevel` by default. */
  logger?: Logger;
}

/**
 * Starts the receptor on `config.address` (port 0 picks a free one) and logs `receptor-started` with the address
 * it listens on. `stop()` closes the listener and every open connection, event streams included.
 *
 * @example
 *   const receptor = await startReceptor({ address: '127.0.0.1:0', bbsAddress: [bbs.url], username: '',
 *     password: '', corsEnabled: false, logLevel: 'info', debugAddress: null });
 *   await receptor.stop();
 */
export async function startReceptor(config: ReceptorConfig, options: StartReceptorOptions = {}): Promise<RunningServer> {
  const logger = options.logger ?? pino({ level: config.logLevel }).child({ component: 'receptor' });
  // Read and checked before anything starts: a file it cannot use stops the receptor with the flag it is about.
  const bbsTls = config.bbsTls === undefined || config.bbsTls === null ? null : await readMutualTls(config.bbsTls, BBS_CLIENT_TLS_FLAGS);
  const routerRegistration = config.routerRegistration ? new RouterRegistration(config.routerRegistration, logger) : null;
  const bbs = new HttpBbsClient(config.bbsAddress, {
    ...(bbsTls === null ? {} : { tls: bbsTls }),
    ...(config.communicationTimeoutMs === undefined ? {} : { timeoutMs: config.communicationTimeoutMs }),
  });
  const eventStats = new EventStreamStats();
  const app = createReceptorApp({
    events: { stats: eventStats },
    bbs,
    username: config.username,
    password: config.password,
    corsEnabled: config.corsEnabled,
    logger,
    lattice: { artifactPath: config.artifactPath ?? null, versionFilesPath: config.versionFilesPath ?? null },
    packagesUrl: config.packagesUrl ?? null,
    ...(config.eventHeartbeatIntervalMs === undefined ? {} : { eventHeartbeatIntervalMs: config.eventHeartbeatIntervalMs }),
  });
  const server = createServer(app);
  let address: string;
  let debug: RunningServer | null = null;
  try {
    address = await listenOn(server, config.address);
    try {
      if (config.debugAddress !== null) debug = await startDebugServer(config.debugAddress, logger, { vars: () => ({ events: eventStats.vars() }) });
    } catch (err) {
      await closeServer(server);
      throw err;
    }
  } catch (err) {
    bbs.close();
    throw err;
  }
  logger.info({ address, bbs_address: config.bbsAddress, basic_auth: config.username !== '' }, 'receptor-started');
  routerRegistration?.start(address);

  let stopped: Promise<void> | undefined;
  return {
    address,
    stop() {
      stopped ??= (async () => {
        // Unregistered first, so that the router stops sending requests before the listener closes.
        await routerRegistration?.stop();
        await debug?.stop();
        await closeServer(server);
        bbs.close();
        logger.info({ address }, 'receptor-stopped');
      })();
      return stopped;
    },
  };
}
