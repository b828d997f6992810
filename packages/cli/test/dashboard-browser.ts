/**
 * The browser the dashboard's tests drive: Debian's chromium through playwright-core (no browser is ever
 * downloaded), headless, in a profile of its own; a script error in the page is kept to fail the test that caused it.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

const CHROMIUM = '/usr/bin/chromium';
/** Where screenshots of the main views go (test artifacts): $DIEGO_DASHBOARD_SCREENSHOTS, or a directory in tmp. */
const SCREENSHOTS = process.env.DIEGO_DASHBOARD_SCREENSHOTS ?? join(tmpdir(), 'diego-dashboard-screenshots');

export interface DashboardBrowser {
  context: BrowserContext;
  page: Page;
  /** Script errors the page met since the last `takePageErrors`. */
  takePageErrors(): string[];
  screenshot(name: string): Promise<void>;
  /** Closes the browser and removes its profile. */
  close(): Promise<void>;
}

export async function openDashboardBrowser(): Promise<DashboardBrowser> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const profileDir = mkdtempSync(join(tmpdir(), 'diego-dashboard-chromium-'));
  const context = await chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
    viewport: { width: 1280, height: 900 },
  });
  const page = context.pages()[0] ?? await context.newPage();
  const pageErrors: string[] = [];
  page.on('dialog', (dialog) => void dialog.accept());
  page.on('pageerror', (error) => pageErrors.push(String(error)));
  return {
    context,
    page,
    takePageErrors: () => pageErrors.splice(0),
    screenshot: async (name) => {
      await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
    },
    close: async () => {
      await context.close();
      rmSync(profileDir, { recursive: true, force: true });
    },
  };
}

/** After each test: no script error, and no notice (a failure the page met and showed; no test causes one). */
export async function expectNoPageFailures(browser: DashboardBrowser | undefined): Promise<void> {
  if (browser === undefined) return;
  expect(browser.takePageErrors()).toEqual([]);
  if (!browser.page.isClosed()) expect(await browser.page.locator('#notice').textContent()).toBe('');
}
