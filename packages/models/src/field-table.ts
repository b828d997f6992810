/**
 * Field tables: one line per field of a message says everything the codecs need to know of it: its kind of value
 * (a codec), its proto field (or the embedded message it sits in), when each JSON form writes it, and how a
 * receptor request body takes it. From a table come, built once when the module loads: the stored and response
 * JSON writers, the stored JSON reader, the request body's ajv schema, the proto mapping both ways and the model
 * type itself. `message<IProto>()` checks at compile time that a table covers every field of the generated proto
 * type and names none it lacks, so a field added to a .proto fails the build until its table has it.
 */
import Long from 'long';
import { BbsError } from './errors';
import { goEscapeJson, isJsonObject } from './json';

// ---------------------------------------------------------------------------------------------------------
// Codecs: one kind of value (model type M, protobufjs type P)

/** The error for a member that is not what Go would decode (stored records: InvalidRecord; the rep API: its own). */
export type DecodeFailure = (path: string, expected: string) => Error;

/** An ajv schema piece (plain JSON Schema plus our `goType`, `int64` and `routeValues` keywords). */
export type SchemaPiece = Readonly<Record<string, unknown>>;

/** Schemas that request schemas refer to by `$ref` (nullable members, recursive actions), by `$id`. */
export type SchemaRegistry = Map<string, SchemaPiece>;

export interface Codec<M, P> {
  /** The Go zero value, for an absent (or null) JSON member or proto field. A fresh one each call. */
  zero(): M;
  /** What a record without the member reads as, when that is not the zero value (a failure). */
  absent?(parent: string, suffix: string, fail: DecodeFailure): M;
  /** Go's omitempty test. */
  isEmpty(value: M): boolean;
  toJson(value: M): string;
  /** `value` as parsed JSON (not undefined); a failure names `parent + suffix`, which is built only then. */
  fromJson(value: unknown, parent: string, suffix: string, fail: DecodeFailure): M;
  toProto(value: M): P;
  fromProto(value: P | null | undefined): M;
  /** How a receptor request body takes the value (registering what it refers to). */
  schema(registry: SchemaRegistry): SchemaPiece;
  /** Whether an unset proto member differs from one set to the zero value (an update's members). */
  readonly presence?: boolean;
}

