// Receptor request bodies, decoded as Go's encoding/json decoded them into the receptor's structs
// (spec/receptor-api.md §1.2, §4.1, §4.3, §4.4). The body text is parsed with parseJson (exact int64s) and
// checked by ajv schemas built from the field tables (model-tables.ts). Any decode or type error
// throws BbsError('InvalidJSON', <Go-like message>). Domain rules are NOT checked here (see validation.ts).
//
// Go semantics kept: an empty body is `EOF`; `null` (the body or a member) means absent, so the Go zero value;
// unknown keys are ignored; a JSON type that does not fit the Go type, a fraction or a negative number for an
// unsigned field, or a number beyond the field's range is `json: cannot unmarshal ... into Go value of type ...`.
// Deviations: key matching is case-sensitive, and `int` fields are bounded to int32 (our storage) instead of
// wrapping around as the receptor's int -> int32 conversion did.
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
// ajv's index does not re-export the context a modifying keyword writes through.
import type { DataValidationCxt } from 'ajv/dist/types';
import { models } from '../gen/proto';
import { BbsError } from './errors';
import type { FieldTable, SchemaPiece, SchemaRegistry } from './field-table';
import { isJsonObject } from './json';
import { MAX_JSON_DEPTH, parseJson, stringifyJson } from './json';
import { DESIRED_LRP, DESIRED_LRP_UPDATE, TASK, TASK_DEFINITION } from './model-tables';
import type { DesiredLRP, DesiredLRPUpdate, TaskDefinition } from './types';

export interface TaskCreateRequest {
  task_guid: string;
  domain: string;
  definition: TaskDefinition;
}

// ---- int64 ----

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** An integer (number or exact bigint) within int64 range, as a bigint; null otherwise. */
function toInt64(data: unknown): bigint | null {
  const value = typeof data === 'bigint' ? data : typeof data === 'number' && Number.isInteger(data) ? BigInt(data) : null;
  return value !== null && value >= INT64_MIN && value <= INT64_MAX ? value : null;
}

// ---- the request bodies' schemas, from the field tables ----
// Each member carries the Go type that decode errors name, and a default (its Go zero value), so none is ever
// missing and `required` stays empty. A member the receptor's request lacks is left at its zero value.

const registry: SchemaRegistry = new Map();

/**
 * POST /v1/tasks: the guid and domain, then the definition's fields in its proto's order (the receptor struct's),
 * not the response's: ajv reports the first bad member in schema order, so a body with several names the one it
 * always named.
 */
const taskCreateBodySchema = ((): SchemaPiece => {
  const { task_guid, domain, ...taskFields } = TASK.requestSchema(registry, 'receptor.TaskCreateRequest').properties;
  // A generated message's prototype holds its fields' defaults in declaration order.
  const protoOrder = Object.keys(models.TaskDefinition.prototype);
  const place = (key: string): number => protoOrder.indexOf(TASK_DEFINITION.fields[key]?.proto ?? key);
  const definition = Object.entries(taskFields)
    .filter(([key]) => key in TASK_DEFINITION.fields)
    .sort(([a], [b]) => place(a) - place(b));
  return {
    type: 'object',
    goType: 'receptor.TaskCreateRequest',
    additionalProperties: false,
    required: [],
    properties: { task_guid, domain, ...Object.fromEntries(definition) },
  };
})();
const desiredLrpCreateBodySchema = DESIRED_LRP.requestSchema(registry, 'receptor.DesiredLRPCreateRequest');
const desiredLrpUpdateBodySchema = DESIRED_LRP_UPDATE.requestSchema(registry, 'receptor.DesiredLRPUpdateRequest');

/** What the bodies decode to: the members their requests take. */
type TaskCreateBody = Partial<TaskDefinition> & { task_guid: string; domain: string };
type DesiredLrpCreateBody = Partial<DesiredLRP>;

// ---- the validators, compiled once ----

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
for (const schema of registry.values()) ajv.addSchema(schema);

const isTaskCreateBody: ValidateFunction<TaskCreateBody> = ajv.compile<TaskCreateBody>(taskCreateBodySchema);
const isDesiredLrpCreateBody: ValidateFunction<DesiredLrpCreateBody> = ajv.compile<DesiredLrpCreateBody>(desiredLrpCreateBodySchema);
const isDesiredLrpUpdateBody: ValidateFunction<DesiredLRPUpdate> = ajv.compile<DesiredLRPUpdate>(desiredLrpUpdateBodySchema);

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

/** `body` (decoded, every member its request takes set) with the fields no request takes at their zero values. */
function withZeroFieldsNotInRequests<M>(body: Partial<M>, fields: FieldTable): M {
  const model: Record<string, unknown> = body;
  for (const [key, spec] of Object.entries(fields)) if (spec.request === null) model[key] = spec.codec.zero();
  return model as M;
}

/** POST /v1/tasks: the task guid, domain and definition, every absent field at its Go zero value. */
export function decodeTaskCreateRequest(body: string): TaskCreateRequest {
  const { task_guid, domain, ...fields } = decode(body, isTaskCreateBody);
  return { task_guid, domain, definition: withZeroFieldsNotInRequests<TaskDefinition>(fields, TASK_DEFINITION.fields) };
}

/** POST /v1/desired_lrps. The modification tag is zero ({epoch: "", index: 0}); the store stamps it. */
export function decodeDesiredLrpCreateRequest(body: string): DesiredLRP {
  return withZeroFieldsNotInRequests<DesiredLRP>(decode(body, isDesiredLrpCreateBody), DESIRED_LRP.fields);
}

/** PUT /v1/desired_lrps/:process_guid: only the members present (and not null) are set; the rest are null. */
export function decodeDesiredLrpUpdateRequest(body: string): DesiredLRPUpdate {
  return decode(body, isDesiredLrpUpdateBody);
}
