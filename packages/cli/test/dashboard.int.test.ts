/**
 * The dashboard end to end, in a real browser: Debian's chromium driven by playwright-core (no browser is ever
 * downloaded), against a real cluster: a leading BBS on the test's etcd key space, the receptor behind basic auth,
 * and two `diego cell` processes. What a user does with nothing but the page: sign in once, mark the domain fresh,
 * create the README's hello app from the form and watch it run, kill an instance and see it come back, scale it,
 * read a receptor error, run a task, and see a killed cell's instances move; see a cell that held nothing appear and,
 * killed, leave, and a domain set fresh from elsewhere appear; follow what an app prints; and (as root, where a cell
 * reads images) have the New app form offer an image's command and ports. The page is never reloaded.
 *
 * Screenshots of the main views go to $DIEGO_DASHBOARD_SCREENSHOTS, or <tmpdir>/diego-dashboard-screenshots.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { BrowserContext, Page } from 'playwright-core';
import { removeCellLeftovers } from '@diego/cell';
import { startReceptor } from '@diego/receptor';
import type { RunningServer } from '@diego/server-support';
import {
  eventually, fileLayer, pushImage, startLeadingBbs, startRegistry, testKeySpace, uniqueNetworkPool, type LeadingBbs,
  type RegistryProcess, type TestKeySpace,
} from '@diego/test-support';
import { expectNoPageFailures, openDashboardBrowser, type DashboardBrowser } from './dashboard-browser';
import { assertBuilt, spawnDiego, stdoutContains, stopAll, upOnFreePorts, type DiegoProcess } from './diego-process';

const USERNAME = 'operator';
const PASSWORD = 'correct horse battery staple';
/** Generous: CI's machine is loaded, and every wait is for a condition, never a fixed time. */
const WAIT_MS = 60_000;
const CELL_IDS = ['dash-cell-a', 'dash-cell-b'] as const;
const UP_CELL_ID = 'dash-up-cell';
/** A cell started late, so that nothing is ever placed on it. */
const IDLE_CELL_ID = 'dash-idle-cell';

/** Only a root cell reads images (a cell without root runs plain processes and no image at all). */
const AS_ROOT = process.getuid?.() === 0;
const itAsRoot = AS_ROOT ? it : it.skip;
if (!AS_ROOT) console.warn("skipping the dashboard's image config test: only a root cell reads images");
/** The image the New app form is given: its config's command and exposed ports are what the form should offer. */
const IMAGE = { repository: 'dash/web', tag: 'v1', entrypoint: ['/bin/httpd'], cmd: ['-f', '-p', '8080'], ports: ['8080/tcp', '9090/tcp'] };
/** What the logging app prints when it starts. */
const LOGGED_LINE = 'the logger app says hello';

/** The README walkthrough's app, as a user types it into the form. */
const HELLO_SCRIPT =
  "require('http').createServer((req, res) => res.end(`hello from instance ${process.env.INSTANCE_INDEX} at ${process.env.CF_INSTANCE_ADDR}\\n`)).listen(process.env.PORT)";

let keys: TestKeySpace;
let leading: LeadingBbs;
let receptor: RunningServer;
let receptorUrl: string;
let registry: RegistryProcess | null = null;
let workDir: string;
const cells = new Map<string, DiegoProcess>();
let browser: DashboardBrowser | undefined;
let context: BrowserContext;
let page: Page;

function startDiegoCell(cellId: string, extraArgs: readonly string[] = []): DiegoProcess {
  return spawnDiego([
    'cell', `--cellID=${cellId}`, '--zone=z1', '--listenAddr=127.0.0.1:0', `--bbsAddress=${leading.url}`,
    '--memoryMB=1024', '--diskMB=1024', '--containers=8', '--preloadedRootFS=cflinuxfs2', `--workDir=${join(workDir, cellId)}`,
    '--evacuationTimeout=1s', `--networkPool=${uniqueNetworkPool()}`, '--dockerRegistryURL=http://127.0.0.1:1',
    ...extraArgs,
  ]);
}

