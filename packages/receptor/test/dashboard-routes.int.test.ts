// Our routes for the dashboard (README "Dashboard"): pages and summaries, the task events, an image's config from a
// cell and the session check, against a real BBS and etcd; the cells are test cells serving the rep API.
import request from 'supertest';
import pino from 'pino';
import type { RunningServer } from '@diego/server-support';
import { startReceptor } from '../src';
import { newValidCellPresence, SseClient, startTestCell, type TestCell } from '@diego/test-support';
import { startReceptorUnderTest, type ReceptorUnderTest } from './support/receptor-under-test';
import { asObject, desiredLrpRequest, expectEmpty, expectError, expectJson, taskRequest, uniqueGuid } from './support/http';

const USERNAME = 'user';
const PASSWORD = 'password';
const AUTHORIZATION = `Basic ${Buffer.from(`${USERNAME}:${PASSWORD}`).toString('base64')}`;

let receptor: ReceptorUnderTest;
const cells: TestCell[] = [];

beforeAll(async () => {
  receptor = await startReceptorUnderTest();
});

afterEach(async () => {
  for (const cell of cells.splice(0)) await cell.stop();
});

afterAll(async () => {
  await receptor?.stop();
});

async function startCell(cellId: string, rootfsProviders?: Record<string, string[]>): Promise<TestCell> {
  const cell = await startTestCell({ cellId, bbs: receptor.bbs, ...(rootfsProviders === undefined ? {} : { rootfsProviders }) });
  cells.push(cell);
  return cell;
}

describe('DesiredLRPSummaries', () => {
  it('answers one page of DesiredLRPs with their instances counted by state, filtered by domain and guid, with its revision', async () => {
    const domain = uniqueGuid('summaries');
    for (const guid of ['sum-b', 'sum-a', 'other']) {
      expectEmpty(await request(receptor.app).post('/v1/desired_lrps').send(desiredLrpRequest(`${domain}-${guid}`, { domain, instances: 2 })), 201);
    }
    const res = await request(receptor.app).get(`/v1/desired_lrp_summaries?domain=${domain}&search=SUM-&limit=1`);
    const page = asObject(expectJson(res, 200));
    expect(BigInt(String(res.headers['x-diego-revision']))).toBeGreaterThan(0n);
    expect(page).toMatchObject({
      total: 2,
      offset: 0,
      desired_lrps: [{ process_guid: `${domain}-sum-a`, domain, instances: 2, actual_lrps: { UNCLAIMED: 2, CLAIMED: 0, RUNNING: 0, CRASHED: 0 } }],
    });
    expect(page.domains).toContain(domain);
    const next = asObject(expectJson(await request(receptor.app).get(`/v1/desired_lrp_summaries?domain=${domain}&search=sum-&offset=1&limit=1`), 200));
    expect(next).toMatchObject({ total: 2, offset: 1, desired_lrps: [{ process_guid: `${domain}-sum-b` }] });
  });

  it('refuses an offset or limit it cannot use with InvalidRequest, naming it', async () => {
    expectError(await request(receptor.app).get('/v1/desired_lrp_summaries?limit=1001'), 400, 'InvalidRequest', 'limit must be a whole number from 1 to 1000');
    expectError(await request(receptor.app).get('/v1/desired_lrp_summaries?offset=-1'), 400, 'InvalidRequest',
      `offset must be a whole number from 0 to ${Number.MAX_SAFE_INTEGER}`);
  });
});

describe('TaskSummaries', () => {
  it('answers one page of tasks, newest first, filtered by domain, state and guid, with its revision', async () => {
    const prefix = uniqueGuid('task-page');
    for (const name of ['first', 'second', 'third']) {
      expectEmpty(await request(receptor.app).post('/v1/tasks').send(taskRequest(`${prefix}-${name}`)), 201);
    }
    const res = await request(receptor.app).get(`/v1/task_summaries?search=${prefix}&state=PENDING&limit=2`);
    const page = asObject(expectJson(res, 200));
    expect(BigInt(String(res.headers['x-diego-revision']))).toBeGreaterThan(0n);
    expect(page).toMatchObject({ total: 3, offset: 0, tasks: [{ task_guid: `${prefix}-third`, state: 'PENDING' }, { task_guid: `${prefix}-second` }] });
    const next = asObject(expectJson(await request(receptor.app).get(`/v1/task_summaries?search=${prefix}&offset=2&limit=2`), 200));
    expect(next).toMatchObject({ total: 3, offset: 2, tasks: [{ task_guid: `${prefix}-first` }] });
    const elsewhere = asObject(expectJson(await request(receptor.app).get(`/v1/task_summaries?search=${prefix}&domain=${prefix}-none`), 200));
    expect(elsewhere).toMatchObject({ total: 0, tasks: [] });
    const none = asObject(expectJson(await request(receptor.app).get(`/v1/task_summaries?search=${prefix}&state=COMPLETED`), 200));
    expect(none).toMatchObject({ total: 0, tasks: [] });
    expectError(await request(receptor.app).get('/v1/task_summaries?state=DONE'), 400, 'InvalidRequest',
      'state must be one of PENDING, RUNNING, COMPLETED, RESOLVING');
  });
});

