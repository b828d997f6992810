/**
 * `diego packages` over HTTP: Cosmos's routes (PackageRoutes in routes.ts), each a POST of JSON answered in Cosmos's
 * versioned media types, behind the receptor's basic auth (its `receptor_authorization` cookie works too, on a
 * page's script's request: dashboard-access.ts) and, when enabled, its CORS wrapper; the dashboard's origins get CORS
 * with credentials. Errors are answered in one place, in Cosmos's `{type, message, data}`.
 */
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import { RequestBodyTooLarge, readBodyWithin } from '@diego/server-support';
import { isBbsError, isJsonObject } from '@diego/models';
import { cors } from '@diego/receptor';
import { PackageRoutes, type PackageRouteName } from '@diego/routes';
import { AUTH_COOKIE_PATH, authCookieHandler, dashboardCors, requireCredentials } from './dashboard-access';
import { CosmosError, ERROR_MEDIA_TYPE, fromBbsError, isCosmosError, malformedRequest } from './errors';
import {
  find, install, installOptions, installed, listEntry, optionalString, renderDesiredLrp, requiredString, search, uninstall,
  type Catalogue, type PackageBbs,
} from './packages';
import type { PackageRepository, RepositoryIndexes } from './repository-indexes';

type Json = Record<string, unknown>;

/** What the routes need from the BBS. */
export interface PackageServiceBbs extends PackageBbs {
  packageRepositories(): Promise<PackageRepository[]>;
  addPackageRepository(repository: PackageRepository, index?: number): Promise<PackageRepository[]>;
  deletePackageRepository(selector: PackageRepository): Promise<PackageRepository[]>;
}

export interface PackageAppOptions {
  bbs: PackageServiceBbs;
  indexes: RepositoryIndexes;
  /** Basic auth is on when non-empty. */
  username: string;
  password: string;
  corsEnabled: boolean;
  /** Origins (`http://127.0.0.1:8887`) whose pages may call with credentials: the receptor's dashboard. */
  dashboardOrigins?: readonly string[];
  logger: Logger;
}

/** A Cosmos request body over this is refused (an install's options are small). */
const MAX_BODY_BYTES = 1024 * 1024;

type Handler = (body: Json) => Promise<Json>;

function mediaType(kind: string, direction: 'request' | 'response', version: string): string {
  return `application/vnd.dcos.package.${kind}-${direction}+json;charset=utf-8;version=${version}`;
}

/** `type/subtype` and its `version` parameter, lower-cased, from one media range. */
function parseMediaType(text: string): { type: string; version: string | null } {
  const [type = '', ...parameters] = text.split(';').map((part) => part.trim().toLowerCase());
  const version = parameters.find((p) => p.startsWith('version='))?.slice('version='.length) ?? null;
  return { type, version };
}

/**
 * The request's Content-Type must be the route's media type (any charset) or plain JSON; none at all is read as
 * JSON (curl without -H). Anything else is UnsupportedContentType, as Cosmos answered.
 */
function checkContentType(req: Request, kind: string, version: string): void {
  const given = req.headers['content-type'];
  if (given === undefined || given === '') return;
  const { type, version: givenVersion } = parseMediaType(given);
  if (type === 'application/json') return;
  if (type === `application/vnd.dcos.package.${kind}-request+json` && (givenVersion === null || givenVersion === version)) return;
  throw new CosmosError('UnsupportedContentType', `Unsupported Content-Type: ${given}; send ${mediaType(kind, 'request', version)} or application/json`, 415, {
    supported: [mediaType(kind, 'request', version), 'application/json'],
  });
}