function screenshot(name: string): Promise<void> {
  return browser?.screenshot(name) ?? Promise.resolve();
}

/** Waits until the page shows exactly `count` elements matching `selector`. */
async function showsCount(selector: string, count: number): Promise<void> {
  await eventually(() => page.locator(selector).count(), (shown) => shown === count, { timeoutMs: WAIT_MS, intervalMs: 200 });
}

/** Waits until the app's row counts `count` RUNNING instances. */
async function appRowRunning(guid: string, count: number): Promise<void> {
  await page.locator(`#apps-table tr[data-guid="${guid}"] td[data-state="RUNNING"]`, { hasText: new RegExp(`^${count}$`) }).waitFor({ timeout: WAIT_MS });
}

interface InstanceRow {
  index: number;
  state: string;
  cell: string;
  instanceGuid: string;
  links: string[];
}

/** The app detail's instances as the page shows them. */
function instanceRows(): Promise<InstanceRow[]> {
  return page.$$eval('#instances-table tbody tr', (rows) => rows.map((row) => ({
    index: Number(row.getAttribute('data-index')),
    state: row.getAttribute('data-state') ?? '',
    cell: row.children[2]?.textContent ?? '',
    instanceGuid: row.getAttribute('data-instance-guid') ?? '',
    links: [...row.querySelectorAll('a')].map((link) => link.href),
  })));
}

async function instancesAre(check: (rows: InstanceRow[]) => boolean): Promise<InstanceRow[]> {
  return eventually(instanceRows, check, { timeoutMs: WAIT_MS, intervalMs: 200 });
}

const allRunning = (count: number) => (rows: InstanceRow[]): boolean => rows.length === count && rows.every((row) => row.state === 'RUNNING');

beforeAll(async () => {
  assertBuilt();
  keys = testKeySpace();
  workDir = mkdtempSync(join(tmpdir(), 'diego-dashboard-'));
  // Convergence every 2 s: a killed instance is desired again within moments.
  leading = await startLeadingBbs(keys, { convergeRepeatIntervalMs: 2_000 });
  receptor = await startReceptor(
    { address: '127.0.0.1:0', bbsAddress: [leading.url], username: USERNAME, password: PASSWORD, corsEnabled: false, logLevel: 'error', debugAddress: null },
    { logger: pino({ level: 'silent' }) },
  );
  receptorUrl = `http://${receptor.address}`;
  if (AS_ROOT) {
    registry = await startRegistry();
    await pushImage(registry.url, IMAGE.repository, IMAGE.tag, [await fileLayer([{ path: 'www/index.html', content: 'hi\n' }])], {
      Entrypoint: IMAGE.entrypoint, Cmd: IMAGE.cmd, ExposedPorts: Object.fromEntries(IMAGE.ports.map((port) => [port, {}])),
    });
  }
  const registryArgs = registry === null ? [] : [`--insecureDockerRegistryList=${registry.host}`];
  for (const cellId of CELL_IDS) cells.set(cellId, startDiegoCell(cellId, registryArgs));
  for (const cell of cells.values()) await stdoutContains(cell, 'cell-started', WAIT_MS);
  browser = await openDashboardBrowser();
  ({ context, page } = browser);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await stopAll();
  for (const cellId of [...CELL_IDS, IDLE_CELL_ID, UP_CELL_ID]) await removeCellLeftovers(cellId, pino({ level: 'silent' }));
  await receptor?.stop();
  await registry?.stop();
  await leading?.stop();
  await keys?.cleanup();
  rmSync(workDir, { recursive: true, force: true });
}, 60_000);

afterEach(async () => {
  await expectNoPageFailures(browser);
});

