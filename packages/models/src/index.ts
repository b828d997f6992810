/**
 * @diego/models: the proto-generated types, the domain models, their codecs (proto <-> model <-> JSON),
 * validation, the state machines and the restart calculator. No I/O.
 */
export { models as proto } from '../gen/proto';
export * from './types';
export * from './errors';
export * from './json';
export * from './json-codecs';
export * from './proto-codecs';
export * from './requests';
export * from './validation';
export { compareIps, isCidr, parseIp } from './ip-address';
export * from './actual-lrp-lifecycle';
export * from './task-lifecycle';
export * from './restart-calculator';
