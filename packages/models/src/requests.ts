// Receptor request bodies, decoded as Go's encoding/json decoded them into the receptor's structs
// (spec/receptor-api.md §1.2, §4.1, §4.3, §4.4). The body text is parsed with parseJson (exact int64s) and
// checked by ajv schemas that are checked against their types at compile time. Any decode or type error
// throws BbsError('InvalidJSON', <Go-like message>). Domain rules are NOT checked here (see validation.ts).
//
// Go semantics kept: an empty body is `EOF`; `null` (the body or a member) means absent, so the Go zero value;
// unknown keys are ignored; a JSON type that does not fit the Go type, a fraction or a negative number for an
// unsigned field, or a number beyond the field's range is `json: cannot unmarshal ... into Go value of type ...`.
// Deviations: key matching is case-sensitive, and `int` fields are bounded to int32 (our storage) instead of
// wrapping around as the receptor's int -> int32 conversion did.
import Ajv, { type ErrorObject, type JSONSchemaType, type ValidateFunction } from 'ajv';
// ajv's index does not re-export the context a modifying keyword writes through.
import type { DataValidationCxt } from 'ajv/dist/types';
import { BbsError } from './errors';
import { MAX_JSON_DEPTH, parseJson, stringifyJson } from './json';
import type {
  Action,
  ActionList,
  DesiredLRP,
  DesiredLRPUpdate,
  DownloadAction,
  EmitProgressAction,
  ICMPInfo,
  PortRange,
  ResourceLimits,
  Routes,
  RunAction,
  SecurityGroupRule,
  TaskDefinition,
  TimeoutAction,
  TryAction,
  UploadAction,
} from './types';

export interface TaskCreateRequest {
  task_guid: string;
  domain: string;
  definition: TaskDefinition;
}

/** What the receptor's TaskCreateRequest carries: the task definition's 2015 fields, plus guid and domain. */
type TaskCreateBody = Omit<TaskDefinition, NotInReceptorRequests> & { task_guid: string; domain: string };
/** What the receptor's DesiredLRPCreateRequest carries. */
type DesiredLrpCreateBody = Omit<DesiredLRP, NotInReceptorRequests | 'modification_tag'>;
/** Fields the BBS models gained that the 2015 receptor API never took: zero in decoded requests. */
type NotInReceptorRequests = 'cached_dependencies' | 'legacy_download_user' | 'trusted_system_certificates_path';

// ---- int64 ----

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** An integer (number or exact bigint) within int64 range, as a bigint; null otherwise. */
function toInt64(data: unknown): bigint | null {
  const value = typeof data === 'bigint' ? data : typeof data === 'number' && Number.isInteger(data) ? BigInt(data) : null;
  return value !== null && value >= INT64_MIN && value <= INT64_MAX ? value : null;
}

// ---- typed schema references ----

/**
 * A `$ref` to the registered schema of `T | null`. JSONSchemaType cannot describe a non-optional `T | null`
 * member inline (it reserves `nullable` for optional ones) and ajv applies no defaults inside `anyOf`, so such
 * members point at a registered nullable schema. The phantom `target` lets `ModelSchema` demand the right one.
 */
interface NullableRef<T> {
  readonly $ref: string;
  readonly default: null;
  readonly target?: T;
}

function nullableRef<T>(schema: JSONSchemaType<T | null> & { $id: string }): NullableRef<T> {
  return { $ref: schema.$id, default: null };
}

/** JSON Schema has no bigint: an int64 member points at the schema of the `int64` keyword (see below). */
const INT64_SCHEMA = { $id: 'int64', int64: true, goType: 'int64' } as const;
const INT64_REF = { $ref: INT64_SCHEMA.$id, default: 0 } as const;

type KeysOf<T, V> = { [K in keyof T]-?: [T[K]] extends [V] ? K : never }[keyof T];
type NullableKeys<T> = { [K in keyof T]-?: null extends T[K] ? K : never }[keyof T];

/**
 * `JSONSchemaType<T>`, made strict where it has to take a `$ref`: every `X | null` member must be the
 * reference to the registered schema of `X | null`, and every bigint member the reference to `int64`.
 */
type ModelSchema<T> = JSONSchemaType<T> & {
  properties: { [K in NullableKeys<T>]: NullableRef<NonNullable<T[K]>> } & { [K in KeysOf<T, bigint>]: typeof INT64_REF };
};

// ---- schema building blocks ----
// Each carries the Go type that decode errors name. Every member has a default (its Go zero value), so none
// is ever missing and `required` stays empty.

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;
const UINT32_MAX = 2 ** 32 - 1;

const integer = (goType: string, minimum: number, maximum: number) =>
  ({ type: 'integer', minimum, maximum, default: 0, goType }) as const;