/** The response's type: the versioned one unless the client accepts only plain JSON; NotAcceptable otherwise. */
function responseType(req: Request, kind: string, version: string): string {
  const versioned = mediaType(kind, 'response', version);
  const accept = req.headers.accept;
  if (accept === undefined || accept === '') return versioned;
  const ranges = accept.split(',').map(parseMediaType);
  if (ranges.some((r) => r.type === `application/vnd.dcos.package.${kind}-response+json` && (r.version === null || r.version === version))) return versioned;
  if (ranges.some((r) => r.type === 'application/json')) return 'application/json;charset=utf-8';
  if (ranges.some((r) => r.type === '*/*' || r.type === 'application/*')) return versioned;
  throw new CosmosError('NotAcceptable', `Cannot answer in any of: ${accept}; this route answers ${versioned}`, 406, { supported: [versioned, 'application/json'] });
}

function sendJson(res: Response, status: number, type: string, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

async function readJsonBody(req: Request): Promise<Json> {
  let text: string;
  try {
    text = (await readBodyWithin(req, MAX_BODY_BYTES)).toString('utf8');
  } catch (err) {
    if (err instanceof RequestBodyTooLarge) throw new CosmosError('RequestTooLarge', `The request body is over ${MAX_BODY_BYTES} bytes`, 413);
    throw malformedRequest(`The request body could not be read: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (text.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw malformedRequest(`The request body is not JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (!isJsonObject(parsed)) throw malformedRequest('The request body must be a JSON object');
  return { ...parsed };
}

/** One request log line per request, without headers or bodies (credentials, install options). */
function requestLog(logger: Logger): express.RequestHandler {
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    res.once('close', () => {
      const fields = { method: req.method, path: req.path, status: res.statusCode, duration_ms: Number(process.hrtime.bigint() - started) / 1e6 };
      if (res.statusCode >= 500) logger.error(fields, 'request-failed');
      else logger.info(fields, 'request-served');
    });
    next();
  };
}

/** The URI of a repository to add, checked as Cosmos did: its syntax, then its scheme. */
function repositoryUri(name: string, uri: string): void {
  let parsed: URL;
  try {
    parsed = new URL(uri);
  } catch (err) {
    throw new CosmosError('RepositoryUriSyntax', `URI for repository [${name}] has invalid syntax: ${uri}`, 400, {
      repository: { name, uri },
      cause: err instanceof Error ? err.message : String(err),
    });
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new CosmosError('UnsupportedRepositoryUri', `Repository URI [${uri}] uses an unsupported scheme. Only http and https are supported`, 400, { uri });
  }
}

function alreadyPresent(repository: PackageRepository, listed: readonly PackageRepository[]): CosmosError | null {
  const name = listed.some((r) => r.name === repository.name);
  const uri = listed.some((r) => r.uri === repository.uri);
  if (!name && !uri) return null;
  const message = name && uri
    ? `Repository name [${repository.name}] and URI [${repository.uri}] are both already present in the list`
    : name ? `Repository name [${repository.name}] is already present in the list` : `Repository URI [${repository.uri}] is already present in the list`;
  return new CosmosError('RepositoryAlreadyPresent', message, 409, { ...(name ? { name: repository.name } : {}), ...(uri ? { uri: repository.uri } : {}) });
}

/** The routes' logic over the BBS and the repository indexes. */
function handlers(options: PackageAppOptions): Record<PackageRouteName, Handler> {
  const { bbs, indexes } = options;
  const repositories = (): Promise<PackageRepository[]> => bbs.packageRepositories().catch((err: unknown) => {
    throw fromBbsError(err);
  });

  /** The list with each repository's copy: `ok`, `stale` (last fetch failed: the copy is older) or `missing`. */
  async function withStatus(listed: readonly PackageRepository[]): Promise<Json> {
    return { repositories: await Promise.all(listed.map(async (r) => ({ name: r.name, uri: r.uri, status: await indexes.status(r.uri) }))) };
  }

  /** Every package of every repository in order; a repository without a copy yet is fetched first. */
  async function catalogue(): Promise<{ catalogue: Catalogue; unavailable: Json[] }> {
    const listed = await repositories();
    const found: { repository: PackageRepository; definition: Catalogue[number]['definition'] }[] = [];
    const unavailable: Json[] = [];
    for (const repository of listed) {
      let index = await indexes.index(repository.uri);
      if (index === null) index = await indexes.fetch(repository).catch(() => null);
      const status = await indexes.status(repository.uri);
      if (status.state !== 'ok') unavailable.push({ name: repository.name, uri: repository.uri, status });
      for (const definition of index?.packages ?? []) found.push({ repository, definition });
    }
    return { catalogue: found, unavailable };
  }

  return {
    AddRepository: async (body) => {
      const name = requiredString(body, 'name');
      const uri = requiredString(body, 'uri');
      const index = body.index;
      if (index !== undefined && index !== null && (typeof index !== 'number' || !Number.isInteger(index))) throw malformedRequest('index must be a whole number');
      repositoryUri(name, uri);
      const repository = { name, uri };
      const present = alreadyPresent(repository, await repositories());
      if (present !== null) throw present;
      // Fetched before it is added: a repository that cannot be read is refused, saying why, and changes nothing.
      await indexes.fetch(repository);
      try {
        const at = typeof index === 'number' ? index : undefined;
        if (at !== undefined && at < 0) throw new CosmosError('RepositoryAddIndexOutOfBounds', `Index (${at}) is out of range. Index value must be 0 or more`, 400, { attempted: at, max: 0 });
        return await withStatus(await bbs.addPackageRepository(repository, at));
      } catch (err) {
        if (isCosmosError(err)) throw err;
        // Lost to a concurrent add of the same name or URI, or the list shrank under the index asked for.
        const listed = await repositories();
        if (isBbsError(err, 'ResourceExists')) throw alreadyPresent(repository, listed) ?? fromBbsError(err);
        if (isBbsError(err, 'InvalidRequest') && typeof index === 'number') {
          const max = listed.length;
          throw new CosmosError('RepositoryAddIndexOutOfBounds', `Index (${index}) is out of range. Index value must be between 0 and ${max} inclusive.`, 400, { attempted: index, max });
        }
        throw fromBbsError(err);
      }
    },

    ListRepositories: async () => withStatus(await repositories()),

    DeleteRepository: async (body) => {
      const name = optionalString(body, 'name') ?? '';
      const uri = optionalString(body, 'uri') ?? '';
      if (name === '' && uri === '') throw new CosmosError('RepoNameOrUriMissing', 'Must specify either the name or URI of the repository', 400);
      try {
        return await withStatus(await bbs.deletePackageRepository({ name, uri }));
      } catch (err) {
        if (!isBbsError(err, 'ResourceNotFound')) throw fromBbsError(err);
        const message = name !== '' && uri !== ''
          ? `Neither repository name [${name}] nor URI [${uri}] are present in the list`
          : name !== '' ? `Repository name [${name}] is not present in the list` : `Repository URI [${uri}] is not present in the list`;
        throw new CosmosError('RepositoryNotPresent', message, 404, { ...(name === '' ? {} : { name }), ...(uri === '' ? {} : { uri }) });
      }
    },

    RefreshRepositories: async () => {
      const listed = await repositories();
      await indexes.refresh(listed);
      return withStatus(listed);
    },

    SearchPackages: async (body) => {
      const query = optionalString(body, 'query') ?? '';
      const { catalogue: all, unavailable } = await catalogue();
      return { packages: search(all, query), ...(unavailable.length === 0 ? {} : { repositories: unavailable }) };
    },

    DescribePackage: async (body) => {
      const { catalogue: all } = await catalogue();
      const found = find(all, requiredString(body, 'packageName'), optionalString(body, 'packageVersion'));
      return { package: found.definition, repository: { name: found.repository.name, uri: found.repository.uri } };
    },

    InstallPackage: async (body) => {
      const packageName = requiredString(body, 'packageName');
      const userOptions = body.options ?? {};
      if (typeof userOptions !== 'object' || userOptions === null || Array.isArray(userOptions)) throw malformedRequest('options must be a JSON object');
      const appId = optionalString(body, 'appId');
      const { catalogue: all } = await catalogue();
      const found = find(all, packageName, optionalString(body, 'packageVersion'));
      const lrp = renderDesiredLrp(found, installOptions(found.definition, { ...userOptions }), appId === '' ? undefined : appId);
      const answer = await install(bbs, found, lrp);
      options.logger.info({ package: packageName, version: found.definition.version, process_guid: lrp.process_guid }, 'package-installed');
      return answer;
    },

    ListPackages: async (body) => {
      const packageName = optionalString(body, 'packageName');
      const appId = optionalString(body, 'appId');
      const [entries, { catalogue: all }] = await Promise.all([installed(bbs, packageName, appId), catalogue()]);
      return { packages: entries.map((entry) => listEntry(entry, all)) };
    },

    UninstallPackage: async (body) => {
      const packageName = requiredString(body, 'packageName');
      const all = body.all ?? false;
      if (typeof all !== 'boolean') throw malformedRequest('all must be true or false');
      const { catalogue: known } = await catalogue();
      const results = await uninstall(bbs, known, packageName, optionalString(body, 'appId'), all);
      options.logger.info({ package: packageName, process_guids: results.map((r) => r.appId) }, 'package-uninstalled');
      return { results };
    },
  };
}

/**
 * The package service as an express app, ready for `listen` or supertest.
 *
 * @example
 *   const app = createPackageApp({ bbs, indexes, username: '', password: '', corsEnabled: false, logger });
 */
export function createPackageApp(options: PackageAppOptions): Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(requestLog(options.logger));
  // The dashboard's exact origins first: their preflights are answered here, whatever --corsEnabled says.
  if (options.dashboardOrigins !== undefined && options.dashboardOrigins.length > 0) app.use(dashboardCors(options.dashboardOrigins));
  // Any origin, but not with the browser's cookie: only the dashboard's origins may spend it.
  if (options.corsEnabled) app.use(cors({ withCredentials: false }));
  const credentials = { username: options.username, password: options.password };
  const authorize = requireCredentials(credentials);
  const authCookie = authCookieHandler(credentials);
  const routeHandlers = handlers(options);
  const routes = new Map<string, (typeof PackageRoutes)[number]>(PackageRoutes.map((route) => [route.path, route]));

  app.use((req: Request, res: Response, next: NextFunction) => {
    if (req.path === AUTH_COOKIE_PATH) {
      try {
        authCookie(req, res);
      } catch (err) {
        next(err);
      }
      return;
    }
    const route = routes.get(req.path);
    if (route === undefined) {
      next(new CosmosError('NotFound', `No route ${req.path}`, 404));
      return;
    }
    if (req.method !== route.method) {
      next(new CosmosError('MethodNotAllowed', `${req.method} is not allowed on ${req.path}; use ${route.method}`, 405, undefined, { Allow: route.method }));
      return;
    }
    (async () => {
      authorize(req);
      checkContentType(req, route.kind, route.requestVersion);
      const type = responseType(req, route.kind, route.responseVersion);
      const body = await readJsonBody(req);
      sendJson(res, 200, type, await routeHandlers[route.name](body));
    })().catch(next);
  });

  // Every error ends here: a CosmosError as itself, anything else as a 500 with its message logged.
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    let error: CosmosError;
    if (isCosmosError(err)) error = err;
    else if (isBbsError(err)) error = fromBbsError(err);
    else {
      error = new CosmosError('InternalServerError', err instanceof Error ? err.message : String(err), 500);
      options.logger.error({ error: error.message }, 'request-error');
    }
    for (const [name, value] of Object.entries(error.headers)) res.setHeader(name, value);
    sendJson(res, error.status, ERROR_MEDIA_TYPE, error);
  });
  return app;
}
