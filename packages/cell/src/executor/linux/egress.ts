/**
 * Diego's egress rules (SecurityGroupRule) as the firewall of a container's own network namespace: the OUTPUT
 * chain drops everything but loopback, replies on connections already made (so a container's ports answer), and
 * what a rule allows. The rules live in the namespace, so they go with it and never touch the host's tables.
 */
import { compareIps, parseIp, type SecurityGroupRule } from '@diego/models';
import { ipv4ToNumber, parseIpv4Cidr } from './ipv4';

/** A rule the cell cannot enforce: which one (its index in the list) and why. */
export class InvalidEgressRuleError extends Error {
  constructor(
    readonly ruleIndex: number,
    reason: string,
  ) {
    super(`egress rule ${ruleIndex} is invalid: ${reason}`);
    this.name = 'InvalidEgressRuleError';
  }
}

/** iptables' limit on a LOG prefix (29 characters), and multiport's on the ports of one rule. */
const LOG_PREFIX_MAX = 29;
const MULTIPORT_MAX = 15;

/**
 * Renders the `*filter` table of a container's namespace for `iptables-restore`. Rules are checked here, strictly,
 * because each value lands in the file: a destination that is not an IPv4 address could add rules of its own.
 *
 * @example
 *   egressRuleset([{ protocol: 'tcp', destinations: ['10.0.0.1'], ports: [80], port_range: null, icmp_info: null, log: false }], guid)
 *   // ... -A OUTPUT -p tcp -d 10.0.0.1/32 --dport 80 -j ACCEPT ...
 */
export function egressRuleset(rules: readonly SecurityGroupRule[], containerGuid: string): string {
  const logPrefix = `${containerGuid.slice(0, LOG_PREFIX_MAX - 1).replace(/[^\w.:-]/g, '_')} `;
  const lines = [
    '*filter',
    ':INPUT ACCEPT [0:0]',
    ':FORWARD DROP [0:0]',
    ':OUTPUT DROP [0:0]',
    '-A OUTPUT -o lo -j ACCEPT',
    '-A OUTPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT',
  ];
  rules.forEach((rule, index) => {
    const protocolMatches = protocolMatchesOf(rule, index);
    for (const destination of rule.destinations.map((text) => destinationMatch(text, index))) {
      for (const protocolMatch of protocolMatches) {
        const match = ['-A OUTPUT', protocolMatch.protocol, destination, protocolMatch.rest].filter((part) => part !== '').join(' ');
        if (rule.log) lines.push(`${match} -j LOG --log-prefix "${logPrefix}"`);
        lines.push(`${match} -j ACCEPT`);
      }
    }
  });
  lines.push('COMMIT', '');
  return lines.join('\n');
}

/** `-d` for a CIDR or a single address, iprange for `a-b`. */
function destinationMatch(text: string, ruleIndex: number): string {
  const invalid = (why: string): InvalidEgressRuleError => new InvalidEgressRuleError(ruleIndex, `destination ${JSON.stringify(text)} ${why}`);
  if (text.includes('/')) {
    const cidr = parseIpv4Cidr(text);
    if (cidr === null) throw invalid('is not an IPv4 CIDR');
    return `-d ${text}`;
  }
  if (text.includes('-')) {
    const [first = '', last = '', ...more] = text.split('-');
    if (more.length > 0 || ipv4ToNumber(first) === null || ipv4ToNumber(last) === null) throw invalid('is not an IPv4 range a-b');
    if (compareIps(parseIp(first) ?? new Uint8Array(), parseIp(last) ?? new Uint8Array()) > 0) throw invalid('ends before it starts');
    return `-m iprange --dst-range ${first}-${last}`;
  }
  if (ipv4ToNumber(text) === null) throw invalid('is not an IPv4 address (IPv6 egress is not allowed)');
  return `-d ${text}/32`;
}

interface ProtocolMatch {
  protocol: string;
  rest: string;
}

/** One match per rule for everything but long port lists, which multiport takes 15 at a time. */
function protocolMatchesOf(rule: SecurityGroupRule, index: number): ProtocolMatch[] {
  const invalid = (why: string): InvalidEgressRuleError => new InvalidEgressRuleError(index, why);
  if (rule.destinations.length === 0) throw invalid('it has no destinations');
  const hasPorts = rule.ports.length > 0;
  switch (rule.protocol) {
    case 'tcp':
    case 'udp': {
      if (rule.icmp_info !== null) throw invalid(`icmp_info is not allowed with ${rule.protocol}`);
      if (hasPorts === (rule.port_range !== null)) throw invalid(`${rule.protocol} needs exactly one of ports and port_range`);
      const protocol = `-p ${rule.protocol}`;
      if (rule.port_range !== null) {
        const { start, end } = rule.port_range;
        if (!isPort(start) || !isPort(end) || start > end) throw invalid(`port_range ${start}-${end} is not 1-65535, start <= end`);
        return [{ protocol, rest: start === end ? `--dport ${start}` : `--dport ${start}:${end}` }];
      }
      const badPort = rule.ports.find((port) => !isPort(port));
      if (badPort !== undefined) throw invalid(`port ${badPort} is not 1-65535`);
      if (rule.ports.length === 1) return [{ protocol, rest: `--dport ${rule.ports[0] ?? ''}` }];
      const matches: ProtocolMatch[] = [];
      for (let i = 0; i < rule.ports.length; i += MULTIPORT_MAX) {
        matches.push({ protocol, rest: `-m multiport --dports ${rule.ports.slice(i, i + MULTIPORT_MAX).join(',')}` });
      }
      return matches;
    }
    case 'icmp': {
      if (hasPorts || rule.port_range !== null) throw invalid('ports are not allowed with icmp');
      if (rule.icmp_info === null) throw invalid('icmp needs icmp_info');
      const { type, code } = rule.icmp_info;
      if (!isByte(type) || !isByte(code)) throw invalid(`icmp type ${type} / code ${code} is not 0-255`);
      return [{ protocol: '-p icmp', rest: `--icmp-type ${type}/${code}` }];
    }
    case 'all':
      if (hasPorts || rule.port_range !== null) throw invalid('ports are not allowed with protocol all');
      if (rule.icmp_info !== null) throw invalid('icmp_info is not allowed with protocol all');
      return [{ protocol: '', rest: '' }];
    default:
      throw invalid(`protocol ${JSON.stringify(rule.protocol)} is not tcp, udp, icmp or all`);
  }
}

const isPort = (value: number): boolean => Number.isInteger(value) && value >= 1 && value <= 65535;
const isByte = (value: number): boolean => Number.isInteger(value) && value >= 0 && value <= 255;
