/**
 * How the receptor's dashboard, a page of another origin, reaches `diego packages` (README "Dashboard"): CORS with
 * credentials for the exact origins of --dashboardOrigins and no CORS header for any other, the service's own
 * cookie set by POST /package/auth_cookie, the cookie counted only on a page script's request, and a page's
 * refused request answered without the Basic challenge. Against a real BBS on the test etcd.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { startBbsServer, type BbsServer } from '@diego/bbs';
import { type RunningServer } from '@diego/server-support';
import { startPackageService } from '@diego/package-service';
import { testKeySpace, type TestKeySpace } from '@diego/test-support';

const DASHBOARD = 'http://127.0.0.1:8887';
const USERNAME = 'operator';
const PASSWORD = 'correct horse battery staple';
const BASIC = `Basic ${Buffer.from(`${USERNAME}:${PASSWORD}`).toString('base64')}`;
const FROM_PAGE = { 'X-Requested-With': 'XMLHttpRequest' };

let keys: TestKeySpace;
let bbs: BbsServer;
let dataDir: string;
let services: RunningServer[];

async function startService(dashboardOrigins: string[], corsEnabled = false): Promise<string> {
  const service = await startPackageService({
    address: '127.0.0.1:0', bbsAddress: [`http://${bbs.address}`], username: USERNAME, password: PASSWORD, corsEnabled,
    logLevel: 'error', dataDir, defaultRepositories: [], refreshIntervalMs: 0, dashboardOrigins,
  }, { logger: pino({ level: 'silent' }) });
  services.push(service);
  return `http://${service.address}`;
}

beforeAll(async () => {
  keys = testKeySpace();
  bbs = await startBbsServer({ etcd: keys.namespace, listenAddress: '127.0.0.1:0', logger: pino({ level: 'silent' }) });
  dataDir = mkdtempSync(join(tmpdir(), 'diego-packages-dashboard-'));
  services = [];
});

afterAll(async () => {
  for (const service of services) await service.stop();
  await bbs?.stop();
  await keys?.cleanup();
  rmSync(dataDir, { recursive: true, force: true });
});

/** A browser's preflight for the page's POST of JSON with its marker. */
function preflight(url: string, origin: string, path = '/package/repository/list'): Promise<Response> {
  return fetch(`${url}${path}`, {
    method: 'OPTIONS',
    headers: { Origin: origin, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'accept,content-type,x-requested-with' },
  });
}

function post(url: string, path: string, headers: Record<string, string>): Promise<Response> {
  return fetch(`${url}${path}`, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: '{}' });
}

function corsHeaders(response: Response): Record<string, string | null> {
  return {
    origin: response.headers.get('access-control-allow-origin'),
    credentials: response.headers.get('access-control-allow-credentials'),
  };
}

