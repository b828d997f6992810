import { parseIp } from '@diego/models';

/** An IPv4 address as an unsigned 32-bit number, or null when `text` is not one (IPv6 included). */
export function ipv4ToNumber(text: string): number | null {
  if (text.includes(':')) return null;
  const bytes = parseIp(text);
  if (bytes === null) return null;
  // parseIp gives the IPv4-in-IPv6 form: the address is the last four bytes.
  return (((bytes[12] ?? 0) << 24) | ((bytes[13] ?? 0) << 16) | ((bytes[14] ?? 0) << 8) | (bytes[15] ?? 0)) >>> 0;
}

export function numberToIpv4(value: number): string {
  return [value >>> 24, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff].join('.');
}

export interface Ipv4Cidr {
  /** The network's first address (the host bits of what was written cleared). */
  network: number;
  prefixLength: number;
  /** How many addresses the block holds. */
  size: number;
}

/** `a.b.c.d/n` as a block, or null when it is not an IPv4 CIDR. */
export function parseIpv4Cidr(text: string): Ipv4Cidr | null {
  const match = /^([^/]+)\/(\d{1,2})$/.exec(text);
  if (match === null) return null;
  const address = ipv4ToNumber(match[1] ?? '');
  const prefixLength = Number(match[2]);
  if (address === null || prefixLength > 32) return null;
  const size = 2 ** (32 - prefixLength);
  return { network: address - (address % size), prefixLength, size };
}
