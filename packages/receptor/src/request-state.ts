/**
 * What the receptor learns about a request while serving it: the route it matched, what it is about, and why
 * it failed. The error middleware reads it to word error messages; the request log reads it for its one line.
 */
import type { Request } from 'express';
import type { ReceptorRouteName } from '@diego/routes';

/** The guids (and index, domain) a request is about: what error messages name and the request log shows. */
export interface RequestSubject {
  task_guid?: string;
  process_guid?: string;
  index?: number;
  domain?: string;
}

export interface RequestState {
  /** null until a route matched (and for router 404/405, CORS preflights). */
  route: ReceptorRouteName | null;
  subject: RequestSubject;
  errorMessage: string | null;
}

const states = new WeakMap<Request, RequestState>();

/** The request's state, created on first use. */
export function requestState(req: Request): RequestState {
  let state = states.get(req);
  if (state === undefined) {
    state = { route: null, subject: {}, errorMessage: null };
    states.set(req, state);
  }
  return state;
}
