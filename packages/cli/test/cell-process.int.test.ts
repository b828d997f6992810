/**
 * The built `diego cell` as an operator runs it, against a real BBS (in this process, leading, on the test's
 * etcd key space): it registers, runs what the auctioneer places on it, and leaves cleanly on a signal.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { HttpBbsClient, startBbsServer, type BbsServer } from '@diego/bbs';
import type { ActualLRP } from '@diego/models';
import { eventually, newValidDesiredLrp, testKeySpace, type TestKeySpace } from '@diego/test-support';
import { assertBuilt, spawnDiego, stopAll, stdoutContains } from './diego-process';

let keys: TestKeySpace;
let bbs: BbsServer;
let client: HttpBbsClient;
let workDir: string;

beforeAll(assertBuilt);

beforeEach(async () => {
  keys = testKeySpace();
  workDir = mkdtempSync(join(tmpdir(), 'diego-cell-process-'));
  bbs = await startBbsServer({
    etcd: keys.namespace,
    listenAddress: '127.0.0.1:0',
    logger: pino({ level: 'silent' }),
    leader: { advertiseUrl: 'http://bbs.example:8889', electionTtlSeconds: 2, convergeRepeatIntervalMs: 3_600_000 },
  });
  client = new HttpBbsClient([`http://${bbs.address}`]);
  await eventually(() => Promise.resolve(bbs.isLeader()), (leading) => leading, { timeoutMs: 5000 });
});

afterEach(async () => {
  await stopAll();
  client.close();
  await bbs.stop();
  await keys.cleanup();
  rmSync(workDir, { recursive: true, force: true });
});

/** Whether a process with `marker` on its command line runs on this machine. */
function runs(marker: string): boolean {
  return readdirSync('/proc').filter((entry) => /^\d+$/.test(entry)).some((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes(marker);
    } catch {
      return false;
    }
  });
}

async function instance(): Promise<ActualLRP | null> {
  return (await client.actualLRPGroupByProcessGuidAndIndex('web', 0)).instance;
}

function startDiegoCell(): ReturnType<typeof spawnDiego> {
  return spawnDiego([
    'cell', '--cellID=cell-z1-0', '--zone=z1', '--listenAddr=127.0.0.1:0', `--bbsAddress=http://${bbs.address}`,
    '--memoryMB=1024', '--diskMB=1024', '--containers=4', '--preloadedRootFS=cflinuxfs2', `--workDir=${workDir}`,
    '--evacuationTimeout=1s',
  ]);
}

describe('diego cell', () => {
  it.each(['SIGTERM', 'SIGINT'] as const)('runs the work placed on it and, on %s, stops it, leaves the BBS and exits 0', async (signal) => {
    const cell = startDiegoCell();
    await stdoutContains(cell, 'cell-started');
    expect((await client.cells()).map((c) => c.cell_id)).toEqual(['cell-z1-0']);

    const marker = `diego-cell-process-${signal}`;
    await client.desireLRP(newValidDesiredLrp('web', {
      rootfs: 'preloaded:cflinuxfs2', memory_mb: 128, disk_mb: 128, setup: null, monitor: null, ports: [8080],
      action: { run: { path: 'sh', args: ['-c', 'while true; do sleep 1; done', marker], dir: '', env: [],
        resource_limits: null, user: 'vcap', log_source: '', suppress_log_output: false } },
    }));
    const running = await eventually(instance, (lrp) => lrp?.state === 'RUNNING', { timeoutMs: 10_000 });
    expect(running?.cell_id).toBe('cell-z1-0');
    expect(runs(marker)).toBe(true);

    // No other cell to hand the instance to: an evacuation stops it at --evacuationTimeout.
    cell.child.kill(signal);
    expect(await cell.exitCode).toBe(0);
    expect(runs(marker)).toBe(false);
    expect(await client.cells()).toEqual([]);
  });
});