describe('CellSummaries', () => {
  it('answers a page of cells in id order with what each holds, and a cell that does not answer without it', async () => {
    const busy = await startCell('summary-cell-b');
    await startCell('summary-cell-a');
    await receptor.bbs.registerCell(newValidCellPresence('summary-cell-c', { rep_address: 'http://127.0.0.1:1' }), 30);
    const guid = uniqueGuid('on-cell');
    expectEmpty(await request(receptor.app).post('/v1/desired_lrps').send(desiredLrpRequest(guid, { instances: 1, memory_mb: 64, disk_mb: 32 })), 201);
    await receptor.bbs.claimActualLRP(guid, 0, { instance_guid: 'ig-0', cell_id: busy.cellId });

    const page = asObject(expectJson(await request(receptor.app).get('/v1/cell_summaries?limit=3'), 200));
    expect(page.total).toBe(3);
    expect(page.cells).toEqual([
      expect.objectContaining({ cell_id: 'summary-cell-a', zone: 'z1', in_use: { memory_mb: 0, disk_mb: 0, containers: 0 }, lrps: 0, tasks: 0, evacuating: false, state_error: null }),
      expect.objectContaining({ cell_id: 'summary-cell-b', capacity: { memory_mb: 1024, disk_mb: 1024, containers: 10 } }),
      expect.objectContaining({ cell_id: 'summary-cell-c', in_use: null, lrps: null, state_error: expect.any(String) }),
    ]);
    await receptor.bbs.removeCell('summary-cell-c');
  });
});

describe('CellActualLRPs', () => {
  it("answers the cell's instances as GET /v1/actual_lrps does, and [] for a cell that holds none", async () => {
    const guid = uniqueGuid('cell-instances');
    expectEmpty(await request(receptor.app).post('/v1/desired_lrps').send(desiredLrpRequest(guid, { instances: 2 })), 201);
    await receptor.bbs.claimActualLRP(guid, 1, { instance_guid: 'ig-1', cell_id: 'cell-with-one' });
    const instances = expectJson(await request(receptor.app).get('/v1/cells/cell-with-one/actual_lrps'), 200);
    expect(instances).toEqual([expect.objectContaining({ process_guid: guid, index: 1, state: 'CLAIMED', cell_id: 'cell-with-one' })]);
    expect(expectJson(await request(receptor.app).get('/v1/cells/cell-with-none/actual_lrps'), 200)).toEqual([]);
  });
});

describe('DomainFreshness', () => {
  it('answers each fresh domain with the seconds it stays fresh, null for ever', async () => {
    const domain = uniqueGuid('fresh');
    expectEmpty(await request(receptor.app).put(`/v1/domains/${domain}`).set('Cache-Control', 'max-age=300'), 204);
    expectEmpty(await request(receptor.app).put(`/v1/domains/${domain}-forever`), 204);
    const domains = expectJson(await request(receptor.app).get('/v1/domain_freshness'), 200);
    expect(domains).toEqual(expect.arrayContaining([
      { domain, ttl_seconds: expect.any(Number) },
      { domain: `${domain}-forever`, ttl_seconds: null },
    ]));
  });
});

describe('TaskEventStream', () => {
  let server: RunningServer;

  beforeAll(async () => {
    server = await startReceptor(
      { address: '127.0.0.1:0', bbsAddress: [receptor.bbsUrl], username: USERNAME, password: PASSWORD, corsEnabled: false, logLevel: 'error', debugAddress: null },
      { logger: pino({ level: 'silent' }) },
    );
  });

  afterAll(async () => {
    await server?.stop();
  });

  it('relays the task events as JSON with resumable ids, behind basic auth, and never an LRP event', async () => {
    const refused = await SseClient.connect(`http://${server.address}/v1/task_events`);
    expect(refused.response.statusCode).toBe(401);
    refused.close();
    const client = await SseClient.connect(`http://${server.address}/v1/task_events`, { Cookie: `receptor_authorization="${AUTHORIZATION}"` });
    try {
      const guid = uniqueGuid('task-event');
      expectEmpty(await request(receptor.app).post('/v1/desired_lrps').send(desiredLrpRequest(`${guid}-lrp`)), 201);
      expectEmpty(await request(receptor.app).post('/v1/tasks').send(taskRequest(guid)), 201);
      await receptor.bbs.startTask(guid, 'some-cell');
      const created = await client.next((event) => event.event !== '');
      expect(created.event).toBe('task_created');
      expect(created.id).toMatch(/^\d+\.\d+$/);
      expect(JSON.parse(created.dataLines.join('\n'))).toMatchObject({ task: { task_guid: guid, state: 'PENDING' } });
      const changed = await client.next();
      expect(changed.event).toBe('task_changed');
      expect(JSON.parse(changed.dataLines.join('\n'))).toMatchObject({ task_before: { state: 'PENDING' }, task_after: { state: 'RUNNING', cell_id: 'some-cell' } });

      // Resumed after the first event: the second comes again, and nothing before it.
      const resumed = await SseClient.connect(`http://${server.address}/v1/task_events`, { Authorization: AUTHORIZATION, 'Last-Event-ID': created.id });
      try {
        expect((await resumed.next()).id).toBe(changed.id);
      } finally {
        resumed.close();
      }
    } finally {
      client.close();
    }
  });
});

