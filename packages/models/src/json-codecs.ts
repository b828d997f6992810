/**
 * The models as JSON: the stored records (etcd values) and the receptor's response bodies, written and read by
 * the codecs compiled from the field tables (model-tables.ts).
 *
 * Stored records carry every field of the model with the receptor's snake_case keys and int64s as plain
 * integers, so `etcdctl get` prints a readable record that decodes back to the same model. Responses follow
 * spec/receptor-api.md §4-§6: Go's key order, and its omitempty rules (a key omitted on the wire decodes to
 * the zero value, so actions and egress rules use one encoding in both forms).
 *
 * Writers build the text directly (no intermediate objects): lists of 200,000 records go through them.
 */
import { resolveActualLrpGroup } from './actual-lrp-lifecycle';
import { BbsError } from './errors';
import {
  bool,
  fieldWriters,
  int53,
  invalidRecordFailure,
  objectWriter,
  string,
  type Codec,
  type DecodeFailure,
} from './field-table';
import { isJsonObject, parseJson } from './json';
import { ACTUAL_LRP, CELL_PRESENCE, DESIRED_LRP, TASK } from './model-tables';
import type { ActualLRP, ActualLRPGroup, CellPresence, DesiredLRP, Task } from './types';

export type { DecodeFailure } from './field-table';

/** Parses a stored record and reads it with `read`. @throws BbsError('InvalidRecord') when it is not one. */
function readRecord<M>(text: string, kind: string, read: (value: unknown, path: string, fail: DecodeFailure) => M): M {
  let parsed: unknown;
  try {
    parsed = parseJson(text);
  } catch (err) {
    throw new BbsError('InvalidRecord', `invalid ${kind} record: ${err instanceof Error ? err.message : String(err)}`);
  }
  return read(parsed, kind, invalidRecordFailure);
}

// ---------------------------------------------------------------------------------------------------------
// Stored records

/** The stored ActualLRP (`/v1/actual/<guid>/<index>/instance|evacuating`). */
export function actualLrpToJson(lrp: ActualLRP): string {
  return ACTUAL_LRP.write(lrp, 'stored');
}

/** @throws BbsError('InvalidRecord') when `text` is not a stored ActualLRP. */
export function actualLrpFromJson(text: string): ActualLRP {
  return readRecord(text, 'ActualLRP', ACTUAL_LRP.read);
}

/** The stored DesiredLRP (`/v1/desired/<guid>`). */
export function desiredLrpToJson(lrp: DesiredLRP): string {
  return DESIRED_LRP.write(lrp, 'stored');
}

/** @throws BbsError('InvalidRecord') when `text` is not a stored DesiredLRP. */
export function desiredLrpFromJson(text: string): DesiredLRP {
  return readRecord(text, 'DesiredLRP', DESIRED_LRP.read);
}

/** The stored Task (`/v1/task/<guid>`), with the internal updated_at and first_completed_at. */
export function taskToJson(task: Task): string {
  return TASK.write(task, 'stored');
}

/** @throws BbsError('InvalidRecord') when `text` is not a stored Task. */
export function taskFromJson(text: string): Task {
  return readRecord(text, 'Task', TASK.read);
}

/** The stored CellPresence (`/v1/cell/<cell_id>`). */
export function cellPresenceToJson(cell: CellPresence): string {
  return CELL_PRESENCE.write(cell, 'stored');
}

/** @throws BbsError('InvalidRecord') when `text` is not a stored CellPresence. */
export function cellPresenceFromJson(text: string): CellPresence {
  return readRecord(text, 'CellPresence', CELL_PRESENCE.read);
}

// ---------------------------------------------------------------------------------------------------------
// Receptor responses (§4)

/** §4.2 TaskResponse. */
export function taskResponseJson(task: Task): string {
  return TASK.write(task, 'response');
}

/** §4.5 DesiredLRPResponse. */
export function desiredLrpResponseJson(lrp: DesiredLRP): string {
  return DESIRED_LRP.write(lrp, 'response');
}

/** An ActualLRP with whether it is the evacuating copy, which §4.6 writes before the modification tag. */
type ResolvedActualLrp = { readonly lrp: ActualLRP; readonly evacuating: boolean };

const writeActualLrpResponse = ((): ((resolved: ResolvedActualLrp) => string) => {
  const writers = fieldWriters<ActualLRP>(ACTUAL_LRP.fields, 'response').map(
    (write) => (resolved: ResolvedActualLrp) => write(resolved.lrp),
  );
  const evacuating = (resolved: ResolvedActualLrp): string => `"evacuating":${bool.toJson(resolved.evacuating)}`;
  return objectWriter<ResolvedActualLrp>([...writers.slice(0, -1), evacuating, ...writers.slice(-1)]);
})();

/** §4.6 ActualLRPResponse of the group's resolved record (§3.11), with `evacuating`; `null` for an empty group. */
export function actualLrpGroupResponseJson(group: ActualLRPGroup): string {
  const resolved = resolveActualLrpGroup(group);
  return resolved === null ? 'null' : writeActualLrpResponse(resolved);
}

/** §4.7 CellResponse. */
export function cellResponseJson(cell: CellPresence): string {
  return CELL_PRESENCE.write(cell, 'response');
}

// ---------------------------------------------------------------------------------------------------------
// Reading JSON objects by hand (the rep API's Go structs, which have no table)

type JsonObjectValue = { readonly [key: string]: unknown };

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
    private readonly failure: DecodeFailure = invalidRecordFailure,
  ) {}

  /** The reader of `value`, which must be a JSON object. */
  static of(value: unknown, path: string, failure: DecodeFailure = invalidRecordFailure): FieldReader {
    if (!isJsonObject(value)) throw failure(path, 'an object');
    return new FieldReader(value, path, failure);
  }

  /** The value under `key`; `undefined` when absent or null (Go leaves the zero value). */
  private get(key: string): unknown {
    return Object.prototype.hasOwnProperty.call(this.fields, key) ? (this.fields[key] ?? undefined) : undefined;
  }

  private read<M>(key: string, codec: Codec<M, unknown>): M {
    const value = this.get(key);
    return value === undefined ? codec.zero() : codec.fromJson(value, this.path, `.${key}`, this.failure);
  }

  string(key: string): string {
    return this.read(key, string);
  }

  bool(key: string): boolean {
    return this.read(key, bool);
  }



  /** A Go int kept as a number: exact within ±2^53. */
  int53(key: string): number {
    return this.read(key, int53);
  }



  list<T>(key: string, read: (value: unknown, path: string) => T): T[] {
    const value = this.get(key);
    if (value === undefined) return [];
    if (!Array.isArray(value)) throw this.failure(`${this.path}.${key}`, 'an array');
    return value.map((item: unknown, i) => read(item, `${this.path}.${key}[${i}]`));
  }


  /** A nested object Go never leaves nil: its zero value when absent. */
  required<T>(key: string, read: (fields: FieldReader) => T): T {
    return read(FieldReader.of(this.get(key) ?? {}, `${this.path}.${key}`, this.failure));
  }

  /** A JSON object of arbitrary keys. */
  map<T>(key: string, read: (value: unknown, path: string) => T): Record<string, T> {
    const value = this.get(key);
    if (value === undefined) return {};
    if (!isJsonObject(value)) throw this.failure(`${this.path}.${key}`, 'an object');
    const out: Record<string, T> = {};
    for (const [name, item] of Object.entries(value)) out[name] = read(item, `${this.path}.${key}.${name}`);
    return out;
  }

}
