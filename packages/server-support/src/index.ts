export * from './running-server';
export { closeServer, listenOn, parseListenAddress } from './listen';
export { machineIpv4, reachableHostPort } from './host-address';
export { MAX_REQUEST_BODY_BYTES, RequestBodyTooLarge, readBodyWithin } from './read-body';
export { startDebugServer, type DebugServerOptions } from './debug-server';
export { packageVersion } from './package-version';
