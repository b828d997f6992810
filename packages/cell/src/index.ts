export * from './executor/contracts';
export { ProcessExecutor, type ProcessExecutorOptions } from './executor/process-executor';
