/**
 * A network of its own per container: one bridge per cell carrying the pool's first address (the containers'
 * gateway), one veth pair per container (host side on the bridge, `eth0` in the container's namespace), an address
 * each from the pool, and NAT for what leaves the machine. Everything the cell puts on the host is named or
 * tagged from its cellId, so two cells coexist and a successor finds and removes what a killed cell left.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import type pino from 'pino';
import type { SecurityGroupRule } from '@diego/models';
import { runCommand } from './command';
import { egressRuleset } from './egress';
import { numberToIpv4, parseIpv4Cidr, type Ipv4Cidr } from './ipv4';

export interface CellNetworkOptions {
  cellId: string;
  /** The containers' CIDR; Garden's default is 10.254.0.0/22. Two cells on one machine need pools that do not overlap. */
  pool: string;
  logger: pino.Logger;
}

export interface ContainerNetwork {
  readonly ip: string;
  /** Frees the address (call after the container's init died); removes the host veth if it still exists. */
  release(): Promise<void>;
}

/** What the cell's network puts on the host, named and tagged from its cellId. */
export interface CellNetworkNames {
  /** Every link of the cell's starts with it: its bridge and its containers' host veths. */
  linkPrefix: string;
  bridge: string;
  /** The iptables comment on each of the cell's host rules. */
  ruleComment: string;
  /** The host side of a container's veth pair (<= 15 characters, the kernel's limit). */
  hostVeth(guid: string): string;
}

const sha256Hex = (text: string): string => createHash('sha256').update(text).digest('hex');

/** 'dg' + 5 hex of the cellId: 7 characters, leaving 8 hex of the guid for a veth within the kernel's 15. */
export function cellNetworkNames(cellId: string): CellNetworkNames {
  const linkPrefix = `dg${sha256Hex(cellId).slice(0, 5)}`;
  // The comment goes into iptables-restore input and is read back from `iptables -S`: only a plain token is safe.
  const ruleComment = /^[\w.:@-]{1,200}$/.test(cellId) ? `diego-cell:${cellId}` : `diego-cell:${linkPrefix}`;
  return {
    linkPrefix,
    bridge: `${linkPrefix}br`,
    ruleComment,
    hostVeth: (guid) => `${linkPrefix}${sha256Hex(guid).slice(0, 8)}`,
  };
}

/** What of a cell's network exists on the host: so tests can assert that nothing was left behind. */
export async function countCellNetwork(cellId: string): Promise<{ links: number; rules: number }> {
  const names = cellNetworkNames(cellId);
  return { links: (await cellLinks(names)).length, rules: (await cellRules(names)).length };
}

/**
 * The cell's bridge and host rules, and the containers' veths and addresses.
 *
 * @example
 *   const network = await CellNetwork.open({ cellId, pool: '10.254.0.0/22', logger });
 *   const { ip, release } = await network.attach(guid, initPid, desiredLrp.egress_rules);
 *   // ... the container's init died:
 *   await release();
 */
export class CellNetwork {
  /** The gateway, e.g. 10.254.0.1: reachable from every container. */
  readonly bridgeAddress: string;
  /** Host veth name -> the guid of the container using it; the pool offset of each address in use. */
  private readonly vethsInUse = new Map<string, string>();
  private readonly offsetsInUse = new Set<number>();
  private readonly logger: pino.Logger;

  private constructor(
    private readonly names: CellNetworkNames,
    private readonly pool: Ipv4Cidr,
    logger: pino.Logger,
  ) {
    this.bridgeAddress = numberToIpv4(pool.network + 1);
    this.logger = logger;
  }

