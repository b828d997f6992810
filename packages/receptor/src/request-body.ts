/** The raw request body, read whatever the Content-Type says (or none): the receptor decodes every body as JSON. */
import type { Request } from 'express';

export async function readBody(req: Request): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) {
    chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk), 'utf8'));
  }
  // Invalid UTF-8 becomes U+FFFD, as Go's decoder reads it.
  return Buffer.concat(chunks).toString('utf8');
}

/** The first `name` query parameter; empty or absent both mean none (`?domain=` is no filter). */
export function queryParam(req: Request, name: string): string | undefined {
  const queryAt = req.url.indexOf('?');
  if (queryAt === -1) return undefined;
  const value = new URLSearchParams(req.url.slice(queryAt + 1)).get(name);
  return value === null || value === '' ? undefined : value;
}
