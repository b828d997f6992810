import type { Logger } from 'pino';
import type { Clock } from '../db';
import type { EtcdStore } from './store';

/** What every resource's store shares. */
export interface DbContext {
  store: EtcdStore;
  clock: Clock;
  logger: Logger;
}
