/**
 * The receptor's one error model and its one mapping to HTTP (spec/receptor-api.md §3, §8).
 *
 * Handlers throw: a BbsError from the BBS client or the models' decoders, or a ReceptorError for the checks the
 * receptor makes itself (index, max-age, credentials). `receptorErrorMiddleware` is the only code that writes an
 * error response; `errorReplyFor` decides what it writes, from the route, the error and what the request is about.
 */
import type { ErrorRequestHandler } from 'express';
import { BbsError, convertError, stringifyJson, type ErrorType } from '@diego/models';
import type { ReceptorRouteName } from '@diego/routes';
import { requestState, type RequestSubject } from './request-state';
import { sendEmpty, sendJson } from './responses';

/** The receptor's error JSON: `{"name": ..., "message": ...}` (§1.3). */
export interface EnvelopeReply {
  status: number;
  body: 'envelope';
  name: string;
  message: string;
  headers?: Readonly<Record<string, string>>;
}

/** What the receptor answers for a failed request. */
export type ErrorReply =
  | EnvelopeReply
  /** GET of an actual LRP at a missing index answers `null`, not an envelope (§3.12). */
  | { status: number; body: 'json-null' }
  /** A failed event subscription answers with no body at all (§9.1). */
  | { status: number; body: 'empty' };

function envelope(status: number, name: string, message: string): EnvelopeReply {
  return { status, body: 'envelope', name, message };
}

/** An error the receptor detects itself, before or instead of calling the BBS; it carries its reply. */
export class ReceptorError extends Error {
  override readonly name = 'ReceptorError';

  constructor(readonly reply: EnvelopeReply) {
    super(reply.message);
  }
}

export function indexNotANumber(): ReceptorError {
  return new ReceptorError(envelope(400, 'InvalidRequest', 'index not a number'));
}

export function maxAgeMissing(): ReceptorError {
  return new ReceptorError(envelope(400, 'InvalidRequest', 'max-age directive missing from request'));
}

/** `directive` is the whole header line, `max-age=<raw>`. */
export function invalidMaxAge(directive: string): ReceptorError {
  return new ReceptorError(envelope(400, 'InvalidRequest', `invalid-max-age-directive: ${directive}`));
}

/** A body the receptor will not read whole; the connection is closed after the answer (the rest is unread). */
export function bodyTooLarge(limitBytes: number): ReceptorError {
  return new ReceptorError({
    ...envelope(413, 'InvalidRequest', `request body exceeds ${limitBytes} bytes`),
    headers: { Connection: 'close' },
  });
}

/** A body that broke off or was malformed on the wire (chunked encoding): nothing was done. */
export function bodyUnreadable(reason: string): ReceptorError {
  return new ReceptorError({
    ...envelope(400, 'InvalidRequest', `request body could not be read: ${reason}`),
    headers: { Connection: 'close' },
  });
}

/** An error of one of our routes, answered as the receptor answers its own (`{"name", "message"}`). */
export function receptorError(status: number, name: string, message: string): ReceptorError {
  return new ReceptorError(envelope(status, name, message));
}

/** The Basic challenge a 401 carries (goji/httpauth's realm). */
export const BASIC_AUTH_CHALLENGE: Readonly<Record<string, string>> = { 'WWW-Authenticate': 'Basic realm="API Authentication"' };

/**
 * 401 with the Basic challenge; without it (`challenge` false) for a page's script, which asks for credentials
 * itself: a browser meets a challenge to a fetch with a prompt of its own.
 */
export function unauthorized(challenge = true): ReceptorError {
  return new ReceptorError({
    ...envelope(401, 'Unauthorized', 'Unauthorized'),
    ...(challenge ? { headers: BASIC_AUTH_CHALLENGE } : {}),
  });
}

/**
 * A BBS failure the route does not map, whatever its type: 500 UnknownError with its message. For a second BBS
 * call whose errors must not read as the first call's (DELETE task: resolving maps, deleting does not).
 */
export function unmappedFailure(err: unknown): BbsError {
  return new BbsError('UnknownError', convertError(err).message);
}

type ReplyFor = (err: BbsError, subject: RequestSubject) => ErrorReply;

const taskNotFound: ReplyFor = (_err, { task_guid = '' }) =>
  envelope(404, 'TaskNotFound', `task with guid '${task_guid}' not found`);

const desiredLrpNotFound: ReplyFor = (_err, { process_guid = '' }) =>
  envelope(404, 'DesiredLRPNotFound', `Desired LRP with guid '${process_guid}' not found`);

const invalidDomain: ReplyFor = (err) => envelope(400, 'InvalidDomain', err.message);

