/**
 * The dashboard's Packages view end to end, in a real browser (Debian's chromium driven by playwright-core), against
 * a real cluster: a leading BBS on the test's etcd key space, one `diego cell`, the receptor and the package service
 * both behind basic auth, set up as `diego up` sets them (the receptor's -packagesURL, the service's
 * --dashboardOrigins naming the receptor's origin), and a package repository served by a real HTTP server. What a
 * user does with nothing but the page: sign in once (to both), read a bad URI's error as the service answers it, add
 * two repositories in order, search, describe, install with an option from the form generated from the package's
 * schema, see the app turn RUNNING in the Apps view and answer with that option, and uninstall it; and, opening the
 * page as localhost (an origin the service does not let in), be told so.
 *
 * Screenshots go where the dashboard test puts its own: $DIEGO_DASHBOARD_SCREENSHOTS, or
 * <tmpdir>/diego-dashboard-screenshots.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { BrowserContext, Page } from 'playwright-core';
import { removeCellLeftovers } from '@diego/cell';
import { startPackageService } from '@diego/package-service';
import { startReceptor } from '@diego/receptor';
import type { RunningServer } from '@diego/server-support';
import { eventually, freePorts, startLeadingBbs, testKeySpace, uniqueNetworkPool, type LeadingBbs, type TestKeySpace } from '@diego/test-support';
import { startRepositoryServer, type RepositoryServer } from '../../package-service/test/repository-server';
import { expectNoPageFailures, openDashboardBrowser, type DashboardBrowser } from './dashboard-browser';
import { assertBuilt, spawnDiego, stdoutContains, stopAll } from './diego-process';

const USERNAME = 'operator';
const PASSWORD = 'correct horse battery staple';
/** Generous: the machine is loaded, and every wait is for a condition, never a fixed time. */
const WAIT_MS = 60_000;
const CELL_ID = 'dash-packages-cell';
const GREETING = 'hi from the page';

let keys: TestKeySpace;
let leading: LeadingBbs;
let repo: RepositoryServer;
let receptor: RunningServer;
let packages: RunningServer;
let receptorUrl: string;
let packagesUrl: string;
let workDir: string;
let browser: DashboardBrowser | undefined;
let context: BrowserContext;
let page: Page;

function screenshot(name: string): Promise<void> {
  return browser?.screenshot(name) ?? Promise.resolve();
}

/** The repositories as the view lists them: name and the state of its copy, in order. */
function listedRepositories(): Promise<Array<{ name: string; state: string }>> {
  return page.$$eval('#repos-table tbody tr[data-repository]', (rows) => rows.map((row) => ({
    name: row.getAttribute('data-repository') ?? '',
    state: row.querySelector('[data-status]')?.getAttribute('data-status') ?? '',
  })));
}

beforeAll(async () => {
  assertBuilt();
  keys = testKeySpace();
  workDir = mkdtempSync(join(tmpdir(), 'diego-dashboard-packages-'));
  leading = await startLeadingBbs(keys);
  repo = await startRepositoryServer();
  const cell = spawnDiego([
    'cell', `--cellID=${CELL_ID}`, '--zone=z1', '--listenAddr=127.0.0.1:0', `--bbsAddress=${leading.url}`, '--memoryMB=1024',
    '--diskMB=1024', '--containers=8', '--preloadedRootFS=cflinuxfs2', `--workDir=${join(workDir, CELL_ID)}`,
    `--networkPool=${uniqueNetworkPool()}`, '--dockerRegistryURL=http://127.0.0.1:1',
  ]);
  // Each names the other, as diego up does: the service's port is chosen first.
  const [packagesPort = 0] = await freePorts(1);
  packagesUrl = `http://127.0.0.1:${packagesPort}`;
  const silent = pino({ level: 'silent' });
  receptor = await startReceptor({
    address: '127.0.0.1:0', bbsAddress: [leading.url], username: USERNAME, password: PASSWORD, corsEnabled: false, logLevel: 'error',
    debugAddress: null, packagesUrl,
  }, { logger: silent });
  receptorUrl = `http://${receptor.address}`;
  packages = await startPackageService({
    address: `127.0.0.1:${packagesPort}`, bbsAddress: [leading.url], username: USERNAME, password: PASSWORD, corsEnabled: false,
    logLevel: 'error', dataDir: join(workDir, 'packages'), defaultRepositories: [], refreshIntervalMs: 0, dashboardOrigins: [receptorUrl],
  }, { logger: silent });
  await stdoutContains(cell, 'cell-started', WAIT_MS);
  browser = await openDashboardBrowser();
  ({ context, page } = browser);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await stopAll();
  await removeCellLeftovers(CELL_ID, pino({ level: 'silent' }));
  await packages?.stop();
  await receptor?.stop();
  await repo?.close();
  await leading?.stop();
  await keys?.cleanup();
  rmSync(workDir, { recursive: true, force: true });
}, 60_000);

