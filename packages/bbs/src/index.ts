export * from './config';
export * from './db/db';
export * from './bbs-client';
