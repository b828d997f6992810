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
  desiredLrpResponseJson,
  desiredLrpToProto,
  proto,
  type ActualLRP,
  type ActualLRPGroup,
  type DesiredLRP,
} from '@diego/models';
import { EncodedMessage } from '@diego/bbs-client';

/** Field 2 (`actual_lrp_groups`, `json`) of the response messages, length-delimited. */
const RESPONSE_FIELD_2 = 0x12;
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
 * `ReceptorJSONResponse` holding GET /v1/actual_lrps's array: each group as its resolved ActualLRPResponse
 * (§3.11). A group of one instance record is remembered with that record; one with an evacuating record (rare,
 * and short-lived) is resolved afresh.
 */
export function receptorActualLrpsJson(groups: readonly ActualLRPGroup[]): EncodedMessage<'ReceptorJSONResponse'> {
  const texts: string[] = [];
  for (const group of groups) {
    if (group.evacuating === null && group.instance !== null) {
      const instance = group.instance;
      let text = actualLrpJson.get(instance);
      if (text === undefined) {
        text = actualLrpGroupResponseJson(group);
        actualLrpJson.set(instance, text);
      }
      texts.push(text);
    } else {
      texts.push(actualLrpGroupResponseJson(group));
    }
  }
  return receptorJsonResponse(texts);
}

/**
 * A list of DesiredLRPs built as they are read (`add`), each encoded on its own into a part of the response:
 * nothing but the encodings is held, and they are never joined into one buffer.
 */
export class DesiredLrpList {
  private readonly parts: Uint8Array[] = [];
  private bytes = 0;

  private constructor(private readonly encode: (lrp: DesiredLRP, first: boolean) => Uint8Array) {}

  /** `DesiredLRPsResponse`'s `desired_lrps` (field 2), each as `version` makes it. */
  static protobuf(version: (lrp: DesiredLRP) => DesiredLRP): DesiredLrpList {
    return new DesiredLrpList((lrp) => {
      const wire = proto.DesiredLRP.encode(desiredLrpToProto(version(lrp))).finish();
      const part = Buffer.allocUnsafe(fieldSize(wire));
      writeField(part, 0, RESPONSE_FIELD_2, wire);
      return part;
    });
  }

  /** The elements of GET /v1/desired_lrps's JSON array, for `ReceptorJSONResponse`. */
  static receptorJson(): DesiredLrpList {
    return new DesiredLrpList((lrp, first) => Buffer.from(`${first ? '' : ','}${desiredLrpResponseJson(lrp)}`));
  }

  add(lrp: DesiredLRP): void {
    const part = this.encode(lrp, this.parts.length === 0);
    this.parts.push(part);
    this.bytes += part.byteLength;
  }

  protobufResponse(): EncodedMessage<'DesiredLRPsResponse'> {
    return new EncodedMessage('DesiredLRPsResponse', this.parts);
  }

  /** The array, wrapped as `ReceptorJSONResponse`'s `json` (its length is known once every element is). */
  receptorJsonResponse(): EncodedMessage<'ReceptorJSONResponse'> {
    const length = this.bytes + 2;
    const header = Buffer.allocUnsafe(headerSize(length) + 1);
    header[writeHeader(header, 0, RESPONSE_FIELD_2, length)] = 0x5b; // [
    return new EncodedMessage('ReceptorJSONResponse', [header, ...this.parts, Buffer.from(']')]);
  }
}

function receptorJsonResponse(texts: readonly string[]): EncodedMessage<'ReceptorJSONResponse'> {
  // Written straight into the response: no joined copy of a list that may be a hundred megabytes.
  let length = 2 + Math.max(0, texts.length - 1);
  for (const text of texts) length += Buffer.byteLength(text);
  const out = Buffer.allocUnsafe(headerSize(length) + length);
  let offset = writeHeader(out, 0, RESPONSE_FIELD_2, length);
  out[offset++] = 0x5b; // [
  texts.forEach((text, i) => {
    if (i > 0) out[offset++] = 0x2c; // ,
    offset += out.write(text, offset);
  });
  out[offset] = 0x5d; // ]
  return new EncodedMessage('ReceptorJSONResponse', [out]);
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
