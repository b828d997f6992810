export * from './config';
export * from './executor/contracts';
export { startCell, type CellBbs, type CellOptions, type RunningCell } from './cell';
export { Rep, DEFAULT_EVACUATION_POLLING_INTERVAL_MS, type RepBbs, type RepOptions } from './rep/rep';
