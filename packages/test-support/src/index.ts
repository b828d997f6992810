export * from './etcd';
export * from './etcd-client';
