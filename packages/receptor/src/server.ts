/** `diego receptor`: the receptor app listening on its address, talking to the BBS at `bbsAddress`. */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino, { type Logger } from 'pino';
import { HttpBbsClient, type RunningServer } from '@diego/bbs';
import { createReceptorApp } from './app';
import type { ReceptorConfig } from './config';

/** `host:port` -> its parts; the host may be a bracketed IPv6 literal. */
function splitHostPort(address: string): { host: string; port: number } {
  const match = /^(?:\[(.*)\]|(.*)):(\d+)$/.exec(address);
  if (match === null) throw new Error(`invalid listen address (want host:port): ${address}`);
  return { host: match[1] ?? match[2] ?? '', port: Number(match[3]) };
}

function formatAddress({ address, family, port }: AddressInfo): string {
  return family === 'IPv6' ? `[${address}]:${port}` : `${address}:${port}`;
}

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
  const bbs = new HttpBbsClient(config.bbsAddress);
  const app = createReceptorApp({
    bbs,
    username: config.username,
    password: config.password,
    corsEnabled: config.corsEnabled,
    logger,
  });
  const { host, port } = splitHostPort(config.address);
  const server = createServer(app);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    bbs.close();
    throw err;
  }
  const listening = server.address();
  if (listening === null || typeof listening === 'string') throw new Error('the receptor is not on a TCP address');
  const address = formatAddress(listening);
  logger.info({ address, bbs_address: config.bbsAddress, basic_auth: config.username !== '' }, 'receptor-started');

  let stopped: Promise<void> | undefined;
  return {
    address,
    stop() {
      stopped ??= new Promise<void>((resolve, reject) => {
        server.close((err) => (err === undefined ? resolve() : reject(err)));
        server.closeAllConnections();
      }).then(() => {
        bbs.close();
        logger.info({ address }, 'receptor-stopped');
      });
      return stopped;
    },
  };
}
