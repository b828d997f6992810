// One leader among the BBSes (spec/bbs.md §10.3): in-process BBS servers on one key space; the failover of
// killed `diego bbs` processes is in packages/cli/test/bbs-failover.int.test.ts.
import { request } from 'node:http';
import pino from 'pino';
import { EtcdDb, startBbs, startBbsServer, type BbsServer } from '@diego/bbs';
import { HttpBbsClient } from '@diego/bbs-client';
import { startDebugServer } from '@diego/server-support';
import { eventually, freePorts, newValidDesiredLrp, TEST_ETCD_ENV, testKeySpace, type TestKeySpace } from '@diego/test-support';

const logger = pino({ level: 'silent' });
let keys: TestKeySpace;
const running: BbsServer[] = [];

beforeEach(() => {
  keys = testKeySpace();
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((bbs) => bbs.stop()));
  await keys.cleanup();
});

async function startLeaderCapableBbs(name: string, electionTtlSeconds = 2): Promise<BbsServer> {
  const bbs = await startBbsServer({
    etcd: keys.namespace,
    listenAddress: '127.0.0.1:0',
    logger,
    // etcd's shortest lease by default: a lost leader is replaced within seconds.
    leader: { advertiseUrl: `http://${name}.bbs.example:8889`, electionTtlSeconds, campaignRetryIntervalMs: 100, convergeRepeatIntervalMs: 3_600_000 },
  });
  running.push(bbs);
  return bbs;
}

function leaders(servers: readonly BbsServer[]): Promise<BbsServer[]> {
  return Promise.resolve(servers.filter((bbs) => bbs.isLeader()));
}

async function get(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    request(url, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    })
      .on('error', reject)
      .end();
  });
}

describe('the BBS election', () => {
  it('elects exactly one of the BBSes, whose value names it, and its converger runs', async () => {
    const db = new EtcdDb(keys.namespace, { logger });
    await db.desireLRP(newValidDesiredLrp('web', { instances: 2 }));
    await db.removeActualLRP('web', 1);

    const servers = [await startLeaderCapableBbs('bbs-a'), await startLeaderCapableBbs('bbs-b')];
    const [leader] = await eventually(() => leaders(servers), (found) => found.length === 1, { timeoutMs: 5000 });
    expect(await leaders(servers)).toHaveLength(1);

    const values = await keys.namespace.getAll().prefix('/v1/locks/bbs_lock/').sort('Create', 'Ascend').strings();
    const [leading, waiting] = Object.values(values).map((value): unknown => JSON.parse(value));
    expect(waiting).toBeDefined();
    expect(leading).toEqual({ id: expect.stringMatching(/^[0-9a-f-]{36}$/), url: expect.stringMatching(/^http:\/\/bbs-[ab]\.bbs\.example:8889$/) });
    expect(leader?.metrics).toBeDefined();

    // A new leader converges at once: the missing instance is back.
    await eventually(
      async () => (await db.actualLRPGroupsByProcessGuid('web')).length,
      (count) => count === 2,
      { timeoutMs: 5000 },
    );
    // The pass records its gauges when it finishes, which may be after the instance it created is visible.
    const exposition = await eventually(
      async () => (await leader?.metrics.registry.metrics()) ?? '',
      (text) => /^LRPsDesired 2$/m.test(text),
      { timeoutMs: 5000 },
    );
    expect(exposition).toMatch(/^BBSLeader 1$/m);
    expect(exposition).toMatch(/^LRPsDesired 2$/m);
  });

  it('hands leadership over at once when the leader stops (it resigns)', async () => {
    // Diego's 10 s lease: a handover well under it can only come from the resignation, not from expiry.
    const servers = [await startLeaderCapableBbs('bbs-a', 10), await startLeaderCapableBbs('bbs-b', 10)];
    const [leader] = await eventually(() => leaders(servers), (found) => found.length === 1, { timeoutMs: 5000 });
    if (leader === undefined) throw new Error('no leader');
    await leader.stop();
    const rest = servers.filter((bbs) => bbs !== leader);
    await eventually(() => leaders(rest), (found) => found.length === 1, { timeoutMs: 5000 });
    expect(await keys.namespace.getAll().prefix('/v1/locks/bbs_lock/').keys()).toHaveLength(1);
  });

  it('never campaigns without the leader option', async () => {
    const bbs = await startBbsServer({ etcd: keys.namespace, listenAddress: '127.0.0.1:0', logger });
    running.push(bbs);
    expect(bbs.isLeader()).toBe(false);
    expect(await keys.namespace.getAll().prefix('/v1/locks/').keys()).toEqual([]);
  });
});

describe('the debug server of a BBS', () => {
  it('serves the metrics with Diego\'s names, /healthz, and whether it leads in /debug/vars', async () => {
    const [debugPort = 0] = await freePorts(1);
    const bbs = await startBbs({
      listenAddress: '127.0.0.1:0',
      etcdCluster: [process.env[TEST_ETCD_ENV] ?? ''],
      logLevel: 'error',
      debugAddress: `127.0.0.1:${debugPort}`,
      convergeRepeatIntervalMs: 3_600_000,
    });
    try {
      const debug = `http://127.0.0.1:${debugPort}`;
      const vars = await eventually(
        async (): Promise<unknown> => JSON.parse((await get(`${debug}/debug/vars`)).body),
        (value) => typeof value === 'object' && value !== null && Reflect.get(value, 'leader') === true,
        { timeoutMs: 15_000 },
      );
      expect(vars).toMatchObject({ leader: true, advertise_url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/) });
      const metrics = await eventually(() => get(`${debug}/metrics`), (answer) => /^ConvergenceLRPRuns [1-9]/m.test(answer.body));
      expect(metrics.status).toBe(200);
      for (const name of [
        'LRPsDesired', 'LRPsClaimed', 'LRPsUnclaimed', 'LRPsRunning', 'CrashedActualLRPs', 'CrashingDesiredLRPs', 'LRPsMissing',
        'LRPsExtra', 'ConvergenceLRPDuration', 'ConvergenceTaskDuration', 'TasksPending', 'TasksRunning', 'TasksCompleted',
        'TasksResolving', 'BBSLeader',
      ]) {
        expect(metrics.body).toMatch(new RegExp(`^${name} \\d`, 'm'));
      }
      expect(await get(`${debug}/healthz`)).toEqual({ status: 200, body: 'ok\n' });
    } finally {
      await bbs.stop();
    }
  });

  it('labels fresh domains and counts requests per route', async () => {
    const bbs = await startBbsServer({ etcd: keys.namespace, listenAddress: '127.0.0.1:0', logger });
    running.push(bbs);
    const debug = await startDebugServer('127.0.0.1:0', logger, { metrics: bbs.metrics.registry });
    try {
      // Through this BBS, so that its view has the domain when it converges.
      const client = new HttpBbsClient([`http://${bbs.address}`]);
      await client.upsertDomain('cf-apps', 0);
      client.close();
      const response = await fetch(`http://${bbs.address}/v1/lrps/converge`, { method: 'POST' });
      expect(response.status).toBe(200);
      await response.arrayBuffer();
      const { body } = await get(`http://${debug.address}/metrics`);
      expect(body).toMatch(/^Domain\{domain="cf-apps"\} 1$/m);
      expect(body).toMatch(/^RequestLatency_count\{route="ConvergeLRPs"\} 1$/m);
      expect(body).toMatch(/^RequestCount\{route="ConvergeLRPs"\} 1$/m);
    } finally {
      await debug.stop();
    }
  });
});
