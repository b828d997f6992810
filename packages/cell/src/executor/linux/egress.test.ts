import { readFileSync } from 'node:fs';
import type { SecurityGroupRule } from '@diego/models';
import { egressRuleset, InvalidEgressRuleError } from './egress';

const GUID = 'f7b7a1c2-1c3d-4e5f-8a9b-0c1d2e3f4a5b';

const rule = (fields: Partial<SecurityGroupRule>): SecurityGroupRule => ({
  protocol: 'tcp',
  destinations: ['10.0.0.1'],
  ports: [],
  port_range: null,
  icmp_info: null,
  log: false,
  ...fields,
});

/** The lines a rule adds after the fixed head of the ruleset. */
const ruleLines = (rules: SecurityGroupRule[]): string[] => {
  const lines = egressRuleset(rules, GUID).trim().split('\n');
  return lines.slice(6, -1);
};

describe('egressRuleset', () => {
  it('drops everything but loopback and replies when there are no rules', () => {
    expect(egressRuleset([], GUID)).toBe(
      [
        '*filter',
        ':INPUT ACCEPT [0:0]',
        ':FORWARD DROP [0:0]',
        ':OUTPUT DROP [0:0]',
        '-A OUTPUT -o lo -j ACCEPT',
        '-A OUTPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT',
        'COMMIT',
        '',
      ].join('\n'),
    );
  });

  it("renders the seed's CC-bridge rules: DNS over tcp and udp, and everything outside the private ranges", () => {
    const fixture = JSON.parse(readFileSync('/work/shared/fixtures/cc-bridge-desired-lrp.json', 'utf8')) as {
      egress_rules: Partial<SecurityGroupRule>[];
    };
    expect(ruleLines(fixture.egress_rules.map(rule))).toEqual([
      '-A OUTPUT -p tcp -d 0.0.0.0/0 --dport 53 -j ACCEPT',
      '-A OUTPUT -p udp -d 0.0.0.0/0 --dport 53 -j ACCEPT',
      '-A OUTPUT -m iprange --dst-range 0.0.0.0-9.255.255.255 -j ACCEPT',
      '-A OUTPUT -m iprange --dst-range 11.0.0.0-169.253.255.255 -j ACCEPT',
      '-A OUTPUT -m iprange --dst-range 169.255.0.0-172.15.255.255 -j ACCEPT',
      '-A OUTPUT -m iprange --dst-range 172.32.0.0-192.167.255.255 -j ACCEPT',
      '-A OUTPUT -m iprange --dst-range 192.169.0.0-255.255.255.255 -j ACCEPT',
    ]);
  });

  it('renders port lists with multiport (15 at a time), ranges with a:b, and one line per destination', () => {
    const ports = Array.from({ length: 16 }, (_, i) => 8000 + i);
    expect(ruleLines([rule({ destinations: ['10.0.0.0/8', '192.168.1.1'], ports })])).toEqual([
      `-A OUTPUT -p tcp -d 10.0.0.0/8 -m multiport --dports ${ports.slice(0, 15).join(',')} -j ACCEPT`,
      '-A OUTPUT -p tcp -d 10.0.0.0/8 -m multiport --dports 8015 -j ACCEPT',
      `-A OUTPUT -p tcp -d 192.168.1.1/32 -m multiport --dports ${ports.slice(0, 15).join(',')} -j ACCEPT`,
      '-A OUTPUT -p tcp -d 192.168.1.1/32 -m multiport --dports 8015 -j ACCEPT',
    ]);
    expect(ruleLines([rule({ protocol: 'udp', port_range: { start: 1000, end: 2000 } })])).toEqual([
      '-A OUTPUT -p udp -d 10.0.0.1/32 --dport 1000:2000 -j ACCEPT',
    ]);
  });

  it('renders icmp type and code, and a LOG rule naming the container before a logged rule', () => {
    expect(ruleLines([rule({ protocol: 'icmp', icmp_info: { type: 8, code: 0 } })])).toEqual([
      '-A OUTPUT -p icmp -d 10.0.0.1/32 --icmp-type 8/0 -j ACCEPT',
    ]);
    expect(ruleLines([rule({ ports: [443], log: true })])).toEqual([
      `-A OUTPUT -p tcp -d 10.0.0.1/32 --dport 443 -j LOG --log-prefix "${GUID.slice(0, 28)} "`,
      '-A OUTPUT -p tcp -d 10.0.0.1/32 --dport 443 -j ACCEPT',
    ]);
  });

  it.each<[string, Partial<SecurityGroupRule>, RegExp]>([
    ['an unknown protocol', { protocol: 'sctp', ports: [1] }, /protocol "sctp"/],
    ['no destinations', { destinations: [], ports: [1] }, /no destinations/],
    ['an IPv6 destination', { destinations: ['::1'], ports: [1] }, /IPv6/],
    ['a destination carrying another rule', { destinations: ['10.0.0.1\n-A OUTPUT -j ACCEPT'], ports: [1] }, /not an IPv4/],
    ['a range that ends before it starts', { destinations: ['10.0.0.9-10.0.0.1'], ports: [1] }, /ends before it starts/],
    ['a bad CIDR', { destinations: ['10.0.0.0/33'], ports: [1] }, /not an IPv4 CIDR/],
    ['tcp without ports', {}, /exactly one of ports and port_range/],
    ['tcp with both ports and a range', { ports: [1], port_range: { start: 1, end: 2 } }, /exactly one/],
    ['port 0', { ports: [0] }, /port 0 is not 1-65535/],
    ['a port past 65535', { port_range: { start: 1, end: 70000 } }, /not 1-65535/],
    ['icmp without icmp_info', { protocol: 'icmp' }, /icmp needs icmp_info/],
    ['all with ports', { protocol: 'all', ports: [80] }, /ports are not allowed/],
  ])('rejects %s with the rule named', (_name, fields, reason) => {
    const render = (): string => egressRuleset([rule({ ports: [80] }), rule(fields)], GUID);
    expect(render).toThrow(InvalidEgressRuleError);
    expect(render).toThrow(/egress rule 1 is invalid/);
    expect(render).toThrow(reason);
  });
});
