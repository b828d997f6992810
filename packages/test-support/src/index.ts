export * from './etcd';
export * from './etcd-client';
export * from './fixtures';
