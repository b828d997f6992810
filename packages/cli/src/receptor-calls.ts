/**
 * The operator commands' side of the receptor API: one request, its answer printed as one JSON value per line
 * (the receptor's values as they are, int64 nanoseconds with every digit), its errors on stderr; and the event
 * stream followed line by line.
 */
import { isJsonObject, parseJson, stringifyJson } from '@diego/models';
import { listenForStopSignals, type CliIo } from './command';
import { SseParser } from '@diego/bbs-client';

/** Where the receptor is and how to authenticate to it. */
export interface ReceptorTarget {
  /** `scheme://host:port` without credentials: safe to print. */
  url: string;
  /** The `Authorization` header (basic auth), or null when there is no user name. */
  authorization: string | null;
}

/** What the answer of a call is printed as. */
export type CallOutput =
  /** A JSON array, one element per line; with `onlyCellId`, only the elements whose `cell_id` is that. */
  | { kind: 'elements'; onlyCellId: string | null }
  /** One JSON value on one line. */
  | { kind: 'value' }
  /** Nothing: the answer has no body (201, 204). */
  | { kind: 'nothing' };

/** One request to the receptor, as an operator command compiles it. */
export interface ReceptorCall {
  target: ReceptorTarget;
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** With its query, e.g. `/v1/actual_lrps?domain=cf-apps`. */
  path: string;
  headers: Record<string, string>;
  /** JSON text, sent as written. */
  body: string | null;
  output: CallOutput;
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    // fetch says only "fetch failed"; why (ECONNREFUSED, ENOTFOUND, ...) is in its cause.
    return error.cause instanceof Error ? error.cause.message : error.message;
  }
  return String(error);
}


/** The receptor's `{name, message}` as `name: message`; anything else (a 401's text, a proxy's page) with its status. */
function describeErrorResponse(status: number, text: string): string {
  try {
    const body = parseJson(text);
    if (isJsonObject(body) && typeof body.name === 'string' && typeof body.message === 'string') return `${body.name}: ${body.message}`;
  } catch {
    // Not JSON: shown as it is below.
  }
  const shown = text.trim();
  return `HTTP ${status}${shown === '' ? '' : `: ${shown}`}`;
}

function headersOf(target: ReceptorTarget, extra: Record<string, string>): Record<string, string> {
  return target.authorization === null ? extra : { ...extra, authorization: target.authorization };
}

/** Prints the answer's JSON as `output` says; false (after saying why on stderr) when it is not what was expected. */
function printAnswer(command: string, output: CallOutput, text: string, io: CliIo): boolean {
  if (output.kind === 'nothing') return true;
  let value: unknown;
  try {
    value = parseJson(text);
  } catch (error) {
    io.stderr.write(`diego ${command}: the receptor's answer is not JSON: ${describe(error)}\n`);
    return false;
  }
  if (output.kind === 'value') {
    io.stdout.write(`${stringifyJson(value)}\n`);
    return true;
  }
  if (!Array.isArray(value)) {
    io.stderr.write(`diego ${command}: expected a JSON array from the receptor, got: ${text.slice(0, 200)}\n`);
    return false;
  }
  // The cell filter is ours: the receptor filters actual LRPs by domain only.
  const kept = output.onlyCellId === null ? value : value.filter((element) => isJsonObject(element) && element.cell_id === output.onlyCellId);
  io.stdout.write(kept.map((element) => `${stringifyJson(element)}\n`).join(''));
  return true;
}

/**
 * Makes the call and prints its answer. Exit code 0 on success, 1 when the receptor cannot be reached or
 * answers with an error (`diego <command>: <name>: <message>` on stderr).
 */
export async function performCall(command: string, call: ReceptorCall, io: CliIo): Promise<number> {
  let response: Response;
  let text: string;
  try {
    response = await fetch(`${call.target.url}${call.path}`, {
      method: call.method,
      headers: headersOf(call.target, call.headers),
      ...(call.body === null ? {} : { body: call.body }),
    });
    text = await response.text();
  } catch (error) {
    io.stderr.write(`diego ${command}: cannot reach the receptor at ${call.target.url}: ${describe(error)}\n`);
    return 1;
  }
  if (!response.ok) {
    io.stderr.write(`diego ${command}: ${describeErrorResponse(response.status, text)}\n`);
    return 1;
  }
  return printAnswer(command, call.output, text, io) ? 0 : 1;
}

/** One server-sent event as the receptor writes it (`id:` absent on `event: compacted`). */
export interface ServerSentEvent {
  type: string;
  id: string | null;
  data: string;
}

/**
 * Server-sent events from a stream of text chunks: `event:`, `id:` and `data:` fields, dispatched at a blank
 * line; comments (`: heartbeat`) and events without data are skipped.
 */
export async function* serverSentEvents(chunks: AsyncIterable<string>): AsyncGenerator<ServerSentEvent> {
  const parser = new SseParser();
  for await (const chunk of chunks) {
    for (const { event, id, data } of parser.push(chunk)) {
      // An event without an `event:` field is the SSE default, "message".
      if (data !== null) yield { type: event ?? 'message', id, data };
    }
  }
}

async function* decodedChunks(body: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  for await (const bytes of body) yield decoder.decode(bytes, { stream: true });
}

/** The receptor's event when etcd no longer holds the history a client asked to resume from. */
const COMPACTED_EVENT = 'compacted';

/**
 * Follows `/v1/events` (after `lastEventId` when given), printing each event as
 * `{"type":...,"id":...,"data":{...}}` on one line, until SIGINT or SIGTERM (exit 0). The stream ending
 * otherwise (the receptor stopped, or `event: compacted`) is exit 1 with the reason on stderr.
 */
export async function followEvents(command: string, target: ReceptorTarget, lastEventId: string | null, io: CliIo): Promise<number> {
  const signals = listenForStopSignals(io);
  try {
    const response = await fetch(`${target.url}/v1/events`, {
      headers: headersOf(target, lastEventId === null ? {} : { 'last-event-id': lastEventId }),
      signal: signals.aborted,
    });
    if (!response.ok || response.body === null) {
      io.stderr.write(`diego ${command}: ${describeErrorResponse(response.status, await response.text())}\n`);
      return 1;
    }
    for await (const event of serverSentEvents(decodedChunks(response.body))) {
      const data = stringifyJson(parseJson(event.data));
      io.stdout.write(`{"type":${JSON.stringify(event.type)},"id":${event.id === null ? 'null' : JSON.stringify(event.id)},"data":${data}}\n`);
      if (event.type === COMPACTED_EVENT) {
        io.stderr.write(
          `diego ${command}: the events after ${lastEventId ?? 'that id'} are compacted away (etcd revision ${data}); ` +
            're-list, then follow from the X-Diego-Revision of the list\n',
        );
        return 1;
      }
    }
    io.stderr.write(`diego ${command}: the receptor ended the event stream\n`);
    return 1;
  } catch (error) {
    if (signals.aborted.aborted) return 0;
    io.stderr.write(`diego ${command}: the event stream from ${target.url} failed: ${describe(error)}\n`);
    return 1;
  } finally {
    signals.dispose();
  }
}
