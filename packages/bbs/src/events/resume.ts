/**
 * Resuming an event stream (README "Event stream"): an event's `id:` is the etcd revision that produced it, and a
 * list's `X-Diego-Revision` header the revision it was read at. A client passes either back to get every event
 * after it: `Last-Event-ID: <revision>`, or `?last_event_id=<revision>` where it cannot set headers (a browser's
 * first EventSource connection).
 */
import { BbsError } from '@diego/models';

/** The response header of list routes (BBS and receptor): the etcd revision the list was read at. */
export const REVISION_HEADER = 'X-Diego-Revision';

/** The SSE event that ends a stream whose resume point etcd has compacted away; its data is the compact revision. */
export const COMPACTED_EVENT = 'compacted';

/** The comment line written to an idle stream, so that proxies keep it open. */
export const HEARTBEAT_COMMENT = ': heartbeat\n\n';

/** Diego's 15 s, well under the idle timeouts of common proxies and load balancers (60 s). */
export const DEFAULT_HEARTBEAT_INTERVAL_MS = 15_000;

const INT64_MAX = 2n ** 63n - 1n;

/** A revision as a client sends it back: decimal digits within int64. BbsError `InvalidRequest` otherwise. */
export function parseRevision(text: string): bigint {
  if (!/^\d{1,19}$/.test(text) || BigInt(text) > INT64_MAX) {
    throw new BbsError('InvalidRequest', `invalid event id ${JSON.stringify(text)}: expected an etcd revision`);
  }
  return BigInt(text);
}

/**
 * The revision a client resumes after: the `Last-Event-ID` header (an EventSource sends it when it reconnects, so
 * it wins over the query of the URL it first opened), else `?last_event_id=`; undefined for neither (or empty).
 * BbsError `InvalidRequest` when it is no revision.
 */
export function resumeRevision(header: string | string[] | undefined, query: string | null | undefined): string | undefined {
  const fromHeader = Array.isArray(header) ? header[header.length - 1] : header;
  const text = fromHeader !== undefined && fromHeader.trim() !== '' ? fromHeader.trim() : query ?? '';
  if (text === '') return undefined;
  parseRevision(text);
  return text;
}
