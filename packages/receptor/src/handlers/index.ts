/** Every route's handler; leaving one out is a compile error (`Handlers` is a record over all route names). */
import type { Logger } from 'pino';
import type { BbsClient } from '@diego/bbs-client';
import { actualLrpHandlers } from './actual-lrp-handlers';
import { authCookieHandlers } from './auth-cookie-handler';
import { cellHandlers } from './cell-handlers';
import { dashboardHandlers } from './dashboard-handlers';
import { desiredLrpHandlers } from './desired-lrp-handlers';
import { domainHandlers } from './domain-handlers';
import { eventStreamHandlers, type EventStreamOptions } from './event-stream-handler';
import { latticeHandlers, type LatticePaths } from './lattice-handlers';
import { logsHandlers } from './logs-handler';
import type { Handlers } from './handler';
import { sessionHandlers } from './session-handler';
import { taskHandlers } from './task-handlers';
import type { BasicAuthCredentials } from '../auth';

export function receptorHandlers(
  bbs: BbsClient,
  logger: Logger,
  events: EventStreamOptions = {},
  lattice: LatticePaths = { artifactPath: null, versionFilesPath: null },
  credentials: BasicAuthCredentials = { username: '', password: '' },
): Handlers {
  return {
    ...taskHandlers(bbs),
    ...desiredLrpHandlers(bbs),
    ...actualLrpHandlers(bbs, logger),
    ...cellHandlers(bbs),
    ...domainHandlers(bbs),
    ...eventStreamHandlers(bbs, logger, events),
    ...authCookieHandlers(),
    ...logsHandlers(bbs, logger),
    ...latticeHandlers(lattice),
    ...dashboardHandlers(bbs, logger),
    ...sessionHandlers(credentials),
  };
}
