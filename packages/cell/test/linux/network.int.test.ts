/**
 * The cell's network on this machine, as root: a bridge, veths into namespaces the test makes, addresses from the
 * pool, and egress rules enforced inside each namespace. Servers listen only on the cell's bridge address.
 */
import { readFileSync } from 'node:fs';
import pino from 'pino';
import type { SecurityGroupRule } from '@diego/models';
import { CellNetwork, countCellNetwork, InvalidEgressRuleError } from '../../src/executor/linux';
import { connectFrom, pingFrom, rule, startHostServer, startNamespace, type TestProcess } from './namespaces';

const logger = pino({ level: 'silent' });
const asRoot = process.getuid?.() === 0 ? describe : describe.skip;

asRoot('CellNetwork', () => {
  const cellId = `nettest-${process.pid}`;
  const otherCellId = `nettest-other-${process.pid}`;
  const namespaces: TestProcess[] = [];
  const closers: (() => Promise<void>)[] = [];
  let network: CellNetwork;
  let serverA: { port: number; close(): Promise<void> };
  let serverB: { port: number; close(): Promise<void> };

  const namespace = async (): Promise<TestProcess> => {
    const started = await startNamespace();
    namespaces.push(started);
    return started;
  };

  beforeAll(async () => {
    network = await CellNetwork.open({ cellId, pool: '10.213.1.0/24', logger });
    closers.push(() => network.close());
    serverA = await startHostServer(network.bridgeAddress);
    serverB = await startHostServer(network.bridgeAddress);
    closers.push(serverA.close, serverB.close);
  });

  afterAll(async () => {
    await Promise.all(namespaces.map((ns) => ns.stop()));
    for (const close of closers.reverse()) await close();
    expect(await countCellNetwork(cellId)).toEqual({ links: 0, rules: 0 });
    expect(await countCellNetwork(otherCellId)).toEqual({ links: 0, rules: 0 });
  });

  it('puts a bridge with the gateway address and tagged host rules on the host', async () => {
    expect(network.bridgeAddress).toBe('10.213.1.1');
    expect(await countCellNetwork(cellId)).toEqual({ links: 1, rules: 3 });
  });

  it('lets a container reach a server on the bridge address only where an egress rule allows it', async () => {
    const allowed = await namespace();
    const denied = await namespace();
    const allowToA = [rule({ protocol: 'tcp', destinations: [network.bridgeAddress], ports: [serverA.port] })];
    const allowedNet = await network.attach('guid-allowed', allowed.pid, allowToA);
    const deniedNet = await network.attach('guid-denied', denied.pid, []);
    expect(allowedNet.ip).toMatch(/^10\.213\.1\.\d+$/);
    expect(deniedNet.ip).toMatch(/^10\.213\.1\.\d+$/);
    expect(deniedNet.ip).not.toBe(allowedNet.ip);

    // The server sees the container's own address: nothing is NATed on the bridge.
    expect(await connectFrom(allowed.pid, network.bridgeAddress, serverA.port)).toBe(`answer: ${allowedNet.ip} sent hello`);
    expect(await connectFrom(allowed.pid, network.bridgeAddress, serverB.port)).toBe('timeout');
    expect(await connectFrom(denied.pid, network.bridgeAddress, serverA.port)).toBe('timeout');
  });

  it('allows ICMP echo only where a rule does', async () => {
    const pinging = await namespace();
    const silent = await namespace();
    await network.attach('guid-ping', pinging.pid, [
      rule({ protocol: 'icmp', destinations: [`${network.bridgeAddress}/32`], icmp_info: { type: 8, code: 0 } }),
    ]);
    await network.attach('guid-no-ping', silent.pid, [rule({ protocol: 'tcp', destinations: ['10.213.1.0/24'], ports: [1] })]);
    expect(await pingFrom(pinging.pid, network.bridgeAddress)).toBe(true);
    expect(await pingFrom(silent.pid, network.bridgeAddress)).toBe(false);
  });

  it("enforces the CC-bridge's default rules: public ranges and DNS allowed, the private 10/8 (the bridge) not", async () => {
    const fixture = JSON.parse(readFileSync('/work/shared/fixtures/cc-bridge-desired-lrp.json', 'utf8')) as {
      egress_rules: Partial<SecurityGroupRule>[];
    };
    const ns = await namespace();
    const logged = rule({ protocol: 'tcp', destinations: ['10.213.1.1-10.213.1.1'], ports: [serverB.port, 1, 2], log: true });
    await network.attach('guid-cc-bridge', ns.pid, [...fixture.egress_rules.map(rule), logged]);
    expect(await connectFrom(ns.pid, network.bridgeAddress, serverA.port)).toBe('timeout');
    expect(await connectFrom(ns.pid, network.bridgeAddress, serverB.port)).toMatch(/^answer: 10\.213\.1\.\d+ sent hello$/);
  });

  it('rejects invalid egress rules before touching anything', async () => {
    const ns = await namespace();
    const before = await countCellNetwork(cellId);
    await expect(network.attach('guid-invalid', ns.pid, [rule({ protocol: 'tcp', destinations: ['10.0.0.1'] })])).rejects.toThrow(
      InvalidEgressRuleError,
    );
    expect(await countCellNetwork(cellId)).toEqual(before);
  });

  it('release() removes a host veth whose namespace lives on, and frees the address for the next container', async () => {
    const first = await namespace();
    const before = await countCellNetwork(cellId);
    const attached = await network.attach('guid-released', first.pid, []);
    expect(await countCellNetwork(cellId)).toEqual({ ...before, links: before.links + 1 });
    await attached.release();
    await attached.release();
    expect(await countCellNetwork(cellId)).toEqual(before);

    const second = await namespace();
    expect((await network.attach('guid-next', second.pid, [])).ip).toBe(attached.ip);
  });

  it('a second cell with its own pool coexists, and a successor removes what a killed cell left', async () => {
    const killed = await CellNetwork.open({ cellId: otherCellId, pool: '10.213.2.0/24', logger });
    const ns = await namespace();
    await killed.attach('guid-of-killed-cell', ns.pid, []);
    expect(await countCellNetwork(otherCellId)).toEqual({ links: 2, rules: 3 });

    // The killed cell's object is dropped without close(): its successor takes over.
    const successor = await CellNetwork.open({ cellId: otherCellId, pool: '10.213.2.0/24', logger });
    closers.push(() => successor.close());
    expect(await countCellNetwork(otherCellId)).toEqual({ links: 1, rules: 3 });

    const server = await startHostServer(successor.bridgeAddress);
    closers.push(server.close);
    const next = await namespace();
    const attached = await successor.attach('guid-of-successor', next.pid, [
      rule({ protocol: 'tcp', destinations: ['10.213.2.0/24'], port_range: { start: server.port, end: server.port } }),
    ]);
    expect(await connectFrom(next.pid, successor.bridgeAddress, server.port)).toBe(`answer: ${attached.ip} sent hello`);
    // The first cell is untouched.
    expect(await countCellNetwork(cellId)).toMatchObject({ rules: 3 });
  });
});
