/**
 * Generated malformed requests for every receptor route (routes.ts): deep JSON, deep actions, wrong types, huge
 * strings, bodies malformed on the wire, invalid UTF-8, wrong methods and odd paths. Generation is seeded, so a
 * failure reproduces with the seed it reports. Each request says whether the receptor must refuse it (anything
 * but a read), and which route it is meant for (null for paths no route has).
 */
import { ReceptorRoutes, type ReceptorRouteName } from '@diego/routes';
import { stringifyJson } from '@diego/models';
import { desiredLrpRequest, taskRequest, type JsonObject } from '../support/http';
import type { Framing, RawRequest } from './raw-http';

/**
 * mulberry32: a few lines for a seeded sequence in [0, 1). Math.random cannot be seeded, and no seeded generator
 * is a declared dependency of this repository.
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** Records the test stores first, so that malformed requests aim at things they could change. */
export interface HostileTargets {
  taskGuid: string;
  processGuid: string;
  domain: string;
}

export interface HostileRequest extends RawRequest {
  /** What was generated, for failure reports. */
  label: string;
  route: ReceptorRouteName | null;
  /** Anything but a read must be refused: a 2xx would mean a malformed request was acted on. */
  mustRefuse: boolean;
}

type Route = (typeof ReceptorRoutes)[number];

class Picker {
  constructor(readonly random: () => number) {}

  int(below: number): number {
    return Math.floor(this.random() * below);
  }

  one<T>(items: readonly T[]): T {
    const item = items[this.int(items.length)];
    if (item === undefined) throw new Error('nothing to pick from');
    return item;
  }
}

const WIRE_FLAWS = ['size-not-hex', 'size-too-large', 'no-crlf-after-data', 'no-last-chunk', 'negative-size'] as const;
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'TRACE', 'FOO', 'get'] as const;
/** Over the receptor's 1 MiB body limit. */
const OVER_LIMIT_BYTES = 1024 * 1024 + 1;

const nested = (open: string, close: string, depth: number, inner = ''): string => `${open.repeat(depth)}${inner}${close.repeat(depth)}`;

/** A run action inside `depth - 1` wrappers of `wrapper` (2 or 3 JSON levels each). */
function deepAction(depth: number, wrapper: 'timeout' | 'serial' | 'try'): JsonObject {
  let action: JsonObject = { run: { path: 'true', user: 'vcap' } };
  for (let level = 1; level < depth; level++) {
    if (wrapper === 'timeout') action = { timeout: { action, timeout: 1_000_000_000 } };
    else if (wrapper === 'try') action = { try: { action } };
    else action = { serial: { actions: [action] } };
  }
  return action;
}

/** A value of another JSON type than `value` (never null: null is "absent", which a request may be). */
function otherTyped(value: unknown, pick: Picker): unknown {
  const candidates: unknown[] = ['text', 1.5, -1, 2 ** 63, 1e400, true, [], [1, 'a'], {}, { x: 1 }];
  const sameType = (candidate: unknown): boolean =>
    typeof candidate === typeof value && Array.isArray(candidate) === Array.isArray(value) && (typeof value !== 'number' || Number.isInteger(candidate) === Number.isInteger(value));
  return pick.one(candidates.filter((candidate) => !sameType(candidate)));
}

/** The paths to every member of a request body, routes' opaque JSON values excluded. */
function memberPaths(value: unknown, path: string[] = []): string[][] {
  if (typeof value !== 'object' || value === null) return [path];
  const entries = Array.isArray(value) ? value.map((item, i) => [String(i), item] as const) : Object.entries(value);
  const below = entries.filter(([key]) => !(path.length === 0 && key === 'routes')).flatMap(([key, item]) => memberPaths(item, [...path, key]));
  return path.length === 0 ? below : [path, ...below];
}

function replaced(value: unknown, path: readonly string[], replacement: unknown): unknown {
  const [head, ...rest] = path;
  if (head === undefined) return replacement;
  if (Array.isArray(value)) return value.map((item, i) => (String(i) === head ? replaced(item, rest, replacement) : item));
  if (typeof value === 'object' && value !== null) return { ...value, [head]: replaced(Reflect.get(value, head), rest, replacement) };
  return value;
}

/** Invalid UTF-8 sequences: a lone continuation byte, an overlong slash, a surrogate, a truncated sequence. */
const BAD_UTF8 = [Buffer.from([0xff]), Buffer.from([0xc0, 0xaf]), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from([0xe2, 0x82])];

