/** The raw request body, read whatever the Content-Type says (or none): the receptor decodes every body as JSON. */
import type { Request } from 'express';
import { RequestBodyTooLarge, readBodyWithin } from '@diego/server-support';
import { bodyTooLarge, bodyUnreadable } from './errors';

/** A DesiredLRP or Task over this cannot be stored anyway: etcd refuses requests over ~1.5 MiB. */
export const MAX_RECEPTOR_BODY_BYTES = 1024 * 1024;

/**
 * The body as text, read to its end. The router reads it for every route before the handler acts, even where the
 * route ignores it: a request whose body is over the limit (413), breaks off or is malformed on the wire (400) is
 * refused before anything is done.
 */
export async function readBody(req: Request): Promise<string> {
  try {
    // Invalid UTF-8 becomes U+FFFD, as Go's decoder reads it.
    return (await readBodyWithin(req, MAX_RECEPTOR_BODY_BYTES)).toString('utf8');
  } catch (err) {
    if (err instanceof RequestBodyTooLarge) throw bodyTooLarge(err.limitBytes);
    throw bodyUnreadable(err instanceof Error ? err.message : String(err));
  }
}

/** The first `name` query parameter; empty or absent both mean none (`?domain=` is no filter). */
export function queryParam(req: Request, name: string): string | undefined {
  const queryAt = req.url.indexOf('?');
  if (queryAt === -1) return undefined;
  const value = new URLSearchParams(req.url.slice(queryAt + 1)).get(name);
  return value === null || value === '' ? undefined : value;
}
