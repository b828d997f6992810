export * from './tls-files';
export * from './certificates';
export { closedAfterHandshake, describeTlsFailure, errorCodeOf } from './tls-failures';
