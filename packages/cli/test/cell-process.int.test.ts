/**
 * The built `diego cell` as an operator runs it, against a real BBS (in this process, leading, on the test's
 * etcd key space): it registers, runs what the auctioneer places on it, and leaves cleanly on a signal.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { BbsServer } from '@diego/bbs';
import type { HttpBbsClient } from '@diego/bbs-client';
import { parseJson, type ActualLRP, type RunAction } from '@diego/models';
import { createServer, type IncomingMessage } from 'node:http';
import { eventually, newValidDesiredLrp, newValidTask, startLeadingBbs, testKeySpace, uniqueNetworkPool, type TestKeySpace } from '@diego/test-support';
import { removeCellLeftovers } from '@diego/cell';
import { assertBuilt, spawnDiego, stopAll, stdoutContains } from './diego-process';

let keys: TestKeySpace;
let bbs: BbsServer;
let client: HttpBbsClient;
let workDir: string;

beforeAll(assertBuilt);

beforeEach(async () => {
  keys = testKeySpace();
  workDir = mkdtempSync(join(tmpdir(), 'diego-cell-process-'));
  ({ bbs, client } = await startLeadingBbs(keys));
});

afterEach(async () => {
  await stopAll();
  // A SIGKILLed cell leaves its cgroups, bridge and rules to a successor that will not come.
  for (const cellId of ['cell-z1-0', 'cell-a', 'cell-b']) await removeCellLeftovers(cellId, pino({ level: 'silent' }));
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

function startDiegoCell(cellId = 'cell-z1-0'): ReturnType<typeof spawnDiego> {
  return spawnDiego([
    'cell', `--cellID=${cellId}`, '--zone=z1', '--listenAddr=127.0.0.1:0', `--bbsAddress=http://${bbs.address}`,
    '--memoryMB=1024', '--diskMB=1024', '--containers=4', '--preloadedRootFS=cflinuxfs2', `--workDir=${join(workDir, cellId)}`,
    '--evacuationTimeout=1s', `--networkPool=${uniqueNetworkPool()}`, '--dockerRegistryURL=http://127.0.0.1:1',
  ]);
}

/** A run action as the models hold it. */
function run(path: string, args: string[]): RunAction {
  return { path, args, dir: '', env: [], resource_limits: null, user: 'vcap', log_source: '', suppress_log_output: false };
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
    await eventually(() => Promise.resolve(runs(marker)), (found) => found, { timeoutMs: 20_000 });

    // No other cell to hand the instance to: an evacuation stops it at --evacuationTimeout.
    cell.child.kill(signal);
    expect(await cell.exitCode).toBe(0);
    expect(runs(marker)).toBe(false);
    expect(await client.cells()).toEqual([]);
  });

  it('killed with SIGKILL, leaves no process behind, and its instances come up on another cell', async () => {
    const cells = { 'cell-a': startDiegoCell('cell-a'), 'cell-b': startDiegoCell('cell-b') };
    await Promise.all(Object.values(cells).map((cell) => stdoutContains(cell, 'cell-started')));
    const marker = 'diego-cell-process-sigkill';
    await client.desireLRP(newValidDesiredLrp('web', {
      rootfs: 'preloaded:cflinuxfs2', memory_mb: 128, disk_mb: 128, setup: null, monitor: null, ports: [8080],
      action: { run: run('sh', ['-c', 'while true; do sleep 1; done', marker]) },
    }));
    const first = await eventually(instance, (lrp) => lrp?.state === 'RUNNING', { timeoutMs: 10_000 });
    const victimId = first?.cell_id === 'cell-a' ? 'cell-a' : 'cell-b';
    const survivorId = victimId === 'cell-a' ? 'cell-b' : 'cell-a';

    cells[victimId].child.kill('SIGKILL');
    await cells[victimId].exitCode;
    // The container's processes die with their cell, whatever they were doing.
    await eventually(() => Promise.resolve(runs(marker)), (running) => running === false, { timeoutMs: 5000 });

    // Its presence lease expires (10 s); the converger unclaims the instance at once and it is placed again.
    const moved = await eventually(instance, (lrp) => lrp?.state === 'RUNNING' && lrp.cell_id === survivorId, { timeoutMs: 25_000 });
    expect(moved?.instance_guid).not.toBe(first?.instance_guid);
    // RUNNING is reported as the action starts (no monitor): its process follows within moments.
    await eventually(() => Promise.resolve(runs(marker)), (running) => running, { timeoutMs: 20_000 });
  }, 40_000);

  it('runs a task and its completion callback arrives once, with the result, and the task is gone', async () => {
    const callbacks: string[] = [];
    const receiver = createServer((request: IncomingMessage, response) => {
      let body = '';
      request.setEncoding('utf8').on('data', (chunk: string) => (body += chunk)).on('end', () => {
        callbacks.push(body);
        response.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    try {
      const address = receiver.address();
      if (address === null || typeof address === 'string') throw new Error('no TCP address');
      const cell = startDiegoCell();
      await stdoutContains(cell, 'cell-started');

      const { task_guid, domain, definition } = newValidTask('report', {
        rootfs: 'preloaded:cflinuxfs2', memory_mb: 64, disk_mb: 64, result_file: '/tmp/result.txt',
        completion_callback_url: `http://127.0.0.1:${address.port}/done`, annotation: 'from the process test',
        action: { run: run('sh', ['-c', 'echo "42 lines counted" > /tmp/result.txt']) },
      });
      await client.desireTask(task_guid, domain, definition);

      await eventually(() => Promise.resolve(callbacks.length), (count) => count === 1, { timeoutMs: 15_000 });
      expect(parseJson(callbacks[0] ?? '')).toMatchObject({
        task_guid: 'report', failed: false, failure_reason: '', result: '42 lines counted\n', annotation: 'from the process test',
      });
      await eventually(
        () => client.taskByGuid('report').then(() => 'present', () => 'gone'),
        (state) => state === 'gone',
        { timeoutMs: 5000 },
      );
      expect(callbacks).toHaveLength(1);
    } finally {
      await new Promise((resolve) => receiver.close(resolve));
    }
  });
});
