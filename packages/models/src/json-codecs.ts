/**
 * The models as JSON: the stored records (etcd values) and the receptor's response bodies.
 *
 * Stored records carry every field of the model with the receptor's snake_case keys and int64s as plain
 * integers, so `etcdctl get` prints a readable record that decodes back to the same model. Responses follow
 * spec/receptor-api.md §4-§6: Go's key order, and its omitempty rules (a key omitted on the wire decodes to
 * the zero value, so actions and egress rules use one encoding in both forms).
 *
 * Encoders build the text directly (no intermediate objects): lists of 200,000 records go through them.
 */
import { resolveActualLrpGroup } from './actual-lrp-lifecycle';
import { BbsError } from './errors';
import { goEscapeJson, parseJson, stringifyJson } from './json';
import {
  ACTUAL_LRP_STATES,
  TASK_STATES,
  type Action,
  type ActionList,
  type ActualLRP,
  type ActualLRPGroup,
  type ActualLRPState,
  type CachedDependency,
  type CellCapacity,
  type CellPresence,
  type DesiredLRP,
  type DownloadAction,
  type EmitProgressAction,
  type EnvironmentVariable,
  type ICMPInfo,
  type ModificationTag,
  type PortMapping,
  type PortRange,
  type ResourceLimits,
  type Routes,
  type RunAction,
  type SecurityGroupRule,
  type Task,
  type TaskState,
  type TimeoutAction,
  type TryAction,
  type UploadAction,
} from './types';

// ---------------------------------------------------------------------------------------------------------
// Building JSON text

/** `always`: written even when empty; `omitempty`: left out when "" / 0 / false / [] / null (Go's tag). */
type Emit = 'always' | 'omitempty';

/** Which of the two JSON forms an encoder writes. */
type Form = 'stored' | 'response';

