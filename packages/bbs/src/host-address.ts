import { networkInterfaces } from 'node:os';

/** This machine's first external IPv4 address, or loopback when it has none: where others reach a cell or a receptor listening on every interface. */
export function machineIpv4(): string {
  const external = Object.values(networkInterfaces())
    .flat()
    .find((info) => info !== undefined && info.family === 'IPv4' && !info.internal);
  return external?.address ?? '127.0.0.1';
}