describe('the dashboard origins (--dashboardOrigins)', () => {
  it('answer a preflight from a dashboard origin, credentials allowed; any other origin gets no CORS header at all', async () => {
    const url = await startService([DASHBOARD]);
    const allowed = await preflight(url, DASHBOARD);
    expect(allowed.status).toBe(204);
    expect(corsHeaders(allowed)).toEqual({ origin: DASHBOARD, credentials: 'true' });
    expect(allowed.headers.get('access-control-allow-methods')).toBe('POST');
    expect(allowed.headers.get('access-control-allow-headers')?.split(', ')).toEqual(['Accept', 'Authorization', 'Content-Type', 'X-Requested-With']);
    expect(allowed.headers.get('vary')).toMatch(/\bOrigin\b/);
    expect((await preflight(url, DASHBOARD, '/package/auth_cookie')).status).toBe(204);

    // The same page opened as localhost is another origin, as are another port, scheme or site, and "null".
    for (const other of ['http://localhost:8887', 'http://127.0.0.1:8888', 'https://127.0.0.1:8887', 'http://evil.example', 'null']) {
      const refused = await preflight(url, other);
      expect({ other, status: refused.status, ...corsHeaders(refused) }).toEqual({ other, status: 405, origin: null, credentials: null });
    }
  });

  it("give a dashboard page's request the credentials headers, and another origin's none (its page cannot read the answer)", async () => {
    const url = await startService([DASHBOARD]);
    const withCredentials = { ...FROM_PAGE, Authorization: BASIC };
    const allowed = await post(url, '/package/repository/list', { ...withCredentials, Origin: DASHBOARD });
    expect(allowed.status).toBe(200);
    expect(corsHeaders(allowed)).toEqual({ origin: DASHBOARD, credentials: 'true' });
    const other = await post(url, '/package/repository/list', { ...withCredentials, Origin: 'http://localhost:8887' });
    expect(corsHeaders(other)).toEqual({ origin: null, credentials: null });
  });

  it('are none by default: no origin gets a CORS header', async () => {
    const url = await startService([]);
    const refused = await preflight(url, DASHBOARD);
    expect({ status: refused.status, ...corsHeaders(refused) }).toEqual({ status: 405, origin: null, credentials: null });
  });

  it('keep the credentials theirs under --corsEnabled, which answers any other origin without them', async () => {
    const url = await startService([DASHBOARD], true);
    const withCredentials = { ...FROM_PAGE, Authorization: BASIC };
    const dashboard = await post(url, '/package/repository/list', { ...withCredentials, Origin: DASHBOARD });
    expect(corsHeaders(dashboard)).toEqual({ origin: DASHBOARD, credentials: 'true' });
    const other = await post(url, '/package/repository/list', { ...withCredentials, Origin: 'http://evil.example' });
    expect(other.status).toBe(200);
    expect(corsHeaders(other)).toEqual({ origin: 'http://evil.example', credentials: null });
    expect(corsHeaders(await preflight(url, 'http://evil.example'))).toEqual({ origin: 'http://evil.example', credentials: null });
  });
});

describe("the page's credentials", () => {
  it("POST /package/auth_cookie turns the Authorization header into the service's own cookie (path /package, HttpOnly, SameSite=Strict)", async () => {
    const url = await startService([DASHBOARD]);
    const set = await post(url, '/package/auth_cookie', { ...FROM_PAGE, Authorization: BASIC, Origin: DASHBOARD });
    expect(set.status).toBe(204);
    expect(corsHeaders(set)).toEqual({ origin: DASHBOARD, credentials: 'true' });
    const cookie = set.headers.get('set-cookie') ?? '';
    expect(cookie).toBe(`receptor_authorization="${BASIC}"; Path=/package; HttpOnly; SameSite=Strict`);

    // The cookie as the browser sends it back, on the page's requests.
    const sent = cookie.split(';')[0] ?? '';
    expect((await post(url, '/package/repository/list', { ...FROM_PAGE, Cookie: sent, Origin: DASHBOARD })).status).toBe(200);

    // Only the header makes the cookie: wrong credentials, none, or the cookie itself are refused, and set nothing.
    const attempts: Array<Record<string, string>> = [{ Authorization: `Basic ${Buffer.from(`${USERNAME}:wrong`).toString('base64')}` }, {}, { Cookie: sent }];
    for (const headers of attempts) {
      const refused = await post(url, '/package/auth_cookie', { ...FROM_PAGE, ...headers });
      expect({ status: refused.status, cookie: refused.headers.get('set-cookie') }).toEqual({ status: 401, cookie: null });
    }
    const get = await fetch(`${url}/package/auth_cookie`);
    expect({ status: get.status, allow: get.headers.get('allow') }).toEqual({ status: 405, allow: 'POST' });
  });

  it("count the cookie only on a page's script's request, and refuse that one without the Basic challenge", async () => {
    const url = await startService([DASHBOARD]);
    const cookie = { Cookie: `receptor_authorization="${BASIC}"` };
    // Without the marker (a form or a no-cors request from any page of this host, which SameSite does not stop):
    // the cookie does not count, and the refusal challenges as for any client.
    const withoutMarker = await post(url, '/package/repository/list', cookie);
    expect(withoutMarker.status).toBe(401);
    expect(withoutMarker.headers.get('www-authenticate')).toBe('Basic realm="API Authentication"');

    const pageWithout = await post(url, '/package/repository/list', { ...FROM_PAGE, Origin: DASHBOARD });
    expect(pageWithout.status).toBe(401);
    expect(pageWithout.headers.get('www-authenticate')).toBeNull();
    expect(await pageWithout.json()).toEqual({ type: 'Unauthorized', message: 'Unauthorized' });
  });
});