  /**
   * Creates (or takes over after a killed predecessor) the cell's bridge with the pool's first address, a
   * MASQUERADE rule for the pool and FORWARD rules for the bridge (a host whose FORWARD policy is DROP would
   * otherwise stop the containers' traffic), and turns on ip_forward. A predecessor's bridge, veths and rules
   * are removed first.
   */
  static async open({ cellId, pool, logger }: CellNetworkOptions): Promise<CellNetwork> {
    const block = parseIpv4Cidr(pool);
    if (block === null || block.prefixLength > 30) throw new Error(`pool ${JSON.stringify(pool)} is not an IPv4 CIDR of /30 or more addresses`);
    const names = cellNetworkNames(cellId);
    const log = logger.child({ session: 'cell-network' }); // the cell's logger names the cell
    const network = new CellNetwork(names, block, log);
    const removed = await removeCellNetwork(names);
    if (removed.links + removed.rules > 0) log.info(removed, 'removed-leftover-network');

    const cidr = `${numberToIpv4(block.network)}/${block.prefixLength}`;
    // Two bridges with one range make the kernel route to whichever came first: every container of the other
    // cell unreachable. Say so instead.
    const overlapping = await routesOverlapping(block);
    if (overlapping.length > 0) {
      throw new Error(`network pool ${cidr} overlaps ${overlapping.join(', ')} on this machine: give this cell a -networkPool of its own`);
    }
    try {
      await runCommand('ip', ['-batch', '-'], {
        input: [
          `link add ${names.bridge} type bridge`,
          `addr add ${network.bridgeAddress}/${block.prefixLength} dev ${names.bridge}`,
          `link set ${names.bridge} up`,
        ].join('\n'),
      });
      const tag = `-m comment --comment ${names.ruleComment}`;
      await runCommand('iptables-restore', ['-w', '--noflush'], {
        input: [
          '*nat',
          `-A POSTROUTING -s ${cidr} ! -o ${names.bridge} ${tag} -j MASQUERADE`,
          'COMMIT',
          '*filter',
          `-I FORWARD -i ${names.bridge} ${tag} -j ACCEPT`,
          `-I FORWARD -o ${names.bridge} -m conntrack --ctstate RELATED,ESTABLISHED ${tag} -j ACCEPT`,
          'COMMIT',
          '',
        ].join('\n'),
      });
      await writeFile('/proc/sys/net/ipv4/ip_forward', '1');
    } catch (error) {
      // Half a network is no use to a successor either: it starts from nothing.
      await removeCellNetwork(names);
      throw error;
    }
    log.info({ bridge: names.bridge, gateway: network.bridgeAddress, pool: cidr }, 'cell-network-opened');
    return network;
  }

  /**
   * Wires the network namespace of process `pid` (the container's init): a veth pair, an address from the pool,
   * lo up, a default route via the bridge, and the egress rules applied BEFORE eth0 is up, so nothing leaks in
   * between. IPv6 is turned off on eth0: its link-local address would otherwise reach the host's IPv6 listeners
   * past the (IPv4) egress rules. Returns the container's IP.
   */
  async attach(guid: string, pid: number, egress: SecurityGroupRule[]): Promise<ContainerNetwork> {
    const ruleset = egressRuleset(egress, guid); // invalid rules fail here, before anything changes
    const hostVeth = this.names.hostVeth(guid);
    const holder = this.vethsInUse.get(hostVeth);
    if (holder !== undefined) throw new Error(`container ${guid}: veth ${hostVeth} is in use by container ${holder}`);
    const offset = this.allocateOffset();
    const ip = numberToIpv4(this.pool.network + offset);
    this.vethsInUse.set(hostVeth, guid);
    const release = async (): Promise<void> => {
      if (this.vethsInUse.get(hostVeth) !== guid) return;
      // The veth goes with the container's namespace; one left (a namespace kept alive) is removed here.
      if (existsSync(`/sys/class/net/${hostVeth}`)) await runCommand('ip', ['link', 'del', hostVeth], { check: false });
      this.vethsInUse.delete(hostVeth);
      this.offsetsInUse.delete(offset);
    };
    try {
      // A veth of the same name was left by this guid's earlier container whose namespace is still held.
      if (existsSync(`/sys/class/net/${hostVeth}`)) await runCommand('ip', ['link', 'del', hostVeth], { check: false });
      await runCommand('ip', ['-batch', '-'], {
        input: [`link add ${hostVeth} type veth peer name eth0 netns ${pid}`, `link set ${hostVeth} master ${this.names.bridge} up`].join('\n'),
      });
      const containerBatch = [
        'link set lo up',
        `addr add ${ip}/${this.pool.prefixLength} dev eth0`,
        'link set eth0 up',
        `route add default via ${this.bridgeAddress}`,
      ].join('\n');
      await runCommand('nsenter', [
        `--net=/proc/${pid}/ns/net`,
        'sh',
        '-c',
        [
          'set -e',
          'printf %s "$1" | iptables-restore -w',
          'if [ -e /proc/sys/net/ipv6/conf/eth0/disable_ipv6 ]; then echo 1 > /proc/sys/net/ipv6/conf/eth0/disable_ipv6; fi',
          'printf %s "$2" | ip -batch -',
        ].join('\n'),
        'sh',
        ruleset,
        containerBatch,
      ]);
    } catch (error) {
      await release();
      throw error;
    }
    this.logger.debug({ container_guid: guid, ip, host_veth: hostVeth, egress_rules: egress.length }, 'container-network-attached');
    return { ip, release };
  }

