/**
 * The dashboard (README "Dashboard"): static files at /dashboard/, the page in static/ and its code as tsc builds it
 * from packages/receptor/dashboard/src into dist/. They hold no secret and are served without credentials; every
 * read and action of the page goes through the API behind the same basic auth (the page learns from GET /v1/session
 * whether it must ask for credentials).
 *
 * With a package service (`-packagesURL`), `config.json` names it for the page's Packages view, and the page may
 * connect to that origin too (README "Dashboard": the service lets this page's origin in with its
 * `--dashboardOrigins`).
 */
import { join } from 'node:path';
import express, { type Router } from 'express';

export const DASHBOARD_PATH = '/dashboard/';
const DASHBOARD_DIR = join(__dirname, '..', 'dashboard');

/** The page loads nothing from elsewhere and is framed by no one; it connects to the package service's origin, if any. */
function contentSecurityPolicy(packagesUrl: string | null): string {
  const connect = packagesUrl === null ? "'self'" : `'self' ${new URL(packagesUrl).origin}`;
  return `default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src ${connect}; frame-ancestors 'none'; form-action 'self'`;
}

export interface DashboardOptions {
  /** The package service the Packages view calls; null: no Packages view. */
  packagesUrl: string | null;
}

/** What the page reads at start (`config.json`): nothing secret, so it is served without credentials as the page is. */
export interface DashboardPageConfig {
  packages_url: string | null;
}

export function dashboardRouter({ packagesUrl }: DashboardOptions): Router {
  const router = express.Router({ strict: true, caseSensitive: true });
  router.get('/dashboard', (_req, res) => res.redirect(301, DASHBOARD_PATH));
  const files = { index: 'index.html', redirect: false, dotfiles: 'ignore' } as const;
  const policy = contentSecurityPolicy(packagesUrl);
  const pageConfig: DashboardPageConfig = { packages_url: packagesUrl };
  router.use(
    DASHBOARD_PATH,
    (_req, res, next) => {
      res.setHeader('Content-Security-Policy', policy);
      res.setHeader('X-Content-Type-Options', 'nosniff');
      next();
    },
    express.Router({ strict: true, caseSensitive: true }).get('/config.json', (_req, res) => {
      res.setHeader('Cache-Control', 'no-store');
      res.json(pageConfig);
    }),
    express.static(join(DASHBOARD_DIR, 'static'), files),
    express.static(join(DASHBOARD_DIR, 'dist'), { ...files, index: false }),
  );
  return router;
}
