/**
 * The operator commands as an operator runs them: the built `diego` as a child process against a real receptor
 * and BBS (leading: its auctioneer places instances on a test cell) on this file's own etcd key space.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { HttpBbsClient } from '@diego/bbs-client';
import { startBbsServer, type BbsServer } from '@diego/bbs';
import type { RunningServer } from '@diego/server-support';
import { parseJson } from '@diego/models';
import { startReceptor } from '@diego/receptor';
import { eventually, startTestCell, testKeySpace, type TestCell, type TestKeySpace } from '@diego/test-support';
import { assertBuilt, runDiego, spawnDiego, stdoutContains, stopAll } from './diego-process';

const CELL_ID = 'cell-operator-1';

let keys: TestKeySpace;
let bbsServer: BbsServer;
let bbsClient: HttpBbsClient;
let receptor: RunningServer;
let cell: TestCell;
let receptorUrl: string;
let dir: string;
/** The operator's environment: where the receptor is and the credentials, as a script would set them. */
let env: Record<string, string>;
let guidCounter = 0;

beforeAll(async () => {
  assertBuilt();
  keys = testKeySpace();
  // Converging every second: a retired instance is started again within the test's patience.
  bbsServer = await startBbsServer({
    etcd: keys.namespace,
    listenAddress: '127.0.0.1:0',
    leader: { advertiseUrl: 'http://127.0.0.1:0', convergeRepeatIntervalMs: 1000 },
  });
  const bbsUrl = `http://${bbsServer.address}`;
  bbsClient = new HttpBbsClient([bbsUrl]);
  await eventually(() => Promise.resolve(bbsServer.isLeader()), (leading) => leading, { timeoutMs: 20_000 });
  receptor = await startReceptor(
    { address: '127.0.0.1:0', bbsAddress: [bbsUrl], username: 'operator', password: 's3cret', corsEnabled: false, logLevel: 'error', debugAddress: null },
    { logger: pino({ level: 'silent' }) },
  );
  receptorUrl = `http://${receptor.address}`;
  env = { RECEPTOR_URL: receptorUrl, RECEPTOR_USERNAME: 'operator', RECEPTOR_PASSWORD: 's3cret' };
  cell = await startTestCell({ cellId: CELL_ID, zone: 'z1', bbs: bbsClient });
  dir = mkdtempSync(join(tmpdir(), 'diego-operator-int-'));
});

afterEach(stopAll);

afterAll(async () => {
  await cell.stop();
  await receptor.stop();
  bbsClient.close();
  await bbsServer.stop();
  await keys.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

function uniqueGuid(prefix: string): string {
  guidCounter += 1;
  return `${prefix}-${process.pid}-${guidCounter}`;
}

function desiredLrp(processGuid: string, instances: number): string {
  return JSON.stringify({
    process_guid: processGuid,
    domain: 'operator-tests',
    rootfs: 'preloaded:cflinuxfs2',
    instances,
    ports: [8080],
    action: { run: { path: 'sh', args: ['-c', 'exec sleep 1000'], user: 'vcap' } },
  });
}

/** What the receptor answers, raw, with the operator's credentials. */
async function receptorText(path: string): Promise<{ text: string; revision: string | null }> {
  const response = await fetch(`${receptorUrl}${path}`, { headers: { authorization: `Basic ${Buffer.from('operator:s3cret').toString('base64')}` } });
  return { text: await response.text(), revision: response.headers.get('x-diego-revision') };
}

function lines(stdout: string): Record<string, unknown>[] {
  return stdout
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      const value = parseJson(line);
      if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error(`not a JSON object: ${line}`);
      return Object.fromEntries(Object.entries(value));
    });
}

async function runningInstances(processGuid: string): Promise<Record<string, unknown>[]> {
  const { stdout } = await runDiego(['actual-lrps', '-d', 'operator-tests'], { env });
  return lines(stdout).filter((actual) => actual.process_guid === processGuid && actual.state === 'RUNNING');
}

