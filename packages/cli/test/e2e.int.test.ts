/**
 * End to end, as a user of `npm start` sees it: the built `diego up` (etcd, BBS, receptor and a cell in one
 * process) in a temp dir on free ports; an app desired through the receptor runs on the cell and answers on its
 * host port; stopping and starting `diego up` again keeps the app desired and runs it again; nothing is left.
 */
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from '@diego/test-support';
import { assertBuilt, spawnDiego, stdoutContains, stopAll, upOnFreePorts, type DiegoProcess } from './diego-process';

/** An app that answers every request with the variables the cell gave it, as JSON. */
const ECHO_APP =
  "require('http').createServer((req, res) => res.end(JSON.stringify({ env: Object.fromEntries(" +
  "Object.entries(process.env).filter(([name]) => name.startsWith('CF_INSTANCE_') || name.startsWith('INSTANCE_') || name === 'PORT')) })))" +
  '.listen(Number(process.env.PORT))';

const PROCESS_GUID = 'e2e-echo';

interface ActualLrp {
  instance_guid: string;
  index: number;
  state: string;
  cell_id: string;
  address: string;
  ports: { container_port: number; host_port: number }[];
}

interface EchoAnswer {
  env: Record<string, string>;
}

let workDir: string;
let upArgs: string[];
let receptorUrl: string;

beforeAll(assertBuilt);

beforeEach(async () => {
  workDir = mkdtempSync(join(tmpdir(), 'diego-e2e-'));
  const up = await upOnFreePorts();
  receptorUrl = `http://127.0.0.1:${up.ports.receptor}`;
  upArgs = up.args;
});

afterEach(async () => {
  await stopAll();
  rmSync(workDir, { recursive: true, force: true });
});

async function up(): Promise<DiegoProcess> {
  const diego = spawnDiego(upArgs, { cwd: workDir, env: { HOME: workDir } });
  await stdoutContains(diego, 'Try:');
  return diego;
}

function isActualLrp(value: unknown): value is ActualLrp {
  if (typeof value !== 'object' || value === null) return false;
  const fields: Record<string, unknown> = { ...value };
  return (
    typeof fields.instance_guid === 'string' && typeof fields.index === 'number' && typeof fields.state === 'string' &&
    typeof fields.cell_id === 'string' && typeof fields.address === 'string' && Array.isArray(fields.ports)
  );
}

async function runningInstance(): Promise<ActualLrp> {
  const found = await eventually(
    async () => {
      const response = await fetch(`${receptorUrl}/v1/actual_lrps/${PROCESS_GUID}`);
      const actuals: unknown = response.ok ? await response.json() : [];
      return Array.isArray(actuals) ? actuals.filter(isActualLrp).find((actual) => actual.state === 'RUNNING') : undefined;
    },
    (actual) => actual !== undefined,
    // After a restart the new leader auctions the UNCLAIMED instance at once (seconds, more on a loaded machine).
    { timeoutMs: 20_000, intervalMs: 200 },
  );
  if (found === undefined) throw new Error('unreachable: eventually returned without a running instance');
  return found;
}

async function askApp(actual: ActualLrp): Promise<EchoAnswer> {
  const hostPort = actual.ports[0]?.host_port;
  const answer = await eventually(
    () => fetch(`http://${actual.address}:${hostPort ?? 0}/`).then((response) => response.text(), (error: unknown) => String(error)),
    (text) => text.startsWith('{'),
    { timeoutMs: 10_000 },
  );
  const parsed: unknown = JSON.parse(answer);
  if (typeof parsed !== 'object' || parsed === null || !('env' in parsed) || typeof parsed.env !== 'object' || parsed.env === null) {
    throw new Error(`the app answered ${answer}`);
  }
  return { env: Object.fromEntries(Object.entries(parsed.env).map(([name, value]) => [name, String(value)])) };
}

/**
 * The host's processes that belong to this test's `diego up`: started with the temp dir in their command line
 * (etcd, the cell's namespace holders) or running in it (the up itself, the apps in their container dirs). Pids
 * an app sees are its pid namespace's when the cell runs as root, so the host's /proc is asked.
 */
function processesOfThisUp(): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((entry) => /^\d+$/.test(entry))) {
    try {
      const commandLine = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
      const cwd = readlinkSync(`/proc/${pid}/cwd`);
      if (commandLine.includes(workDir) || cwd.startsWith(workDir)) found.push(`${pid}: ${commandLine}`);
    } catch {
      // Gone while we looked, or not ours to read.
    }
  }
  return found;
}

async function answers(actual: ActualLrp): Promise<boolean> {
  const hostPort = actual.ports[0]?.host_port ?? 0;
  return fetch(`http://${actual.address}:${hostPort}/`).then(
    () => true,
    () => false,
  );
}

async function stop(diego: DiegoProcess): Promise<void> {
  diego.child.kill('SIGINT');
  expect(await diego.exitCode).toBe(0);
}

describe('diego up', () => {
  it('runs an app desired through the receptor on its cell, with the CF_INSTANCE_* variables of its instance; a restart runs it again; nothing is left after stop', async () => {
    const first = await up();
    expect(first.stdout()).toMatch(/^ {2}cell {6}cell-z1-0 in zone z1 at http:\/\/127\.0\.0\.1:\d+ /m);

    const desired = {
      process_guid: PROCESS_GUID,
      domain: 'e2e',
      rootfs: 'preloaded:cflinuxfs2',
      instances: 1,
      ports: [8080],
      action: { run: { path: process.execPath, args: ['-e', ECHO_APP], user: 'vcap' } },
    };
    const created = await fetch(`${receptorUrl}/v1/desired_lrps`, { method: 'POST', body: JSON.stringify(desired) });
    expect(created.status).toBe(201);

    const actual = await runningInstance();
    expect(actual.cell_id).toBe('cell-z1-0');
    const [mapping] = actual.ports;
    expect(mapping?.container_port).toBe(8080);
    const hostPort = String(mapping?.host_port);
    const answer = await askApp(actual);
    // As root the app has a network of its own: it listens on its container port, and knows its address there.
    const ownNetwork = process.getuid?.() === 0
      ? { PORT: '8080', CF_INSTANCE_INTERNAL_IP: expect.stringMatching(/^10\.\d+\.\d+\.\d+$/) }
      : { PORT: hostPort };
    expect(answer.env).toEqual({
      ...ownNetwork,
      CF_INSTANCE_IP: actual.address,
      CF_INSTANCE_PORT: hostPort,
      CF_INSTANCE_ADDR: `${actual.address}:${hostPort}`,
      CF_INSTANCE_PORTS: JSON.stringify([{ external: mapping?.host_port, internal: 8080 }]),
      INSTANCE_INDEX: '0',
      INSTANCE_GUID: actual.instance_guid,
    });

    expect(processesOfThisUp().length).toBeGreaterThan(0);
    await stop(first);
    expect(first.stdout()).toMatch(/stopping cell\n.*stopping receptor\n.*stopping bbs\n.*stopping etcd\n/s);
    expect(processesOfThisUp()).toEqual([]);
    expect(await answers(actual)).toBe(false);

    // The DesiredLRP is in etcd's data: the next start places and runs it again.
    const second = await up();
    const again = await runningInstance();
    const secondAnswer = await askApp(again);
    expect(secondAnswer.env.INSTANCE_GUID).toBe(again.instance_guid);
    await stop(second);
    expect(processesOfThisUp()).toEqual([]);
    expect(await answers(again)).toBe(false);
  }, 150_000);
});
