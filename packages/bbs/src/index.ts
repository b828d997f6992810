export * from './config';
export * from './db/db';
export * from './bbs-client';
export { EtcdDb, systemClock, type EtcdDbOptions } from './db/etcd/etcd-db';
export * as etcdKeys from './db/etcd/keys';
export { startBbs, startBbsServer, type BbsServerOptions } from './server/bbs-server';
export { HttpBbsClient, type HttpBbsClientOptions } from './client';
export { startDebugServer } from './debug-server';
export { closeServer, listenOn, parseListenAddress } from './listen';
