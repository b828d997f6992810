export * from './rep-api';
export * from './rep-client';
