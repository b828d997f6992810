/**
 * Ours: GET /v1/session, `{"basic_auth": <on>, "signed_in": <the request's Authorization header, or else its
 * receptor_authorization cookie, carries the credentials>}`, answered 200 without credentials. A browser meets the
 * 401 challenge of any other route with a prompt of its own; this lets the dashboard ask, and check, by itself.
 */
import { acceptsAuthorization, AUTH_COOKIE_NAME, cookieValue, type BasicAuthCredentials } from '../auth';
import { sendJson } from '../responses';
import type { Handlers } from './handler';

export type SessionHandlers = Pick<Handlers, 'Session'>;

export function sessionHandlers(credentials: BasicAuthCredentials): SessionHandlers {
  const basicAuthOn = credentials.username !== '';
  const accepts = acceptsAuthorization(credentials);
  return {
    async Session({ req, res }) {
      const authorization = req.headers.authorization ?? cookieValue(req, AUTH_COOKIE_NAME);
      const signedIn = !basicAuthOn || (authorization !== undefined && accepts(authorization));
      res.setHeader('Cache-Control', 'no-store');
      sendJson(res, 200, JSON.stringify({ basic_auth: basicAuthOn, signed_in: signedIn }));
    },
  };
}
