/**
 * The CORS wrapper (spec/receptor-api.md §10.4), outside the router and outside auth: it marks every response
 * for the request's Origin and answers every OPTIONS itself. Installed only with --corsEnabled.
 */
import type { RequestHandler } from 'express';
import { sendEmpty } from './responses';

export function cors(): RequestHandler {
  return (req, res, next) => {
    const origin = req.headers.origin;
    if (origin !== undefined && origin !== '' && origin !== '*') {
      res.setHeader('Access-Control-Allow-Origin', origin);
      res.setHeader('Access-Control-Allow-Credentials', 'true');
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
