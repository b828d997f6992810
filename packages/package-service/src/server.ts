/** `diego packages`: the package service's HTTP server, its default repositories and its refresh loop. */
import { createServer } from 'node:http';
import pino, { type Logger } from 'pino';
import { BBS_CLIENT_TLS_FLAGS, readMutualTls } from '@diego/tls';
import { HttpBbsClient } from '@diego/bbs-client';
import { closeServer, listenOn, type RunningServer } from '@diego/server-support';
import { createPackageApp } from './app';
import type { PackageServiceConfig } from './config';
import { RepositoryIndexes } from './repository-indexes';

export interface StartPackageServiceOptions {
  /** Instead of one at `config.logLevel`. */
  logger?: Logger;
}

/**
 * Writes the default repositories when the BBS holds no list yet, serves, and fetches every repository's index
 * now and every `refreshIntervalMs`.
 *
 * @example
 *   const packages = await startPackageService({ address: '127.0.0.1:0', bbsAddress: [bbsUrl], username: '',
 *     password: '', corsEnabled: false, logLevel: 'info', dataDir: '/tmp/packages', defaultRepositories: [],
 *     refreshIntervalMs: 0 });
 */
export async function startPackageService(config: PackageServiceConfig, options: StartPackageServiceOptions = {}): Promise<RunningServer> {
  const logger = options.logger ?? pino({ level: config.logLevel }).child({ component: 'packages' });
  const bbsTls = config.bbsTls === undefined || config.bbsTls === null ? null : await readMutualTls(config.bbsTls, BBS_CLIENT_TLS_FLAGS);
  const bbs = new HttpBbsClient(config.bbsAddress, {
    ...(bbsTls === null ? {} : { tls: bbsTls }),
    ...(config.communicationTimeoutMs === undefined ? {} : { timeoutMs: config.communicationTimeoutMs }),
  });
  const indexes = new RepositoryIndexes({
    dataDir: config.dataDir,
    logger,
    ...(config.fetchTimeoutMs === undefined ? {} : { fetchTimeoutMs: config.fetchTimeoutMs }),
  });
  const dashboardOrigins = config.dashboardOrigins ?? [];
  const server = createServer(createPackageApp({
    bbs, indexes, username: config.username, password: config.password, corsEnabled: config.corsEnabled, dashboardOrigins, logger,
  }));
  let address: string;
  try {
    const repositories = await bbs.initializePackageRepositories(config.defaultRepositories);
    logger.info({ repositories: repositories.map((r) => r.name) }, 'package-repositories-loaded');
    address = await listenOn(server, config.address);
  } catch (err) {
    bbs.close();
    throw err;
  }
  const refresh = (): void => {
    bbs.packageRepositories().then(
      (repositories) => indexes.refresh(repositories),
      (err: unknown) => logger.error({ error: err instanceof Error ? err.message : String(err) }, 'package-repositories-unreadable'),
    ).catch(() => undefined);
  };
  refresh();
  const timer = config.refreshIntervalMs > 0 ? setInterval(refresh, config.refreshIntervalMs) : null;
  timer?.unref();
  logger.info(
    { address, bbs_address: config.bbsAddress, data_dir: config.dataDir, basic_auth: config.username !== '', dashboard_origins: dashboardOrigins },
    'packages-started',
  );

  let stopped: Promise<void> | undefined;
  return {
    address,
    stop() {
      stopped ??= (async () => {
        if (timer !== null) clearInterval(timer);
        await closeServer(server);
        bbs.close();
        logger.info({ address }, 'packages-stopped');
      })();
      return stopped;
    },
  };
}
