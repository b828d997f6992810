/**
 * Two built `diego bbs` processes on one etcd (DESIGN.md "Every BBS serves the API"): one leads, and when it is
 * killed with SIGKILL the other takes over within the election lease's TTL plus one convergence interval, and
 * converges (a missing instance is created again). Runs the compiled dist/ (`npm test` builds it first).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { HttpBbsClient } from '@diego/bbs-client';
import { eventually, freePorts, newValidDesiredLrp, startEtcd, type EtcdProcess } from '@diego/test-support';

const main = join(__dirname, '..', 'dist', 'main.js');
/** The election lease's TTL (10 s) plus the convergence interval these BBSes run with (1 s). */
const TAKEOVER_DEADLINE_MS = 10_000 + 1_000;

interface BbsProcess {
  child: ChildProcess;
  url: string;
  output(): string;
  exited: Promise<void>;
}

let etcd: EtcdProcess;
const processes: BbsProcess[] = [];
const clients: HttpBbsClient[] = [];

beforeAll(async () => {
  if (!existsSync(main)) throw new Error(`${main} is missing: run \`npm run build\` (npm test does)`);
  etcd = await startEtcd();
});

afterAll(async () => {
  for (const client of clients.splice(0)) client.close();
  for (const bbs of processes.splice(0)) {
    if (bbs.child.exitCode === null && bbs.child.signalCode === null) bbs.child.kill('SIGKILL');
    await bbs.exited;
  }
  await etcd?.stop();
});

function startBbsProcess(port: number): BbsProcess {
  const child = spawn(
    process.execPath,
    [main, 'bbs', `-listenAddress=127.0.0.1:${port}`, `-etcdCluster=${etcd.endpoint}`, '-convergeRepeatInterval=1s'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const bbs = { child, url: `http://127.0.0.1:${port}`, output: () => output, exited };
  processes.push(bbs);
  return bbs;
}

function client(url: string): HttpBbsClient {
  const created = new HttpBbsClient([url], { timeoutMs: 2000 });
  clients.push(created);
  return created;
}

function hasLed(bbs: BbsProcess): boolean {
  return bbs.output().includes('"msg":"leader-elected"');
}

describe('diego bbs failover', () => {
  it('lets one BBS lead; when it is killed, the other leads within TTL + interval and converges', async () => {
    const [portA = 0, portB = 0] = await freePorts(2);
    const bbses = [startBbsProcess(portA), startBbsProcess(portB)];
    for (const bbs of bbses) {
      await eventually(() => client(bbs.url).ping().catch(() => false), (available) => available, { timeoutMs: 20_000, intervalMs: 100 });
    }
    const leaders = await eventually(async () => bbses.filter(hasLed), (found) => found.length > 0, { timeoutMs: 15_000, intervalMs: 100 });
    expect(leaders).toHaveLength(1);
    const [leader] = leaders;
    const survivor = bbses.find((bbs) => bbs !== leader);
    if (leader === undefined || survivor === undefined) throw new Error('expected a leader and a standby');
    expect(leader.output()).toContain(`"url":"http://127.0.0.1:`);

    const api = client(survivor.url);
    await api.desireLRP(newValidDesiredLrp('failover-web', { instances: 2 }));

    leader.child.kill('SIGKILL');
    await leader.exited;
    const killedAt = Date.now();
    // An instance goes missing while nobody leads: only the new leader's converger can bring it back.
    await api.removeActualLRP('failover-web', 1);

    await eventually(
      async () => (await api.actualLRPGroupsByProcessGuid('failover-web')).filter((group) => group.instance !== null).length,
      (count) => count === 2,
      { timeoutMs: TAKEOVER_DEADLINE_MS + 5_000, intervalMs: 100 },
    );
    const tookOverWithinMs = Date.now() - killedAt;
    expect(hasLed(survivor)).toBe(true);
    // Measured from the kill: the lease expires by its TTL at most, then one interval at most.
    expect(tookOverWithinMs).toBeLessThanOrEqual(TAKEOVER_DEADLINE_MS + 1_000);
  }, 60_000);
});
