import { networkInterfaces } from 'node:os';
import { parseListenAddress } from './listen';

/** This machine's first external IPv4 address, or loopback when it has none: where others reach a cell or a receptor listening on every interface. */
export function machineIpv4(): string {
  const external = Object.values(networkInterfaces())
    .flat()
    .find((info) => info !== undefined && info.family === 'IPv4' && !info.internal);
  return external?.address ?? '127.0.0.1';
}

/**
 * Where others reach a server listening on `listenAddress` (host:port as it really listens): its host when it
 * listens on one address, else (0.0.0.0, ::) this machine's first external IPv4 address. What a cell advertises to
 * the BBS and a receptor announces to the router.
 */
export function reachableHostPort(listenAddress: string): { host: string; port: number } {
  const { host, port } = parseListenAddress(listenAddress);
  const everyInterface = host === '0.0.0.0' || host === '::';
  return { host: everyInterface ? machineIpv4() : host, port };
}
