/**
 * The dashboard (README "Dashboard"): static files at /dashboard/, the page in static/ and its code as tsc builds it
 * from packages/receptor/dashboard/src into dist/. They hold no secret and are served without credentials; every
 * read and action of the page goes through the API behind the same basic auth (the page learns from GET /v1/session
 * whether it must ask for credentials).
 */
import { join } from 'node:path';
import express, { type Router } from 'express';

export const DASHBOARD_PATH = '/dashboard/';
const DASHBOARD_DIR = join(__dirname, '..', 'dashboard');

/** The page loads nothing from elsewhere and is framed by no one. */
const CONTENT_SECURITY_POLICY =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; form-action 'self'";

export function dashboardRouter(): Router {
  const router = express.Router({ strict: true, caseSensitive: true });
  router.get('/dashboard', (_req, res) => res.redirect(301, DASHBOARD_PATH));
  const files = { index: 'index.html', redirect: false, dotfiles: 'ignore' } as const;
  router.use(
    DASHBOARD_PATH,
    (_req, res, next) => {
      res.setHeader('Content-Security-Policy', CONTENT_SECURITY_POLICY);
      res.setHeader('X-Content-Type-Options', 'nosniff');
      next();
    },
    express.static(join(DASHBOARD_DIR, 'static'), files),
    express.static(join(DASHBOARD_DIR, 'dist'), { ...files, index: false }),
  );
  return router;
}