/** Per route, the BBS error types it answers specially; `otherwise` replaces the 500 UnknownError default. */
const ROUTE_ERRORS: { readonly [R in ReceptorRouteName]?: Partial<Record<ErrorType | 'otherwise', ReplyFor>> } = {
  CreateTask: {
    InvalidRequest: (err) => envelope(400, 'InvalidTask', err.message),
    ResourceExists: () => envelope(409, 'TaskGuidAlreadyExists', 'task already exists'),
  },
  GetTask: { ResourceNotFound: taskNotFound },
  DeleteTask: {
    ResourceNotFound: taskNotFound,
    InvalidStateTransition: () =>
      envelope(409, 'TaskNotDeletable', 'This task has not been completed. Please retry when it is completed.'),
  },
  // A task that already completed cannot be cancelled: the BBS's InvalidStateTransition stays a 500 (§3.5).
  CancelTask: { ResourceNotFound: taskNotFound },

  CreateDesiredLRP: {
    InvalidRequest: (err) => envelope(400, 'InvalidLRP', err.message),
    ResourceExists: (_err, { process_guid = '' }) =>
      envelope(409, 'DesiredLRPAlreadyExists', `Desired LRP with guid '${process_guid}' already exists`),
  },
  GetDesiredLRP: { ResourceNotFound: desiredLrpNotFound },
  // Update validation failures are 500 UnknownError, as the receptor had no InvalidRequest case here (§3.9).
  UpdateDesiredLRP: {
    ResourceNotFound: desiredLrpNotFound,
    ResourceConflict: (_err, { process_guid = '' }) =>
      envelope(500, 'ResourceConflict', `Desired LRP with guid '${process_guid}' failed to update`),
  },
  DeleteDesiredLRP: { ResourceNotFound: desiredLrpNotFound },

  ActualLRPByProcessGuidAndIndex: { ResourceNotFound: () => ({ status: 404, body: 'json-null' }) },
  KillActualLRPByProcessGuidAndIndex: {
    ResourceNotFound: (_err, { process_guid = '', index }) =>
      envelope(
        404,
        'ActualLRPIndexNotFound',
        `process-guid '${process_guid}' does not exist or has no instance at index ${index ?? ''}`,
      ),
  },

  UpsertDomain: { InvalidRequest: invalidDomain, InvalidDomain: invalidDomain },

  // A Last-Event-ID that is no etcd revision: ours, as the 2015 receptor ignored the header.
  EventStream: { InvalidRequest: (err) => envelope(400, 'InvalidRequest', err.message), otherwise: () => ({ status: 500, body: 'empty' }) },
  TaskEventStream: { InvalidRequest: (err) => envelope(400, 'InvalidRequest', err.message), otherwise: () => ({ status: 500, body: 'empty' }) },
  ClusterEventStream: { InvalidRequest: (err) => envelope(400, 'InvalidRequest', err.message), otherwise: () => ({ status: 500, body: 'empty' }) },
};

/** Request bodies are decoded the same way on every route that reads one. */
const EVERY_ROUTE: Partial<Record<ErrorType, ReplyFor>> = {
  InvalidJSON: (err) => envelope(400, 'InvalidJSON', err.message),
};

/** The reply for `err` thrown while serving `route` (null: no route matched, e.g. a failure in the wrapper). */
export function errorReplyFor(route: ReceptorRouteName | null, err: unknown, subject: RequestSubject): ErrorReply {
  if (err instanceof ReceptorError) return err.reply;
  const bbsError = convertError(err);
  const routeErrors = route === null ? undefined : ROUTE_ERRORS[route];
  const replyFor = routeErrors?.[bbsError.type] ?? EVERY_ROUTE[bbsError.type] ?? routeErrors?.otherwise;
  return replyFor?.(bbsError, subject) ?? envelope(500, 'UnknownError', bbsError.message);
}

/** The one express error middleware: writes the reply for whatever a route threw, and notes it for the log. */
export function receptorErrorMiddleware(): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    const state = requestState(req);
    state.errorMessage = convertError(err).message;
    if (res.headersSent) {
      // A response under way (the event stream) cannot change its status: end it; the log tells why.
      res.end();
      return;
    }
    const reply = errorReplyFor(state.route, err, state.subject);
    switch (reply.body) {
      case 'envelope':
        res.set(reply.headers ?? {});
        sendJson(res, reply.status, stringifyJson({ name: reply.name, message: reply.message }));
        return;
      case 'json-null':
        sendJson(res, reply.status, 'null');
        return;
      case 'empty':
        sendEmpty(res, reply.status);
        return;
    }
  };
}