  /** Removes the bridge and the host rules (the cell stops). Containers' veths vanish with their namespaces. */
  async close(): Promise<void> {
    await removeCellNetwork(this.names);
    this.vethsInUse.clear();
    this.offsetsInUse.clear();
    this.logger.info({ bridge: this.names.bridge }, 'cell-network-closed');
  }

  /** The lowest free offset in the pool: 0 is the network, 1 the gateway, the last the broadcast address. */
  private allocateOffset(): number {
    for (let offset = 2; offset < this.pool.size - 1; offset++) {
      if (!this.offsetsInUse.has(offset)) {
        this.offsetsInUse.add(offset);
        return offset;
      }
    }
    throw new Error(`the pool ${numberToIpv4(this.pool.network)}/${this.pool.prefixLength} has no free address`);
  }
}

/** The names of the host's links that belong to the cell. */
/** Removes what a cell with this ID left on the host (its bridge, veths and rules), as its successor would. */
export function removeCellNetworkLeftovers(cellId: string): Promise<{ links: number; rules: number }> {
  return removeCellNetwork(cellNetworkNames(cellId));
}

/** This machine's IPv4 routes (`<cidr> dev <link>`) whose range shares an address with `block`. */
async function routesOverlapping(block: { network: number; prefixLength: number }): Promise<string[]> {
  const { stdout } = await runCommand('ip', ['-4', '-o', 'route', 'show', 'scope', 'link']);
  const last = (network: number, prefixLength: number): number => network + 2 ** (32 - prefixLength) - 1;
  const overlapping: string[] = [];
  for (const line of stdout.split('\n')) {
    const [destination = '', , device = ''] = line.trim().split(/\s+/);
    const route = parseIpv4Cidr(destination.includes('/') ? destination : `${destination}/32`);
    if (route === null) continue;
    if (route.network <= last(block.network, block.prefixLength) && block.network <= last(route.network, route.prefixLength)) {
      overlapping.push(`${destination} (${device})`);
    }
  }
  return overlapping;
}

async function cellLinks(names: CellNetworkNames): Promise<string[]> {
  const { stdout } = await runCommand('ip', ['-j', 'link', 'show']);
  const links = JSON.parse(stdout) as { ifname: string }[];
  return links.map((link) => link.ifname).filter((name) => name.startsWith(names.linkPrefix));
}

/** The cell's host rules as `iptables -S` prints them, with their table. */
async function cellRules(names: CellNetworkNames): Promise<{ table: string; tokens: string[] }[]> {
  const rules: { table: string; tokens: string[] }[] = [];
  for (const table of ['nat', 'filter']) {
    const { stdout } = await runCommand('iptables', ['-w', '-t', table, '-S']);
    for (const line of stdout.split('\n')) {
      // iptables-nft quotes every comment; ours have no space, so a token never holds one.
      const tokens = line.trim().split(/\s+/).map((token) => token.replace(/^"(.*)"$/, '$1'));
      const comment = tokens.indexOf('--comment');
      if (tokens[0] === '-A' && comment > 0 && tokens[comment + 1] === names.ruleComment) rules.push({ table, tokens });
    }
  }
  return rules;
}

/** Removes the cell's links (veths first, then the bridge) and host rules; says how many there were. */
async function removeCellNetwork(names: CellNetworkNames): Promise<{ links: number; rules: number }> {
  const links = await cellLinks(names);
  if (links.length > 0) {
    const ordered = [...links.filter((link) => link !== names.bridge), ...links.filter((link) => link === names.bridge)];
    // -force: a veth that vanished with its namespace meanwhile does not stop the rest.
    await runCommand('ip', ['-force', '-batch', '-'], { input: ordered.map((link) => `link del ${link}`).join('\n'), check: false });
  }
  const rules = await cellRules(names);
  for (const { table, tokens } of rules) {
    await runCommand('iptables', ['-w', '-t', table, '-D', ...tokens.slice(1)]);
  }
  return { links: links.length, rules: rules.length };
}
