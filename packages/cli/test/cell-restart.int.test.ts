/**
 * A `diego cell` SIGKILLed and started again with the same cell ID and address, as a process supervisor does within
 * seconds: its presence never lapses, so only the restarted cell's own bulk sync can tell the BBS that what its
 * predecessor ran is gone (the converger here runs once an hour).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { BbsServer } from '@diego/bbs';
import type { HttpBbsClient } from '@diego/bbs-client';
import type { ActualLRP, RunAction, Task } from '@diego/models';
import { eventually, freePorts, newValidDesiredLrp, newValidTask, startLeadingBbs, testKeySpace, uniqueNetworkPool, type TestKeySpace } from '@diego/test-support';
import { removeCellLeftovers } from '@diego/cell';
import { processesWith } from '../../cell/test/rep/cell-harness';
import { assertBuilt, spawnDiego, stdoutContains, stopAll } from './diego-process';

let keys: TestKeySpace;
let bbs: BbsServer;
let client: HttpBbsClient;
let workDir: string;

beforeAll(assertBuilt);

beforeEach(async () => {
  keys = testKeySpace();
  workDir = mkdtempSync(join(tmpdir(), 'diego-cell-restart-'));
  ({ bbs, client } = await startLeadingBbs(keys));
});

afterEach(async () => {
  await stopAll();
  await removeCellLeftovers('cell-restarting', pino({ level: 'silent' }));
  client.close();
  await bbs.stop();
  await keys.cleanup();
  rmSync(workDir, { recursive: true, force: true });
});

function run(script: string, marker: string): RunAction {
  return { path: 'sh', args: ['-c', script, marker], dir: '', env: [], resource_limits: null, user: 'vcap', log_source: '',
    suppress_log_output: false };
}

async function instance(): Promise<ActualLRP | null> {
  return (await client.actualLRPGroupByProcessGuidAndIndex('web', 0)).instance;
}

describe('a diego cell SIGKILLed and restarted with the same cell ID', () => {
  it('replaces its phantom instance within 5 s of its return, fails its lost task, and a deleted LRP leaves no ActualLRP', async () => {
    const [port = 0] = await freePorts(1);
    const pool = uniqueNetworkPool();
    // What a supervisor runs each time: the same flags, so the same cell ID and address.
    const startDiegoCell = (): ReturnType<typeof spawnDiego> => spawnDiego([
      'cell', '--cellID=cell-restarting', `--networkPool=${pool}`, '--dockerRegistryURL=http://127.0.0.1:1', '--zone=z1', `--listenAddr=127.0.0.1:${port}`, `--bbsAddress=http://${bbs.address}`,
      '--memoryMB=1024', '--diskMB=1024', '--containers=4', '--preloadedRootFS=cflinuxfs2', `--workDir=${join(workDir, 'cell-restarting')}`,
    ]);
    const first = startDiegoCell();
    await stdoutContains(first, 'cell-started');
    const lrpMarker = 'diego-cell-restart-web';
    const taskMarker = 'diego-cell-restart-task';
    await client.desireLRP(newValidDesiredLrp('web', {
      rootfs: 'preloaded:cflinuxfs2', memory_mb: 128, disk_mb: 128, setup: null, monitor: null, ports: [8080],
      action: { run: run('while true; do sleep 1; done', lrpMarker) },
    }));
    const { task_guid, domain, definition } = newValidTask('long-task', {
      rootfs: 'preloaded:cflinuxfs2', memory_mb: 64, disk_mb: 64, result_file: '', egress_rules: [],
      action: { run: run('while true; do sleep 1; done', taskMarker) },
    });
    await client.desireTask(task_guid, domain, definition);
    const phantom = await eventually(instance, (lrp) => lrp?.state === 'RUNNING', { timeoutMs: 10_000 });
    await eventually(() => client.taskByGuid('long-task'), (task) => task.state === 'RUNNING', { timeoutMs: 10_000 });
    await eventually(() => processesWith(taskMarker), (pids) => pids.length > 0, { timeoutMs: 10_000 });

    first.child.kill('SIGKILL');
    await first.exitCode;
    await eventually(() => processesWith(lrpMarker), (pids) => pids.length === 0, { timeoutMs: 5000 });

    // Back before its presence (10 s) expires: only the cell itself can hand the phantom back, and the crash
    // reason below says it did.
    const second = startDiegoCell();
    await stdoutContains(second, 'cell-started');
    const replacement = await eventually(
      instance,
      (lrp) => lrp?.state === 'RUNNING' && lrp.instance_guid !== phantom?.instance_guid,
      { timeoutMs: 5000 },
    );
    expect(replacement).toMatchObject({ cell_id: 'cell-restarting', crash_reason: 'the cell restarted and this instance was not running' });
    expect((await processesWith(lrpMarker)).length).toBeGreaterThan(0);
    const lostTask: Task = await eventually(() => client.taskByGuid('long-task'), (task) => task.state === 'COMPLETED', { timeoutMs: 5000 });
    expect(lostTask).toMatchObject({ failed: true, failure_reason: "cell restarted: the task's container was lost" });

    await client.removeDesiredLRP('web');
    await eventually(() => client.actualLRPGroupsByProcessGuid('web'), (groups) => groups.length === 0, { timeoutMs: 10_000 });
    await eventually(() => processesWith(lrpMarker), (pids) => pids.length === 0, { timeoutMs: 5000 });
  }, 60_000);
});
