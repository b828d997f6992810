/**
 * The receptor: Diego's JSON REST API in front of a BBS (spec/receptor-api.md). Express carries the requests;
 * routing, bodies and errors are the receptor's own, so that every answer is the one a Diego client expects.
 */
import express, { type Express } from 'express';
import type { Logger } from 'pino';
import type { BbsClient } from '@diego/bbs-client';
import { basicAuth } from './auth';
import { cors } from './cors';
import { dashboardRouter } from './dashboard';
import { receptorErrorMiddleware } from './errors';
import { receptorHandlers } from './handlers';
import type { EventStreamOptions } from './handlers/event-stream-handler';
import type { LatticePaths } from './handlers/lattice-handlers';
import { requestLog } from './request-log';
import { receptorRouter } from './router';

export interface ReceptorAppOptions {
  bbs: BbsClient;
  /** Basic auth is on when non-empty. */
  username: string;
  password: string;
  corsEnabled: boolean;
  logger: Logger;
  /** How often an idle event stream gets a heartbeat comment (default 15 s). */
  eventHeartbeatIntervalMs?: number;
  /** Event streams: events a slow client may have waiting (default 1024, the BBS's), and where they count. */
  events?: Omit<EventStreamOptions, 'heartbeatIntervalMs'>;
  /** Where Lattice's /v1/sync and /v1/version read from; nothing by default. */
  lattice?: LatticePaths;
  /** The package service the dashboard's Packages view calls; null or absent: no Packages view. */
  packagesUrl?: string | null;
}

/**
 * The receptor as an express app, ready for `listen` or supertest.
 *
 * @example
 *   const app = createReceptorApp({ bbs: new HttpBbsClient(['http://127.0.0.1:8889']), username: '',
 *     password: '', corsEnabled: false, logger: pino() });
 *   app.listen(8887);
 */
export function createReceptorApp({
  bbs, username, password, corsEnabled, logger, eventHeartbeatIntervalMs, events: eventOptions = {}, lattice, packagesUrl = null,
}: ReceptorAppOptions): Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(requestLog(logger));
  if (corsEnabled) app.use(cors());
  const events = { ...eventOptions, ...(eventHeartbeatIntervalMs === undefined ? {} : { heartbeatIntervalMs: eventHeartbeatIntervalMs }) };
  // Before the API's router, which answers every other path (a plain 404 for one it does not know).
  app.use(dashboardRouter({ packagesUrl }));
  const credentials = { username, password };
  app.use(receptorRouter(receptorHandlers(bbs, logger, events, lattice, credentials), basicAuth(credentials)));
  app.use(receptorErrorMiddleware());
  return app;
}
