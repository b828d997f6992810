/**
 * The built `diego` as an operator runs it: real processes, a real etcd, signals. These run the compiled
 * dist/ (what `npx diego` runs), which `npm test` builds before jest starts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { removeCellLeftovers } from '@diego/cell';
import { eventually, freePorts, loadFixture, startEtcd, type EtcdProcess } from '@diego/test-support';
import { assertBuilt, spawnDiego, stdoutContains, stopAll, upOnFreePorts, type DiegoProcess, type UpPorts } from './diego-process';

const repositoryRoot = join(__dirname, '..', '..', '..');
const CELL_ID = 'cell-processes';

let workDir: string;

beforeAll(assertBuilt);

beforeEach(() => {
  workDir = mkdtempSync(join(tmpdir(), 'diego-cli-test-'));
});

afterEach(async () => {
  // Whatever a failed test left running goes now (its etcd follows through --pdeathsig).
  await stopAll();
  // A `diego up` killed outright leaves its root cell's cgroups, bridge and rules to a successor that will not come.
  await removeCellLeftovers(CELL_ID, pino({ level: 'silent' }));
  rmSync(workDir, { recursive: true, force: true });
});

function diego(args: string[], executable?: string): DiegoProcess {
  return spawnDiego(args, { cwd: workDir, ...(executable === undefined ? {} : { executable }) });
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

describe('diego up', () => {
  let ports: UpPorts;
  let upArgs: string[];

  beforeEach(async () => {
    ({ ports, args: upArgs } = await upOnFreePorts(CELL_ID));
  });

  it('serves the receptor on its own etcd, stops everything on SIGINT and keeps the state for the next start', async () => {
    const first = diego(upArgs);
    await stdoutContains(first, 'Try:');
    const receptor = `http://127.0.0.1:${ports.receptor}`;
    expect(first.output()).toContain(`receptor  ${receptor}`);
    expect(first.output()).toContain(`etcd      http://127.0.0.1:${ports.etcd} (data ${join(workDir, '.diego', 'etcd')}`);

    expect((await fetch(`${receptor}/v1/domains/cf-apps`, { method: 'PUT' })).status).toBe(204);

    // One Ctrl-C under `npm start` arrives twice (the terminal's, and npm's forwarded copy): still a clean stop.
    first.child.kill('SIGINT');
    first.child.kill('SIGINT');
    expect(await first.exitCode).toBe(0);
    expect(first.output()).toMatch(/stopping cell\n.*stopping receptor\n.*stopping bbs\n.*stopping etcd\n/s);
    expect(await accepts(ports.etcd)).toBe(false);

    const second = diego(upArgs);
    await stdoutContains(second, 'Try:');
    expect(await (await fetch(`${receptor}/v1/domains`)).json()).toEqual(['cf-apps']);
    second.child.kill('SIGTERM');
    expect(await second.exitCode).toBe(0);
  });

  it('leaves no etcd behind when it is killed outright', async () => {
    const up = diego(upArgs);
    await stdoutContains(up, 'Try:');
    expect(await accepts(ports.etcd)).toBe(true);

    up.child.kill('SIGKILL');
    await up.exitCode;
    await eventually(() => accepts(ports.etcd), (accepting) => !accepting, { timeoutMs: 5000 });
  });

  it('will not start its etcd where something already listens', async () => {
    const squatter = createServer();
    await new Promise<void>((resolve) => squatter.listen(ports.etcd, '127.0.0.1', resolve));
    try {
      const up = diego(upArgs);
      expect(await up.exitCode).toBe(1);
      expect(up.output()).toContain(`diego up: something already listens on 127.0.0.1:${ports.etcd}`);
    } finally {
      await new Promise((resolve) => squatter.close(resolve));
    }
  });
});

describe('diego bbs and diego receptor', () => {
  let etcd: EtcdProcess;
  beforeAll(async () => {
    etcd = await startEtcd(); // their own: the BBS writes at the root of the key space
  });
  afterAll(async () => {
    await etcd.stop();
  });

  it('run as separate processes wired by their flags, serve the API end to end, and exit 0 on SIGTERM', async () => {
    const [bbsPort = 0, receptorPort = 0, deadPort = 0, bbsDebugPort = 0, receptorDebugPort = 0] = await freePorts(5);
    const bbs = diego([
      'bbs', `--listenAddress=127.0.0.1:${bbsPort}`, `-etcdCluster=${etcd.endpoint}`, '-logLevel', 'error',
      `-debugAddr=127.0.0.1:${bbsDebugPort}`,
    ]);
    // A Diego operator's command line: single dashes, and a first BBS that is down (the client moves on).
    const receptor = diego([
      'receptor', '-address', `127.0.0.1:${receptorPort}`,
      `-bbsAddress=http://127.0.0.1:${deadPort},http://127.0.0.1:${bbsPort}`,
      '-username=operator', '-password=s3cret-pass', '--logLevel=info', `--debugAddr=127.0.0.1:${receptorDebugPort}`,
    ]);

    const receptorUrl = `http://127.0.0.1:${receptorPort}`;
    const auth = { authorization: `Basic ${Buffer.from('operator:s3cret-pass').toString('base64')}` };
    for (const port of [bbsPort, receptorPort]) await eventually(() => accepts(port), (accepting) => accepting, { timeoutMs: 20_000 });

    expect((await fetch(`${receptorUrl}/v1/domains`)).status).toBe(401);
    expect((await fetch(`${receptorUrl}/v1/domains/cf-apps`, { method: 'PUT', headers: auth })).status).toBe(204);
    expect(await (await fetch(`${receptorUrl}/v1/domains`, { headers: auth })).json()).toEqual(['cf-apps']);

    const task = { task_guid: 'black-box-task', domain: 'cf-tasks', rootfs: 'preloaded:cflinuxfs2', action: { run: { path: 'true', user: 'vcap' } } };
    expect((await fetch(`${receptorUrl}/v1/tasks`, { method: 'POST', headers: auth, body: JSON.stringify(task) })).status).toBe(201);
    const storedTask = (await (await fetch(`${receptorUrl}/v1/tasks/black-box-task`, { headers: auth })).json()) as Record<string, unknown>;
    // Stored as sent; its state is not asserted: the leader's auctioneer may already have moved it on (no cell here
    // takes it, so it may be COMPLETED, failed, by the time it is read).
    expect(storedTask).toMatchObject({ task_guid: 'black-box-task', domain: 'cf-tasks', completion_callback_url: '' });

    const fixture = loadFixture('cc-bridge-desired-lrp.json');
    const processGuid = (JSON.parse(fixture) as { process_guid: string }).process_guid;
    expect((await fetch(`${receptorUrl}/v1/desired_lrps`, { method: 'POST', headers: auth, body: fixture })).status).toBe(201);
    const desired = (await (await fetch(`${receptorUrl}/v1/desired_lrps/${processGuid}`, { headers: auth })).json()) as Record<string, unknown>;
    const { modification_tag: _tag, ...sent } = desired;
    expect(sent).toEqual(JSON.parse(fixture));
    const actuals = (await (await fetch(`${receptorUrl}/v1/actual_lrps/${processGuid}`, { headers: auth })).json()) as { state: string }[];
    expect(actuals.map((actual) => actual.state)).toEqual(['UNCLAIMED', 'UNCLAIMED']);
    expect((await fetch(`${receptorUrl}/v1/desired_lrps/${processGuid}`, { method: 'DELETE', headers: auth })).status).toBe(204);
    expect((await fetch(`${receptorUrl}/v1/desired_lrps/${processGuid}`, { headers: auth })).status).toBe(404);

    for (const debugPort of [bbsDebugPort, receptorDebugPort]) {
      const vars = (await (await fetch(`http://127.0.0.1:${debugPort}/debug/vars`)).json()) as { pid: number };
      expect([bbs.child.pid, receptor.child.pid]).toContain(vars.pid);
    }

    receptor.child.kill('SIGTERM');
    bbs.child.kill('SIGTERM');
    expect([await receptor.exitCode, await bbs.exitCode]).toEqual([0, 0]);
    expect(receptor.output()).toContain('request-served');
    expect(receptor.output()).not.toContain('s3cret-pass');
  });
});

describe('npx diego', () => {
  it('is linked into node_modules/.bin and runs the build', async () => {
    const linked = diego(['--version'], join(repositoryRoot, 'node_modules', '.bin', 'diego'));
    expect(await linked.exitCode).toBe(0);
    expect(linked.output()).toBe('diego 0.1.0\n');
  });
});
