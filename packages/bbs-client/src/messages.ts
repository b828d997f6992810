/**
 * The BBS route table names its protobuf messages as strings; this module ties those names to the generated
 * classes in `proto` at the type level, so the server and the client decode and encode a route's messages
 * by name and still get each message's own type.
 */
import { proto, type BbsError } from '@diego/models';
import { BbsRoutes, type BbsRouteName } from '@diego/routes';

type ProtoNamespace = typeof proto;

/** What a generated message class offers: encode its properties, decode its wire form. */
interface MessageType<Message, Properties> {
  encode(message: Properties): { finish(): Uint8Array };
  decode(buffer: Uint8Array): Message;
}

/** The names of the generated message classes (package `models`). */
export type MessageName = {
  [M in keyof ProtoNamespace]: ProtoNamespace[M] extends MessageType<object, never> ? M : never;
}[keyof ProtoNamespace];

/** A decoded message of that name. */
export type DecodedMessage<M extends MessageName> = ReturnType<ProtoNamespace[M]['decode']>;
/** What encoding a message of that name accepts (every field optional). */
export type MessageProperties<M extends MessageName> = Parameters<ProtoNamespace[M]['encode']>[0];

type ProtoError = ReturnType<BbsError['toProto']>;

/** Response messages with an in-band `error` field (every BBS response but PingResponse). */
export type ErrorCarryingName = {
  [M in MessageName]: { error: ProtoError } extends MessageProperties<M> ? M : never;
}[MessageName];

// Both views are checked key by key against the generated classes, so lookups by a generic name are typed.
const messageTypes: { [M in MessageName]: MessageType<DecodedMessage<M>, MessageProperties<M>> } = proto;
const errorResponseTypes: { [M in ErrorCarryingName]: MessageType<unknown, { error: ProtoError }> } = proto;

export function decodeMessage<M extends MessageName>(name: M, body: Uint8Array): DecodedMessage<M> {
  return messageTypes[name].decode(body);
}

export function encodeMessage<M extends MessageName>(name: M, message: MessageProperties<M>): Uint8Array {
  return messageTypes[name].encode(message).finish();
}

/**
 * A response already in its wire form, for lists spliced from encodings remembered per record (spliced-lists.ts)
 * instead of encoded field by field on every request.
 */
export class EncodedMessage<M extends MessageName> {
  readonly byteLength: number;

  /** The message is `parts` one after another (written to the response as they are, never joined). */
  constructor(
    readonly name: M,
    readonly parts: readonly Uint8Array[],
  ) {
    this.byteLength = parts.reduce((sum, part) => sum + part.byteLength, 0);
  }
}

/**
 * A response written as it is produced, for lists too large to hold whole: `produce` hands the message's bytes to
 * `write` a part at a time (the parts one after another are the message, as EncodedMessage's) and waits for it
 * before making the next, so that no more is held than the connection has not yet taken. `produce` may end the
 * list with an error only before its first write; one after it cannot be told in band and ends the answer
 * unfinished.
 */
export class StreamedMessage<M extends MessageName> {
  constructor(
    readonly name: M,
    readonly produce: (write: (part: Uint8Array) => Promise<void>) => Promise<void>,
  ) {}
}

/** A response whose only field set is the in-band error. */
export function encodeErrorResponse(name: ErrorCarryingName, error: BbsError): Uint8Array {
  return errorResponseTypes[name].encode({ error: error.toProto() }).finish();
}

export function isMessageName(name: string): name is MessageName {
  return Object.hasOwn(proto, name);
}

/** Generated classes keep field defaults on the prototype: an `error` there is the message's field 1. */
export function carriesError(name: MessageName): name is ErrorCarryingName {
  return Object.hasOwn(proto[name].prototype, 'error');
}

// ---- routes by their kind ----

type Route = (typeof BbsRoutes)[number];

/** A request message in, a response message with an in-band error out. */
export type RpcRouteName = Extract<Route, { request: MessageName; response: ErrorCarryingName }>['name'];
/** No request message (any body is ignored), a response message out. */
export type QueryRouteName = Extract<Route, { request: null; response: MessageName }>['name'];
/** A server-sent event stream. */
export type StreamRouteName = Extract<Route, { request: null; response: null }>['name'];

type RouteNamed<N extends BbsRouteName> = Extract<Route, { name: N }>;
export type RequestName<N extends RpcRouteName> = { [K in RpcRouteName]: RouteNamed<K>['request'] }[N];
export type ResponseName<N extends RpcRouteName | QueryRouteName> = {
  [K in RpcRouteName | QueryRouteName]: RouteNamed<K>['response'];
}[N];

export function isRpcRouteName(name: BbsRouteName): name is RpcRouteName {
  return BbsRoutes.some(
    (route) => route.name === name && route.request !== null && isMessageName(route.request)
      && route.response !== null && isMessageName(route.response) && carriesError(route.response),
  );
}

export function isQueryRouteName(name: BbsRouteName): name is QueryRouteName {
  return BbsRoutes.some(
    (route) => route.name === name && route.request === null && route.response !== null && isMessageName(route.response),
  );
}

export function isStreamRouteName(name: BbsRouteName): name is StreamRouteName {
  return BbsRoutes.some((route) => route.name === name && route.request === null && route.response === null);
}

/** The route's request message name, checked against the table at run time. */
export function requestNameOf<N extends RpcRouteName>(name: N): RequestName<N> {
  const route = BbsRoutes.find((candidate) => candidate.name === name);
  const requestName = route?.request ?? null;
  if (!isRequestNameOf(name, requestName)) throw new Error(`route ${name} has no request message`);
  return requestName;
}

/** The route's response message name, checked against the table at run time. */
export function responseNameOf<N extends RpcRouteName | QueryRouteName>(name: N): ResponseName<N> {
  const route = BbsRoutes.find((candidate) => candidate.name === name);
  const responseName = route?.response ?? null;
  if (!isResponseNameOf(name, responseName)) throw new Error(`route ${name} has no response message`);
  return responseName;
}

function isRequestNameOf<N extends RpcRouteName>(name: N, value: string | null): value is RequestName<N> {
  return BbsRoutes.some((route) => route.name === name && route.request === value);
}

function isResponseNameOf<N extends RpcRouteName | QueryRouteName>(name: N, value: string | null): value is ResponseName<N> {
  return BbsRoutes.some((route) => route.name === name && route.response === value);
}