/** Characters that JSON or Go's encoding/json escape; most strings have none and are quoted as they are. */
const NEEDS_ESCAPING = /["\\\u0000-\u001f<>&\u2028\u2029\ud800-\udfff]/;

/** A JSON string literal, escaped as Go's encoding/json does. */
function quote(value: string): string {
  return NEEDS_ESCAPING.test(value) ? goEscapeJson(JSON.stringify(value)) : `"${value}"`;
}

function list<T>(items: readonly T[], encode: (item: T) => string): string {
  return `[${items.map(encode).join(',')}]`;
}

/** One JSON object written key by key, in the order the calls are made. Keys are our own snake_case names. */
class JsonObjectBuilder {
  private body = '';

  /** `json` is already JSON text. */
  raw(key: string, json: string): this {
    this.body += `${this.body === '' ? '"' : ',"'}${key}":${json}`;
    return this;
  }

  string(key: string, value: string, emit: Emit = 'always'): this {
    return emit === 'omitempty' && value === '' ? this : this.raw(key, quote(value));
  }

  number(key: string, value: number | bigint, emit: Emit = 'always'): this {
    // `== 0` holds for both 0 and 0n.
    return emit === 'omitempty' && value == 0 ? this : this.raw(key, value.toString());
  }

  bool(key: string, value: boolean, emit: Emit = 'always'): this {
    return emit === 'omitempty' && !value ? this : this.raw(key, value ? 'true' : 'false');
  }

  /** `null-when-empty` writes an empty list as `null`, as Go does for a nil slice. */
  list<T>(key: string, items: readonly T[], encode: (item: T) => string, emit: Emit | 'null-when-empty' = 'always'): this {
    if (items.length === 0 && emit !== 'always') return emit === 'omitempty' ? this : this.raw(key, 'null');
    return this.raw(key, list(items, encode));
  }

  /** A nested value that may be absent: `null` when always emitted, left out when omitempty. */
  nullable<T>(key: string, value: T | null, encode: (value: T) => string, emit: Emit = 'always'): this {
    if (value === null) return emit === 'omitempty' ? this : this.raw(key, 'null');
    return this.raw(key, encode(value));
  }

  toString(): string {
    return `{${this.body}}`;
  }
}

const omitEmptyIn = (form: Form): Emit => (form === 'response' ? 'omitempty' : 'always');

// ---- shared pieces ----

function environmentVariableJson(env: EnvironmentVariable): string {
  return new JsonObjectBuilder().string('name', env.name).string('value', env.value).toString();
}

function modificationTagJson(tag: ModificationTag): string {
  return new JsonObjectBuilder().string('epoch', tag.epoch).number('index', tag.index).toString();
}

function portMappingJson(port: PortMapping): string {
  return new JsonObjectBuilder()
    .number('container_port', port.container_port)
    .number('host_port', port.host_port, 'omitempty')
    .toString();
}

function portRangeJson(range: PortRange): string {
  return new JsonObjectBuilder().number('start', range.start).number('end', range.end).toString();
}

function icmpInfoJson(info: ICMPInfo): string {
  return new JsonObjectBuilder().number('type', info.type).number('code', info.code).toString();
}

/** §6: only `log` is always written. */
function securityGroupRuleJson(rule: SecurityGroupRule): string {
  return new JsonObjectBuilder()
    .string('protocol', rule.protocol, 'omitempty')
    .list('destinations', rule.destinations, quote, 'omitempty')
    .list('ports', rule.ports, String, 'omitempty')
    .nullable('port_range', rule.port_range, portRangeJson, 'omitempty')
    .nullable('icmp_info', rule.icmp_info, icmpInfoJson, 'omitempty')
    .bool('log', rule.log)
    .toString();
}

function cachedDependencyJson(dep: CachedDependency): string {
  return new JsonObjectBuilder()
    .string('name', dep.name)
    .string('from', dep.from)
    .string('to', dep.to)
    .string('cache_key', dep.cache_key)
    .string('log_source', dep.log_source)
    .toString();
}

/** Each value is already compact JSON text. Keys sorted, as Go writes a map. */
function routesJson(routes: Routes): string {
  const body = Object.keys(routes)
    .sort()
    .map((key) => `${quote(key)}:${routes[key] ?? 'null'}`)
    .join(',');
  return `{${body}}`;
}

// ---- actions (§5) ----

function downloadJson(a: DownloadAction): string {
  return new JsonObjectBuilder()
    .string('artifact', a.artifact, 'omitempty')
    .string('from', a.from)
    .string('to', a.to)
    .string('cache_key', a.cache_key)
    .string('log_source', a.log_source, 'omitempty')
    .string('user', a.user)
    .toString();
}

function uploadJson(a: UploadAction): string {
  return new JsonObjectBuilder()
    .string('artifact', a.artifact, 'omitempty')
    .string('from', a.from)
    .string('to', a.to)
    .string('log_source', a.log_source, 'omitempty')
    .string('user', a.user)
    .toString();
}

function resourceLimitsJson(limits: ResourceLimits): string {
  return new JsonObjectBuilder().number('nofile', limits.nofile, 'omitempty').toString();
}

function runJson(a: RunAction): string {
  return new JsonObjectBuilder()
    .string('path', a.path)
    .list('args', a.args, quote, 'omitempty')
    .string('dir', a.dir, 'omitempty')
    .list('env', a.env, environmentVariableJson, 'omitempty')
    .nullable('resource_limits', a.resource_limits, resourceLimitsJson, 'omitempty')
    .string('user', a.user)
    .string('log_source', a.log_source, 'omitempty')
    .bool('suppress_log_output', a.suppress_log_output, 'omitempty')
    .toString();
}

function timeoutJson(a: TimeoutAction): string {
  return new JsonObjectBuilder()
    .nullable('action', a.action, actionJson, 'omitempty')
    .number('timeout', a.timeout)
    .string('log_source', a.log_source, 'omitempty')
    .toString();
}

function emitProgressJson(a: EmitProgressAction): string {
  return new JsonObjectBuilder()
    .nullable('action', a.action, actionJson, 'omitempty')
    .string('start_message', a.start_message)
    .string('success_message', a.success_message)
    .string('failure_message_prefix', a.failure_message_prefix)
    .string('log_source', a.log_source, 'omitempty')
    .toString();
}

function tryJson(a: TryAction): string {
  return new JsonObjectBuilder()
    .nullable('action', a.action, actionJson, 'omitempty')
    .string('log_source', a.log_source, 'omitempty')
    .toString();
}

function actionListJson(a: ActionList): string {
  return new JsonObjectBuilder()
    .list('actions', a.actions, nullableActionJson)
    .string('log_source', a.log_source, 'omitempty')
    .toString();
}

/** Every action type that is set, in precedence order (exactly one in a valid action). */
function actionJson(action: Action): string {
  const out = new JsonObjectBuilder();
  if (action.download) out.raw('download', downloadJson(action.download));
  if (action.upload) out.raw('upload', uploadJson(action.upload));
  if (action.run) out.raw('run', runJson(action.run));
  if (action.timeout) out.raw('timeout', timeoutJson(action.timeout));
  if (action.emit_progress) out.raw('emit_progress', emitProgressJson(action.emit_progress));
  if (action.try) out.raw('try', tryJson(action.try));
  if (action.parallel) out.raw('parallel', actionListJson(action.parallel));
  if (action.serial) out.raw('serial', actionListJson(action.serial));
  if (action.codependent) out.raw('codependent', actionListJson(action.codependent));
  return out.toString();
}

function nullableActionJson(action: Action | null): string {
  return action === null ? 'null' : actionJson(action);
}

// ---- records ----

function actualLrpJson(lrp: ActualLRP, form: Form, evacuating?: boolean): string {
  const omitEmpty = omitEmptyIn(form);
  const out = new JsonObjectBuilder()
    .string('process_guid', lrp.process_guid)
    .string('instance_guid', lrp.instance_guid)
    .string('cell_id', lrp.cell_id)
    .string('domain', lrp.domain)
    .number('index', lrp.index)
    .string('address', lrp.address)
    .list('ports', lrp.ports, portMappingJson, 'null-when-empty')
    .string('state', lrp.state)
    .number('crash_count', lrp.crash_count)
    .string('crash_reason', lrp.crash_reason, omitEmpty)
    .string('placement_error', lrp.placement_error, omitEmpty)
    .number('since', lrp.since);
  if (evacuating !== undefined) out.bool('evacuating', evacuating);
  return out.raw('modification_tag', modificationTagJson(lrp.modification_tag)).toString();
}

function desiredLrpJson(lrp: DesiredLRP, form: Form): string {
  const omitEmpty = omitEmptyIn(form);
  const out = new JsonObjectBuilder()
    .string('process_guid', lrp.process_guid)
    .string('domain', lrp.domain)
    .string('rootfs', lrp.rootfs)
    .number('instances', lrp.instances)
    .list('env', lrp.env, environmentVariableJson, omitEmpty)
    .nullable('setup', lrp.setup, actionJson)
    .nullable('action', lrp.action, actionJson)
    .nullable('monitor', lrp.monitor, actionJson)
    .number('start_timeout', lrp.start_timeout)
    .number('disk_mb', lrp.disk_mb)
    .number('memory_mb', lrp.memory_mb)
    .number('cpu_weight', lrp.cpu_weight)
    .bool('privileged', lrp.privileged)
    .list('ports', lrp.ports, String);
  if (form === 'stored' || Object.keys(lrp.routes).length > 0) out.raw('routes', routesJson(lrp.routes));
  out
    .string('log_guid', lrp.log_guid)
    .string('log_source', lrp.log_source)
    .string('metrics_guid', lrp.metrics_guid)
    .string('annotation', lrp.annotation, omitEmpty)
    .list('egress_rules', lrp.egress_rules, securityGroupRuleJson, omitEmpty)
    .raw('modification_tag', modificationTagJson(lrp.modification_tag));
  if (form === 'stored') {
    out
      .list('cached_dependencies', lrp.cached_dependencies, cachedDependencyJson)
      .string('legacy_download_user', lrp.legacy_download_user)
      .string('trusted_system_certificates_path', lrp.trusted_system_certificates_path);
  }
  return out.toString();
}

function taskJson(task: Task, form: Form): string {
  const omitEmpty = omitEmptyIn(form);
  const out = new JsonObjectBuilder()
    .nullable('action', task.action, actionJson)
    .string('annotation', task.annotation, omitEmpty)
    .string('completion_callback_url', task.completion_callback_url)
    .number('cpu_weight', task.cpu_weight)
    .number('disk_mb', task.disk_mb)
    .string('domain', task.domain)
    .string('log_guid', task.log_guid)
    .string('log_source', task.log_source)
    .string('metrics_guid', task.metrics_guid)
    .number('memory_mb', task.memory_mb)
    .string('result_file', task.result_file)
    .string('task_guid', task.task_guid)
    .string('rootfs', task.rootfs)
    .bool('privileged', task.privileged)
    .list('env', task.env, environmentVariableJson, omitEmpty)
    .string('cell_id', task.cell_id)
    .number('created_at', task.created_at);
  if (form === 'stored') out.number('updated_at', task.updated_at).number('first_completed_at', task.first_completed_at);
  out
    .bool('failed', task.failed)
    .string('failure_reason', task.failure_reason)
    .string('result', task.result)
    .string('state', task.state)
    .list('egress_rules', task.egress_rules, securityGroupRuleJson, omitEmpty);
  if (form === 'stored') {
    out
      .list('cached_dependencies', task.cached_dependencies, cachedDependencyJson)
      .string('legacy_download_user', task.legacy_download_user)
      .string('trusted_system_certificates_path', task.trusted_system_certificates_path);
  }
  return out.toString();
}

function cellCapacityJson(capacity: CellCapacity): string {
  return new JsonObjectBuilder()
    .number('memory_mb', capacity.memory_mb)
    .number('disk_mb', capacity.disk_mb)
    .number('containers', capacity.containers)
    .toString();
}

/** Provider names sorted, as Go writes a map; every provider's list is an array (`[]` when empty). */
function rootfsProvidersJson(providers: Record<string, string[]>): string {
  const body = Object.keys(providers)
    .sort()
    .map((name) => `${quote(name)}:${list(providers[name] ?? [], quote)}`)
    .join(',');
  return `{${body}}`;
}

function cellPresenceJson(cell: CellPresence, form: Form): string {
  const out = new JsonObjectBuilder().string('cell_id', cell.cell_id);
  if (form === 'stored') out.string('rep_address', cell.rep_address);
  return out
    .string('zone', cell.zone)
    .raw('capacity', cellCapacityJson(cell.capacity))
    .raw('rootfs_providers', rootfsProvidersJson(cell.rootfs_providers))
    .toString();
}

// ---------------------------------------------------------------------------------------------------------
// Stored records

/** The stored ActualLRP (`/v1/actual/<guid>/<index>/instance|evacuating`). */
export function actualLrpToJson(lrp: ActualLRP): string {
  return actualLrpJson(lrp, 'stored');
}

/** @throws BbsError('InvalidRecord') when `text` is not a stored ActualLRP. */
export function actualLrpFromJson(text: string): ActualLRP {
  return readActualLrp(readObject(parseRecord(text, 'ActualLRP'), 'ActualLRP'));
}

/** The stored DesiredLRP (`/v1/desired/<guid>`). */
export function desiredLrpToJson(lrp: DesiredLRP): string {
  return desiredLrpJson(lrp, 'stored');
}

/** @throws BbsError('InvalidRecord') when `text` is not a stored DesiredLRP. */
export function desiredLrpFromJson(text: string): DesiredLRP {
  return readDesiredLrp(readObject(parseRecord(text, 'DesiredLRP'), 'DesiredLRP'));
}

/** The stored Task (`/v1/task/<guid>`), with the internal updated_at and first_completed_at. */
export function taskToJson(task: Task): string {
  return taskJson(task, 'stored');
}

/** @throws BbsError('InvalidRecord') when `text` is not a stored Task. */
export function taskFromJson(text: string): Task {
  return readTask(readObject(parseRecord(text, 'Task'), 'Task'));
}

/** The stored CellPresence (`/v1/cell/<cell_id>`). */
export function cellPresenceToJson(cell: CellPresence): string {
  return cellPresenceJson(cell, 'stored');
}

/** @throws BbsError('InvalidRecord') when `text` is not a stored CellPresence. */
export function cellPresenceFromJson(text: string): CellPresence {
  return readCellPresence(readObject(parseRecord(text, 'CellPresence'), 'CellPresence'));
}

// ---------------------------------------------------------------------------------------------------------
// Receptor responses (§4)

/** §4.2 TaskResponse. */
export function taskResponseJson(task: Task): string {
  return taskJson(task, 'response');
}

/** §4.5 DesiredLRPResponse. */
export function desiredLrpResponseJson(lrp: DesiredLRP): string {
  return desiredLrpJson(lrp, 'response');
}

/** §4.6 ActualLRPResponse of the group's resolved record (§3.11), with `evacuating`; `null` for an empty group. */
export function actualLrpGroupResponseJson(group: ActualLRPGroup): string {
  const resolved = resolveActualLrpGroup(group);
  return resolved === null ? 'null' : actualLrpJson(resolved.lrp, 'response', resolved.evacuating);
}

/** §4.7 CellResponse. */
export function cellResponseJson(cell: CellPresence): string {
  return cellPresenceJson(cell, 'response');
}

// ---------------------------------------------------------------------------------------------------------
// Reading stored records: Go zero values for absent (or null) keys; anything else of the wrong type is an
// InvalidRecord, so a decoder never returns a half-typed model.

type JsonObjectValue = { readonly [key: string]: unknown };

function isJsonObject(value: unknown): value is JsonObjectValue {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function invalidRecord(path: string, expected: string): BbsError {
  return new BbsError('InvalidRecord', `invalid record: ${path}: expected ${expected}`);
}

function parseRecord(text: string, kind: string): unknown {
  try {
    return parseJson(text);
  } catch (err) {
    throw new BbsError('InvalidRecord', `invalid ${kind} record: ${err instanceof Error ? err.message : String(err)}`);
  }
}

function readObject(value: unknown, path: string): FieldReader {
  return FieldReader.of(value, path);
}

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;
const UINT32_MAX = 2 ** 32 - 1;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** The error for a member that is not what Go would decode: InvalidRecord for stored records. */
export type DecodeFailure = (path: string, expected: string) => Error;

/**
 * The fields of one JSON object, read with their Go types: a missing or null member is the zero value, a member
 * of another type is an error made by `failure` (stored records: InvalidRecord; the rep API: its own).
 *
 * @example
 *   const r = FieldReader.of(parseJson(text), 'Work');
 *   const zone = r.string('Zone');
 */
export class FieldReader {
  constructor(
    private readonly fields: JsonObjectValue,
    readonly path: string,
    private readonly failure: DecodeFailure = invalidRecord,
  ) {}

  /** The reader of `value`, which must be a JSON object. */
  static of(value: unknown, path: string, failure: DecodeFailure = invalidRecord): FieldReader {
    if (!isJsonObject(value)) throw failure(path, 'an object');
    return new FieldReader(value, path, failure);
  }

  private fail(key: string, expected: string): never {
    throw this.failure(`${this.path}.${key}`, expected);
  }

  /** The value under `key`; `undefined` when absent or null (Go leaves the zero value). */
  private get(key: string): unknown {
    return Object.prototype.hasOwnProperty.call(this.fields, key) ? (this.fields[key] ?? undefined) : undefined;
  }

  string(key: string): string {
    const value = this.get(key);
    if (value === undefined) return '';
    return typeof value === 'string' ? value : this.fail(key, 'a string');
  }

  bool(key: string): boolean {
    const value = this.get(key);
    if (value === undefined) return false;
    return typeof value === 'boolean' ? value : this.fail(key, 'a boolean');
  }

  private integer(key: string, min: number, max: number, expected: string): number {
    const value = this.get(key);
    if (value === undefined) return 0;
    return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max
      ? value
      : this.fail(key, expected);
  }

  int32(key: string): number {
    return this.integer(key, INT32_MIN, INT32_MAX, 'an int32');
  }

  uint32(key: string): number {
    return this.integer(key, 0, UINT32_MAX, 'a uint32');
  }

  /** A Go int kept as a number: exact within ±2^53. */
  int53(key: string): number {
    return this.integer(key, -Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, 'an integer');
  }

  /** A uint64 the model keeps as a number (resource limits): exact up to 2^53. */
  uint53(key: string): number {
    return this.integer(key, 0, Number.MAX_SAFE_INTEGER, 'an unsigned integer below 2^53');
  }

  int64(key: string): bigint {
    const value = this.get(key);
    if (value === undefined) return 0n;
    // parseJson gives integers of 16+ digits as bigint, shorter ones as (exact) numbers.
    if (typeof value === 'number' && Number.isSafeInteger(value)) return BigInt(value);
    if (typeof value === 'bigint' && value >= INT64_MIN && value <= INT64_MAX) return value;
    return this.fail(key, 'an int64');
  }

  list<T>(key: string, read: (value: unknown, path: string) => T): T[] {
    const value = this.get(key);
    if (value === undefined) return [];
    if (!Array.isArray(value)) return this.fail(key, 'an array');
    return value.map((item: unknown, i) => read(item, `${this.path}.${key}[${i}]`));
  }

  /** A nested object; `null` when absent. */
  object<T>(key: string, read: (fields: FieldReader) => T): T | null {
    const value = this.get(key);
    return value === undefined ? null : read(FieldReader.of(value, `${this.path}.${key}`, this.failure));
  }

  /** A nested object Go never leaves nil: its zero value when absent. */
  required<T>(key: string, read: (fields: FieldReader) => T): T {
    return read(FieldReader.of(this.get(key) ?? {}, `${this.path}.${key}`, this.failure));
  }

  /** A JSON object of arbitrary keys. */
  map<T>(key: string, read: (value: unknown, path: string) => T): Record<string, T> {
    const value = this.get(key);
    if (value === undefined) return {};
    if (!isJsonObject(value)) return this.fail(key, 'an object');
    const out: Record<string, T> = {};
    for (const [name, item] of Object.entries(value)) out[name] = read(item, `${this.path}.${key}.${name}`);
    return out;
  }

  oneOf<T extends string>(key: string, allowed: readonly T[], zero?: T): T {
    const value = this.get(key) ?? zero;
    return allowed.find((candidate) => candidate === value) ?? this.fail(key, `one of ${allowed.join(', ')}`);
  }
}

function readString(value: unknown, path: string): string {
  if (typeof value !== 'string') throw invalidRecord(path, 'a string');
  return value;
}

function readUint32(value: unknown, path: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > UINT32_MAX) {
    throw invalidRecord(path, 'a uint32');
  }
  return value;
}

const readEnvironmentVariable = (value: unknown, path: string): EnvironmentVariable => {
  const r = readObject(value, path);
  return { name: r.string('name'), value: r.string('value') };
};

const readModificationTag = (r: FieldReader): ModificationTag => ({ epoch: r.string('epoch'), index: r.uint32('index') });

const readPortMapping = (value: unknown, path: string): PortMapping => {
  const r = readObject(value, path);
  return { container_port: r.uint32('container_port'), host_port: r.uint32('host_port') };
};

const readSecurityGroupRule = (value: unknown, path: string): SecurityGroupRule => {
  const r = readObject(value, path);
  return {
    protocol: r.string('protocol'),
    destinations: r.list('destinations', readString),
    ports: r.list('ports', readUint32),
    port_range: r.object('port_range', (p) => ({ start: p.uint32('start'), end: p.uint32('end') })),
    icmp_info: r.object('icmp_info', (i) => ({ type: i.int32('type'), code: i.int32('code') })),
    log: r.bool('log'),
  };
};

const readCachedDependency = (value: unknown, path: string): CachedDependency => {
  const r = readObject(value, path);
  return {
    name: r.string('name'),
    from: r.string('from'),
    to: r.string('to'),
    cache_key: r.string('cache_key'),
    log_source: r.string('log_source'),
  };
};

/** Any JSON value, kept as compact text (the routes are opaque to Diego). */
const readRawJson = (value: unknown): string => stringifyJson(value);

const readActionList = (r: FieldReader): ActionList => ({
  actions: r.list('actions', (value, path) => (value === null ? null : readAction(readObject(value, path)))),
  log_source: r.string('log_source'),
});

function readAction(r: FieldReader): Action {
  const action: Action = {};
  const download = r.object('download', (a) => ({
    artifact: a.string('artifact'),
    from: a.string('from'),
    to: a.string('to'),
    cache_key: a.string('cache_key'),
    log_source: a.string('log_source'),
    user: a.string('user'),
  }));
  if (download) action.download = download;
  const upload = r.object('upload', (a) => ({
    artifact: a.string('artifact'),
    from: a.string('from'),
    to: a.string('to'),
    log_source: a.string('log_source'),
    user: a.string('user'),
  }));
  if (upload) action.upload = upload;
  const run = r.object('run', (a) => ({
    path: a.string('path'),
    args: a.list('args', readString),
    dir: a.string('dir'),
    env: a.list('env', readEnvironmentVariable),
    resource_limits: a.object('resource_limits', (l) => ({ nofile: l.uint53('nofile') })),
    user: a.string('user'),
    log_source: a.string('log_source'),
    suppress_log_output: a.bool('suppress_log_output'),
  }));
  if (run) action.run = run;
  const timeout = r.object('timeout', (a) => ({
    action: a.object('action', readAction),
    timeout: a.int64('timeout'),
    log_source: a.string('log_source'),
  }));
  if (timeout) action.timeout = timeout;
  const emitProgress = r.object('emit_progress', (a) => ({
    action: a.object('action', readAction),
    start_message: a.string('start_message'),
    success_message: a.string('success_message'),
    failure_message_prefix: a.string('failure_message_prefix'),
    log_source: a.string('log_source'),
  }));
  if (emitProgress) action.emit_progress = emitProgress;
  const tryAction = r.object('try', (a) => ({ action: a.object('action', readAction), log_source: a.string('log_source') }));
  if (tryAction) action.try = tryAction;
  const parallel = r.object('parallel', readActionList);
  if (parallel) action.parallel = parallel;
  const serial = r.object('serial', readActionList);
  if (serial) action.serial = serial;
  const codependent = r.object('codependent', readActionList);
  if (codependent) action.codependent = codependent;
  return action;
}

function readActualLrp(r: FieldReader): ActualLRP {
  const state: ActualLRPState = r.oneOf('state', ACTUAL_LRP_STATES);
  return {
    process_guid: r.string('process_guid'),
    index: r.int32('index'),
    domain: r.string('domain'),
    instance_guid: r.string('instance_guid'),
    cell_id: r.string('cell_id'),
    address: r.string('address'),
    ports: r.list('ports', readPortMapping),
    crash_count: r.int32('crash_count'),
    crash_reason: r.string('crash_reason'),
    state,
    placement_error: r.string('placement_error'),
    since: r.int64('since'),
    modification_tag: r.required('modification_tag', readModificationTag),
  };
}

function readDesiredLrp(r: FieldReader): DesiredLRP {
  return {
    process_guid: r.string('process_guid'),
    domain: r.string('domain'),
    rootfs: r.string('rootfs'),
    instances: r.int32('instances'),
    env: r.list('env', readEnvironmentVariable),
    setup: r.object('setup', readAction),
    action: r.object('action', readAction),
    monitor: r.object('monitor', readAction),
    start_timeout: r.uint32('start_timeout'),
    disk_mb: r.int32('disk_mb'),
    memory_mb: r.int32('memory_mb'),
    cpu_weight: r.uint32('cpu_weight'),
    privileged: r.bool('privileged'),
    ports: r.list('ports', readUint32),
    routes: r.map('routes', readRawJson),
    log_guid: r.string('log_guid'),
    log_source: r.string('log_source'),
    metrics_guid: r.string('metrics_guid'),
    annotation: r.string('annotation'),
    egress_rules: r.list('egress_rules', readSecurityGroupRule),
    modification_tag: r.required('modification_tag', readModificationTag),
    cached_dependencies: r.list('cached_dependencies', readCachedDependency),
    legacy_download_user: r.string('legacy_download_user'),
    trusted_system_certificates_path: r.string('trusted_system_certificates_path'),
  };
}

function readTask(r: FieldReader): Task {
  const state: TaskState = r.oneOf('state', TASK_STATES, 'INVALID');
  return {
    task_guid: r.string('task_guid'),
    domain: r.string('domain'),
    rootfs: r.string('rootfs'),
    env: r.list('env', readEnvironmentVariable),
    action: r.object('action', readAction),
    disk_mb: r.int32('disk_mb'),
    memory_mb: r.int32('memory_mb'),
    cpu_weight: r.uint32('cpu_weight'),
    privileged: r.bool('privileged'),
    log_source: r.string('log_source'),
    log_guid: r.string('log_guid'),
    metrics_guid: r.string('metrics_guid'),
    result_file: r.string('result_file'),
    completion_callback_url: r.string('completion_callback_url'),
    annotation: r.string('annotation'),
    egress_rules: r.list('egress_rules', readSecurityGroupRule),
    cached_dependencies: r.list('cached_dependencies', readCachedDependency),
    legacy_download_user: r.string('legacy_download_user'),
    trusted_system_certificates_path: r.string('trusted_system_certificates_path'),
    created_at: r.int64('created_at'),
    updated_at: r.int64('updated_at'),
    first_completed_at: r.int64('first_completed_at'),
    state,
    cell_id: r.string('cell_id'),
    result: r.string('result'),
    failed: r.bool('failed'),
    failure_reason: r.string('failure_reason'),
  };
}

function readCellPresence(r: FieldReader): CellPresence {
  return {
    cell_id: r.string('cell_id'),
    rep_address: r.string('rep_address'),
    zone: r.string('zone'),
    capacity: r.required('capacity', (c) => ({
      memory_mb: c.int32('memory_mb'),
      disk_mb: c.int32('disk_mb'),
      containers: c.int32('containers'),
    })),
    rootfs_providers: r.map('rootfs_providers', (value, path) => {
      if (value === null) return [];
      if (!Array.isArray(value)) throw invalidRecord(path, 'an array');
      return value.map((item: unknown, i) => readString(item, `${path}[${i}]`));
    }),
  };
}
