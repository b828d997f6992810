export * from './executor/contracts';
export * from './executor/images';
export { ProcessExecutor, type ProcessExecutorOptions } from './executor/process-executor';
export * from './config';
export { startCell, type CellBbs, type CellOptions, type RunningCell } from './cell';
export { Rep, DEFAULT_EVACUATION_POLLING_INTERVAL_MS, type RepBbs, type RepOptions } from './rep/rep';
export { removeCellLeftovers } from './executor/cell-executor';
export { CellPresenceMaintainer, type CellPresenceMaintainerOptions } from './cell-presence';