/** Go `int` (bounded to int32, see the top of this file). */
const goInt = integer('int', INT32_MIN, INT32_MAX);
const goInt32 = integer('int32', INT32_MIN, INT32_MAX);
const goUint = integer('uint', 0, UINT32_MAX);
const goUint16 = integer('uint16', 0, 65535);
const goUint32 = integer('uint32', 0, UINT32_MAX);
/** `nofile` is a Go uint64 held in a number: bounded to what a number holds exactly. */
const goUint64 = integer('uint64', 0, Number.MAX_SAFE_INTEGER);
const goString = { type: 'string', default: '', goType: 'string' } as const;
const goBool = { type: 'boolean', default: false, goType: 'bool' } as const;

const listOf = <S>(items: S, goType: string) => ({ type: 'array' as const, items, default: [], goType });

const envList = (itemGoType: string, listGoType: string) =>
  listOf(
    {
      type: 'object',
      goType: itemGoType,
      additionalProperties: false,
      required: [],
      properties: { name: goString, value: goString },
    } as const,
    listGoType,
  );

/** Router key -> any JSON; the `routeValues` keyword stores each value as compact JSON text. */
const routesSchema = {
  type: 'object',
  goType: 'receptor.RoutingInfo',
  required: [],
  additionalProperties: true,
  routeValues: true,
  default: {},
} as const;

const resourceLimitsSchema: JSONSchemaType<ResourceLimits | null> & { $id: string } = {
  $id: 'resource_limits',
  type: 'object',
  nullable: true,
  goType: 'models.ResourceLimits',
  additionalProperties: false,
  required: [],
  properties: { nofile: goUint64 },
};

const portRangeSchema: JSONSchemaType<PortRange | null> & { $id: string } = {
  $id: 'port_range',
  type: 'object',
  nullable: true,
  goType: 'models.PortRange',
  additionalProperties: false,
  required: [],
  properties: { start: goUint32, end: goUint32 },
};

const icmpInfoSchema: JSONSchemaType<ICMPInfo | null> & { $id: string } = {
  $id: 'icmp_info',
  type: 'object',
  nullable: true,
  goType: 'models.ICMPInfo',
  additionalProperties: false,
  required: [],
  properties: { type: goInt32, code: goInt32 },
};

const egressRuleSchema: ModelSchema<SecurityGroupRule> = {
  type: 'object',
  goType: 'models.SecurityGroupRule',
  additionalProperties: false,
  required: [],
  properties: {
    protocol: goString,
    destinations: listOf(goString, '[]string'),
    ports: listOf(goUint32, '[]uint32'),
    port_range: nullableRef<PortRange>(portRangeSchema),
    icmp_info: nullableRef<ICMPInfo>(icmpInfoSchema),
    log: goBool,
  },
};
const egressRuleList = listOf(egressRuleSchema, '[]*models.SecurityGroupRule');

// ---- actions (recursive: nested actions refer back to the registered `action` schema) ----

const ACTION_ID = 'action';
const actionRef = { $ref: ACTION_ID, default: null } as const satisfies NullableRef<Action>;

const downloadActionSchema: ModelSchema<DownloadAction> = {
  type: 'object',
  goType: 'models.DownloadAction',
  additionalProperties: false,
  required: [],
  properties: { artifact: goString, from: goString, to: goString, cache_key: goString, log_source: goString, user: goString },
};

const uploadActionSchema: ModelSchema<UploadAction> = {
  type: 'object',
  goType: 'models.UploadAction',
  additionalProperties: false,
  required: [],
  properties: { artifact: goString, from: goString, to: goString, log_source: goString, user: goString },
};

const runActionSchema: ModelSchema<RunAction> = {
  type: 'object',
  goType: 'models.RunAction',
  additionalProperties: false,
  required: [],
  properties: {
    path: goString,
    args: listOf(goString, '[]string'),
    dir: goString,
    env: envList('models.EnvironmentVariable', '[]*models.EnvironmentVariable'),
    resource_limits: nullableRef<ResourceLimits>(resourceLimitsSchema),
    user: goString,
    log_source: goString,
    suppress_log_output: goBool,
  },
};

const timeoutActionSchema: ModelSchema<TimeoutAction> = {
  type: 'object',
  goType: 'models.TimeoutAction',
  additionalProperties: false,
  required: [],
  properties: { action: actionRef, timeout: INT64_REF, log_source: goString },
};

const emitProgressActionSchema: ModelSchema<EmitProgressAction> = {
  type: 'object',
  goType: 'models.EmitProgressAction',
  additionalProperties: false,
  required: [],
  properties: {
    action: actionRef,
    start_message: goString,
    success_message: goString,
    failure_message_prefix: goString,
    log_source: goString,
  },
};

const tryActionSchema: ModelSchema<TryAction> = {
  type: 'object',
  goType: 'models.TryAction',
  additionalProperties: false,
  required: [],
  properties: { action: actionRef, log_source: goString },
};

