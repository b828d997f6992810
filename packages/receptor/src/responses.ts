/**
 * The two kinds of response the receptor writes (spec/receptor-api.md §1.1): JSON with its Content-Type and
 * Content-Length, or no body and no Content-Type. Written with `end` so that express adds no ETag or charset.
 */
import { pipeline } from 'node:stream/promises';
import type { Response } from 'express';
import { REVISION_HEADER, type Listed, type ListedJSON, type StreamedJSON } from '@diego/bbs-client';

/** `json` is already-encoded JSON, text or UTF-8 bytes (the models' encoders keep int64s exact). */
export function sendJson(res: Response, status: number, json: string | Uint8Array): void {
  const body = typeof json === 'string' ? Buffer.from(json, 'utf8') : json;
  res.status(status);
  res.setHeader('Content-Type', 'application/json');
  res.setHeader('Content-Length', body.byteLength);
  res.end(body);
}

export function sendEmpty(res: Response, status: number): void {
  res.status(status);
  res.end();
}

/**
 * A list as a JSON array, with the etcd revision it was read at in `X-Diego-Revision`: following `/v1/events`
 * from that revision (`Last-Event-ID`) then misses and repeats nothing.
 */
export function sendList<T>(res: Response, listed: Listed<T>, encode: (item: T) => string): void {
  res.setHeader(REVISION_HEADER, listed.revision);
  sendJson(res, 200, jsonArray(listed.items.map(encode)));
}

/** `sendList` of an array the BBS already encoded (its JSON list routes): relayed as it came. */
export function sendListedJson(res: Response, listed: ListedJSON): void {
  res.setHeader(REVISION_HEADER, listed.revision);
  sendJson(res, 200, listed.json);
}

/** A relayed list up to this size is answered whole, with its Content-Length (as Go's server buffers a small body). */
const WHOLE_LIST_BYTES = 64 * 1024;

/**
 * `sendListedJson` of an array relayed as the BBS writes it. A list larger than WHOLE_LIST_BYTES goes out chunked,
 * each piece passed on as it comes and the next taken only when the client has taken it; one that breaks off
 * after the first byte then ends the response unfinished (no last chunk), so that the client sees a failure
 * rather than a shorter list.
 */
export async function relayListedJson(res: Response, listed: StreamedJSON): Promise<void> {
  const pieces = listed.json[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const head: Buffer[] = [];
  let headBytes = 0;
  while (headBytes <= WHOLE_LIST_BYTES) {
    const next = await pieces.next();
    if (next.done === true) {
      sendListedJson(res, { json: Buffer.concat(head), revision: listed.revision });
      return;
    }
    head.push(next.value);
    headBytes += next.value.byteLength;
  }
  res.status(200);
  res.setHeader(REVISION_HEADER, listed.revision);
  res.setHeader('Content-Type', 'application/json');
  async function* body(): AsyncGenerator<Buffer> {
    yield* head;
    for (let next = await pieces.next(); next.done !== true; next = await pieces.next()) yield next.value;
  }
  try {
    await pipeline(body, res);
  } catch (err) {
    // Either side broke off: neither the client's answer nor the BBS's list is read or written further.
    res.destroy();
    listed.json.destroy();
    throw err;
  }
}

/** A JSON array of already-encoded elements. */
export function jsonArray(elements: readonly string[]): string {
  return `[${elements.join(',')}]`;
}
