/**
 * The event stream's conventions, which the BBS's and the receptor's streams and their clients share: the revision
 * header, the compacted event, heartbeats, how many events a subscriber may fall behind.
 *
 * Resuming an event stream (README "Event stream"): an event's `id:` names it, `<revision>.<place>`: the etcd
 * revision that produced it and its place (from 0) among that revision's events, so ids order all events and no
 * two are equal. A list's `X-Diego-Revision` header is a bare revision. A client passes either back to get every
 * event after it: `Last-Event-ID: <id>`, or `?last_event_id=<id>` where it cannot set headers (a browser's first
 * EventSource connection). An event id resumes after that event, even in the middle of its revision; a bare
 * revision after the whole revision.
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

/** bbs `SUBSCRIBER_BUFFER`: the events a subscriber may fall behind before its stream is ended. */
export const DEFAULT_SUBSCRIBER_BUFFER = 1024;

const INT64_MAX = 2n ** 63n - 1n;
/** No transaction writes anywhere near this many records (etcd's own limit is 128 operations by default). */
const MAX_PLACE = 2 ** 31 - 1;
const EVENT_ID = /^(\d{1,19})(?:\.(\d{1,10}))?$/;

/** Where a stream resumes: after revision `revision`, or, with a place, after that event of the revision. */
export interface ResumePoint {
  revision: bigint;
  /** null for a bare revision: the whole revision was seen. */
  place: number | null;
}

/** The SSE id of the event at `place` among revision `revision`'s events. */
export function eventId(revision: bigint | string, place: number): string {
  return `${revision.toString()}.${place}`;
}

/**
 * An event id (`<revision>.<place>`) or a bare revision as a client sends it back: decimal digits, the revision
 * within int64. BbsError `InvalidRequest` otherwise.
 */
export function parseEventId(text: string): ResumePoint {
  const match = EVENT_ID.exec(text);
  const revision = match?.[1] === undefined ? null : BigInt(match[1]);
  const place = match?.[2] === undefined ? null : Number(match[2]);
  if (revision === null || revision > INT64_MAX || (place !== null && place > MAX_PLACE)) {
    throw new BbsError('InvalidRequest', `invalid event id ${JSON.stringify(text)}: expected an event id or an etcd revision`);
  }
  return { revision, place };
}

/**
 * The id a client resumes after: the `Last-Event-ID` header (an EventSource sends it when it reconnects, so it
 * wins over the query of the URL it first opened), else `?last_event_id=`; undefined for neither (or empty).
 * BbsError `InvalidRequest` when it is no event id or revision.
 */
export function resumeEventId(header: string | string[] | undefined, query: string | null | undefined): string | undefined {
  const fromHeader = Array.isArray(header) ? header[header.length - 1] : header;
  const text = fromHeader !== undefined && fromHeader.trim() !== '' ? fromHeader.trim() : query ?? '';
  if (text === '') return undefined;
  parseEventId(text);
  return text;
}