/** Characters that JSON or Go's encoding/json escape; most strings have none and are quoted as they are. */
const NEEDS_ESCAPING = /["\\\u0000-\u001f<>&\u2028\u2029\ud800-\udfff]/;

/** A JSON string literal, escaped as Go's encoding/json does. */
export function quote(value: string): string {
  return NEEDS_ESCAPING.test(value) ? goEscapeJson(JSON.stringify(value)) : `"${value}"`;
}

export function invalidMessage(message: string): BbsError {
  return new BbsError('InvalidProtobufMessage', message);
}

export const string: Codec<string, string> = {
  zero: () => '',
  isEmpty: (value) => value === '',
  toJson: quote,
  fromJson: (value, parent, suffix, fail) => (typeof value === 'string' ? value : failWith(fail, parent + suffix, 'a string')),
  toProto: (value) => value,
  fromProto: (value) => value ?? '',
  schema: () => ({ type: 'string', default: '', goType: 'string' }),
};

export const bool: Codec<boolean, boolean> = {
  zero: () => false,
  isEmpty: (value) => !value,
  toJson: (value) => (value ? 'true' : 'false'),
  fromJson: (value, parent, suffix, fail) => (typeof value === 'boolean' ? value : failWith(fail, parent + suffix, 'a boolean')),
  toProto: (value) => value,
  fromProto: (value) => value ?? false,
  schema: () => ({ type: 'boolean', default: false, goType: 'bool' }),
};

function failWith(fail: DecodeFailure, path: string, expected: string): never {
  throw fail(path, expected);
}

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;
const UINT32_MAX = 2 ** 32 - 1;

/** A whole number within [minimum, maximum]; `goType` is what request errors name, `expected` what record errors say. */
function integer(goType: string, minimum: number, maximum: number, expected: string): Codec<number, number> {
  return {
    zero: () => 0,
    isEmpty: (value) => value === 0,
    toJson: String,
    fromJson: (value, parent, suffix, fail) =>
      typeof value === 'number' && Number.isInteger(value) && value >= minimum && value <= maximum
        ? value
        : failWith(fail, parent + suffix, expected),
    toProto: (value) => value,
    fromProto: (value) => value ?? 0,
    schema: () => ({ type: 'integer', minimum, maximum, default: 0, goType }),
  };
}

export const int32 = integer('int32', INT32_MIN, INT32_MAX, 'an int32');
export const uint32 = integer('uint32', 0, UINT32_MAX, 'a uint32');
/** A receptor request's Go `int`, bounded to int32 (our storage) rather than wrapping around as Go's conversion did. */
export const goInt = integer('int', INT32_MIN, INT32_MAX, 'an int32');
/** A receptor request's Go `uint`, stored as a uint32. */
export const goUint = integer('uint', 0, UINT32_MAX, 'a uint32');
export const uint16 = integer('uint16', 0, 65535, 'a uint16');
/** A Go int kept as a number (the rep API's): exact within ±2^53. */
export const int53 = integer('int', -Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, 'an integer');

/** A uint64 the model keeps as a number (resource limits): exact up to 2^53, a Long on the wire. */
export const uint53: Codec<number, Long> = {
  ...integer('uint64', 0, Number.MAX_SAFE_INTEGER, 'an unsigned integer below 2^53'),
  toProto: (value) => Long.fromNumber(value, true),
  // A plain object from a client may hold a number where decoding gives a Long.
  fromProto: (value: Long | number | null | undefined) => {
    if (value === null || value === undefined) return 0;
    const n = typeof value === 'number' ? value : value.toNumber();
    if (!Number.isSafeInteger(n)) throw invalidMessage(`uint64 ${value.toString()} is beyond 2^53`);
    return n;
  },
};

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
/** Request schemas check int64s with the `int64` keyword (requests.ts): JSON Schema has no bigint. */
const INT64_SCHEMA = { $id: 'int64', int64: true, goType: 'int64' } as const;

/** Nanoseconds: a bigint in the model, every digit written; through the decimal digits to and from Long. */
export const int64: Codec<bigint, Long> = {
  zero: () => 0n,
  isEmpty: (value) => value === 0n,
  toJson: (value) => value.toString(),
  fromJson: (value, parent, suffix, fail) => {
    // parseJson gives integers of 16+ digits as bigint, shorter ones as (exact) numbers.
    if (typeof value === 'number' && Number.isSafeInteger(value)) return BigInt(value);
    if (typeof value === 'bigint' && value >= INT64_MIN && value <= INT64_MAX) return value;
    return failWith(fail, parent + suffix, 'an int64');
  },
  toProto: (value) => Long.fromString(value.toString(), false),
  fromProto: (value: Long | number | null | undefined) => (value === null || value === undefined ? 0n : BigInt(value.toString())),
  schema: (registry) => {
    registry.set(INT64_SCHEMA.$id, INT64_SCHEMA);
    return { $ref: INT64_SCHEMA.$id, default: 0 };
  },
};

/**
 * One of a fixed set of strings (a state). A record without it reads as `zero`, or is invalid when
 * `absent: 'invalid'`.
 */
export function oneOf<T extends string, P>(
  allowed: readonly T[],
  proto: { to(value: T): P; from(value: P | null | undefined): T },
  zero: T,
  absent: 'zero' | 'invalid' = 'zero',
): Codec<T, P> {
  const expected = `one of ${allowed.join(', ')}`;
  return {
    zero: () => zero,
    ...(absent === 'invalid'
      ? { absent: (parent: string, suffix: string, fail: DecodeFailure) => failWith(fail, parent + suffix, expected) }
      : {}),
    isEmpty: (value) => value === zero,
    toJson: quote,
    fromJson: (value, parent, suffix, fail) =>
      allowed.find((candidate) => candidate === value) ?? failWith(fail, parent + suffix, expected),
    toProto: proto.to,
    fromProto: proto.from,
    schema: () => ({ type: 'string', enum: allowed, goType: 'string' }),
  };
}

/** A list; `goType` is the Go slice type request errors name. */
export function list<M, P>(item: Codec<M, P>, goType: string): Codec<M[], P[]> {
  return {
    zero: () => [],
    isEmpty: (value) => value.length === 0,
    // join() writes one flat string: records' JSON is kept (the BBS remembers it), and a rope of small pieces
    // would hold many times its size.
    toJson: (value) => `[${value.map((element) => item.toJson(element)).join(',')}]`,
    fromJson: (value, parent, suffix, fail) => {
      if (!Array.isArray(value)) return failWith(fail, parent + suffix, 'an array');
      const path = parent + suffix;
      return value.map((element: unknown, i) => item.fromJson(element, path, `[${i}]`, fail));
    },
    toProto: (value) => value.map((element) => item.toProto(element)),
    fromProto: (value) => (value ?? []).map((element) => item.fromProto(element)),
    schema: (registry) => ({ type: 'array', items: item.schema(registry), default: [], goType }),
  };
}

const hasOwn = (object: object, key: string): boolean => Object.prototype.hasOwnProperty.call(object, key);

/** A JSON object of arbitrary keys: written with its keys sorted, as Go writes a map. */
export function jsonMap<V, P>(value: {
  toJson(item: V): string;
  fromJson(item: unknown, path: string, fail: DecodeFailure): V;
  toProto(map: Readonly<Record<string, V>>): P;
  fromProto(proto: P | null | undefined): Record<string, V>;
  schema: SchemaPiece;
}): Codec<Record<string, V>, P> {
  return {
    zero: () => ({}),
    isEmpty: (map) => Object.keys(map).length === 0,
    toJson: (map) => {
      const body = Object.keys(map)
        .sort()
        .map((key) => `${quote(key)}:${value.toJson(map[key] as V)}`)
        .join(',');
      return `{${body}}`;
    },
    fromJson: (map, parent, suffix, fail) => {
      if (!isJsonObject(map)) return failWith(fail, parent + suffix, 'an object');
      const path = parent + suffix;
      const out: Record<string, V> = {};
      for (const [key, item] of Object.entries(map)) out[key] = value.fromJson(item, `${path}.${key}`, fail);
      return out;
    },
    toProto: value.toProto,
    fromProto: value.fromProto,
    schema: () => value.schema,
  };
}

/** `id`, for a `$ref`, after registering its schema (built on first use). */
function registered(registry: SchemaRegistry, id: string, build: () => SchemaPiece): string {
  if (!registry.has(id)) {
    // Registered before it is built, so that a recursive schema (actions) refers to itself.
    registry.set(id, {});
    registry.set(id, build());
  }
  return id;
}

// ---------------------------------------------------------------------------------------------------------
// Fields and tables

/**
 * When a JSON form writes a field: `always`; `omitempty` (left out when "" / 0 / false / [] / {} / null, Go's
 * tag); `null-when-empty` (an empty list as `null`, as Go writes a nil slice); `absent` (never).
 */
export type Emit = 'always' | 'omitempty' | 'null-when-empty' | 'absent';

export interface Field<M, P, Path extends string | undefined> {
  readonly codec: Codec<M, P>;
  /** The proto field: the JSON key when undefined; `embedded.name` for a field of an embedded message. */
  readonly proto: Path;
  readonly stored: Emit;
  readonly response: Emit;
  /** How a receptor request body takes it: another codec (its Go type differs), or null (not in requests). */
  readonly request: Codec<M, unknown> | null;
  /** A proto field that is left out when the value is empty (Go's nil pointer), rather than written. */
  readonly protoOmitEmpty: boolean;
}

interface FieldOptions<M, Path extends string | undefined> {
  proto?: Path;
  /** Both JSON forms' rule, unless `stored` or `response` says otherwise. */
  emit?: Emit;
  stored?: Emit;
  response?: Emit;
  /** `false`: no receptor request takes this field. */
  request?: Codec<M, unknown> | false;
  protoOmitEmpty?: boolean;
}

export function field<M, P, const Path extends string | undefined = undefined>(
  codec: Codec<M, P>,
  options: FieldOptions<M, Path> = {},
  // NoInfer: a table's type must not lend its paths to a field without a `proto`.
): Field<M, P, NoInfer<Path>> {
  return {
    codec,
    proto: options.proto as Path,
    stored: options.stored ?? options.emit ?? 'always',
    response: options.response ?? options.emit ?? 'always',
    request: options.request === false ? null : (options.request ?? codec),
    protoOmitEmpty: options.protoOmitEmpty ?? false,
  };
}

/** Any field: codecs' model and proto types only appear in method parameters (bivariant) and results. */
type AnyField = Field<unknown, unknown, string | undefined>;
export type FieldTable = Readonly<Record<string, AnyField>>;

type ModelType<F> = F extends { readonly codec: { zero(): infer M } } ? M : never;
type ProtoPathOf<K extends string, F> = F extends { readonly proto: infer Path } ? (Path extends string ? Path : K) : K;

/** The model a table describes: each field's model type under its JSON key. */
export type ModelOf<T extends FieldTable> = { -readonly [K in keyof T]: ModelType<T[K]> };

/** The fields of a table that sit in the embedded proto message `E`. */
export type EmbeddedKeys<T extends FieldTable, E extends string> = {
  [K in keyof T & string]: ProtoPathOf<K, T[K]> extends `${E}.${string}` ? K : never;
}[keyof T & string];

/** The proto fields a table names: `name` or `embedded.name`. */
type ProtoPaths<T extends FieldTable> = { [K in keyof T & string]: ProtoPathOf<K, T[K]> }[keyof T & string];

/** A proto type's fields (protobufjs adds `$unknowns`, which is none). */
type ProtoFields<P> = Exclude<keyof P & string, `$${string}`>;

/** Fields of proto type P that no entry of the table maps (an embedded message must be mapped field by field). */
type MissingProtoFields<P, C extends string> = {
  [K in ProtoFields<P>]-?: K extends C
    ? never
    : [Extract<C, `${K}.${string}`>] extends [never]
      ? K
      : Exclude<`${K}.${ProtoFields<NonNullable<P[K]>>}`, C>;
}[ProtoFields<P>];

type KnownProtoPaths<P> = ProtoFields<P> | { [K in ProtoFields<P>]: `${K}.${ProtoFields<NonNullable<P[K]>>}` }[ProtoFields<P>];

/** The type protobufjs gives the proto field at `path` of P. */
type ProtoTypeAt<P, Path extends string> = Path extends `${infer E}.${infer N}`
  ? E extends keyof P
    ? N extends keyof NonNullable<P[E]>
      ? NonNullable<P[E]>[N]
      : never
    : never
  : Path extends keyof P
    ? P[Path]
    : never;

type CodecProtoType<F> = F extends { readonly codec: { toProto(value: never): infer P } } ? P : never;

/** Entries whose codec writes a value of another type than their proto field holds (an int64 as a uint32, ...). */
type MistypedFields<P, T extends FieldTable> = {
  [K in keyof T & string]: [CodecProtoType<T[K]>] extends [ProtoTypeAt<P, ProtoPathOf<K, T[K]>>] ? never : K;
}[keyof T & string];

/** `unknown` when table T maps exactly the fields of proto type P, each with its type; else a member naming the fault. */
export type CoversProto<P, T extends FieldTable> = [MissingProtoFields<P, ProtoPaths<T>>] extends [never]
  ? [Exclude<ProtoPaths<T>, KnownProtoPaths<P>>] extends [never]
    ? [MistypedFields<P, T>] extends [never]
      ? unknown
      : { mistyped_proto_fields: MistypedFields<P, T> }
    : { unknown_proto_fields: Exclude<ProtoPaths<T>, KnownProtoPaths<P>> }
  : { missing_proto_fields: MissingProtoFields<P, ProtoPaths<T>> };

/** Which JSON form a writer writes. */
export type Form = 'stored' | 'response';

type FieldWriter<M> = (model: M) => string;

/** One compiled table: its writers, reader and proto mapping, built once. */
export interface MessageCodecs<M, P, T extends FieldTable = FieldTable> {
  readonly fields: T;
  write(model: M, form: Form): string;
  read(value: unknown, path: string, fail: DecodeFailure): M;
  toProto(model: M): P;
  fromProto(proto: P | null | undefined): M;
  /** The request body's object schema, with the fields requests take. */
  requestSchema(registry: SchemaRegistry, goType: string): SchemaPiece & { properties: Readonly<Record<string, SchemaPiece>> };
}

function fieldWriter<M>(key: string, spec: AnyField, emit: Emit): FieldWriter<M> | null {
  const prefix = `"${key}":`;
  const { codec } = spec;
  const get = (model: M): unknown => (model as Record<string, unknown>)[key];
  switch (emit) {
    case 'absent':
      return null;
    case 'always':
      return (model) => prefix + codec.toJson(get(model));
    case 'omitempty':
      return (model) => {
        const value = get(model);
        return value === null || codec.isEmpty(value) ? '' : prefix + codec.toJson(value);
      };
    case 'null-when-empty':
      return (model) => {
        const value = get(model);
        return codec.isEmpty(value) ? `${prefix}null` : prefix + codec.toJson(value);
      };
  }
}

/** Writes `fields` in order, skipping the empty ones, as one flat string (see `list`). */
export function objectWriter<M>(writers: readonly FieldWriter<M>[]): (model: M) => string {
  return (model) => {
    const parts: string[] = [];
    for (const write of writers) {
      const part = write(model);
      if (part !== '') parts.push(part);
    }
    return `{${parts.join(',')}}`;
  };
}

/** The writers of a table's fields in one form, in table order. */
export function fieldWriters<M>(fields: FieldTable, form: Form): FieldWriter<M>[] {
  return Object.entries(fields).flatMap(([key, spec]) => {
    const writer = fieldWriter<M>(key, spec, form === 'stored' ? spec.stored : spec.response);
    return writer === null ? [] : [writer];
  });
}

interface ProtoSlot {
  readonly key: string;
  readonly embedded: string | null;
  readonly name: string;
  readonly spec: AnyField;
}

function protoSlots(fields: FieldTable): ProtoSlot[] {
  return Object.entries(fields).map(([key, spec]) => {
    const path = spec.proto ?? key;
    const dot = path.indexOf('.');
    return dot < 0
      ? { key, embedded: null, name: path, spec }
      : { key, embedded: path.slice(0, dot), name: path.slice(dot + 1), spec };
  });
}

type Bag = Record<string, unknown>;

/**
 * Generated code: a function of `codecs` (the table's, in order) that `body` returns. The reader and the proto
 * mapping build each record as one object literal of fixed shape, which V8 makes and reads several times faster
 * than objects grown key by key; a fetch of every record goes through them 200,000 times. Keys are our tables'
 * own, written as JSON string literals.
 */
function generated<F>(codecs: readonly Codec<unknown, unknown>[], body: string): F {
  return new Function('codecs', 'failWith', 'isJsonObject', 'hasOwn', body)(codecs, failWith, isJsonObject, hasOwn) as F;
}

/** `object[key]` of a JSON.parse object: plain indexing unless the key names an Object.prototype member. */
const ownMember = (object: string, key: string): string =>
  key in Object.prototype ? `(hasOwn(${object}, ${JSON.stringify(key)}) ? ${object}[${JSON.stringify(key)}] : undefined)` : `${object}[${JSON.stringify(key)}]`;

/** Compiles a table (see `message`). */
function compile<M, P>(fields: FieldTable): MessageCodecs<M, P> {
  const writers = {
    stored: objectWriter<M>(fieldWriters<M>(fields, 'stored')),
    response: objectWriter<M>(fieldWriters<M>(fields, 'response')),
  };
  const slots = protoSlots(fields);
  const codecs = slots.map((slot) => slot.spec.codec);
  const codec = (i: number): string => `codecs[${i}]`;
  const quoted = JSON.stringify;

  // A missing or null member is the zero value, as Go leaves it (or a failure, for a codec with `absent`).
  const readMembers = slots.map(({ key, spec }, i) => {
    const suffix = quoted(`.${key}`);
    const whenAbsent = spec.codec.absent === undefined ? `${codec(i)}.zero()` : `${codec(i)}.absent(path, ${suffix}, fail)`;
    return `${quoted(key)}: (x = ${ownMember('value', key)}) === undefined || x === null ? ${whenAbsent} : ${codec(i)}.fromJson(x, path, ${suffix}, fail)`;
  });
  const read = generated<MessageCodecs<M, P>['read']>(
    codecs,
    `return function read(value, path, fail) {
      if (!isJsonObject(value)) return failWith(fail, path, 'an object');
      let x;
      return { ${readMembers.join(',\n')} };
    };`,
  );

  const protoMembers = (embedded: string | null): string[] =>
    slots.flatMap(({ key, spec, name, embedded: in_ }, i) => {
      if (in_ !== embedded) return [];
      const value = `model[${quoted(key)}]`;
      const proto = `${codec(i)}.toProto(${value})`;
      return [`${quoted(name)}: ${spec.protoOmitEmpty ? `${codec(i)}.isEmpty(${value}) ? null : ${proto}` : proto}`];
    });
  const embeddedNames = [...new Set(slots.flatMap((slot) => (slot.embedded === null ? [] : [slot.embedded])))];
  const toProto = generated<MessageCodecs<M, P>['toProto']>(
    codecs,
    `return function toProto(model) {
      return { ${[...protoMembers(null), ...embeddedNames.map((name) => `${quoted(name)}: { ${protoMembers(name).join(', ')} }`)].join(',\n')} };
    };`,
  );

  // A decoded message's prototype holds the defaults, which read as the zero values; only a codec that tells
  // an unset member from a set one (an update's) asks whether the message owns it.
  const holders = embeddedNames.map((name, i) => `const e${i} = message[${quoted(name)}];`);
  const fromMembers = slots.map(({ key, name, embedded, spec }, i) => {
    const holder = embedded === null ? 'message' : `e${embeddedNames.indexOf(embedded)}`;
    const member = spec.codec.presence
      ? `(${holder} && hasOwn(${holder}, ${quoted(name)}) ? ${holder}[${quoted(name)}] : undefined)`
      : `${holder}?.[${quoted(name)}]`;
    return `${quoted(key)}: ${codec(i)}.fromProto(${member})`;
  });
  const fromProto = generated<MessageCodecs<M, P>['fromProto']>(
    codecs,
    `return function fromProto(proto) {
      const message = proto ?? {};
      ${holders.join('\n')}
      return { ${fromMembers.join(',\n')} };
    };`,
  );

  return {
    fields,
    write: (model, form) => writers[form](model),
    read,
    toProto,
    fromProto,
    requestSchema: (registry, goType) => {
      const properties: Record<string, SchemaPiece> = {};
      for (const [key, spec] of Object.entries(fields)) {
        if (spec.request !== null) properties[key] = spec.request.schema(registry);
      }
      return { type: 'object', goType, additionalProperties: false, required: [], properties };
    },
  };
}

/** A table's compiled codecs, typed by the model it describes and the proto type it maps. */
export type Message<T extends FieldTable, P> = MessageCodecs<ModelOf<T>, P, T>;

/**
 * The table of proto message `P`, compiled. A compile error `missing_proto_fields` / `unknown_proto_fields`
 * names the proto fields the table lacks or that P does not have.
 *
 * @example
 *   const PORT_RANGE = message<models.IPortRange>()({ start: field(uint32), end: field(uint32) });
 */
export function message<P>() {
  return <const T extends FieldTable>(fields: T & CoversProto<P, T>): Message<T, P> =>
    compile<ModelOf<T>, P>(fields) as Message<T, P>;
}

/**
 * The codecs of the fields of `table` that sit in its embedded proto message `name` (an ActualLRP's key), which
 * `P` types.
 */
export function embedded<P>() {
  return <T extends FieldTable, E extends string>(
    table: Message<T, unknown>,
    name: E,
  ): MessageCodecs<ModelOf<Pick<T, EmbeddedKeys<T, E>>>, P> => {
    const prefix = `${name}.`;
    const fields: Record<string, AnyField> = {};
    for (const [key, spec] of Object.entries(table.fields)) {
      if (spec.proto?.startsWith(prefix)) fields[key] = { ...spec, proto: spec.proto.slice(prefix.length) };
    }
    return compile(fields);
  };
}

// ---------------------------------------------------------------------------------------------------------
// Nested messages as values of other messages' fields

/** A nested message Go never leaves nil (a modification tag, a capacity, a list's entry): its zero value when absent. */
export function required<M, P>(codecs: MessageCodecs<M, P>, goType: string): Codec<M, P> {
  return {
    zero: () => codecs.fromProto(null),
    isEmpty: () => false,
    toJson: (value) => codecs.write(value, 'stored'),
    fromJson: (value, parent, suffix, fail) => codecs.read(value, parent + suffix, fail),
    toProto: codecs.toProto,
    fromProto: codecs.fromProto,
    schema: (registry) => codecs.requestSchema(registry, goType),
  };
}

/**
 * A nested message that may be absent (null): one JSON form (nested messages omit their empty fields alike in
 * both); request bodies refer to its registered schema, whose default is null.
 */
export function nullable<M, P>(codecs: MessageCodecs<M, P>, goType: string, id: string): Codec<M | null, P | null> {
  return {
    zero: () => null,
    isEmpty: (value) => value === null,
    toJson: (value) => (value === null ? 'null' : codecs.write(value, 'stored')),
    fromJson: (value, parent, suffix, fail) => (value === null ? null : codecs.read(value, parent + suffix, fail)),
    toProto: (value) => (value === null ? null : codecs.toProto(value)),
    fromProto: (value) => (value ? codecs.fromProto(value) : null),
    schema: (registry) => ({
      $ref: registered(registry, id, () => ({ ...codecs.requestSchema(registry, goType), $id: id, nullable: true })),
      default: null,
    }),
  };
}

/**
 * A DesiredLRPUpdate member: null is "unchanged". The proto field is set only when the value is not null, and
 * read as set only when the decoded message owns it (its prototype holds the default).
 */
export function optional<M, P>(codec: Codec<M, P>, id: string): Codec<M | null, P | undefined> {
  return {
    presence: true,
    zero: () => null,
    isEmpty: (value) => value === null,
    toJson: (value) => (value === null ? 'null' : codec.toJson(value)),
    fromJson: (value, parent, suffix, fail) => (value === null ? null : codec.fromJson(value, parent, suffix, fail)),
    toProto: (value) => (value === null ? undefined : codec.toProto(value)),
    fromProto: (value) => (value === null || value === undefined ? null : codec.fromProto(value)),
    schema: (registry) => ({
      $ref: registered(registry, id, () => ({ ...codec.schema(registry), $id: id, nullable: true, default: null })),
      default: null,
    }),
  };
}

/** Stored records' failure: InvalidRecord naming the member. */
export const invalidRecordFailure: DecodeFailure = (path, expected) =>
  new BbsError('InvalidRecord', `invalid record: ${path}: expected ${expected}`);

/** A codec defined later (actions hold actions). */
export function lazy<M, P>(get: () => Codec<M, P>): Codec<M, P> {
  let codec: Codec<M, P> | undefined;
  const resolved = (): Codec<M, P> => (codec ??= get());
  return {
    zero: () => resolved().zero(),
    isEmpty: (value) => resolved().isEmpty(value),
    toJson: (value) => resolved().toJson(value),
    fromJson: (value, parent, suffix, fail) => resolved().fromJson(value, parent, suffix, fail),
    toProto: (value) => resolved().toProto(value),
    fromProto: (value) => resolved().fromProto(value),
    schema: (registry) => resolved().schema(registry),
  };
}

/** The model of a wrapper of alternatives (an action): each member optional, exactly one set when valid. */
export type AlternativesOf<T extends FieldTable> = { -readonly [K in keyof T]?: ModelType<T[K]> };

/**
 * A wrapper of alternatives (Diego's Action): every member that is set is written, in table order, and read when
 * present; request bodies leave absent ones out (no default).
 */
export function alternatives<P>() {
  return <const T extends FieldTable>(fields: T & CoversProto<P, T>): MessageCodecs<AlternativesOf<T>, P, T> => {
    const members = protoSlots(fields).map((slot) => ({ ...slot, prefix: `"${slot.key}":`, suffix: `.${slot.key}` }));
    return {
      fields,
      write: (model) => {
        const parts: string[] = [];
        for (const { key, prefix, spec } of members) {
          const value = (model as Bag)[key];
          if (value !== undefined) parts.push(prefix + spec.codec.toJson(value));
        }
        return `{${parts.join(',')}}`;
      },
      read: (value, path, fail) => {
        if (!isJsonObject(value)) return failWith(fail, path, 'an object');
        const out: Bag = {};
        for (const { key, suffix, spec } of members) {
          const member = hasOwn(value, key) ? value[key] : undefined;
          if (member !== undefined && member !== null) out[key] = spec.codec.fromJson(member, path, suffix, fail);
        }
        return out as AlternativesOf<T>;
      },
      toProto: (model) => {
        const out: Bag = {};
        for (const { key, name, spec } of members) {
          const value = (model as Bag)[key];
          if (value !== undefined) out[name] = spec.codec.toProto(value);
        }
        return out as P;
      },
      fromProto: (proto) => {
        const message = (proto ?? {}) as Bag;
        const out: Bag = {};
        for (const { key, name, spec } of members) {
          const value = hasOwn(message, name) ? message[name] : undefined;
          if (value) out[key] = spec.codec.fromProto(value);
        }
        return out as AlternativesOf<T>;
      },
      requestSchema: (registry, goType) => {
        const properties: Record<string, SchemaPiece> = {};
        for (const { key, spec } of members) properties[key] = { ...spec.codec.schema(registry), nullable: true };
        return { type: 'object', goType, additionalProperties: false, properties };
      },
    };
  };
}