afterEach(async () => {
  await expectNoPageFailures(browser);
});

describe("the dashboard's Packages view", () => {
  it("signs in to the receptor and the package service at once, each keeping the credentials as its own HttpOnly cookie", async () => {
    await page.goto(`${receptorUrl}/dashboard/#packages`);
    await page.locator('#sign-in-dialog').waitFor({ state: 'visible', timeout: WAIT_MS });
    await page.fill('#sign-in-form input[name=username]', USERNAME);
    await page.fill('#sign-in-form input[name=password]', PASSWORD);
    await page.click('#sign-in-form button[type=submit]');
    await page.locator('#sign-in-dialog').waitFor({ state: 'hidden', timeout: WAIT_MS });
    await page.locator('#repos-table tbody tr', { hasText: 'No repository' }).waitFor({ timeout: WAIT_MS });
    expect(await page.locator('#packages-service').textContent()).toBe(`From the package service at ${packagesUrl}.`);
    const cookies = await context.cookies(`${packagesUrl}/package/list`);
    expect(cookies.map((cookie) => [cookie.name, cookie.path, cookie.httpOnly, cookie.sameSite])).toEqual([['receptor_authorization', '/package', true, 'Strict']]);
    await page.locator('html').evaluate((html) => html.setAttribute('data-test-load', 'first'));
  }, 120_000);

  it("shows a bad URI's error as the service answers it, keeping what was typed, then adds repositories in order", async () => {
    const form = page.locator('#repo-form');
    await form.locator('input[name=name]').fill('mine');
    await form.locator('input[name=uri]').fill('ftp://127.0.0.1/repo.json');
    await page.click('#add-repo');
    await page.locator('#repo-error', {
      hasText: 'UnsupportedRepositoryUri: Repository URI [ftp://127.0.0.1/repo.json] uses an unsupported scheme. Only http and https are supported',
    }).waitFor({ timeout: WAIT_MS });
    expect([await form.locator('input[name=name]').inputValue(), await form.locator('input[name=uri]').inputValue()]).toEqual(['mine', 'ftp://127.0.0.1/repo.json']);
    await screenshot('packages-error');

    await form.locator('input[name=uri]').fill(`${repo.url}/repo.json`);
    await page.click('#add-repo');
    await eventually(listedRepositories, (listed) => listed.length === 1, { timeoutMs: WAIT_MS, intervalMs: 200 });
    expect(await page.locator('#repo-error').textContent()).toBe('');
    // The zip first: at position 0.
    await form.locator('input[name=name]').fill('zipped');
    await form.locator('input[name=uri]').fill(`${repo.url}/universe.zip`);
    await form.locator('input[name=index]').fill('0');
    await page.click('#add-repo');
    const listed = await eventually(listedRepositories, (rows) => rows.length === 2, { timeoutMs: WAIT_MS, intervalMs: 200 });
    expect(listed).toEqual([{ name: 'zipped', state: 'ok' }, { name: 'mine', state: 'ok' }]);
  }, 120_000);

  it("searches, describes a package (its versions and options), and installs it with an option from the schema's form", async () => {
    await page.fill('#package-query', 'hello');
    await page.click('#package-search-form button[type=submit]');
    await page.locator('#package-results tr[data-package="hello"]').waitFor({ timeout: WAIT_MS });
    expect(await page.$$eval('#package-results tbody tr', (rows) => rows.map((row) => row.getAttribute('data-package')))).toEqual(['hello', 'zipped-hello']);
    await page.click('#package-results tr[data-package="hello"] button');
    await page.locator('#package-detail-heading', { hasText: 'Package hello' }).waitFor({ timeout: WAIT_MS });
    expect(await page.$$eval('#package-version option', (options) => options.map((option) => option.textContent))).toEqual(['2.0.0', '1.0.0']);
    expect(await page.$$eval('#package-options tbody tr', (rows) => rows.map((row) => row.getAttribute('data-option'))))
      .toEqual(['service', 'service.name', 'service.instances', 'greeting']);
    await screenshot('packages');

    await page.click('#open-install');
    const form = page.locator('#install-form');
    // Only the simple top-level option has a field, showing its default.
    expect(await form.locator('#install-fields input').evaluateAll((inputs) => inputs.map((input) => input.getAttribute('name')))).toEqual(['option-greeting']);
    expect(await form.locator('input[name=option-greeting]').inputValue()).toBe('hello');
    await form.locator('input[name=option-greeting]').fill(GREETING);
    expect(JSON.parse(await page.inputValue('#install-json'))).toEqual({ packageName: 'hello', packageVersion: '2.0.0', options: { greeting: GREETING } });
    await screenshot('package-install-form');
    await page.click('#install-package');
    await page.locator('#install-dialog').waitFor({ state: 'hidden', timeout: WAIT_MS });
    await page.locator('#package-installed-note', { hasText: 'hello 2.0.0 installed as the app hello' }).waitFor({ timeout: WAIT_MS });
    await page.locator('#installed-table tr[data-app="hello"]').waitFor({ timeout: WAIT_MS });

    // Installing it again: the service's error in the form, which keeps what was typed.
    await page.click('#open-install');
    await form.locator('input[name=option-greeting]').fill('again');
    await page.click('#install-package');
    await page.locator('#install-error', { hasText: 'PackageAlreadyInstalled: An app with id [hello] is already installed' }).waitFor({ timeout: WAIT_MS });
    expect(await form.locator('input[name=option-greeting]').inputValue()).toBe('again');
    await page.click('#install-form button[data-close]');
    expect(await page.getAttribute('html', 'data-test-load')).toBe('first');
  }, 120_000);

  it('shows the installed app turn RUNNING in the Apps view, answering with the option given', async () => {
    await page.click('#package-installed-note button');
    await page.locator('#apps-table tr[data-guid="hello"] td[data-state="RUNNING"]', { hasText: /^1$/ }).waitFor({ timeout: WAIT_MS });
    const link = page.locator('#instances-table tbody tr[data-state="RUNNING"] a').first();
    await link.waitFor({ timeout: WAIT_MS });
    const href = await link.getAttribute('href') ?? '';
    const answer = await eventually(() => fetch(href).then((response) => response.text(), () => ''), (text) => text !== '', { timeoutMs: WAIT_MS });
    expect(answer).toMatch(new RegExp(`^${GREETING} on \\d+$`));
    await screenshot('package-app-running');
    expect(await page.getAttribute('html', 'data-test-load')).toBe('first');
  }, 120_000);

  it('uninstalls it: gone from the installed list and from the Apps view', async () => {
    await page.click('a[href="#packages"]');
    await page.click('#installed-table button[aria-label="Uninstall hello"]');
    await page.locator('#installed-table tbody tr', { hasText: 'Nothing installed.' }).waitFor({ timeout: WAIT_MS });
    await page.click('a[href="#apps"]');
    await eventually(() => page.locator('#apps-table tr[data-guid="hello"]').count(), (count) => count === 0, { timeoutMs: WAIT_MS, intervalMs: 200 });
    expect(await page.getAttribute('html', 'data-test-load')).toBe('first');
  }, 120_000);

  it('says, opened as localhost (another origin than the one the service lets in), that the service does not let it in', async () => {
    const other = await context.newPage();
    try {
      await other.goto(`${receptorUrl.replace('127.0.0.1', 'localhost')}/dashboard/#packages`);
      await other.locator('#sign-in-dialog').waitFor({ state: 'visible', timeout: WAIT_MS });
      await other.fill('#sign-in-form input[name=username]', USERNAME);
      await other.fill('#sign-in-form input[name=password]', PASSWORD);
      await other.click('#sign-in-form button[type=submit]');
      await other.locator('#notice', { hasText: `does not let this page's origin (${receptorUrl.replace('127.0.0.1', 'localhost')}) in` })
        .waitFor({ timeout: WAIT_MS });
    } finally {
      await other.close();
    }
  }, 120_000);
});