describe('operator commands', () => {
  it('desire an LRP from a file, list it and its instances placed on a cell (filtered by cell), scale it, retire an instance and delete it', async () => {
    const guid = uniqueGuid('op-lrp');
    const file = join(dir, `${guid}.json`);
    writeFileSync(file, desiredLrp(guid, 2));
    expect(await runDiego(['create-desired-lrp', `@${file}`], { env })).toEqual({ exitCode: 0, stdout: '', stderr: '' });

    const listed = await runDiego(['desired-lrps', '-d', 'operator-tests'], { env });
    expect(listed.exitCode).toBe(0);
    expect(lines(listed.stdout).map((desired) => desired.process_guid)).toContain(guid);
    const one = await runDiego(['desired-lrp', guid], { env });
    expect(lines(one.stdout)).toEqual([expect.objectContaining({ process_guid: guid, instances: 2 })]);

    const running = await eventually(() => runningInstances(guid), (instances) => instances.length === 2, { timeoutMs: 20_000 });
    expect(running.map((actual) => actual.cell_id)).toEqual([CELL_ID, CELL_ID]);

    // Each line is the receptor's JSON as it was: `since` (nanoseconds, beyond 2^53) with every digit.
    const raw = await receptorText('/v1/actual_lrps?domain=operator-tests');
    const sinces = [...raw.text.matchAll(/"since":(\d+)/g)].map((match) => match[1]);
    const onCell = await runDiego(['actual-lrps', '-d', 'operator-tests', '-c', CELL_ID], { env });
    expect(sinces.length).toBeGreaterThan(0);
    for (const since of sinces) expect(onCell.stdout).toContain(`"since":${since}`);
    expect(onCell.stdout.trim().split('\n')).toHaveLength(sinces.length);
    expect(await runDiego(['actual-lrps', '-c', 'no-such-cell'], { env })).toEqual({ exitCode: 0, stdout: '', stderr: '' });

    expect((await runDiego(['update-desired-lrp', guid, '{"instances":3}'], { env })).exitCode).toBe(0);
    await eventually(() => runningInstances(guid), (instances) => instances.length === 3, { timeoutMs: 20_000 });

    const before = (await runningInstances(guid)).find((actual) => actual.index === 0)?.instance_guid;
    expect(await runDiego(['retire-actual-lrp', guid, '0'], { env })).toEqual({ exitCode: 0, stdout: '', stderr: '' });
    // Still desired: instance 0 comes back, a new instance.
    await eventually(
      () => runningInstances(guid),
      (instances) => instances.some((actual) => actual.index === 0 && actual.instance_guid !== before),
      { timeoutMs: 20_000 },
    );

    expect((await runDiego(['delete-desired-lrp', guid], { env })).exitCode).toBe(0);
    const gone = await runDiego(['desired-lrp', guid], { env });
    expect(gone).toEqual({ exitCode: 1, stdout: '', stderr: `diego desired-lrp: DesiredLRPNotFound: Desired LRP with guid '${guid}' not found\n` });
  }, 90_000); // each step is a process of its own, and the instances start through the auctioneer

  it('create, show, list, cancel and delete a task, with its nanosecond timestamps intact', async () => {
    const guid = uniqueGuid('op-task');
    const task = { task_guid: guid, domain: 'operator-tasks', rootfs: 'preloaded:cflinuxfs2', action: { run: { path: 'sleep', args: ['1000'], user: 'vcap' } } };
    expect(await runDiego(['create-task', JSON.stringify(task)], { env })).toEqual({ exitCode: 0, stdout: '', stderr: '' });

    const shown = await runDiego(['task', guid], { env });
    const createdAt = /"created_at":(\d+)/.exec((await receptorText(`/v1/tasks/${guid}`)).text)?.[1];
    expect(createdAt).toMatch(/^\d{19}$/);
    expect(shown.stdout).toContain(`"created_at":${createdAt ?? ''}`);
    expect(lines((await runDiego(['tasks', '-d', 'operator-tasks'], { env })).stdout).map((listed) => listed.task_guid)).toEqual([guid]);
    expect((await runDiego(['tasks', '-d', 'no-such-domain'], { env })).stdout).toBe('');

    expect((await runDiego(['cancel-task', guid], { env })).exitCode).toBe(0);
    const cancelled = lines((await runDiego(['task', guid], { env })).stdout);
    expect(cancelled).toEqual([expect.objectContaining({ state: 'COMPLETED', failed: true })]);
    expect((await runDiego(['delete-task', guid], { env })).exitCode).toBe(0);
    const gone = await runDiego(['task', guid], { env });
    expect({ exitCode: gone.exitCode, stderr: gone.stderr }).toEqual({ exitCode: 1, stderr: `diego task: TaskNotFound: task with guid '${guid}' not found\n` });
  });

  it('mark a domain fresh with a TTL and list domains and cells', async () => {
    expect(await runDiego(['set-domain', 'operator-fresh', '-t', '1m'], { env })).toEqual({ exitCode: 0, stdout: '', stderr: '' });
    expect((await runDiego(['domains'], { env })).stdout.split('\n')).toContain('"operator-fresh"');
    const cells = lines((await runDiego(['cells'], { env })).stdout);
    expect(cells).toEqual([expect.objectContaining({ cell_id: CELL_ID, zone: 'z1' })]);
  });

  it('take the credentials from the receptor URL, and say what the receptor said when they are wrong', async () => {
    const inUrl = await runDiego(['domains', `--receptorURL=http://operator:s3cret@${receptor.address}`]);
    expect(inUrl.exitCode).toBe(0);
    const wrong = await runDiego(['domains', `--receptorURL=${receptorUrl}`, '--username=operator', '--password=wrong-pass']);
    expect(wrong.exitCode).toBe(1);
    expect(wrong.stderr).toMatch(/^diego domains: .*Unauthorized/i);
    expect(wrong.stderr).not.toContain('wrong-pass');
  });

  it('follow the event stream one JSON line per event, and resume after --lastEventID', async () => {
    const events = spawnDiego(['events'], { env });
    // The stream is open once the BBS counts its subscription: a change made from then on is seen.
    await eventually(() => Promise.resolve(bbsServer.events.subscribers), (subscribers) => subscribers === 1, { timeoutMs: 10_000 });
    const guid = uniqueGuid('op-events');
    const { revision } = await receptorText('/v1/desired_lrps');
    expect((await runDiego(['create-desired-lrp', desiredLrp(guid, 1)], { env })).exitCode).toBe(0);
    await stdoutContains(events, `"process_guid":"${guid}"`);
    const created = lines(events.stdout()).find((event) => event.type === 'desired_lrp_created');
    expect(created).toEqual({ type: 'desired_lrp_created', id: expect.stringMatching(/^\d+\.\d+$/), data: { desired_lrp: expect.objectContaining({ process_guid: guid }) } });

    events.child.kill('SIGINT');
    expect(await events.exitCode).toBe(0);

    // From the revision of the list read before the change, the change is the first event.
    const resumed = spawnDiego(['events', `--lastEventID=${revision ?? ''}`], { env });
    await stdoutContains(resumed, '\n');
    expect(lines(resumed.stdout())[0]).toEqual(created);
    resumed.child.kill('SIGTERM');
    expect(await resumed.exitCode).toBe(0);
    expect((await runDiego(['delete-desired-lrp', guid], { env })).exitCode).toBe(0);
  });
});
