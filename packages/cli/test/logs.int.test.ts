/**
 * `diego logs` as an operator runs it: the built CLI against a real receptor and BBS (leading, so its auctioneer
 * places work) and a real cell whose containers print; and the rep's /v1/logs it reads from.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { HttpBbsClient } from '@diego/bbs-client';
import { startBbsServer, type BbsServer } from '@diego/bbs';
import type { RunningServer } from '@diego/server-support';
import { ProcessExecutor, startCell, type RunningCell } from '@diego/cell';
import { parseJson } from '@diego/models';
import { startReceptor } from '@diego/receptor';
import { eventually, testKeySpace, type TestKeySpace } from '@diego/test-support';
import { assertBuilt, runDiego, spawnDiego, stdoutContains, stopAll } from './diego-process';

const silent = pino({ level: 'silent' });
let keys: TestKeySpace;
let bbsServer: BbsServer;
let bbsClient: HttpBbsClient;
let receptor: RunningServer;
let cell: RunningCell;
let workDir: string;
let env: Record<string, string>;

beforeAll(async () => {
  assertBuilt();
  keys = testKeySpace();
  bbsServer = await startBbsServer({
    etcd: keys.namespace,
    listenAddress: '127.0.0.1:0',
    logger: silent,
    leader: { advertiseUrl: 'http://127.0.0.1:0', convergeRepeatIntervalMs: 3_600_000 },
  });
  const bbsUrl = `http://${bbsServer.address}`;
  bbsClient = new HttpBbsClient([bbsUrl]);
  await eventually(() => Promise.resolve(bbsServer.isLeader()), (leading) => leading, { timeoutMs: 20_000 });
  receptor = await startReceptor(
    { address: '127.0.0.1:0', bbsAddress: [bbsUrl], username: '', password: '', corsEnabled: false, logLevel: 'error', debugAddress: null },
    { logger: silent },
  );
  env = { RECEPTOR_URL: `http://${receptor.address}` };
  workDir = mkdtempSync(join(tmpdir(), 'diego-logs-int-'));
  cell = await startCell(
    {
      cellId: 'cell-logs-1', zone: 'z1', listenAddress: '127.0.0.1:0', bbsAddress: [bbsUrl], memoryMb: 1024, diskMb: 1024,
      containers: 10, preloadedRootFses: [{ name: 'cflinuxfs2', path: null }], evacuationTimeoutMs: 10_000, workDir,
      dockerRegistryURL: 'http://127.0.0.1:1', insecureDockerRegistries: [], dockerImageDir: null, networkPool: '10.254.0.0/22',
      logLevel: 'error',
    },
    { executor: new ProcessExecutor({ workDir, cellAddress: '127.0.0.1', logger: silent }), bbs: bbsClient, logger: silent },
  );
});

afterEach(stopAll);

afterAll(async () => {
  await cell.stop();
  await receptor.stop();
  bbsClient.close();
  await bbsServer.stop();
  await keys.cleanup();
  rmSync(workDir, { recursive: true, force: true });
});

interface PrintedLine {
  log_guid: string;
  source: string;
  index: number;
  stream: string;
  line: string;
}

function printedLines(stdout: string): PrintedLine[] {
  return stdout.split('\n').filter((line) => line !== '').map((line) => parseJson(line) as PrintedLine);
}

async function desire(processGuid: string, logGuid: string, script: string, instances: number): Promise<void> {
  const response = await fetch(`http://${receptor.address}/v1/desired_lrps`, {
    method: 'POST',
    body: JSON.stringify({
      process_guid: processGuid, log_guid: logGuid, domain: 'logs-tests', rootfs: 'preloaded:cflinuxfs2', instances,
      action: { run: { path: 'sh', args: ['-c', script], user: 'root', log_source: 'APP' } },
    }),
  });
  expect(response.status).toBe(201);
}

describe('diego logs', () => {
  it("prints every instance's lines of an LRP named by its process guid, oldest first, tagged with log_guid, source and index", async () => {
    await desire('logs-lrp', 'logs-lrp-log', 'echo "hello from $INSTANCE_INDEX"; echo "to stderr" >&2; exec sleep 1000', 2);
    const printed = await eventually(
      async () => printedLines((await runDiego(['logs', 'logs-lrp'], { env })).stdout),
      (lines) => lines.filter((l) => l.stream === 'stdout').length === 2 && lines.some((l) => l.stream === 'stderr'),
      { timeoutMs: 20_000 },
    );
    expect(printed.filter((l) => l.stream === 'stdout').map((l) => [l.index, l.line]).sort()).toEqual([
      [0, 'hello from 0'], [1, 'hello from 1'],
    ]);
    expect(printed.every((l) => l.log_guid === 'logs-lrp-log' && l.source === 'APP')).toBe(true);
    // By log_guid too, straight from the rep.
    const fromRep = await (await fetch(`${cell.repAddress}/v1/logs/logs-lrp-log`)).text();
    expect(printedLines(fromRep).map((l) => l.line)).toEqual(expect.arrayContaining(['hello from 0', 'hello from 1']));
  });

  it('follows with -f: lines printed after it started arrive, until Ctrl-C', async () => {
    await desire('logs-follow', 'logs-follow', 'echo started; read line; exec sleep 1000', 1);
    const diego = spawnDiego(['logs', '-f', 'logs-follow'], { env });
    await stdoutContains(diego, '"line":"started"');
    const before = diego.stdout();
    await desire('logs-follow-2', 'logs-follow', 'echo "a later instance"; exec sleep 1000', 1);
    await stdoutContains(diego, '"line":"a later instance"');
    expect(diego.stdout().startsWith(before)).toBe(true);
    diego.child.kill('SIGINT');
    expect(await diego.exitCode).toBe(0);
  });

  it("prints a task's output after it completed, by its task guid", async () => {
    const response = await fetch(`http://${receptor.address}/v1/tasks`, {
      method: 'POST',
      body: JSON.stringify({
        task_guid: 'logs-task', log_guid: 'logs-task-log', domain: 'logs-tests', rootfs: 'preloaded:cflinuxfs2',
        action: { run: { path: 'sh', args: ['-c', 'echo "task says hi"'], user: 'root' } },
      }),
    });
    expect(response.status).toBe(201);
    await eventually(() => bbsClient.taskByGuid('logs-task'), (task) => task.state === 'COMPLETED', { timeoutMs: 20_000 });
    const { exitCode, stdout } = await runDiego(['logs', 'logs-task'], { env });
    expect(exitCode).toBe(0);
    expect(printedLines(stdout)).toEqual([expect.objectContaining({ log_guid: 'logs-task-log', line: 'task says hi', stream: 'stdout' })]);
  });

  it('refuses a missing GUID as a usage error', async () => {
    const { exitCode, stderr } = await runDiego(['logs'], { env });
    expect(exitCode).toBe(2);
    expect(stderr).toMatch(/expected GUID/);
  });
});
