// Ours: GET /v1/logs/:log_guid gathers what containers printed from every cell's rep. Two real cells (rep and
// executor), each running a task's container whose output lands in its log store, registered through the BBS.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import pino from 'pino';
import { ProcessExecutor, startCell, type RunningCell } from '@diego/cell';
import type { Action } from '@diego/models';
import { eventually, newValidCellPresence } from '@diego/test-support';
import { startReceptorUnderTest, type ReceptorUnderTest } from './support/receptor-under-test';

const silent = pino({ level: 'silent' });
let receptor: ReceptorUnderTest;
const cells: Array<{ cell: RunningCell; executor: ProcessExecutor; workDir: string }> = [];

beforeAll(async () => {
  receptor = await startReceptorUnderTest();
  for (const cellId of ['cell-logs-a', 'cell-logs-b']) {
    const workDir = mkdtempSync(join(tmpdir(), `diego-${cellId}-`));
    const executor = new ProcessExecutor({ workDir, cellAddress: '127.0.0.1', logger: silent });
    const cell = await startCell(
      {
        cellId, zone: 'z1', listenAddress: '127.0.0.1:0', bbsAddress: [receptor.bbsUrl], memoryMb: 1024, diskMb: 1024,
        containers: 10, preloadedRootFses: [{ name: 'cflinuxfs2', path: null }], evacuationTimeoutMs: 10_000, workDir,
        dockerRegistryURL: 'http://127.0.0.1:1', insecureDockerRegistries: [], dockerImageDir: null,
        networkPool: '10.254.0.0/22', logLevel: 'error',
      },
      { executor, bbs: receptor.bbs, logger: silent },
    );
    cells.push({ cell, executor, workDir });
  }
});

afterAll(async () => {
  for (const { cell, workDir } of cells) {
    await cell.stop();
    rmSync(workDir, { recursive: true, force: true });
  }
  await receptor?.stop();
});

const shell = (script: string): Action => ({
  run: { path: 'sh', args: ['-c', script], dir: '', env: [], resource_limits: null, user: '', log_source: 'APP', suppress_log_output: false },
});

/** Runs `script` in a container of cell `at` whose output goes to `logGuid`'s log. */
async function printOn(at: number, guid: string, logGuid: string, script: string): Promise<void> {
  const { executor } = cells[at]!;
  const container = await executor.createContainer({
    guid, logGuid, logSource: 'APP', instance: null, rootfs: 'preloaded:cflinuxfs2', env: [], ports: [], memoryMB: 16,
    diskMB: 16, cpuWeight: 0, egressRules: [],
  });
  try {
    expect(await executor.runTask(container, { action: shell(script), resultFile: '' }, new AbortController().signal)).toMatchObject({ failed: false });
  } finally {
    await container.destroy();
  }
}

function lines(text: string): Array<{ log_guid: string; line: string; source: string; stream: string }> {
  return text.split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as { log_guid: string; line: string; source: string; stream: string });
}

describe('Logs', () => {
  it("answers every cell's lines of a log, oldest first, one JSON object per line", async () => {
    await printOn(0, 'logs-first', 'logs-merged', 'echo first');
    await printOn(1, 'logs-second', 'logs-merged', 'echo second; echo oops >&2');
    await printOn(0, 'logs-third', 'logs-merged', 'echo third');
    const response = await request(receptor.app).get('/v1/logs/logs-merged');
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toMatch(/^application\/x-ndjson/);
    expect(lines(response.text).map((l) => [l.line, l.stream])).toEqual([
      ['first', 'stdout'], ['second', 'stdout'], ['oops', 'stderr'], ['third', 'stdout'],
    ]);
    expect(lines(response.text).every((l) => l.log_guid === 'logs-merged' && l.source === 'APP')).toBe(true);
  });

  it('answers no lines for a log no cell has', async () => {
    const response = await request(receptor.app).get('/v1/logs/logs-nobody');
    expect([response.status, response.text]).toEqual([200, '']);
  });

  it('follows with ?follow=true: lines printed later arrive on the open response', async () => {
    await printOn(1, 'logs-before', 'logs-followed', 'echo before');
    const received: string[] = [];
    const stop = new AbortController();
    const following = fetch(`${await receptorUrl()}/v1/logs/logs-followed?follow=true`, { signal: stop.signal }).then(async (response) => {
      const decoder = new TextDecoder();
      for await (const chunk of response.body!) received.push(decoder.decode(chunk, { stream: true }));
    }).catch(() => undefined);
    await eventually(() => Promise.resolve(received.join('')), (text) => text.includes('"line":"before"'));
    await printOn(0, 'logs-after', 'logs-followed', 'echo after');
    await eventually(() => Promise.resolve(received.join('')), (text) => text.includes('"line":"after"'));
    expect(lines(received.join('')).map((l) => l.line)).toEqual(['before', 'after']);
    stop.abort();
    await following;
  });

  it('leaves out a cell it cannot reach and answers the others', async () => {
    await receptor.bbs.registerCell(newValidCellPresence('cell-logs-gone', { rep_address: 'http://127.0.0.1:1' }), 30);
    await printOn(0, 'logs-reachable', 'logs-partial', 'echo still here');
    const response = await request(receptor.app).get('/v1/logs/logs-partial');
    expect(lines(response.text).map((l) => l.line)).toEqual(['still here']);
    await receptor.bbs.removeCell('cell-logs-gone');
  });
});

/** The receptor app on a loopback port, for a streaming request supertest would buffer. */
let listening: Promise<string> | undefined;
function receptorUrl(): Promise<string> {
  listening ??= new Promise((resolve) => {
    const server = receptor.app.listen(0, '127.0.0.1', () => {
      const address = server.address();
      resolve(`http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`);
    });
    afterAllClose.push(() => new Promise<void>((done) => {
      server.closeAllConnections();
      server.close(() => done());
    }));
  });
  return listening;
}
const afterAllClose: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const close of afterAllClose) await close();
});
