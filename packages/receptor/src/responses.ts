/**
 * The two kinds of response the receptor writes (spec/receptor-api.md §1.1): JSON with its Content-Type and
 * Content-Length, or no body and no Content-Type. Written with `end` so that express adds no ETag or charset.
 */
import type { Response } from 'express';

/** `json` is already-encoded JSON text (the models' encoders keep int64s exact). */
export function sendJson(res: Response, status: number, json: string): void {
  const body = Buffer.from(json, 'utf8');
  res.status(status);
  res.setHeader('Content-Type', 'application/json');
  res.setHeader('Content-Length', body.length);
  res.end(body);
}

export function sendEmpty(res: Response, status: number): void {
  res.status(status);
  res.end();
}

/** A JSON array of already-encoded elements. */
export function jsonArray(elements: readonly string[]): string {
  return `[${elements.join(',')}]`;
}
