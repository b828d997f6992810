export * from './config';
export { createReceptorApp, type ReceptorAppOptions } from './app';
export { startReceptor, type StartReceptorOptions } from './server';
export { EventStreamStats, type EventStreamOptions } from './handlers/event-stream-handler';
export { DASHBOARD_PATH, type DashboardPageConfig } from './dashboard';
export type { CellPage, CellSummary } from './handlers/dashboard-handlers';
// the receptor's auth conventions and CORS wrapper, which `diego packages` shares (a browser signed in to one works with both)
export { AUTH_COOKIE_NAME, acceptsAuthorization, cookieValue, cookieValueForSetCookie, fromPageScript, type BasicAuthCredentials } from './auth';
export { BASIC_AUTH_CHALLENGE } from './errors';
export { cors } from './cors';
