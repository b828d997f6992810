export * from './config';
export { createReceptorApp, type ReceptorAppOptions } from './app';
export { startReceptor, type StartReceptorOptions } from './server';
export { EventStreamStats, type EventStreamOptions } from './handlers/event-stream-handler';
export { DASHBOARD_PATH } from './dashboard';
export type { CellPage, CellSummary } from './handlers/dashboard-handlers';
