/** POST /v1/auth_cookie (spec/receptor-api.md §10.3): the request's Authorization, handed back as a cookie. */
import { AUTH_COOKIE_NAME, cookieValueForSetCookie } from '../auth';
import { sendEmpty } from '../responses';
import type { Handlers } from './handler';

export type AuthCookieHandlers = Pick<Handlers, 'GenerateCookie'>;

export function authCookieHandlers(): AuthCookieHandlers {
  return {
    async GenerateCookie({ res, authorization }) {
      // A session cookie (no Max-Age, no Path) that browsers send back on EventSource requests.
      if (authorization !== undefined) {
        res.setHeader('Set-Cookie', `${AUTH_COOKIE_NAME}=${cookieValueForSetCookie(authorization)}; HttpOnly`);
      }
      sendEmpty(res, 204);
    },
  };
}