describe('ImageConfig', () => {
  it('refuses a rootfs that is no docker:// URL with InvalidRequest', async () => {
    expectError(await request(receptor.app).get('/v1/image_config?rootfs=preloaded:cflinuxfs2'), 400, 'InvalidRequest', 'rootfs must be a docker:// URL');
  });

  it('answers 404 ImageConfigUnavailable when no cell runs docker images', async () => {
    await startCell('preloaded-only', { preloaded: ['cflinuxfs2'] });
    expectError(await request(receptor.app).get('/v1/image_config?rootfs=docker:///library/busybox'), 404, 'ImageConfigUnavailable', 'no cell runs docker images');
  });

  it("relays a docker cell's refusal as ImageConfigUnavailable naming the cell", async () => {
    // The test cell serves no /v1/image_config: it answers 404, which the receptor reports as the cell's answer.
    await startCell('docker-cell');
    expectError(await request(receptor.app).get('/v1/image_config?rootfs=docker:///library/busybox'), 422, 'ImageConfigUnavailable',
      'cell docker-cell: answered 404');
  });
});

describe('Session', () => {
  it('says whether basic auth is on and whether the Authorization header, or else the cookie, passes it, without a challenge', async () => {
    const open = await request(receptor.app).get('/v1/session');
    expect(expectJson(open, 200)).toEqual({ basic_auth: false, signed_in: true });
    const guarded = receptor.appWith({ username: USERNAME, password: PASSWORD });
    const anonymous = await request(guarded).get('/v1/session');
    expect(expectJson(anonymous, 200)).toEqual({ basic_auth: true, signed_in: false });
    expect(anonymous.headers['www-authenticate']).toBeUndefined();
    expect(expectJson(await request(guarded).get('/v1/session').set('Authorization', AUTHORIZATION), 200)).toEqual({ basic_auth: true, signed_in: true });
    expect(expectJson(await request(guarded).get('/v1/session').set('Cookie', `receptor_authorization="${AUTHORIZATION}"`), 200))
      .toEqual({ basic_auth: true, signed_in: true });
    const wrong = `Basic ${Buffer.from(`${USERNAME}:nope`).toString('base64')}`;
    expect(expectJson(await request(guarded).get('/v1/session').set('Authorization', wrong), 200)).toEqual({ basic_auth: true, signed_in: false });
  });
});

describe("a page's refused request", () => {
  it("comes without the Basic challenge when the page's script says it sent it, so that the browser shows no prompt of its own", async () => {
    const guarded = receptor.appWith({ username: USERNAME, password: PASSWORD });
    const fromScript = await request(guarded).get('/v1/task_summaries').set('X-Requested-With', 'XMLHttpRequest');
    expectError(fromScript, 401, 'Unauthorized', 'Unauthorized');
    expect(fromScript.headers['www-authenticate']).toBeUndefined();
    const fromClient = await request(guarded).get('/v1/task_summaries');
    expectError(fromClient, 401, 'Unauthorized', 'Unauthorized');
    expect(fromClient.headers['www-authenticate']).toBe('Basic realm="API Authentication"');
  });
});

describe('the dashboard files', () => {
  it('serves the page and its built script at /dashboard/ without credentials, and redirects /dashboard there', async () => {
    const guarded = receptor.appWith({ username: USERNAME, password: PASSWORD });
    const page = await request(guarded).get('/dashboard/');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.headers['content-security-policy']).toContain("default-src 'self'");
    expect(page.text).toContain('<script type="module" src="main.js"></script>');
    const script = await request(guarded).get('/dashboard/main.js');
    expect(script.status).toBe(200);
    expect(script.headers['content-type']).toMatch(/javascript/);
    const redirect = await request(guarded).get('/dashboard');
    expect([redirect.status, redirect.headers.location]).toEqual([301, '/dashboard/']);
    expect((await request(guarded).get('/dashboard/missing.js')).text).toBe('404 page not found\n');
  });
});
