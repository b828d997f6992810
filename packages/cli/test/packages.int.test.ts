/**
 * The README's package walk-through through the built `diego`: `diego up` (which starts `diego packages`), a
 * repository served from this machine, `diego package repo add`, `search`, `install` with an option, the app
 * answering on the real cell, `list`, `uninstall`, `repo remove`; one JSON value per line.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from '@diego/test-support';
import { startRepositoryServer, type RepositoryServer } from '../../package-service/test/repository-server';
import { assertBuilt, runDiego, spawnDiego, stdoutContains, stopAll, upOnFreePorts } from './diego-process';

let workDir: string;
let repo: RepositoryServer;

beforeAll(assertBuilt);

beforeEach(async () => {
  workDir = mkdtempSync(join(tmpdir(), 'diego-packages-cli-'));
  repo = await startRepositoryServer();
});

afterEach(async () => {
  await stopAll();
  await repo.close();
  rmSync(workDir, { recursive: true, force: true });
});

function lines(stdout: string): unknown[] {
  return stdout.trim().split('\n').filter((line) => line !== '').map((line): unknown => JSON.parse(line));
}

it('adds a repository, searches it, installs a package with an option that then runs on the cell, lists and removes it', async () => {
  const up = await upOnFreePorts();
  const diego = spawnDiego(up.args, { cwd: workDir, env: { HOME: workDir } });
  await stdoutContains(diego, 'Try:', 60_000);
  const packagesUrl = `http://127.0.0.1:${up.ports.packages}`;
  expect(diego.stdout()).toContain(`  packages  ${packagesUrl} `);
  const receptorUrl = `http://127.0.0.1:${up.ports.receptor}`;
  const cli = (...args: string[]): ReturnType<typeof runDiego> => runDiego(['package', ...args, `--packagesURL=${packagesUrl}`], { cwd: workDir });

  const added = await cli('repo', 'add', 'local', `${repo.url}/repo.json`);
  expect(added).toMatchObject({ exitCode: 0, stderr: '' });
  expect(lines(added.stdout)).toEqual([expect.objectContaining({ name: 'local', uri: `${repo.url}/repo.json`, status: expect.objectContaining({ state: 'ok' }) })]);
  const unsupported = await cli('repo', 'add', 'ftp', 'ftp://example.com/repo.json');
  expect(unsupported.exitCode).toBe(1);
  expect(unsupported.stderr).toMatch(/^diego package repo add: UnsupportedRepositoryUri: /);

  const found = await cli('search', 'hello');
  expect(lines(found.stdout)).toEqual([expect.objectContaining({ name: 'hello', currentVersion: '2.0.0' })]);

  const installed = await cli('install', 'hello', '--options={"greeting":"hi there","service":{"name":"cli-hello"}}');
  expect(installed).toMatchObject({ exitCode: 0, stderr: '' });
  expect(lines(installed.stdout)).toEqual([expect.objectContaining({ packageName: 'hello', appId: 'cli-hello' })]);

  const answer = await eventually(async () => {
    const actuals: unknown = await fetch(`${receptorUrl}/v1/actual_lrps/cli-hello`).then((r) => r.json(), () => []);
    const running = Array.isArray(actuals) ? actuals.find((a: { state?: string }) => a.state === 'RUNNING') as { address: string; ports: { host_port: number }[] } | undefined : undefined;
    if (running === undefined) return '';
    return fetch(`http://${running.address}:${running.ports[0]?.host_port ?? 0}/`).then((r) => r.text(), () => '');
  }, (text) => text.startsWith('hi there'), { timeoutMs: 30_000, intervalMs: 250 });
  expect(answer).toMatch(/^hi there on \d+$/);

  expect(lines((await cli('list')).stdout)).toEqual([expect.objectContaining({ appId: 'cli-hello' })]);
  const removed = await cli('uninstall', 'hello');
  expect(lines(removed.stdout)).toEqual([{ packageName: 'hello', appId: 'cli-hello', packageVersion: '2.0.0' }]);
  expect((await fetch(`${receptorUrl}/v1/desired_lrps/cli-hello`)).status).toBe(404);
  expect(lines((await cli('repo', 'remove', 'local')).stdout)).toEqual([]);
  expect(lines((await cli('repo', 'list')).stdout)).toEqual([]);

  diego.child.kill('SIGINT');
  expect(await diego.exitCode).toBe(0);
});
