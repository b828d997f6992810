/**
 * `diego packages` against a real BBS on the test etcd, with repositories served by a real HTTP server: Cosmos's
 * repository routes and errors, indexes as JSON and as a zip tree, and installs desired through the BBS.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { HttpBbsClient } from '@diego/bbs-client';
import { startBbsServer, type BbsServer } from '@diego/bbs';
import type { RunningServer } from '@diego/server-support';
import { startPackageService } from '@diego/package-service';
import { testKeySpace, type TestKeySpace } from '@diego/test-support';
import { startRepositoryServer, type RepositoryServer } from './repository-server';

const silent = pino({ level: 'silent' });

let keys: TestKeySpace;
let bbs: BbsServer;
let bbsClient: HttpBbsClient;
let repo: RepositoryServer;
let dataDir: string;
let services: RunningServer[];
let url: string;

async function startService(defaults: { name: string; uri: string }[] = [], extra: { username?: string; password?: string } = {}): Promise<string> {
  const service = await startPackageService({
    address: '127.0.0.1:0',
    bbsAddress: [`http://${bbs.address}`],
    username: extra.username ?? '',
    password: extra.password ?? '',
    corsEnabled: false,
    logLevel: 'error',
    dataDir,
    defaultRepositories: defaults,
    refreshIntervalMs: 0,
  }, { logger: silent });
  services.push(service);
  return `http://${service.address}`;
}

beforeEach(async () => {
  keys = testKeySpace();
  bbs = await startBbsServer({ etcd: keys.namespace, listenAddress: '127.0.0.1:0', logger: silent });
  bbsClient = new HttpBbsClient([`http://${bbs.address}`]);
  repo = await startRepositoryServer();
  dataDir = mkdtempSync(join(tmpdir(), 'diego-packages-'));
  services = [];
  url = await startService();
});

afterEach(async () => {
  for (const service of services) await service.stop();
  await repo.close();
  bbsClient.close();
  await bbs.stop();
  await keys.cleanup();
  rmSync(dataDir, { recursive: true, force: true });
});

interface Answer {
  status: number;
  type: string;
  body: Record<string, unknown>;
}

async function post(path: string, body: unknown, kind?: string, base = url, headers: Record<string, string> = {}): Promise<Answer> {
  const contentType = kind === undefined ? 'application/json' : `application/vnd.dcos.package.${kind}-request+json;charset=utf-8;version=v1`;
  const response = await fetch(`${base}${path}`, { method: 'POST', headers: { 'Content-Type': contentType, ...headers }, body: JSON.stringify(body) });
  const parsed: unknown = await response.json();
  if (typeof parsed !== 'object' || parsed === null) throw new Error(`not an object: ${JSON.stringify(parsed)}`);
  return { status: response.status, type: response.headers.get('content-type') ?? '', body: { ...parsed } };
}

const names = (answer: Answer): unknown => (answer.body.repositories as { name: string }[]).map((r) => r.name);

describe('repositories', () => {
  it('adds in order (at an index or the end), answers the whole list in the versioned type, and keeps it in etcd', async () => {
    const added = await post('/package/repository/add', { name: 'json', uri: `${repo.url}/repo.json` }, 'repository.add');
    expect(added.status).toBe(200);
    expect(added.type).toBe('application/vnd.dcos.package.repository.add-response+json;charset=utf-8;version=v1');
    await post('/package/repository/add', { name: 'zip', uri: `${repo.url}/universe.zip`, index: 0 });
    const listed = await post('/package/repository/list', {}, 'repository.list');
    expect(listed.body).toEqual({
      repositories: [
        { name: 'zip', uri: `${repo.url}/universe.zip`, status: expect.objectContaining({ state: 'ok', packages: 1 }) },
        { name: 'json', uri: `${repo.url}/repo.json`, status: expect.objectContaining({ state: 'ok', packages: 4 }) },
      ],
    });
    const stored = JSON.parse(String(await keys.namespace.get('/v1/package_repositories').string()));
    expect(stored).toEqual([{ name: 'zip', uri: `${repo.url}/universe.zip` }, { name: 'json', uri: `${repo.url}/repo.json` }]);
  });

  it("refuses with Cosmos's errors, changing nothing", async () => {
    await post('/package/repository/add', { name: 'json', uri: `${repo.url}/repo.json` });
    const cases: [unknown, number, string, Record<string, unknown>?][] = [
      [{ name: 'json', uri: `${repo.url}/universe.zip` }, 409, 'RepositoryAlreadyPresent', { name: 'json' }],
      [{ name: 'other', uri: `${repo.url}/repo.json` }, 409, 'RepositoryAlreadyPresent', { uri: `${repo.url}/repo.json` }],
      [{ name: 'ftp', uri: 'ftp://example.com/repo.json' }, 400, 'UnsupportedRepositoryUri'],
      [{ name: 'bad', uri: 'not a uri' }, 400, 'RepositoryUriSyntax'],
      [{ name: 'far', uri: `${repo.url}/universe.zip`, index: 5 }, 400, 'RepositoryAddIndexOutOfBounds', { attempted: 5, max: 1 }],
      [{ name: 'gone', uri: `${repo.url}/nothing-here.json` }, 400, 'IndexNotFound'],
      [{ name: 'closed', uri: 'http://127.0.0.1:1/repo.json' }, 400, 'RepositoryUriConnection'],
      [{ name: 'corrupt', uri: `${repo.url}/corrupt.json` }, 400, 'RepositoryIndexInvalid'],
      [{ name: 'odd', uri: `${repo.url}/not-an-index.json` }, 400, 'RepositoryIndexInvalid'],
      [{ uri: `${repo.url}/universe.zip` }, 400, 'MalformedRequest'],
    ];
    for (const [request, status, type, data] of cases) {
      const answer = await post('/package/repository/add', request);
      expect({ request, status: answer.status, type: answer.body.type }).toEqual({ request, status, type });
      expect(answer.type).toBe('application/vnd.dcos.package.error+json;charset=utf-8;version=v1');
      expect(typeof answer.body.message).toBe('string');
      if (data !== undefined) expect(answer.body.data).toEqual(data);
    }
    expect((await post('/package/repository/add', { name: 'corrupt', uri: `${repo.url}/corrupt.json` })).body.message)
      .toMatch(/^The index of repository \[corrupt\] at .*corrupt\.json cannot be used: the index is not JSON/);
    expect(names(await post('/package/repository/list', {}))).toEqual(['json']);
  });

  it('deletes by name and by URI; RepoNameOrUriMissing and RepositoryNotPresent otherwise', async () => {
    await post('/package/repository/add', { name: 'json', uri: `${repo.url}/repo.json` });
    await post('/package/repository/add', { name: 'zip', uri: `${repo.url}/universe.zip` });
    expect((await post('/package/repository/delete', {}, 'repository.delete')).body).toEqual({
      type: 'RepoNameOrUriMissing', message: 'Must specify either the name or URI of the repository',
    });
    expect((await post('/package/repository/delete', { name: 'nope' })).body).toMatchObject({ type: 'RepositoryNotPresent', data: { name: 'nope' } });
    expect(names(await post('/package/repository/delete', { name: 'json' }))).toEqual(['zip']);
    expect(names(await post('/package/repository/delete', { uri: `${repo.url}/universe.zip` }))).toEqual([]);
  });

  it('writes the default list on the first start only', async () => {
    // The first service started with none: the list exists (empty), and a later default list is not written.
    await startService([{ name: 'late', uri: `${repo.url}/repo.json` }]);
    expect(names(await post('/package/repository/list', {}))).toEqual([]);
    await keys.namespace.delete().key('/v1/package_repositories');
    const first = await startService([{ name: 'default', uri: `${repo.url}/repo.json` }]);
    expect(names(await post('/package/repository/list', {}, undefined, first))).toEqual(['default']);
  });

  it('keeps the last good copy of a repository that became unreachable, and says so', async () => {
    await post('/package/repository/add', { name: 'json', uri: `${repo.url}/repo.json` });
    repo.down = true;
    const refreshed = await post('/package/repository/refresh', {});
    expect(refreshed.body.repositories).toEqual([
      expect.objectContaining({ name: 'json', status: expect.objectContaining({ state: 'stale', packages: 4, error: expect.stringContaining('HTTP 503') }) }),
    ]);
    const found = await post('/package/search', { query: 'hello' }, 'search');
    expect(found.body).toMatchObject({ packages: [{ name: 'hello' }], repositories: [{ name: 'json', status: { state: 'stale' } }] });
    repo.down = false;
    expect((await post('/package/repository/refresh', {})).body.repositories).toEqual([expect.objectContaining({ status: expect.objectContaining({ state: 'ok' }) })]);
  });

  it('loses none of 50 repositories added at once', async () => {
    const added = await Promise.all(Array.from({ length: 50 }, (_, i) => post('/package/repository/add', { name: `r${i}`, uri: `${repo.url}/repo.json?copy=${i}` })));
    expect(added.filter((answer) => answer.status !== 200)).toEqual([]);
    const listed = names(await post('/package/repository/list', {})) as string[];
    expect([...listed].sort()).toEqual(Array.from({ length: 50 }, (_, i) => `r${i}`).sort());
  });
});

describe('packages', () => {
  beforeEach(async () => {
    await post('/package/repository/add', { name: 'json', uri: `${repo.url}/repo.json` });
    await post('/package/repository/add', { name: 'zip', uri: `${repo.url}/universe.zip` });
  });

  it('searches by text and describes a release (the newest by default)', async () => {
    const found = await post('/package/search', { query: 'hello' }, 'search');
    expect(found.body.packages).toEqual([
      expect.objectContaining({ name: 'hello', currentVersion: '2.0.0', versions: { '1.0.0': '0', '2.0.0': '1' }, repository: 'json' }),
      expect.objectContaining({ name: 'zipped-hello', currentVersion: '3.1', tags: ['zip'], repository: 'zip' }),
    ]);
    expect(((await post('/package/search', { query: 'MARATHON-*' })).body.packages as { name: string }[]).map((p) => p.name)).toEqual(['marathon-web']);
    const described = await post('/package/describe', { packageName: 'hello' }, 'describe');
    expect(described.type).toBe('application/vnd.dcos.package.describe-response+json;charset=utf-8;version=v3');
    expect(described.body).toMatchObject({ package: { name: 'hello', version: '2.0.0', description: 'Says hello over HTTP' }, repository: { name: 'json' } });
    expect((await post('/package/describe', { packageName: 'hello', packageVersion: '1.0.0' })).body).toMatchObject({ package: { releaseVersion: 0 } });
    expect((await post('/package/describe', { packageName: 'hello', packageVersion: '9' })).body).toMatchObject({ type: 'VersionNotFound' });
    expect((await post('/package/describe', { packageName: 'nothing' })).body).toMatchObject({ type: 'PackageNotFound' });
  });

  it('installs with the defaults and with options, lists the installs, refuses options the schema refuses, and uninstalls', async () => {
    const installed = await post('/package/install', { packageName: 'hello' }, 'install');
    expect(installed.type).toBe('application/vnd.dcos.package.install-response+json;charset=utf-8;version=v2');
    expect(installed.body).toEqual({ packageName: 'hello', packageVersion: '2.0.0', appId: 'hello', postInstallNotes: 'hello is starting' });
    const lrp = await bbsClient.desiredLRPByProcessGuid('hello');
    expect(lrp).toMatchObject({ domain: 'packages', instances: 1, env: [{ name: 'GREETING', value: 'hello' }] });
    expect(JSON.parse(lrp.annotation)).toEqual({ diego_package: { name: 'hello', version: '2.0.0', releaseVersion: 1, repository: 'json' } });

    const withOptions = await post('/package/install', {
      packageName: 'hello', packageVersion: '1.0.0', options: { service: { name: 'hi', instances: 2 }, greeting: 'ni hao "and" }' },
    });
    expect(withOptions.body).toMatchObject({ appId: 'hi', packageVersion: '1.0.0' });
    expect(await bbsClient.desiredLRPByProcessGuid('hi')).toMatchObject({ instances: 2, env: [{ name: 'GREETING', value: 'ni hao "and" }' }] });

    const refused = await post('/package/install', { packageName: 'hello', options: { service: { instances: 9 } } });
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({ type: 'JsonSchemaMismatch', data: { errors: [{ path: '/service/instances', message: 'must be <= 5' }] } });
    expect((await post('/package/install', { packageName: 'hello' })).body).toMatchObject({ type: 'PackageAlreadyInstalled' });
    expect((await post('/package/install', { packageName: 'zipped-hello' })).body).toMatchObject({ appId: 'zipped', packageVersion: '3.1' });

    const listed = await post('/package/list', {}, 'list');
    expect((listed.body.packages as { appId: string }[]).map((p) => p.appId)).toEqual(['hello', 'hi', 'zipped']);
    expect((await post('/package/list', { packageName: 'hello' })).body.packages).toEqual([
      { appId: 'hello', packageInformation: { packageDefinition: { name: 'hello', version: '2.0.0', releaseVersion: 1, repository: 'json', description: 'Says hello over HTTP' } } },
      expect.objectContaining({ appId: 'hi' }),
    ]);

    expect((await post('/package/uninstall', { packageName: 'hello' })).body).toMatchObject({ type: 'AmbiguousAppId', data: { appIds: ['hello', 'hi'] } });
    expect((await post('/package/uninstall', { packageName: 'hello', appId: 'hi' }, 'uninstall')).body).toEqual({
      results: [{ packageName: 'hello', appId: 'hi', packageVersion: '1.0.0' }],
    });
    await expect(bbsClient.desiredLRPByProcessGuid('hi')).rejects.toMatchObject({ type: 'ResourceNotFound' });
    expect((await post('/package/uninstall', { packageName: 'hello', all: true })).body).toMatchObject({ results: [{ appId: 'hello' }] });
    expect((await post('/package/uninstall', { packageName: 'hello' })).body).toMatchObject({ type: 'PackageNotInstalled' });
    expect((await post('/package/list', {})).body.packages).toEqual([expect.objectContaining({ appId: 'zipped' })]);
  });

  it('translates a Marathon app that fits, and refuses one that does not, saying why', async () => {
    expect((await post('/package/install', { packageName: 'marathon-web', options: { mode: 'dev' } })).body).toMatchObject({ appId: 'marathon-web' });
    expect(await bbsClient.desiredLRPByProcessGuid('marathon-web')).toMatchObject({
      domain: 'packages',
      rootfs: 'docker:///library/busybox:1.36',
      instances: 2,
      cpu_weight: 50,
      memory_mb: 96,
      disk_mb: 10,
      ports: [80],
      env: [{ name: 'MODE', value: 'dev' }],
      action: { run: { path: '/bin/sh', args: ['-c', 'exec sleep 1000'] } },
      monitor: { run: { path: '/bin/sh', args: ['-c', expect.stringContaining('http://127.0.0.1:$PORT/health')] } },
    });
    const refused = await post('/package/install', { packageName: 'pinned' });
    expect(refused.status).toBe(400);
    expect(refused.body).toEqual({
      type: 'MarathonAppNotTranslatable',
      message: "The package's Marathon app cannot run as a DesiredLRP: constraints: placement constraints have no DesiredLRP equivalent (cells are chosen by the auctioneer alone)",
      data: { field: 'constraints', reason: 'placement constraints have no DesiredLRP equivalent (cells are chosen by the auctioneer alone)' },
    });
    await expect(bbsClient.desiredLRPByProcessGuid('pinned')).rejects.toMatchObject({ type: 'ResourceNotFound' });
  });
});

describe('the HTTP surface', () => {
  it('takes basic auth or the receptor cookie when a username is set, and refuses a content type or route it does not know', async () => {
    const guarded = await startService([], { username: 'admin', password: 's3cret' });
    const refused = await post('/package/repository/list', {}, undefined, guarded);
    expect(refused).toMatchObject({ status: 401, body: { type: 'Unauthorized' } });
    const basic = `Basic ${Buffer.from('admin:s3cret').toString('base64')}`;
    expect((await post('/package/repository/list', {}, undefined, guarded, { Authorization: basic })).status).toBe(200);
    // The cookie counts on a page's script's request only (X-Requested-With, which a browser sends another origin
    // only after a CORS preflight): dashboard-access.int.test.ts.
    const cookie = { Cookie: `receptor_authorization=${basic}` };
    expect((await post('/package/repository/list', {}, undefined, guarded, { ...cookie, 'X-Requested-With': 'XMLHttpRequest' })).status).toBe(200);
    expect((await post('/package/repository/list', {}, undefined, guarded, cookie)).status).toBe(401);

    const xml = await fetch(`${url}/package/search`, { method: 'POST', headers: { 'Content-Type': 'text/xml' }, body: '<x/>' });
    expect(xml.status).toBe(415);
    expect(await xml.json()).toMatchObject({ type: 'UnsupportedContentType' });
    expect((await fetch(`${url}/package/search`)).status).toBe(405);
    expect((await fetch(`${url}/package/nothing`, { method: 'POST' })).status).toBe(404);
    const notJson = await fetch(`${url}/package/search`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{' });
    expect(await notJson.json()).toMatchObject({ type: 'MalformedRequest' });
  });
});
