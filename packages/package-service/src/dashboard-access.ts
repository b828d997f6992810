/**
 * How the receptor's dashboard, a page of another origin (the receptor's, e.g. http://127.0.0.1:8887), reaches the
 * service from the browser (README "Dashboard" and "Packages"):
 *
 * - CORS with credentials for the exact origins of `--dashboardOrigins` only: another origin gets no CORS header
 *   at all (never a reflected origin with credentials), so the browser keeps the answer from its script.
 * - `POST /package/auth_cookie` (ours): the request's Authorization handed back as the `receptor_authorization`
 *   cookie, as the receptor's POST /v1/auth_cookie does, but for this service's paths (`Path=/package`; the
 *   receptor's is `/v1`, which the browser never sends here), HttpOnly and SameSite=Strict.
 * - The cookie counts only on a request that says `X-Requested-With: XMLHttpRequest`: a browser asks first (a CORS
 *   preflight, which only the dashboard origins pass) before sending that header from another origin, so no other
 *   page can spend the cookie, not even one of the same site (SameSite is per host, not per port: an app on this
 *   machine is the same site). Such a request is refused without the Basic challenge, so that the page's own
 *   sign-in opens rather than the browser's prompt.
 */
import type { Request, RequestHandler, Response } from 'express';
import {
  AUTH_COOKIE_NAME, BASIC_AUTH_CHALLENGE, acceptsAuthorization, cookieValue, cookieValueForSetCookie, fromPageScript,
  type BasicAuthCredentials,
} from '@diego/receptor';
import { CosmosError } from './errors';

export const AUTH_COOKIE_PATH = '/package/auth_cookie';

/** The cookie's path: every route of the service is under it. */
const COOKIE_SCOPE = '/package';

/** How long a browser may reuse a preflight's answer. */
const PREFLIGHT_MAX_AGE_SECONDS = 600;

/** What the page sends: Cosmos's bodies, their media types, the sign-in's credentials and the script marker. */
const ALLOWED_REQUEST_HEADERS = 'Accept, Authorization, Content-Type, X-Requested-With';

/**
 * CORS for the dashboard: an exactly listed Origin gets Access-Control-Allow-Origin (that origin) with
 * Access-Control-Allow-Credentials, and its preflights are answered 204; any other origin gets no CORS header and
 * its preflight goes on to the routes (which allow only POST: 405).
 */
export function dashboardCors(origins: readonly string[]): RequestHandler {
  const allowed = new Set(origins);
  return (req, res, next) => {
    // The answer depends on the Origin: a cache must not give one origin's answer to another.
    res.vary('Origin');
    const origin = req.headers.origin;
    if (origin === undefined || !allowed.has(origin)) {
      next();
      return;
    }
    res.setHeader('Access-Control-Allow-Origin', origin);
    res.setHeader('Access-Control-Allow-Credentials', 'true');
    if (req.method !== 'OPTIONS' || req.headers['access-control-request-method'] === undefined) {
      next();
      return;
    }
    res.setHeader('Access-Control-Allow-Methods', 'POST');
    res.setHeader('Access-Control-Allow-Headers', ALLOWED_REQUEST_HEADERS);
    res.setHeader('Access-Control-Max-Age', String(PREFLIGHT_MAX_AGE_SECONDS));
    res.status(204).end();
  };
}

function unauthorized(req: Request): CosmosError {
  return new CosmosError('Unauthorized', 'Unauthorized', 401, undefined, fromPageScript(req) ? {} : BASIC_AUTH_CHALLENGE);
}

/**
 * The check every Cosmos route makes: the Authorization header, or the cookie on a page script's request (see
 * above). Throws Unauthorized (with the Basic challenge unless the page's script asked).
 */
export function requireCredentials(credentials: BasicAuthCredentials): (req: Request) => void {
  if (credentials.username === '') return () => undefined;
  const accepts = acceptsAuthorization(credentials);
  return (req) => {
    const cookie = fromPageScript(req) ? cookieValue(req, AUTH_COOKIE_NAME) : undefined;
    const authorization = cookie ?? req.headers.authorization;
    if (authorization === undefined || !accepts(authorization)) throw unauthorized(req);
  };
}

/**
 * POST /package/auth_cookie: 204, with the cookie when basic auth is on and the Authorization header carries the
 * credentials (only the header: this turns a header into a cookie); 401 when it does not.
 */
export function authCookieHandler(credentials: BasicAuthCredentials): (req: Request, res: Response) => void {
  const accepts = acceptsAuthorization(credentials);
  return (req, res) => {
    if (req.method !== 'POST') throw new CosmosError('MethodNotAllowed', `${req.method} is not allowed on ${AUTH_COOKIE_PATH}; use POST`, 405, undefined, { Allow: 'POST' });
    if (credentials.username !== '') {
      const authorization = req.headers.authorization;
      if (authorization === undefined || !accepts(authorization)) throw unauthorized(req);
      res.setHeader('Set-Cookie', `${AUTH_COOKIE_NAME}=${cookieValueForSetCookie(authorization)}; Path=${COOKIE_SCOPE}; HttpOnly; SameSite=Strict`);
    }
    res.status(204).end();
  };
}
