/** Request bodies read whole, but never beyond a limit: one oversized request must not exhaust a process. */
import type { Readable } from 'node:stream';
import { BbsError } from '@diego/models';

/** A body over this cannot be stored anyway: etcd refuses requests over ~1.5 MiB. */
export const MAX_REQUEST_BODY_BYTES = 2 * 1024 * 1024;

export class RequestBodyTooLarge extends BbsError {
  constructor(readonly limitBytes: number) {
    super('InvalidRequest', `request body exceeds ${limitBytes} bytes`);
  }
}

/**
 * The whole body, or RequestBodyTooLarge as soon as it passes `limitBytes` (the rest is not read: answer, then
 * close the connection).
 */
export async function readBodyWithin(stream: Readable, limitBytes: number = MAX_REQUEST_BODY_BYTES): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk), 'utf8');
    size += buffer.byteLength;
    if (size > limitBytes) throw new RequestBodyTooLarge(limitBytes);
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}
