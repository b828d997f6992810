/**
 * One log line per request, when its response is over: the route, the status, the duration and what the
 * request was about. Never headers or bodies (credentials, routes["diego-ssh"].private_key).
 */
import type { RequestHandler } from 'express';
import type { Logger } from 'pino';
import { requestState } from './request-state';

export function requestLog(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    const state = requestState(req);
    res.once('close', () => {
      const queryAt = req.url.indexOf('?');
      const fields = {
        route: state.route,
        method: req.method,
        path: queryAt === -1 ? req.url : req.url.slice(0, queryAt),
        status: res.statusCode,
        duration_ms: Number(process.hrtime.bigint() - started) / 1e6,
        ...state.subject,
        ...(state.errorMessage === null ? {} : { error: state.errorMessage }),
        ...(res.writableFinished ? {} : { aborted: true }),
      };
      if (res.statusCode >= 500) logger.error(fields, 'request-failed');
      else logger.info(fields, 'request-served');
    });
    next();
  };
}
