/**
 * Large list responses built by splicing, not by encoding every field of every record on every request.
 *
 * The view hands out one object per stored record for as long as the record is unchanged, so an encoding made
 * once can be remembered against that object (a WeakMap: it goes when the record does) and copied into each
 * response. A protobuf `repeated` field is nothing but its elements' encodings one after another, each behind
 * its tag and length, and a JSON array is its elements' texts between commas: both can be joined from parts.
 */
import {
  actualLrpGroupResponseJson,
  actualLrpToProto,
  desiredLrpFromJson,
  desiredLrpResponseJson,
  desiredLrpToProto,
  proto,
  type ActualLRP,
  type ActualLRPGroup,
  type DesiredLRP,
} from '@diego/models';
import { EncodedMessage } from '@diego/bbs-client';
import type { StoredDesiredLRP } from '../db/db';

/** Field 2 (`actual_lrp_groups`, `desired_lrps`, `json`) of the response messages, length-delimited. */
const RESPONSE_FIELD_2 = 0x12;
/** Field 3 (`json_parts`) of ReceptorJSONResponse, length-delimited. */
const RESPONSE_FIELD_3 = 0x1a;
/** ActualLRPGroup's `instance` (1) and `evacuating` (2), length-delimited. */
const GROUP_INSTANCE = 0x0a;
const GROUP_EVACUATING = 0x12;

const actualLrpWire = new WeakMap<ActualLRP, Uint8Array>();
const actualLrpJson = new WeakMap<ActualLRP, string>();

/** `ActualLRPGroupsResponse` with `groups`, each record's encoding made once per stored version. */
export function actualLrpGroupsResponse(groups: readonly ActualLRPGroup[]): EncodedMessage<'ActualLRPGroupsResponse'> {
  const parts: Array<{ instance: Uint8Array | null; evacuating: Uint8Array | null; size: number }> = [];
  let total = 0;
  for (const group of groups) {
    const instance = group.instance === null ? null : encodedActualLrp(group.instance);
    const evacuating = group.evacuating === null ? null : encodedActualLrp(group.evacuating);
    const size = fieldSize(instance) + fieldSize(evacuating);
    parts.push({ instance, evacuating, size });
    total += headerSize(size) + size;
  }
  const out = Buffer.allocUnsafe(total);
  let offset = 0;
  for (const part of parts) {
    offset = writeHeader(out, offset, RESPONSE_FIELD_2, part.size);
    offset = writeField(out, offset, GROUP_INSTANCE, part.instance);
    offset = writeField(out, offset, GROUP_EVACUATING, part.evacuating);
  }
  return new EncodedMessage('ActualLRPGroupsResponse', [out]);
}

/**
 * A group as its resolved ActualLRPResponse (§3.11), for GET /v1/actual_lrps's array. A group of one instance
 * record is remembered with that record; one with an evacuating record (rare, and short-lived) is resolved afresh.
 */
function actualLrpResponseText(group: ActualLRPGroup): string {
  if (group.evacuating !== null || group.instance === null) return actualLrpGroupResponseJson(group);
  const instance = group.instance;
  let text = actualLrpJson.get(instance);
  if (text === undefined) {
    text = actualLrpGroupResponseJson(group);
    actualLrpJson.set(instance, text);
  }
  return text;
}

/** `DesiredLRPsResponse`'s `desired_lrps` (field 2) for a page of DesiredLRPs, each as `version` makes it. */
export function desiredLrpsPart(lrps: readonly DesiredLRP[], version: (lrp: DesiredLRP) => DesiredLRP): Uint8Array {
  const wires = lrps.map((lrp) => proto.DesiredLRP.encode(desiredLrpToProto(version(lrp))).finish());
  const out = Buffer.allocUnsafe(wires.reduce((sum, wire) => sum + fieldSize(wire), 0));
  let offset = 0;
  for (const wire of wires) offset = writeField(out, offset, RESPONSE_FIELD_2, wire);
  return out;
}

/** `ActualLRPGroupsResponse`'s groups, for a batch of a list streamed a batch at a time. */
export function actualLrpGroupsPart(groups: readonly ActualLRPGroup[]): Uint8Array {
  const [part] = actualLrpGroupsResponse(groups).parts;
  return part ?? new Uint8Array(0);
}

/**
 * A JSON array streamed as `ReceptorJSONResponse`'s `json_parts` (field 3): each call of `part` makes the next
 * piece of the array from its elements' texts (null when there are none), `end` the closing one.
 */
export class ReceptorJsonArrayParts {
  private opened = false;

  part(elements: readonly string[]): Uint8Array | null {
    if (elements.length === 0) return null;
    const text = `${this.opened ? ',' : '['}${elements.join(',')}`;
    this.opened = true;
    return jsonPart(text);
  }

  end(): Uint8Array {
    return jsonPart(this.opened ? ']' : '[]');
  }
}