/** Bodies for a route that reads one: each is refused by the decoder or the validation, whatever it targets. */
function badBody(route: Route, pick: Picker, index: number): { label: string; body: Buffer } {
  const guid = `hostile-${index}`;
  const base: JsonObject =
    route.name === 'CreateTask' ? taskRequest(guid) : route.name === 'CreateDesiredLRP' ? desiredLrpRequest(guid) : { instances: 2, annotation: 'a' };
  const text = (label: string, body: string): { label: string; body: Buffer } => ({ label, body: Buffer.from(body, 'utf8') });
  const hasActions = route.name === 'CreateTask' || route.name === 'CreateDesiredLRP';
  const kinds = ['deep-json', 'deep-routes', 'wrong-type', 'huge-string', 'bad-utf8', 'truncated', 'trailing', 'not-json', ...(hasActions ? ['deep-actions'] : [])];
  switch (pick.one(kinds)) {
    case 'deep-json': {
      const depth = pick.one([129, 5000, 100_000]);
      return pick.int(2) === 0 ? text(`${depth}-deep array`, nested('[', ']', depth)) : text(`${depth}-deep object`, nested('{"a":', '}', depth, '1'));
    }
    case 'deep-routes': {
      const depth = pick.one([129, 5000]);
      return text(`routes ${depth} deep`, stringifyJson({ ...base, routes: {} }).replace('"routes":{}', `"routes":{"cf-router":${nested('[', ']', depth)}}`));
    }
    case 'deep-actions': {
      const depth = pick.one([33, 40, 48, 60, 200]);
      const wrapper = pick.one(['timeout', 'serial', 'try'] as const);
      // Tasks have only `action`; LRPs `setup` and `monitor` too.
      const field = route.name === 'CreateTask' ? 'action' : pick.one(['action', 'setup', 'monitor']);
      return text(`${field} ${depth} deep (${wrapper})`, stringifyJson({ ...base, [field]: deepAction(depth, wrapper) }));
    }
    case 'wrong-type': {
      const path = pick.one(memberPaths(base));
      const at = path.reduce<unknown>((value, key) => (typeof value === 'object' && value !== null ? Reflect.get(value, key) : undefined), base);
      const value = otherTyped(at, pick);
      // 1e400 is no JSON a serialiser writes: spliced in as text.
      const body = stringifyJson(replaced(base, path, value === 1e400 ? 'INFINITY' : value)).replace('"INFINITY"', '1e400');
      return text(`${path.join('.')} as ${JSON.stringify(value === 1e400 ? '1e400' : value)}`, body);
    }
    case 'huge-string': {
      // Over the body limit, or under it but refused for a guid that is no guid (a `<` grows sixfold when stored).
      if (pick.int(2) === 0) return text('annotation over 1 MiB', stringifyJson({ ...base, annotation: 'x'.repeat(OVER_LIMIT_BYTES) }));
      const bad = { ...base, task_guid: 'not a guid!', process_guid: 'not a guid!', env: [{ name: 'BIG', value: '<'.repeat(900 * 1024) }] };
      return text('900 KiB of < with a bad guid', stringifyJson(bad));
    }
    case 'bad-utf8': {
      const [before, after] = stringifyJson({ ...base, [route.name === 'CreateTask' ? 'task_guid' : 'process_guid']: 'G' }).split('"G"');
      const inGuid = pick.int(2) === 0;
      const bytes = pick.one(BAD_UTF8);
      // In a guid (read as U+FFFD: no guid) or outside any string (no JSON).
      return inGuid
        ? { label: 'invalid UTF-8 in the guid', body: Buffer.concat([Buffer.from(`${before ?? ''}"g`), bytes, Buffer.from(`"${after ?? ''}`)]) }
        : { label: 'invalid UTF-8 between members', body: Buffer.concat([Buffer.from('{'), bytes, Buffer.from(stringifyJson(base).slice(1))]) };
    }
    case 'truncated': {
      const whole = stringifyJson(base);
      return text('truncated JSON', whole.slice(0, pick.int(whole.length - 1)));
    }
    case 'trailing':
      return text('trailing bytes', `${stringifyJson(base)}${pick.one(['}', ' x', '{}', '\u0000'])}`);
    default:
      return text('not JSON', pick.one(['', 'null x', 'undefined', "{'a':1}", '{"a":NaN}', '\u0000\u0001', '[1,]']));
  }
}

/** The path of `route` with its parameters filled. */
function pathOf(route: Route, params: Readonly<Record<string, string>>): string {
  return route.path.replace(/:([a-z_]+)/g, (_, name: string) => params[name] ?? 'x');
}

const ODD_TARGETS = [
  '//v1/tasks', '/v1//tasks', '/v1/tasks/', '/v1/tasks/a/b/c', '/V1/TASKS', '/v1/%', '/v1/tasks/%zz', '/v1/tasks/%C0%AF/x',
  '/v1/desired_lrps/%2F', '/v1/tasks/..%2F..%2Fdomains/x', '/v1/domains/', '/v1/actual_lrps/a/index/', '/v1/actual_lrps/a/b/0',
  `/v1/tasks/${'a'.repeat(6000)}/x`, '*', 'http://127.0.0.1/v1/nothing', '/v1/tasks/%00/cancel/x', '/v1/events/',
] as const;

/**
 * `count` requests from `seed`. Routes that change something are aimed at the stored `targets` only with bodies
 * malformed on the wire (so that acting on them would show); elsewhere at fresh names.
 */
