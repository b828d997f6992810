/**
 * The two kinds of response the receptor writes (spec/receptor-api.md §1.1): JSON with its Content-Type and
 * Content-Length, or no body and no Content-Type. Written with `end` so that express adds no ETag or charset.
 */
import type { Response } from 'express';
import { REVISION_HEADER, type Listed, type ListedJSON } from '@diego/bbs-client';

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

/** A JSON array of already-encoded elements. */
export function jsonArray(elements: readonly string[]): string {
  return `[${elements.join(',')}]`;
}