function jsonPart(text: string): Uint8Array {
  const length = Buffer.byteLength(text);
  const out = Buffer.allocUnsafe(headerSize(length) + length);
  out.write(text, writeHeader(out, 0, RESPONSE_FIELD_3, length));
  return out;
}

/** The elements of GET /v1/actual_lrps's array: each group as its resolved ActualLRPResponse. */
export function actualLrpResponseElements(groups: readonly ActualLRPGroup[]): string[] {
  return groups.map(actualLrpResponseText);
}

/**
 * A DesiredLRP's DesiredLRPResponse (§4.5), from its stored JSON where that is the record as this BBS writes it
 * (see storedDesiredLrpAsResponse), else from the model.
 */
export function desiredLrpResponseElement(record: StoredDesiredLRP): string {
  return storedDesiredLrpAsResponse(record.json) ?? desiredLrpResponseJson(record.lrp ?? desiredLrpFromJson(record.json));
}

const MODIFICATION_TAG_MEMBER = ',"modification_tag":{"epoch":"';
/**
 * From the modification tag to the end of a stored DesiredLRP as desiredLrpToJson writes it, with no cached
 * dependencies (a list whose objects could hide a member from these searches) and strings without escapes.
 */
const STORED_TAIL = /,"modification_tag":\{"epoch":"[^"\\]*","index":\d+\}(?=,"cached_dependencies":\[\],"legacy_download_user":"[^"\\]*","trusted_system_certificates_path":"[^"\\]*"\}$)/y;

/**
 * The response is the stored record (desiredLrpToJson: the same fields in the same order, nested values written
 * alike) less what the response leaves out: `env`, `routes`, `annotation` and `egress_rules` when empty, and the
 * three members after the modification tag. Those are found by their keys: a raw `"` cannot occur inside a JSON
 * string, and the members searched backwards from the tag hold no objects with such keys. Null for a record in
 * any other shape (written by hand, with cached dependencies), which then goes through the model.
 */
export function storedDesiredLrpAsResponse(stored: string): string | null {
  if (!stored.startsWith('{"process_guid":"')) return null;
  const tag = stored.lastIndexOf(MODIFICATION_TAG_MEMBER);
  if (tag < 0) return null;
  STORED_TAIL.lastIndex = tag;
  if (!STORED_TAIL.test(stored)) return null;
  const tagEnd = STORED_TAIL.lastIndex;
  const egress = stored.lastIndexOf(',"egress_rules":[', tag);
  const annotation = stored.lastIndexOf(',"annotation":"', egress);
  const logGuid = stored.lastIndexOf(',"log_guid":"', annotation);
  const env = stored.indexOf(',"env":[');
  if (egress < 0 || annotation < 0 || logGuid < 0 || env < 0 || env > logGuid) return null;

  // [from, to) ranges left out, in order.
  const cuts: Array<[number, number]> = [];
  const cutWhenEmpty = (member: string, at: number, end: number): void => {
    if (end - at === member.length && stored.startsWith(member, at)) cuts.push([at, end]);
  };
  cutWhenEmpty(',"env":[]', env, stored.indexOf(',"setup":', env));
  cutWhenEmpty(',"routes":{}', logGuid - ',"routes":{}'.length, logGuid);
  cutWhenEmpty(',"annotation":""', annotation, egress);
  cutWhenEmpty(',"egress_rules":[]', egress, tag);
  let out = '';
  let from = 0;
  for (const [at, end] of cuts) {
    out += stored.slice(from, at);
    from = end;
  }
  return `${out}${stored.slice(from, tagEnd)}}`;
}

function encodedActualLrp(lrp: ActualLRP): Uint8Array {
  let wire = actualLrpWire.get(lrp);
  if (wire === undefined) {
    wire = proto.ActualLRP.encode(actualLrpToProto(lrp)).finish();
    actualLrpWire.set(lrp, wire);
  }
  return wire;
}

/** A length-delimited field's tag and length, before its `length` bytes. */
function headerSize(length: number): number {
  return 1 + varintSize(length);
}

function writeHeader(out: Buffer, offset: number, tag: number, length: number): number {
  out[offset] = tag;
  return writeVarint(out, offset + 1, length);
}

function fieldSize(bytes: Uint8Array | null): number {
  return bytes === null ? 0 : headerSize(bytes.length) + bytes.length;
}

function writeField(out: Buffer, offset: number, tag: number, bytes: Uint8Array | null): number {
  if (bytes === null) return offset;
  const at = writeHeader(out, offset, tag, bytes.length);
  out.set(bytes, at);
  return at + bytes.length;
}

function varintSize(value: number): number {
  let size = 1;
  for (let rest = value; rest >= 0x80; rest = Math.floor(rest / 0x80)) size += 1;
  return size;
}

function writeVarint(out: Buffer, offset: number, value: number): number {
  let at = offset;
  let rest = value;
  while (rest >= 0x80) {
    out[at++] = (rest % 0x80) | 0x80;
    rest = Math.floor(rest / 0x80);
  }
  out[at++] = rest;
  return at;
}