describe('the dashboard', () => {
  it('asks once for the credentials, keeps them only as the receptor cookie, and refuses wrong ones as the receptor says', async () => {
    expect((await fetch(`${receptorUrl}/v1/desired_lrp_summaries`)).status).toBe(401);
    await page.goto(`${receptorUrl}/dashboard/`);
    await page.locator('#sign-in-dialog').waitFor({ state: 'visible', timeout: WAIT_MS });
    await screenshot('sign-in');
    await page.fill('#sign-in-form input[name=username]', USERNAME);
    await page.fill('#sign-in-form input[name=password]', 'wrong');
    await page.click('#sign-in-form button[type=submit]');
    await page.locator('#sign-in-error', { hasText: 'Unauthorized: the receptor does not accept these credentials' }).waitFor({ timeout: WAIT_MS });
    await page.fill('#sign-in-form input[name=password]', PASSWORD);
    await page.click('#sign-in-form button[type=submit]');
    await page.locator('#sign-in-dialog').waitFor({ state: 'hidden', timeout: WAIT_MS });
    await page.locator('#live.live').waitFor({ timeout: WAIT_MS });
    // The receptor's cookie (path /v1, where it was set), which the page's script cannot read.
    const cookies = await context.cookies(`${receptorUrl}/v1/events`);
    expect(cookies.map((cookie) => [cookie.name, cookie.httpOnly])).toEqual([['receptor_authorization', true]]);
    expect(await page.locator('html').evaluate((html) => html.ownerDocument.cookie)).toBe('');
    // Marks this page load: every later test checks that the page was never reloaded.
    await page.locator('html').evaluate((html) => html.setAttribute('data-test-load', 'first'));
  }, 120_000);

  it('creates the README hello app from the form and shows its instances turn RUNNING without a reload', async () => {
    await page.click('a[href="#domains"]');
    await page.fill('#domain-name', 'cf-apps');
    await page.fill('#domain-ttl', '600');
    await page.click('#domain-form button[type=submit]');
    await page.locator('#domains-table tr[data-domain="cf-apps"] td.ttl', { hasText: / s$/ }).waitFor({ timeout: WAIT_MS });
    await screenshot('domains');

    await page.click('a[href="#apps"]');
    await page.click('#new-app');
    const form = page.locator('#app-form');
    await form.locator('input[name=processGuid]').fill('hello');
    await form.locator('input[name=instances]').fill('2');
    await form.locator('input[name=path]').fill('node');
    await form.locator('textarea[name=args]').fill(`-e\n${HELLO_SCRIPT}`);
    const posted = JSON.parse(await page.inputValue('#app-json')) as Record<string, unknown>;
    expect(posted).toMatchObject({
      process_guid: 'hello', domain: 'cf-apps', rootfs: 'preloaded:cflinuxfs2', instances: 2, ports: [8080],
      action: { run: { path: 'node', user: 'vcap', args: ['-e', HELLO_SCRIPT] } },
    });
    await screenshot('new-app-form');
    await page.click('#create-app');
    await page.locator('#app-dialog').waitFor({ state: 'hidden', timeout: WAIT_MS });

    await page.locator('#apps-table tr[data-guid="hello"]').waitFor({ timeout: WAIT_MS });
    const rows = await instancesAre(allRunning(2));
    await appRowRunning('hello', 2);
    // The address links reach the instances.
    const link = rows[0]?.links[0] ?? '';
    expect(link).toMatch(/^http:\/\/[^/]+:\d+\/$/);
    const answer = await eventually(() => fetch(link).then((response) => response.text(), () => ''), (text) => text.startsWith('hello from instance'), { timeoutMs: WAIT_MS });
    expect(answer).toMatch(/^hello from instance [01] at /);
    await screenshot('apps');
    expect(await page.getAttribute('html', 'data-test-load')).toBe('first');
  }, 120_000);

  it('kills one instance and shows it come back RUNNING as a new instance', async () => {
    const before = await instancesAre(allRunning(2));
    const killed = before.find((row) => row.index === 0);
    await page.click('#instances-table button[aria-label="Kill instance 0"]');
    const after = await instancesAre((rows) => allRunning(2)(rows) && rows.some((row) => row.index === 0 && row.instanceGuid !== killed?.instanceGuid));
    expect(after.find((row) => row.index === 1)?.instanceGuid).toBe(before.find((row) => row.index === 1)?.instanceGuid);
    expect(await page.getAttribute('html', 'data-test-load')).toBe('first');
  }, 120_000);

  it('scales the app up and down', async () => {
    await page.fill('#scale-instances', '3');
    await page.click('#app-detail button[type=submit]');
    await instancesAre(allRunning(3));
    await appRowRunning('hello', 3);
    await page.fill('#scale-instances', '2');
    await page.click('#app-detail button[type=submit]');
    await instancesAre(allRunning(2));
  }, 120_000);

  it('shows a receptor error as the receptor answered it, and keeps what was typed', async () => {
    await page.click('#new-app');
    const form = page.locator('#app-form');
    await form.locator('input[name=processGuid]').fill('hello');
    await form.locator('input[name=path]').fill('node');
    await page.click('#create-app');
    await page.locator('#app-error', { hasText: "DesiredLRPAlreadyExists: Desired LRP with guid 'hello' already exists" }).waitFor({ timeout: WAIT_MS });
    expect(await form.locator('input[name=processGuid]').inputValue()).toBe('hello');
    expect(await form.locator('input[name=path]').inputValue()).toBe('node');

    // An edit by hand to the JSON is what is posted, and the receptor's answer to it is shown.
    await page.fill('#app-json', '{"process_guid": "broken", "instances": "two"}');
    await page.click('#create-app');
    await page.locator('#app-error', { hasText: 'InvalidJSON: json: cannot unmarshal string' }).waitFor({ timeout: WAIT_MS });
    await screenshot('receptor-error');
    await page.click('#app-form button[data-close]');
  });

  it('runs a task from the form and shows it complete with its result', async () => {
    await page.click('a[href="#tasks"]');
    await page.click('#new-task');
    const form = page.locator('#task-form');
    await form.locator('input[name=taskGuid]').fill('count-lines');
    await form.locator('textarea[name=args]').fill('-c\necho "42 lines" > /tmp/result.txt');
    await form.locator('input[name=resultFile]').fill('/tmp/result.txt');
    await page.click('#create-task');
    await page.locator('#tasks-table tr[data-guid="count-lines"]', { hasText: 'COMPLETED' }).waitFor({ timeout: WAIT_MS });
    await page.locator('#tasks-table tr[data-guid="count-lines"]', { hasText: '42 lines' }).waitFor({ timeout: WAIT_MS });
    await screenshot('tasks');
  }, 120_000);

  it("shows a killed cell leave and its instances move to the other cell", async () => {
    await page.click('a[href="#apps"]');
    const before = await instancesAre(allRunning(2));
    const victim = before[0]?.cell ?? '';
    const survivor = CELL_IDS.find((cellId) => cellId !== victim) ?? '';
    await page.click('a[href="#cells"]');
    await showsCount('#cells-table tbody tr', 2);
    await screenshot('cells');

    const cell = cells.get(victim);
    cell?.child.kill('SIGKILL');
    await cell?.exitCode;
    // Its presence expires with its lease; the converger unclaims its instances at once, and they are placed again.
    await showsCount(`#cells-table tr[data-cell="${victim}"]`, 0);
    await showsCount('#cells-table tbody tr', 1);
    await page.click('a[href="#apps"]');
    const moved = await instancesAre((rows) => allRunning(2)(rows) && rows.every((row) => row.cell === survivor));
    expect(moved.map((row) => row.cell)).toEqual([survivor, survivor]);

    await page.click('a[href="#events"]');
    await page.locator('#events-list li', { hasText: 'actual_lrp_changed' }).first().waitFor({ timeout: WAIT_MS });
    await screenshot('events');
    await page.setViewportSize({ width: 420, height: 900 });
    await page.click('a[href="#apps"]');
    await screenshot('apps-narrow');
    await page.setViewportSize({ width: 1280, height: 900 });
    expect(await page.getAttribute('html', 'data-test-load')).toBe('first');
  }, 120_000);

  it('shows a cell that holds nothing appear, and leave as soon as its presence expires when it is killed', async () => {
    await page.click('a[href="#cells"]');
    // A presence of 2 s: killed, the cell is gone from the BBS moments later, and no instance of it moves to say so.
    const idle = startDiegoCell(IDLE_CELL_ID, ['--lockTTL=2s']);
    cells.set(IDLE_CELL_ID, idle);
    await stdoutContains(idle, 'cell-started', WAIT_MS);
    await showsCount(`#cells-table tr[data-cell="${IDLE_CELL_ID}"]`, 1);
    idle.child.kill('SIGKILL');
    await idle.exitCode;
    await showsCount(`#cells-table tr[data-cell="${IDLE_CELL_ID}"]`, 0);
    expect(await page.getAttribute('html', 'data-test-load')).toBe('first');
  }, 120_000);

  it('shows a domain set fresh through the receptor API, not the page, with its TTL counting down', async () => {
    await page.click('a[href="#domains"]');
    await page.locator('#domains-table tr[data-domain="cf-apps"]').waitFor({ timeout: WAIT_MS });
    const answer = await fetch(`${receptorUrl}/v1/domains/set-elsewhere`, {
      method: 'PUT',
      headers: { Authorization: `Basic ${Buffer.from(`${USERNAME}:${PASSWORD}`).toString('base64')}`, 'Cache-Control': 'max-age=3600' },
    });
    expect(answer.status).toBe(204);
    await page.locator('#domains-table tr[data-domain="set-elsewhere"] td.ttl', { hasText: / s$/ }).waitFor({ timeout: WAIT_MS });
    expect(await page.getAttribute('html', 'data-test-load')).toBe('first');
  }, 120_000);

  it('asks again for the credentials when the cookie is gone mid-session, keeping what was typed, and the action then goes through', async () => {
    await page.click('a[href="#domains"]');
    await page.fill('#domain-name', 'after-sign-in');
    await page.fill('#domain-ttl', '600');
    // What a browser does when its session ends: the cookie is gone, the page is still open.
    await context.clearCookies();
    await page.click('#domain-form button[type=submit]');
    await page.locator('#sign-in-dialog').waitFor({ state: 'visible', timeout: WAIT_MS });
    await page.fill('#sign-in-form input[name=username]', USERNAME);
    await page.fill('#sign-in-form input[name=password]', PASSWORD);
    await page.click('#sign-in-form button[type=submit]');
    await page.locator('#sign-in-dialog').waitFor({ state: 'hidden', timeout: WAIT_MS });
    expect([await page.inputValue('#domain-name'), await page.inputValue('#domain-ttl')]).toEqual(['after-sign-in', '600']);
    await page.click('#domain-form button[type=submit]');
    await page.locator('#domains-table tr[data-domain="after-sign-in"] td.ttl', { hasText: / s$/ }).waitFor({ timeout: WAIT_MS });
    expect(await page.getAttribute('html', 'data-test-load')).toBe('first');
  }, 120_000);

  it('follows what an app prints in its logs panel', async () => {
    await page.click('a[href="#apps"]');
    await page.click('#new-app');
    const form = page.locator('#app-form');
    await form.locator('input[name=processGuid]').fill('logger');
    await form.locator('input[name=rootfs]').fill('preloaded:cflinuxfs2');
    await form.locator('input[name=instances]').fill('1');
    await form.locator('input[name=ports]').fill('8080');
    await form.locator('input[name=path]').fill('node');
    await form.locator('textarea[name=args]').fill(
      `-e\nconsole.log(${JSON.stringify(LOGGED_LINE)}); require('http').createServer((req, res) => res.end('ok')).listen(process.env.PORT)`);
    await page.click('#create-app');
    await page.locator('#app-dialog').waitFor({ state: 'hidden', timeout: WAIT_MS });
    await instancesAre(allRunning(1));

    await page.locator('#app-detail button', { hasText: 'Follow logs' }).click();
    await page.locator('#app-detail pre.logs', { hasText: LOGGED_LINE }).waitFor({ timeout: WAIT_MS });
    await screenshot('logs');
    await page.locator('#app-detail button', { hasText: 'Stop following' }).click();
    await page.locator('#app-detail button', { hasText: 'Delete app' }).click();
    await showsCount('#apps-table tr[data-guid="logger"]', 0);
    expect(await page.getAttribute('html', 'data-test-load')).toBe('first');
  }, 120_000);

  itAsRoot("offers a Docker image's command and exposed ports in the New app form, as a cell reads its config", async () => {
    await page.click('a[href="#apps"]');
    await page.click('#new-app');
    const form = page.locator('#app-form');
    await form.locator('input[name=processGuid]').fill('from-image');
    await form.locator('input[name=rootfs]').fill(`docker://${registry?.host ?? ''}/${IMAGE.repository}#${IMAGE.tag}`);
    // Only empty fields take the image's values.
    for (const name of ['input[name=path]', 'textarea[name=args]', 'input[name=ports]']) await form.locator(name).fill('');
    await page.click('#image-defaults');
    await eventually(() => form.locator('input[name=path]').inputValue(), (path) => path === '/bin/httpd', { timeoutMs: WAIT_MS, intervalMs: 200 });
    expect(await form.locator('textarea[name=args]').inputValue()).toBe('-f\n-p\n8080');
    expect(await form.locator('input[name=ports]').inputValue()).toBe('8080, 9090');
    expect(await page.locator('#app-error').textContent()).toBe('');
    const posted = JSON.parse(await page.inputValue('#app-json')) as Record<string, unknown>;
    expect(posted).toMatchObject({ rootfs: `docker://${registry?.host ?? ''}/${IMAGE.repository}#${IMAGE.tag}`, ports: [8080, 9090], action: { run: { path: '/bin/httpd', args: ['-f', '-p', '8080'] } } });
    await screenshot('new-app-from-image');
    await page.click('#app-form button[data-close]');
  }, 120_000);
});