export function hostileRequests(seed: number, count: number, targets: HostileTargets): HostileRequest[] {
  const pick = new Picker(seededRandom(seed));
  const requests: HostileRequest[] = [];
  const storedParams = { task_guid: targets.taskGuid, process_guid: targets.processGuid, index: '0', domain: targets.domain };
  const weirdParams = (): Record<string, string> => ({
    task_guid: pick.one(['nope', '%FF', 'a%20b', 'x'.repeat(3000), '%E2%82']),
    process_guid: pick.one(['nope', '%FF', 'a%20b', '%C0%AF']),
    index: pick.one(['-1', '1e3', '99999999999999999999', 'abc', '0x1', '%20']),
    domain: pick.one(['%FF', 'a%20b', 'x'.repeat(3000)]),
  });

  for (let index = 0; index < count; index++) {
    const route = pick.one(ReceptorRoutes);
    const reads = route.method === 'GET' || route.name === 'GenerateCookie';
    const category = pick.one(['wire', 'wire', 'body', 'body', 'method', 'path', 'headers']);
    const base = { route: route.name, headers: [] as [string, string][], body: Buffer.alloc(0), framing: { kind: 'length' } as Framing };

    if (category === 'wire') {
      // The whole request is malformed in its framing: nothing may be done, even to the stored records.
      const flaw = pick.int(6);
      const body = Buffer.from(stringifyJson(route.name === 'CreateTask' ? taskRequest(`hostile-${index}`) : { annotation: 'wire' }));
      const framing: Framing =
        flaw < 5 ? { kind: 'bad-chunked', flaw: pick.one(WIRE_FLAWS) } : { kind: 'short', missingBytes: 1 + pick.int(100) };
      requests.push({
        ...base,
        label: `${route.name} with ${framing.kind === 'bad-chunked' ? `chunked body (${framing.flaw})` : 'body shorter than its Content-Length'}`,
        method: route.method,
        target: pathOf(route, storedParams),
        headers: route.name === 'UpsertDomain' ? [['Cache-Control', 'max-age=60']] : [],
        body,
        framing,
        mustRefuse: true,
      });
    } else if (category === 'body' && !reads) {
      const { label, body } = route.name === 'UpsertDomain' || route.path.includes(':')
        ? { label: 'body over 1 MiB', body: Buffer.alloc(OVER_LIMIT_BYTES, 'x') }
        : badBody(route, pick, index);
      const onStored = route.name !== 'CreateTask' && route.name !== 'CreateDesiredLRP' && route.name !== 'UpdateDesiredLRP';
      requests.push({
        ...base,
        label: `${route.name} with ${label}`,
        method: route.method,
        // An oversized body is refused before anything else: aimed at the stored records, where acting would show.
        target: pathOf(route, onStored || label === 'body over 1 MiB' ? storedParams : weirdParams()),
        headers: route.name === 'UpsertDomain' ? [['Cache-Control', 'max-age=60']] : [],
        body,
        framing: pick.int(3) === 0 ? { kind: 'chunked', chunkBytes: 1 + pick.int(4096) } : { kind: 'length' },
        mustRefuse: true,
      });
    } else if (category === 'method') {
      // Methods no route of this path answers (every GET route answers HEAD too).
      const allowed: string[] = ReceptorRoutes.filter((other) => other.path === route.path).flatMap((other) =>
        other.method === 'GET' ? ['GET', 'HEAD'] : [other.method],
      );
      const method = pick.one(METHODS.filter((m) => !allowed.includes(m)));
      requests.push({ ...base, label: `${method} ${route.path}`, method, target: pathOf(route, storedParams), mustRefuse: true });
    } else if (category === 'path') {
      const target = pick.one(ODD_TARGETS);
      requests.push({ ...base, route: null, label: `${route.method} ${target.slice(0, 60)}`, method: route.method, target, mustRefuse: true });
    } else if (route.name === 'UpsertDomain') {
      const header = pick.one(['max-age=-1', 'max-age=abc', 'max-age=4294967296', 'no-cache', 'max-age=', 'max-age=1e3']);
      requests.push({
        ...base,
        label: `UpsertDomain with Cache-Control: ${header}`,
        method: route.method,
        target: pathOf(route, { domain: `hostile-${index}` }),
        headers: [['Cache-Control', header]],
        mustRefuse: true,
      });
    } else {
      // Odd headers and parameters on any route; reads may answer, anything else must refuse.
      const headers: [string, string][] = pick.one([
        [['Last-Event-ID', pick.one(['yesterday', '-1', '1.2.3', '99999999999999999999', '1.'])]],
        [['Content-Type', 'text/plain'], ['Authorization', 'Basic %%%']],
        [['Cookie', 'receptor_authorization="\u00ff"']],
      ]);
      requests.push({
        ...base,
        label: `${route.name} with ${headers.map(([name, value]) => `${name}: ${value}`).join(', ')} on odd parameters`,
        method: route.method,
        target: pathOf(route, weirdParams()),
        headers,
        body: reads ? Buffer.alloc(0) : Buffer.from('{"instances":"many"}'),
        // A change aimed at a name no one has, or with a body of the wrong type: refused either way.
        mustRefuse: !reads,
      });
    }
  }
  return requests;
}
