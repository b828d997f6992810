/**
 * The BBS's HTTP front (spec/bbs.md §4.1), built from `BbsRoutes`: protobuf in, protobuf out, always HTTP 200
 * with the error in band. Only an unknown path (404) and a wrong method (405) answer otherwise.
 *
 * Plain `node:http` rather than express: every route is an exact path, and the wire (status, headers, body)
 * must be exactly Diego's.
 */
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { BbsError, convertError } from '@diego/models';
import { BbsRoutes, type BbsRouteName } from '@diego/routes';
import type { Logger } from 'pino';
import {
  REVISION_HEADER, carriesError, decodeMessage, encodeErrorResponse, EncodedMessage, encodeMessage, isQueryRouteName, isRpcRouteName, isStreamRouteName, requestNameOf, responseNameOf, StreamedMessage, type DecodedMessage, type MessageName, type MessageProperties, type QueryRouteName, type RequestName, type ResponseName, type RpcRouteName, type StreamRouteName,
} from '@diego/bbs-client';
import { RequestBodyTooLarge, readBodyWithin } from '@diego/server-support';

/** What a handler may say about its answer besides the message. */
export interface RpcReply {
  /** The etcd revision a list was read at, sent as the `X-Diego-Revision` header (README "Event stream"). */
  readAt(revision: string): void;
}

/** Decoded request in, response properties out; a thrown error goes back in band. */
export type RpcHandler<N extends RpcRouteName> = (
  request: DecodedMessage<RequestName<N>>,
  reply: RpcReply,
) => Promise<MessageProperties<ResponseName<N>> | EncodedMessage<ResponseName<N>> | StreamedMessage<ResponseName<N>>>;

export type QueryHandler<N extends QueryRouteName> = () => Promise<MessageProperties<ResponseName<N>> | EncodedMessage<ResponseName<N>>>;

/** Owns the response; resolves when the stream has ended. */
export type StreamHandler = (request: IncomingMessage, response: ServerResponse) => Promise<void>;

export type RpcHandlers = { [N in RpcRouteName]: RpcHandler<N> };
export type QueryHandlers = { [N in QueryRouteName]: QueryHandler<N> };
export type StreamHandlers = { [N in StreamRouteName]: StreamHandler };

/** One handler per route: a route without one (or of a kind the server cannot serve) is a compile error. */
export type BbsHandlers = {
  [N in BbsRouteName]: N extends RpcRouteName
    ? RpcHandler<N>
    : N extends QueryRouteName
      ? QueryHandler<N>
      : N extends StreamRouteName
        ? StreamHandler
        : never;
};

/** The outcome of one request, for its log line. */
interface Outcome {
  status: number;
  guids?: Record<string, string | number>;
  error?: BbsError;
}

type Endpoint = (request: IncomingMessage, response: ServerResponse) => Promise<Outcome>;

/** Told of every request a route answered (event streams excluded: they last as long as their subscriber). */
export type RequestObserver = (route: BbsRouteName, seconds: number) => void;

/**
 * Builds the request listener. Throws at start-up when two routes share a name or a method and path, or when
 * a route is of no kind the server knows.
 */
export function createBbsRequestListener(handlers: BbsHandlers, logger: Logger, observeRequest?: RequestObserver): RequestListener {
  const rpcHandlers: RpcHandlers = handlers;
  const queryHandlers: QueryHandlers = handlers;
  const streamHandlers: StreamHandlers = handlers;

  const names = new Set<string>();
  const endpoints = new Map<string, Map<string, { name: BbsRouteName; endpoint: Endpoint }>>();
  for (const route of BbsRoutes) {
    if (names.has(route.name)) throw new Error(`duplicate BBS route name ${route.name}`);
    names.add(route.name);

    const byMethod = endpoints.get(route.path) ?? new Map<string, { name: BbsRouteName; endpoint: Endpoint }>();
    if (byMethod.has(route.method)) throw new Error(`duplicate BBS route ${route.method} ${route.path}`);
    byMethod.set(route.method, { name: route.name, endpoint: endpointFor(route.name, rpcHandlers, queryHandlers, streamHandlers) });
    endpoints.set(route.path, byMethod);
  }

  return (request, response) => {
    const started = process.hrtime.bigint();
    const pathname = new URL(request.url ?? '/', 'http://bbs').pathname;
    const byMethod = endpoints.get(pathname);
    const route = byMethod?.get(request.method ?? '');
    const routeName = route?.name ?? '';
    let handled: Promise<Outcome>;
    if (byMethod === undefined) {
      handled = Promise.resolve(answerPlain(response, 404, '404 page not found\n'));
    } else if (route === undefined) {
      response.setHeader('Allow', [...byMethod.keys()].join(', '));
      handled = Promise.resolve(answerPlain(response, 405, 'Method Not Allowed\n'));
    } else {
      handled = route.endpoint(request, response);
    }
    handled.then(
      (outcome) => {
        if (route !== undefined && !isStreamRouteName(route.name)) {
          observeRequest?.(route.name, Number(process.hrtime.bigint() - started) / 1e9);
        }
        logRequest(logger, request, routeName, started, outcome);
      },
      (err: unknown) => {
        // Only a broken connection gets here: every handler error is answered in band.
        logger.error({ route: routeName, method: request.method, path: pathname, err: convertError(err).message }, 'request-failed');
        response.destroy();
      },
    );
  };
}

