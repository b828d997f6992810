/**
 * The CORS wrapper (spec/receptor-api.md §10.4), outside the router and outside auth: it marks every response
 * for the request's Origin and answers every OPTIONS itself. Installed only with --corsEnabled. The receptor lets
 * every origin's page spend the browser's cookie, as Diego's did; a service of ours answers any origin without
 * credentials (a page must then hold the password itself), leaving cookies to the origins it names.
 */
import type { RequestHandler } from 'express';
import { sendEmpty } from './responses';

export function cors(options: { withCredentials: boolean } = { withCredentials: true }): RequestHandler {
  return (req, res, next) => {
    const origin = req.headers.origin;
    if (origin !== undefined && origin !== '' && origin !== '*') {
      res.setHeader('Access-Control-Allow-Origin', origin);
      if (options.withCredentials) res.setHeader('Access-Control-Allow-Credentials', 'true');
    }
    if (req.method !== 'OPTIONS') {
      next();
      return;
    }
    // Echoed verbatim, empty when the preflight asked for nothing, as the receptor did.
    res.setHeader('Access-Control-Allow-Methods', req.headers['access-control-request-method'] ?? '');
    res.setHeader('Access-Control-Allow-Headers', req.headers['access-control-request-headers'] ?? '');
    sendEmpty(res, 200);
  };
}