const actionListSchema = (goType: string): ModelSchema<ActionList> => ({
  type: 'object',
  goType,
  additionalProperties: false,
  required: [],
  properties: {
    // JSONSchemaType has no `$ref` shortcut for array items: each item is typed as a nullable object here and
    // checked by the reference.
    actions: listOf({ type: 'object', nullable: true, $ref: ACTION_ID, goType: 'models.Action' } as const, '[]*models.Action'),
    log_source: goString,
  },
});

/** The action wrapper; its members are optional, hence `nullable` (a `null` member was dropped before). */
const actionSchema: JSONSchemaType<Action | null> & { $id: string } = {
  $id: ACTION_ID,
  type: 'object',
  nullable: true,
  goType: 'models.Action',
  additionalProperties: false,
  properties: {
    download: { ...downloadActionSchema, nullable: true },
    upload: { ...uploadActionSchema, nullable: true },
    run: { ...runActionSchema, nullable: true },
    timeout: { ...timeoutActionSchema, nullable: true },
    emit_progress: { ...emitProgressActionSchema, nullable: true },
    try: { ...tryActionSchema, nullable: true },
    parallel: { ...actionListSchema('models.ParallelAction'), nullable: true },
    serial: { ...actionListSchema('models.SerialAction'), nullable: true },
    codependent: { ...actionListSchema('models.CodependentAction'), nullable: true },
  },
};

// ---- request bodies ----

const taskCreateBodySchema: ModelSchema<TaskCreateBody> = {
  type: 'object',
  goType: 'receptor.TaskCreateRequest',
  additionalProperties: false,
  required: [],
  properties: {
    task_guid: goString,
    domain: goString,
    rootfs: goString,
    env: envList('receptor.EnvironmentVariable', '[]receptor.EnvironmentVariable'),
    action: actionRef,
    disk_mb: goInt,
    memory_mb: goInt,
    cpu_weight: goUint,
    privileged: goBool,
    log_source: goString,
    log_guid: goString,
    metrics_guid: goString,
    result_file: goString,
    completion_callback_url: goString,
    annotation: goString,
    egress_rules: egressRuleList,
  },
};

const desiredLrpCreateBodySchema: ModelSchema<DesiredLrpCreateBody> = {
  type: 'object',
  goType: 'receptor.DesiredLRPCreateRequest',
  additionalProperties: false,
  required: [],
  properties: {
    process_guid: goString,
    domain: goString,
    rootfs: goString,
    instances: goInt,
    env: envList('receptor.EnvironmentVariable', '[]receptor.EnvironmentVariable'),
    setup: actionRef,
    action: actionRef,
    monitor: actionRef,
    start_timeout: goUint,
    disk_mb: goInt,
    memory_mb: goInt,
    cpu_weight: goUint,
    privileged: goBool,
    ports: listOf(goUint16, '[]uint16'),
    routes: routesSchema,
    log_guid: goString,
    log_source: goString,
    metrics_guid: goString,
    annotation: goString,
    egress_rules: egressRuleList,
  },
};

/** The update's members: absent (or null) stays null, meaning unchanged. */
const nullableInstancesSchema: JSONSchemaType<number | null> & { $id: string } = {
  $id: 'update_instances',
  ...goInt,
  nullable: true,
  default: null,
};
const nullableAnnotationSchema: JSONSchemaType<string | null> & { $id: string } = {
  $id: 'update_annotation',
  ...goString,
  nullable: true,
  default: null,
};
const nullableRoutesSchema: JSONSchemaType<Routes | null> & { $id: string } = {
  $id: 'update_routes',
  ...routesSchema,
  nullable: true,
  default: null,
};

const desiredLrpUpdateBodySchema: ModelSchema<DesiredLRPUpdate> = {
  type: 'object',
  goType: 'receptor.DesiredLRPUpdateRequest',
  additionalProperties: false,
  required: [],
  properties: {
    instances: nullableRef<number>(nullableInstancesSchema),
    routes: nullableRef<Routes>(nullableRoutesSchema),
    annotation: nullableRef<string>(nullableAnnotationSchema),
  },
};

// ---- the validators, compiled once ----

