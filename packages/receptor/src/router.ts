/**
 * The receptor's router, built from `ReceptorRoutes` (spec/receptor-api.md §1.4), answering as Go's pat did:
 * a `:param` matches one non-empty segment of the percent-decoded path (so `/v1/tasks/` matches nothing); a path
 * no route matches is a plain-text 404; a path that only other methods match is a plain-text 405 with `Allow`;
 * every GET route answers HEAD. Router answers need no credentials: auth is checked once a route matched.
 */
import type { Request, RequestHandler, Response } from 'express';
import { ReceptorRoutes, type HttpMethod, type ReceptorRouteName } from '@diego/routes';
import type { Handlers } from './handlers/handler';
import { readBody } from './request-body';
import { requestState, type RequestSubject } from './request-state';

type Segment = { literal: string } | { param: string };

interface CompiledRoute {
  name: ReceptorRouteName;
  method: HttpMethod;
  segments: Segment[];
  /** Answered without credentials when basic auth is on. */
  withoutAuth: boolean;
}

function compile(path: string): Segment[] {
  return path.split('/').map((part) => (part.startsWith(':') ? { param: part.slice(1) } : { literal: part }));
}

/** The parameters when `route` matches the decoded path's segments, else null. */
function match(route: CompiledRoute, segments: readonly string[]): Map<string, string> | null {
  if (segments.length !== route.segments.length) return null;
  const params = new Map<string, string>();
  for (const [i, segment] of route.segments.entries()) {
    const actual = segments[i] ?? '';
    if ('literal' in segment) {
      if (actual !== segment.literal) return null;
    } else {
      if (actual === '') return null;
      params.set(segment.param, actual);
    }
  }
  return params;
}

/** The methods a route answers: pat registered every GET for HEAD too. */
function methodsOf(route: CompiledRoute): string[] {
  return route.method === 'GET' ? ['GET', 'HEAD'] : [route.method];
}

/** The path of the request target, percent-decoded (Go's URL.Path); null when its escapes are malformed. */
function decodedPath(req: Request): string | null {
  const target = req.url;
  const queryAt = target.indexOf('?');
  try {
    return decodeURIComponent(queryAt === -1 ? target : target.slice(0, queryAt));
  } catch {
    return null;
  }
}

/** Go's http.Error: a plain-text body ending in a newline. */
function sendPlainText(res: Response, status: number, text: string): void {
  const body = Buffer.from(`${text}\n`, 'utf8');
  res.status(status);
  res.setHeader('Content-Type', 'text/plain; charset=utf-8');
  res.setHeader('Content-Length', body.length);
  res.end(body);
}

/**
 * Called once a route matched, before its handler; throws (a 401) to refuse the request. Returns the
 * Authorization the handler sees.
 */
export type Authorize = (req: Request) => string | undefined;

/** The subject a route's path parameters name, for error messages and the log (the index once it parses). */
function subjectOf(params: ReadonlyMap<string, string>): RequestSubject {
  const subject: RequestSubject = {};
  const taskGuid = params.get('task_guid');
  const processGuid = params.get('process_guid');
  const domain = params.get('domain');
  if (taskGuid !== undefined) subject.task_guid = taskGuid;
  if (processGuid !== undefined) subject.process_guid = processGuid;
  if (domain !== undefined) subject.domain = domain;
  return subject;
}

/** The express middleware that routes every request to its handler; errors go to express's error middleware. */
export function receptorRouter(handlers: Handlers, authorize: Authorize): RequestHandler {
  const routes: CompiledRoute[] = ReceptorRoutes.map((route) => ({
    name: route.name,
    method: route.method,
    segments: compile(route.path),
    withoutAuth: 'withoutAuth' in route,
  }));
  const names = new Set(routes.map((route) => route.name));
  if (names.size !== routes.length) throw new Error('ReceptorRoutes has a duplicate route name');

  return (req, res, next) => {
    const path = decodedPath(req);
    if (path === null) {
      sendPlainText(res, 400, '400 Bad Request');
      return;
    }
    const segments = path.split('/');
    const matching = routes.flatMap((route) => {
      const params = match(route, segments);
      return params === null ? [] : [{ route, params }];
    });
    const found = matching.find(({ route }) => methodsOf(route).includes(req.method));
    if (found === undefined) {
      if (matching.length === 0) {
        sendPlainText(res, 404, '404 page not found');
      } else {
        res.setHeader('Allow', [...new Set(matching.flatMap(({ route }) => methodsOf(route)))].join(', '));
        sendPlainText(res, 405, 'Method Not Allowed');
      }
      return;
    }

    const { route, params } = found;
    const state = requestState(req);
    state.route = route.name;
    state.subject = subjectOf(params);
    const param = (name: string): string => {
      const value = params.get(name);
      if (value === undefined) throw new Error(`route ${route.name} has no parameter ${name}`);
      return value;
    };

    const serve = async (): Promise<void> => {
      const authorization = route.withoutAuth ? undefined : authorize(req);
      const body = await readBody(req);
      await handlers[route.name]({ req, res, param, subject: state.subject, body, authorization });
    };
    serve().catch(next);
  };
}