function endpointFor(
  name: BbsRouteName,
  rpcHandlers: RpcHandlers,
  queryHandlers: QueryHandlers,
  streamHandlers: StreamHandlers,
): Endpoint {
  if (isRpcRouteName(name)) return rpcEndpoint(name, rpcHandlers);
  if (isQueryRouteName(name)) return queryEndpoint(name, queryHandlers);
  if (isStreamRouteName(name)) {
    const handler = streamHandlers[name];
    return async (request, response) => {
      await handler(request, response);
      return { status: response.statusCode };
    };
  }
  throw new Error(`BBS route ${name} is of no kind the server can serve`);
}

function rpcEndpoint<N extends RpcRouteName>(name: N, handlers: RpcHandlers): Endpoint {
  const handler: RpcHandler<N> = handlers[name];
  const requestName = requestNameOf(name);
  const responseName = responseNameOf(name);
  return async (request, response) => {
    let decoded: DecodedMessage<RequestName<N>>;
    try {
      decoded = decodeMessage(requestName, await readBodyWithin(request));
    } catch (err) {
      if (err instanceof RequestBodyTooLarge) {
        response.setHeader('Connection', 'close');
        return answerProtobuf(response, encodeErrorResponse(responseName, err), { error: err });
      }
      const error = new BbsError('InvalidProtobufMessage', `could not decode ${requestName}: ${convertError(err).message}`);
      return answerProtobuf(response, encodeErrorResponse(responseName, error), { error });
    }
    const guids = requestGuids(decoded);
    try {
      // A streamed list tells its revision with every page: the header goes with the first.
      const readAt = (revision: string): void => {
        if (!response.headersSent) response.setHeader(REVISION_HEADER, revision);
      };
      const message = await handler(decoded, { readAt });
      if (message instanceof StreamedMessage) await answerStreamed(response, message);
      else return answerProtobuf(response, wireForm(responseName, message), { guids });
      return { status: 200, guids };
    } catch (err) {
      const error = convertError(err);
      if (response.headersSent) {
        // Part of the list has gone out: ending the answer unfinished is the only way left to say it failed (a
        // chunked body without its last chunk), so that no client takes a shortened list for the whole one.
        response.destroy();
        return { status: 200, guids, error };
      }
      response.removeHeader(REVISION_HEADER);
      return answerProtobuf(response, encodeErrorResponse(responseName, error), { guids, error });
    }
  };
}

function queryEndpoint<N extends QueryRouteName>(name: N, handlers: QueryHandlers): Endpoint {
  const handler: QueryHandler<N> = handlers[name];
  const responseName = responseNameOf(name);
  return async (request, response) => {
    try {
      // Routes without a request message accept any body, or none (within the limit), read whole before acting.
      await readBodyWithin(request);
    } catch (err) {
      const tooLarge = err instanceof RequestBodyTooLarge;
      const error = tooLarge ? err : new BbsError('InvalidRequest', `request body could not be read: ${convertError(err).message}`);
      response.setHeader('Connection', 'close');
      // Ping's answer has no error field: such a body is answered in HTTP, as any server would.
      if (!carriesError(responseName)) return { ...answerPlain(response, tooLarge ? 413 : 400, `${error.message}\n`), error };
      return answerProtobuf(response, encodeErrorResponse(responseName, error), { error });
    }
    try {
      return answerProtobuf(response, wireForm(responseName, await handler()), {});
    } catch (err) {
      const error = convertError(err);
      if (!carriesError(responseName)) return { ...answerPlain(response, 500, ''), error };
      return answerProtobuf(response, encodeErrorResponse(responseName, error), { error });
    }
  };
}


