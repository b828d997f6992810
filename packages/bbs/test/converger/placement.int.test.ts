// Convergence with the real leader loops: a BBS that leads (converger, auctioneer, completion workers) and test
// cells that speak the rep API and register through the BBS. What a user notices: instances end up RUNNING.
import pino from 'pino';
import { HttpBbsClient } from '@diego/bbs-client';
import { startBbsServer, type BbsServer } from '@diego/bbs';
import type { ActualLRP } from '@diego/models';
import { eventually, newValidDesiredLrp, startTestCell, testKeySpace, type TestCell, type TestKeySpace } from '@diego/test-support';
import { SECOND_NS, START_NS } from './converger-harness';

let keys: TestKeySpace;
let bbs: BbsServer;
let client: HttpBbsClient;
let now = START_NS;
const cells: TestCell[] = [];

beforeEach(async () => {
  keys = testKeySpace();
  now = START_NS;
  bbs = await startBbsServer({
    etcd: keys.namespace,
    listenAddress: '127.0.0.1:0',
    logger: pino({ level: 'silent' }),
    clock: () => now,
    leader: { advertiseUrl: 'http://bbs.example:8889', electionTtlSeconds: 2, convergeRepeatIntervalMs: 3_600_000 },
  });
  client = new HttpBbsClient([`http://${bbs.address}`]);
  await eventually(() => Promise.resolve(bbs.isLeader()), (leading) => leading, { timeoutMs: 5000 });
});

afterEach(async () => {
  await Promise.all(cells.splice(0).map((cell) => cell.stop()));
  client.close();
  await bbs.stop();
  await keys.cleanup();
});

async function cell(cellId: string): Promise<TestCell> {
  const started = await startTestCell({ cellId, bbs: client, presenceTtlSeconds: 2 });
  cells.push(started);
  return started;
}

async function instance(processGuid: string): Promise<ActualLRP | null> {
  return (await client.actualLRPGroupByProcessGuidAndIndex(processGuid, 0)).instance;
}

describe('convergence with the auctioneer and cells', () => {
  it('moves the instances of a cell whose presence expires to another cell', async () => {
    const first = await cell('cell-a');
    await client.desireLRP(newValidDesiredLrp('web', { instances: 1, rootfs: 'preloaded:cflinuxfs2', memory_mb: 128, disk_mb: 128 }));
    const running = await eventually(() => instance('web'), (lrp) => lrp?.state === 'RUNNING', { timeoutMs: 5000 });
    expect(running?.cell_id).toBe('cell-a');

    await cell('cell-b');
    await first.die();
    // The presence expires (TTL 2 s), the converger unclaims at once, the auctioneer places it on the cell left.
    const moved = await eventually(() => instance('web'), (lrp) => lrp?.state === 'RUNNING' && lrp.cell_id === 'cell-b', {
      timeoutMs: 8000,
      intervalMs: 100,
    });
    expect(moved?.cell_id).toBe('cell-b');
  });

  it('auctions a stale UNCLAIMED instance again once a cell can take it', async () => {
    await client.desireLRP(newValidDesiredLrp('late', { instances: 1, rootfs: 'preloaded:cflinuxfs2', memory_mb: 128, disk_mb: 128 }));
    // No cell: the auction fails and the instance stays UNCLAIMED with a placement error.
    const failed = await eventually(() => instance('late'), (lrp) => lrp?.placement_error !== '', { timeoutMs: 5000 });
    expect(failed?.state).toBe('UNCLAIMED');

    await cell('cell-a');
    now = START_NS + 31n * SECOND_NS;
    await client.convergeLRPs();
    const placed = await eventually(() => instance('late'), (lrp) => lrp?.state === 'RUNNING', { timeoutMs: 5000 });
    expect(placed?.cell_id).toBe('cell-a');
  });
});
