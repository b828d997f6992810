export * from './etcd';
export * from './etcd-client';
export * from './eventually';
export * from './fixtures';
export * from './test-cell';
export * from './sse-client';
export * from './cutting-proxy';
export * from './take-events';