describe('diego up', () => {
  it("prints the dashboard's URL in its banner, and the page is there", async () => {
    const { args, ports } = await upOnFreePorts(UP_CELL_ID);
    const up = spawnDiego(args, { cwd: workDir, env: { HOME: workDir } });
    await stdoutContains(up, 'Try:', WAIT_MS);
    const url = `http://127.0.0.1:${ports.receptor}/dashboard/`;
    expect(up.stdout()).toContain(`  dashboard ${url}\n`);
    const page = await fetch(url);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<title>Diego dashboard</title>');
    // The Packages view: the page learns where the package service is, which lets the printed URL's origin in.
    const packagesUrl = `http://127.0.0.1:${ports.packages}`;
    expect(await (await fetch(`${url}config.json`)).json()).toEqual({ packages_url: packagesUrl });
    const preflight = await fetch(`${packagesUrl}/package/repository/list`, {
      method: 'OPTIONS',
      headers: { Origin: `http://127.0.0.1:${ports.receptor}`, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type,x-requested-with' },
    });
    expect([preflight.status, preflight.headers.get('access-control-allow-origin'), preflight.headers.get('access-control-allow-credentials')])
      .toEqual([204, `http://127.0.0.1:${ports.receptor}`, 'true']);
    up.child.kill('SIGTERM');
    expect(await up.exitCode).toBe(0);
  }, 120_000);
});
