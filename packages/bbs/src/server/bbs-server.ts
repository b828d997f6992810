/**
 * `diego bbs`: the protobuf-over-HTTP API in front of the etcd store. Every write goes straight to the store;
 * the leader's loops (auctions, convergence) come later.
 */
import { createServer } from 'node:http';
import { Etcd3, type Namespace } from 'etcd3';
import pino, { type Logger } from 'pino';
import type { BbsConfig, RunningServer } from '../config';
import { startDebugServer } from '../debug-server';
import { closeServer, listenOn } from '../listen';
import { ActualLRPController } from '../controllers/actual-lrp-controller';
import { DesiredLRPController } from '../controllers/desired-lrp-controller';
import { HttpRepClient, type RepClient } from '../rep/rep-client';
import { TaskController } from '../controllers/task-controller';
import type { Clock, Db } from '../db/db';
import { EtcdDb } from '../db/etcd/etcd-db';
import { EventStreams } from '../events/event-stream';
import { actualLRPHandlers } from './handlers/actual-lrp-handlers';
import { cellHandlers } from './handlers/cell-handlers';
import { desiredLRPHandlers } from './handlers/desired-lrp-handlers';
import { domainHandlers } from './handlers/domain-handlers';
import { taskHandlers } from './handlers/task-handlers';
import { createBbsRequestListener, type BbsHandlers } from './router';

export interface BbsServerOptions {
  /** The store's key space: an `Etcd3` client, or a namespace of one (tests use one per file). */
  etcd: Namespace;
  /** host:port; port 0 picks a free port (read it from the returned `address`). */
  listenAddress: string;
  /** Silent by default. */
  logger?: Logger;
  clock?: Clock;
}

/**
 * Serves the BBS API over a store in `options.etcd`. Stopping (once; again is a no-op) ends open event streams
 * and closes the listener; the etcd client stays the caller's.
 *
 * @example
 *   const bbs = await startBbsServer({ etcd: keys.namespace, listenAddress: '127.0.0.1:0' });
 *   const client = new HttpBbsClient([`http://${bbs.address}`]);
 */
export async function startBbsServer(options: BbsServerOptions): Promise<RunningServer> {
  const logger = options.logger ?? pino({ level: 'silent' });
  const db = new EtcdDb(options.etcd, { logger, ...(options.clock === undefined ? {} : { clock: options.clock }) });
  const events = new EventStreams(options.etcd, logger.child({ component: 'events' }));
  const handlers = bbsHandlers(db, new HttpRepClient(), events, logger);
  const server = createServer({ keepAlive: true }, createBbsRequestListener(handlers, logger));

  const address = await listenOn(server, options.listenAddress);
  let stopped: Promise<void> | undefined;
  return {
    address,
    stop() {
      stopped ??= (async () => {
        const closed = closeServer(server);
        await events.closeAll();
        await closed;
      })();
      return stopped;
    },
  };
}

/** `diego bbs`: connects to the etcd cluster and serves until stopped. */
export async function startBbs(config: BbsConfig): Promise<RunningServer> {
  const logger = pino({ level: config.logLevel }).child({ component: 'bbs' });
  const etcd = new Etcd3({ hosts: config.etcdCluster });
  let server: RunningServer;
  let debug: RunningServer | null = null;
  try {
    server = await startBbsServer({ etcd, listenAddress: config.listenAddress, logger });
    try {
      if (config.debugAddress !== null) debug = await startDebugServer(config.debugAddress, logger);
    } catch (err) {
      await server.stop();
      throw err;
    }
  } catch (err) {
    etcd.close();
    throw err;
  }
  logger.info({ address: server.address, etcd_cluster: config.etcdCluster }, 'bbs-started');
  let stopped: Promise<void> | undefined;
  return {
    address: server.address,
    stop() {
      stopped ??= (async () => {
        await debug?.stop();
        await server.stop();
        etcd.close();
        logger.info({ address: server.address }, 'bbs-stopped');
      })();
      return stopped;
    },
  };
}

function bbsHandlers(db: Db, rep: RepClient, events: EventStreams, logger: Logger): BbsHandlers {
  const actualLRPController = new ActualLRPController(db, rep, logger.child({ component: 'actual-lrp-controller' }));
  const desiredLRPController = new DesiredLRPController(db, actualLRPController, logger.child({ component: 'desired-lrp-controller' }));
  const taskController = new TaskController(db, rep, logger.child({ component: 'task-controller' }));
  return {
    Ping: async () => ({ available: true }),
    ...domainHandlers(db),
    ...cellHandlers(db),
    ...actualLRPHandlers(db, actualLRPController),
    ...desiredLRPHandlers(db, desiredLRPController),
    ...taskHandlers(db, taskController),
    EventStream_r0: events.handler,
  };
}
