// IP address parsing as Go's `net.ParseIP` / `net.ParseCIDR` do it, for the destinations of egress rules
// (spec/receptor-api.md §6): enough to tell a valid address, CIDR or range from an invalid one, and to order
// the two ends of a range.

const IPV4_BYTES = 4;
const IPV6_BYTES = 16;
/** `::ffff:0:0/96`: Go keeps every IPv4 address in this IPv4-mapped IPv6 form, so v4 and v6 compare bytewise. */
const V4_IN_V6_PREFIX = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff];

const DECIMAL_OCTET = /^(?:0|[1-9]\d{0,2})$/;
const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;
const DECIMAL = /^\d+$/;

function parseIpv4Octets(text: string): number[] | null {
  const parts = text.split('.');
  if (parts.length !== IPV4_BYTES) return null;
  const octets = parts.map((part) => (DECIMAL_OCTET.test(part) ? Number(part) : NaN));
  return octets.every((octet) => octet <= 255) ? octets : null;
}

/** Groups of up to four hex digits, at most one `::`, optionally ending in an embedded IPv4 address. */
function parseIpv6(text: string): Uint8Array | null {
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const parseGroups = (half: string): number[] | null => {
    if (half === '') return [];
    const groups = half.split(':');
    const bytes: number[] = [];
    for (const [i, group] of groups.entries()) {
      if (i === groups.length - 1 && group.includes('.')) {
        const v4 = parseIpv4Octets(group);
        if (v4 === null) return null;
        bytes.push(...v4);
      } else if (HEX_GROUP.test(group)) {
        const value = parseInt(group, 16);
        bytes.push(value >> 8, value & 0xff);
      } else {
        return null;
      }
    }
    return bytes;
  };
  const head = parseGroups(halves[0] ?? '');
  const tail = halves.length === 2 ? parseGroups(halves[1] ?? '') : [];
  if (head === null || tail === null) return null;
  // An embedded IPv4 address is only allowed at the very end.
  if (halves.length === 2 && (halves[0] ?? '').includes('.')) return null;
  const missing = IPV6_BYTES - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 2) return null;
  return Uint8Array.from([...head, ...new Array<number>(missing).fill(0), ...tail]);
}

/**
 * Go's `net.ParseIP`: a dotted IPv4 address or an IPv6 address (no zone), as 16 bytes with IPv4 mapped into
 * IPv6; null when `text` is neither. Which form is tried is decided, as in Go, by whether a `.` or a `:` comes
 * first.
 */
export function parseIp(text: string): Uint8Array | null {
  const firstSeparator = text.search(/[.:]/);
  if (firstSeparator < 0) return null;
  if (text[firstSeparator] === ':') return parseIpv6(text);
  const octets = parseIpv4Octets(text);
  return octets === null ? null : Uint8Array.from([...V4_IN_V6_PREFIX, ...octets]);
}

/** Go's `net.ParseCIDR` succeeds: `<ip>/<prefix length>`, the length at most 32 for IPv4 and 128 for IPv6. */
export function isCidr(text: string): boolean {
  const slash = text.indexOf('/');
  if (slash < 0) return false;
  const address = text.slice(0, slash);
  const prefix = text.slice(slash + 1);
  if (parseIp(address) === null || !DECIMAL.test(prefix)) return false;
  const bits = address.includes(':') ? IPV6_BYTES * 8 : IPV4_BYTES * 8;
  return Number(prefix) <= bits;
}

/** Orders two parsed addresses bytewise, as Go's `bytes.Compare` does: negative, zero or positive. */
export function compareIps(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < IPV6_BYTES; i++) {
    const diff = (a[i] ?? 0) - (b[i] ?? 0);
    if (diff !== 0) return diff;
  }
  return 0;
}
