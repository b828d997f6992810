/**
 * The receptor's API as the page uses it: same-origin requests that carry the `receptor_authorization` cookie,
 * and every error the receptor answers kept as it is (`name` and `message`) to be shown. The package service's
 * requests (packages-api.ts) go through the same `send`, its errors (Cosmos's `type` and `message`) too.
 */
import type { ActualLRP as ActualLRPModel, DesiredLRP as DesiredLRPModel, JsonOf, Task as TaskModel } from '@diego/models';

/**
 * A request the receptor or the package service refused: its status, and the name of its error (the receptor's
 * `name`, Cosmos's `type`) and `message`.
 */
export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly errorName: string,
    message: string,
  ) {
    super(message);
  }
}

/** How an error reads on the page: the service's `name: message`, or what went wrong on the way. */
export function describeFailure(err: unknown): string {
  if (err instanceof ApiFailure) return `${err.errorName}: ${err.message}`;
  return err instanceof Error ? err.message : String(err);
}

let unauthorizedHandler: () => void = () => undefined;

/** Called when the receptor (or the package service) answers 401: the cookie is missing or no longer good. */
export function onUnauthorized(handler: () => void): void {
  unauthorizedHandler = handler;
}

export interface RequestOptions {
  body?: string;
  headers?: Record<string, string>;
  /** Aborts the request, or the reading of its body (a followed log). */
  signal?: AbortSignal;
  /** 'include' for another origin's cookie (the package service's); the page's own otherwise. */
  credentials?: RequestCredentials;
}

/** A refused request's error, as the service wrote it. */
export async function failureOf(response: Response): Promise<ApiFailure> {
  const text = await response.text();
  let name = `HTTP ${response.status}`;
  let message = text.trim() === '' ? response.statusText : text.trim();
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === 'object' && parsed !== null) {
      // The receptor names its errors `name`; Cosmos (the package service) names them `type`.
      const errorName = 'name' in parsed && typeof parsed.name === 'string' ? parsed.name : 'type' in parsed && typeof parsed.type === 'string' ? parsed.type : null;
      if (errorName !== null) {
        name = errorName;
        message = 'message' in parsed && typeof parsed.message === 'string' ? parsed.message : '';
      }
    }
  } catch {
    // Not an error JSON (a plain-text 404 or 405): shown as it came.
  }
  return new ApiFailure(response.status, name, message);
}

/** Sends a request (a path of the page's origin, or a URL); resolves with the response when it succeeded, rejects with an ApiFailure otherwise. */
export async function send(method: string, path: string, options: RequestOptions = {}): Promise<Response> {
  const response = await fetch(path, {
    method,
    credentials: options.credentials ?? 'same-origin',
    cache: 'no-store',
    ...(options.body === undefined ? {} : { body: options.body }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
    // X-Requested-With: a refusal comes without the Basic challenge, which would open the browser's own prompt.
    headers: {
      'X-Requested-With': 'XMLHttpRequest',
      ...(options.body === undefined ? {} : { 'Content-Type': 'application/json' }),
      ...options.headers,
    },
  });
  if (response.ok) return response;
  const failure = await failureOf(response);
  if (response.status === 401) unauthorizedHandler();
  throw failure;
}

/** A JSON read; the caller names the shape the route documents. */
export async function getJson<T>(path: string): Promise<T> {
  const response = await send('GET', path);
  const value: unknown = await response.json();
  return value as T;
}

/** `Basic base64(user:password)`, UTF-8 as the receptor reads it. */
export function basicAuthorization(username: string, password: string): string {
  const bytes = new TextEncoder().encode(`${username}:${password}`);
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return `Basic ${btoa(binary)}`;
}

/** What GET /v1/session says: whether the receptor asks for credentials, and whether the cookie has them. */
export interface Session {
  basic_auth: boolean;
  signed_in: boolean;
}

/** The session of the cookie, or of `authorization` when given. */
export function session(authorization?: string): Promise<Session> {
  return send('GET', '/v1/session', authorization === undefined ? {} : { headers: { Authorization: authorization } })
    .then((response) => response.json() as Promise<Session>);
}

/**
 * Checks the credentials with the session (a refusal there is no 401 challenge, which a browser would answer with
 * a prompt of its own), then POST /v1/auth_cookie with them: the receptor hands them back as its HttpOnly cookie.
 */
export async function signIn(username: string, password: string): Promise<void> {
  const authorization = basicAuthorization(username, password);
  if (!(await session(authorization)).signed_in) throw new ApiFailure(401, 'Unauthorized', 'the receptor does not accept these credentials');
  await send('POST', '/v1/auth_cookie', { headers: { Authorization: authorization } });
}

/** `path?name=value&...`, leaving out empty values. */
export function withQuery(path: string, query: Record<string, string | number>): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) if (value !== '') params.set(name, String(value));
  const text = params.toString();
  return text === '' ? path : `${path}?${text}`;
}

// ---- what the routes answer (README "Dashboard" and spec/receptor-api.md §4) ----

// Our own routes' answers are the types the servers build them with (types only: nothing of those packages runs here).
export type { DesiredLRPSummary, DesiredLRPSummaryPage } from '@diego/bbs-client';
export type { ImageConfig } from '@diego/cell';
// DashboardPageConfig: what the receptor tells the page at start (`config.json` beside it).
export type { CellPage, CellSummary, DashboardPageConfig } from '@diego/receptor';

// The 2015 routes' answers: the fields the page reads, typed by the models' field tables (spec/receptor-api.md §4).
type ActualLRPJson = JsonOf<ActualLRPModel>;
type DesiredLRPJson = JsonOf<DesiredLRPModel>;
type TaskJson = JsonOf<TaskModel>;

export type { ActualLRPState as ActualState, PortMapping, TaskState } from '@diego/models';

/** §4.6: `ports` is null when none; an empty `crash_reason` or `placement_error` is left out. */
export type ActualLRP = Pick<ActualLRPJson, 'process_guid' | 'instance_guid' | 'cell_id' | 'domain' | 'index' | 'address' | 'state' | 'since' | 'crash_count'>
  & Partial<Pick<ActualLRPJson, 'placement_error' | 'crash_reason'>>
  & { ports: ActualLRPJson['ports'] | null; evacuating: boolean };

/** §4.5: `routes` (each value the router's JSON, parsed) is left out when the LRP has none. */
export type DesiredLRP = Pick<DesiredLRPJson, 'process_guid' | 'domain' | 'rootfs' | 'instances' | 'memory_mb' | 'disk_mb' | 'log_guid' | 'annotation'>
  & { ports?: DesiredLRPJson['ports'] | null; routes?: Record<string, unknown> | null };

/** §4.2. */
export type Task = Pick<TaskJson, 'task_guid' | 'domain' | 'rootfs' | 'state' | 'cell_id' | 'result' | 'failed' | 'failure_reason' | 'created_at' | 'log_guid'>;

export interface TaskPage {
  total: number;
  offset: number;
  tasks: Task[];
}

export interface DomainFreshness {
  domain: string;
  ttl_seconds: number | null;
}