function wireForm<M extends MessageName>(name: M, message: MessageProperties<M> | EncodedMessage<M>): Uint8Array | EncodedMessage<M> {
  return message instanceof EncodedMessage ? message : encodeMessage(name, message);
}

function answerProtobuf(response: ServerResponse, body: Uint8Array | EncodedMessage<MessageName>, outcome: Omit<Outcome, 'status'>): Outcome {
  response.writeHead(200, { 'Content-Type': 'application/x-protobuf', 'Content-Length': body.byteLength });
  if (body instanceof EncodedMessage) {
    // Corked: the parts go out in few writes, and none is copied into one buffer first.
    response.cork();
    for (const part of body.parts) response.write(part);
    response.end();
  } else {
    response.end(body);
  }
  return { status: 200, ...outcome };
}

/**
 * A response written as `message` produces it, chunked (its length is known only at its end). The head goes out
 * with the first part, so that a failure before it (`produce` throwing) is still answered in band.
 */
async function answerStreamed(response: ServerResponse, message: StreamedMessage<MessageName>): Promise<void> {
  await message.produce(async (part) => {
    if (response.destroyed) throw new BbsError('Unavailable', 'the client closed the connection');
    if (!response.headersSent) response.writeHead(200, { 'Content-Type': 'application/x-protobuf' });
    if (!response.write(part)) await drained(response);
  });
  if (!response.headersSent) response.writeHead(200, { 'Content-Type': 'application/x-protobuf', 'Content-Length': 0 });
  response.end();
}

/** Resolves when the response can take more; rejects when its connection closes first. */
function drained(response: ServerResponse): Promise<void> {
  return new Promise((resolve, reject) => {
    const settle = (err?: Error): void => {
      response.off('drain', onDrain);
      response.off('close', onClose);
      if (err === undefined) resolve();
      else reject(err);
    };
    const onDrain = (): void => settle();
    const onClose = (): void => settle(new BbsError('Unavailable', 'the client closed the connection'));
    response.on('drain', onDrain);
    response.on('close', onClose);
  });
}

function answerPlain(response: ServerResponse, status: number, text: string): Outcome {
  const headers = text === ''
    ? { 'Content-Length': 0 }
    : { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(text) };
  response.writeHead(status, headers);
  response.end(text);
  return { status };
}

/** The identifiers a request names, for its log line: never whole records (routes may hold secrets). */
const GUID_FIELDS = ['process_guid', 'task_guid', 'instance_guid', 'cell_id', 'domain', 'index'] as const;
const NESTED_FIELDS = ['actual_lrp_key', 'actual_lrp_instance_key', 'desired_lrp'] as const;

function requestGuids(message: unknown): Record<string, string | number> {
  const guids: Record<string, string | number> = {};
  const pick = (source: unknown): void => {
    if (typeof source !== 'object' || source === null) return;
    for (const field of GUID_FIELDS) {
      const value: unknown = Reflect.get(source, field);
      if ((typeof value === 'string' && value !== '') || (typeof value === 'number' && field === 'index')) guids[field] = value;
    }
  };
  pick(message);
  if (typeof message === 'object' && message !== null) {
    for (const field of NESTED_FIELDS) pick(Reflect.get(message, field));
  }
  return guids;
}

function logRequest(logger: Logger, request: IncomingMessage, route: string, started: bigint, outcome: Outcome): void {
  const fields = {
    route: route === '' ? undefined : route,
    method: request.method,
    path: request.url,
    status: outcome.status,
    duration_ms: Number(process.hrtime.bigint() - started) / 1e6,
    ...outcome.guids,
    ...(outcome.error === undefined ? {} : { error_type: outcome.error.type, error: outcome.error.message }),
  };
  if (outcome.error?.type === 'UnknownError') logger.error(fields, 'request-served');
  else logger.info(fields, 'request-served');
}
