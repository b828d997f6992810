export * from './config';
export { createReceptorApp, type ReceptorAppOptions } from './app';
export { startReceptor, type StartReceptorOptions } from './server';