function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const ajv = new Ajv({
  // Absent members get their Go zero value; unknown members are dropped, as Go ignores them.
  useDefaults: true,
  removeAdditional: true,
  // Errors carry the failing schema (for its `goType`) and the data (for its JSON kind).
  verbose: true,
  strictTypes: true,
});
ajv.addVocabulary(['goType']);
ajv.addKeyword({
  keyword: 'int64',
  schemaType: 'boolean',
  modifying: true,
  errors: false,
  validate: (_enabled: boolean, data: unknown, _parentSchema?: unknown, cxt?: DataValidationCxt): boolean => {
    const value = toInt64(data);
    if (value === null || cxt === undefined) return false;
    cxt.parentData[cxt.parentDataProperty] = value;
    return true;
  },
});
ajv.addKeyword({
  keyword: 'routeValues',
  type: 'object',
  schemaType: 'boolean',
  modifying: true,
  errors: false,
  validate: (_enabled: boolean, routes: unknown): boolean => {
    if (!isJsonObject(routes)) return false;
    for (const [key, value] of Object.entries(routes)) routes[key] = stringifyJson(value);
    return true;
  },
});
for (const schema of [
  INT64_SCHEMA,
  actionSchema,
  resourceLimitsSchema,
  portRangeSchema,
  icmpInfoSchema,
  nullableInstancesSchema,
  nullableAnnotationSchema,
  nullableRoutesSchema,
]) {
  ajv.addSchema(schema);
}

const compileModel = <T>(schema: ModelSchema<T>): ValidateFunction<T> => ajv.compile<T>(schema);
const isTaskCreateBody = compileModel<TaskCreateBody>(taskCreateBodySchema);
const isDesiredLrpCreateBody = compileModel<DesiredLrpCreateBody>(desiredLrpCreateBodySchema);
const isDesiredLrpUpdateBody = compileModel<DesiredLRPUpdate>(desiredLrpUpdateBodySchema);

// ---- decoding ----

/** Go decodes a `null` member as if it were absent. Route values are opaque JSON and keep their nulls. */
function dropNullMembers(value: unknown, opaqueKeys: readonly string[] = []): void {
  if (Array.isArray(value)) {
    for (const item of value) dropNullMembers(item);
  } else if (isJsonObject(value)) {
    for (const [key, member] of Object.entries(value)) {
      if (member === null) delete value[key];
      else if (!opaqueKeys.includes(key)) dropNullMembers(member);
    }
  }
}

/** Go's name for the JSON value that did not fit: `string`, `bool`, `array`, `object`, or `number <literal>`
 *  when it was a number that a numeric type could not hold (just `number` when the type was not numeric). */
function jsonKind(data: unknown, numericTarget: boolean): string {
  if (typeof data === 'number' || typeof data === 'bigint') return numericTarget ? `number ${String(data)}` : 'number';
  if (typeof data === 'string') return 'string';
  if (typeof data === 'boolean') return 'bool';
  if (Array.isArray(data)) return 'array';
  return data === null ? 'null' : 'object';
}

function unmarshalError(errors: readonly ErrorObject[] | null | undefined): BbsError {
  const error = errors?.[0];
  const goType: unknown = error?.parentSchema?.['goType'];
  if (error === undefined || typeof goType !== 'string') return new BbsError('InvalidJSON');
  const numericTarget = error.keyword !== 'type' || error.parentSchema?.['type'] === 'integer';
  return new BbsError('InvalidJSON', `json: cannot unmarshal ${jsonKind(error.data, numericTarget)} into Go value of type ${goType}`);
}

/** Parses the body as the receptor's decoder would read it, `null` members removed. */
function parseBody(body: string): unknown {
  if (body.trim() === '') throw new BbsError('InvalidJSON', 'EOF');
  let parsed: unknown;
  try {
    parsed = parseJson(body, { maxDepth: MAX_JSON_DEPTH });
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw new BbsError('InvalidJSON', message === 'Unexpected end of JSON input' ? 'unexpected EOF' : message);
  }
  // A `null` body decodes to the all-zero request.
  if (parsed === null) return {};
  dropNullMembers(parsed, ['routes']);
  return parsed;
}

function decode<T>(body: string, isBody: ValidateFunction<T>): T {
  const parsed = parseBody(body);
  if (!isBody(parsed)) throw unmarshalError(isBody.errors);
  return parsed;
}

/** POST /v1/tasks: the task guid, domain and definition, every absent field at its Go zero value. */
export function decodeTaskCreateRequest(body: string): TaskCreateRequest {
  const { task_guid, domain, ...fields } = decode(body, isTaskCreateBody);
  return {
    task_guid,
    domain,
    definition: { ...fields, cached_dependencies: [], legacy_download_user: '', trusted_system_certificates_path: '' },
  };
}

/** POST /v1/desired_lrps. The modification tag is zero ({epoch: "", index: 0}); the store stamps it. */
export function decodeDesiredLrpCreateRequest(body: string): DesiredLRP {
  return {
    ...decode(body, isDesiredLrpCreateBody),
    modification_tag: { epoch: '', index: 0 },
    cached_dependencies: [],
    legacy_download_user: '',
    trusted_system_certificates_path: '',
  };
}

/** PUT /v1/desired_lrps/:process_guid: only the members present (and not null) are set; the rest are null. */
export function decodeDesiredLrpUpdateRequest(body: string): DesiredLRPUpdate {
  return decode(body, isDesiredLrpUpdateBody);
}
