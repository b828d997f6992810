/**
 * The events scenario's raw twin: `count` etcd watches of one prefix on one gRPC Watch stream (as the etcd3
 * client multiplexes them), each answer read only for its watch id and its events' mod_revisions. The etcd3
 * client decodes every answer with protobufjs into objects, which at 101 watches and 1,000 writes/s is 100,000
 * decodes a second in the bench's one thread: the bench, not etcd, set that twin's pace and it lost events.
 * Here grpc-js hands over the bytes and a walk over the few protobuf fields needed reads them
 * (etcdserverpb.WatchResponse, mvccpb.Event, mvccpb.KeyValue).
 */
import { Client, credentials, type ClientDuplexStream } from '@grpc/grpc-js';

/** WatchResponse: watch_id = 2, created = 3, canceled = 4, events = 11; Event: kv = 2; KeyValue: mod_revision = 3. */
const WATCH_ID = 2;
const CREATED = 3;
const CANCELED = 4;
const EVENTS = 11;
const EVENT_KV = 2;
const KV_MOD_REVISION = 3;

const VARINT = 0;
const FIXED64 = 1;
const LENGTH_DELIMITED = 2;
const FIXED32 = 5;

/** A watch response's fields this needs. */
export interface WatchAnswer {
  watchId: number;
  created: boolean;
  canceled: boolean;
  modRevisions: number[];
}

function readVarint(bytes: Buffer, at: { pos: number }): number {
  let value = 0;
  let scale = 1;
  for (;;) {
    const byte = bytes[at.pos++];
    if (byte === undefined) throw new Error('truncated varint');
    value += (byte & 0x7f) * scale;
    if (byte < 0x80) return value;
    scale *= 128;
  }
}

/** Calls `field(number, wireType, at)` for each field of a message in bytes[start, end); `field` consumes it or not. */
function eachField(bytes: Buffer, start: number, end: number, field: (num: number, at: { pos: number }, length: number) => boolean): void {
  const at = { pos: start };
  while (at.pos < end) {
    const tag = readVarint(bytes, at);
    const num = Math.floor(tag / 8);
    const wireType = tag & 7;
    if (wireType === VARINT) {
      if (!field(num, at, -1)) readVarint(bytes, at);
    } else if (wireType === LENGTH_DELIMITED) {
      const length = readVarint(bytes, at);
      const next = at.pos + length;
      field(num, at, length);
      at.pos = next;
    } else if (wireType === FIXED64) {
      at.pos += 8;
    } else if (wireType === FIXED32) {
      at.pos += 4;
    } else {
      throw new Error(`unexpected protobuf wire type ${wireType}`);
    }
  }
}

export function decodeWatchAnswer(bytes: Buffer): WatchAnswer {
  const answer: WatchAnswer = { watchId: 0, created: false, canceled: false, modRevisions: [] };
  eachField(bytes, 0, bytes.length, (num, at, length) => {
    if (length < 0) {
      if (num === WATCH_ID) answer.watchId = readVarint(bytes, at);
      else if (num === CREATED) answer.created = readVarint(bytes, at) !== 0;
      else if (num === CANCELED) answer.canceled = readVarint(bytes, at) !== 0;
      else return false;
      return true;
    }
    if (num === EVENTS) {
      eachField(bytes, at.pos, at.pos + length, (eventField, eventAt, kvLength) => {
        if (eventField !== EVENT_KV || kvLength < 0) return false;
        eachField(bytes, eventAt.pos, eventAt.pos + kvLength, (kvField, kvAt, l) => {
          if (kvField !== KV_MOD_REVISION || l >= 0) return false;
          answer.modRevisions.push(readVarint(bytes, kvAt));
          return true;
        });
        return true;
      });
    }
    return true;
  });
  return answer;
}

function bytesField(num: number, value: Buffer): Buffer {
  return Buffer.concat([Buffer.from([(num << 3) | LENGTH_DELIMITED]), varint(value.length), value]);
}

function varint(value: number): Buffer {
  const out: number[] = [];
  let v = value;
  while (v >= 0x80) {
    out.push((v % 128) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return Buffer.from(out);
}

/** WatchRequest{create_request: WatchCreateRequest{key, range_end}}. */
export function watchCreateRequest(key: Buffer, rangeEnd: Buffer): Buffer {
  return bytesField(1, Buffer.concat([bytesField(1, key), bytesField(2, rangeEnd)]));
}

/** `count` watches of [key, rangeEnd) on one stream; `onRevision(watch, revision, at)` per event of each. */
export class RawWatches {
  private readonly client: Client;
  private readonly call: ClientDuplexStream<Buffer, Buffer>;
  private failure: string | null = null;

  private constructor(endpoint: string) {
    this.client = new Client(new URL(endpoint).host, credentials.createInsecure(), { 'grpc.max_receive_message_length': 64 * 1024 * 1024 });
    const identity = (bytes: Buffer): Buffer => bytes;
    this.call = this.client.makeBidiStreamRequest('/etcdserverpb.Watch/Watch', identity, identity);
  }

  /** Resolves once etcd has created every watch. */
  static open(
    endpoint: string,
    key: Buffer,
    rangeEnd: Buffer,
    count: number,
    onRevision: (watch: number, revision: number, at: number) => void,
    now: () => number,
  ): Promise<RawWatches> {
    const watches = new RawWatches(endpoint);
    return new Promise((resolve, reject) => {
      /** etcd's watch id to our watch number, in the order etcd created them (the requests' order). */
      const byId = new Map<number, number>();
      watches.call.on('data', (bytes: Buffer) => {
        const at = now();
        let answer: WatchAnswer;
        try {
          answer = decodeWatchAnswer(bytes);
        } catch (err) {
          watches.failure ??= `an undecodable watch answer: ${err instanceof Error ? err.message : String(err)}`;
          return;
        }
        if (answer.created) {
          byId.set(answer.watchId, byId.size);
          if (byId.size === count) resolve(watches);
          return;
        }
        if (answer.canceled) watches.failure ??= `watch ${answer.watchId} canceled`;
        const watch = byId.get(answer.watchId);
        if (watch === undefined) return;
        for (const revision of answer.modRevisions) onRevision(watch, revision, at);
      });
      watches.call.on('error', (err: Error) => {
        watches.failure ??= err.message;
        reject(err);
      });
      const request = watchCreateRequest(key, rangeEnd);
      for (let i = 0; i < count; i++) watches.call.write(request);
    });
  }

  get error(): string | null {
    return this.failure;
  }

  close(): void {
    this.call.removeAllListeners('error');
    this.call.on('error', () => undefined);
    this.call.cancel();
    this.client.close();
  }
}
