/**
 * What a route handler is: HTTP in, HTTP out. It reads what it needs from the context, calls the BBS, writes a
 * success response, and throws on failure (errors.ts writes the error response).
 */
import type { Request, Response } from 'express';
import type { ReceptorRouteName, ReceptorRoutes } from '@diego/routes';
import type { RequestSubject } from '../request-state';

type RouteNamed<N extends ReceptorRouteName> = Extract<(typeof ReceptorRoutes)[number], { name: N }>;

/** The `:param` names of a path: '/v1/tasks/:task_guid/cancel' -> 'task_guid'. */
type PathParamNames<P extends string> = P extends `${string}:${infer Name}/${infer Rest}`
  ? Name | PathParamNames<Rest>
  : P extends `${string}:${infer Name}`
    ? Name
    : never;

export type RouteParamName<N extends ReceptorRouteName> = PathParamNames<RouteNamed<N>['path']>;

export interface HandlerContext<N extends ReceptorRouteName> {
  req: Request;
  res: Response;
  /** A path parameter of this route, percent-decoded and never empty (a route with an empty one does not match). */
  param(name: RouteParamName<N>): string;
  /** What the request is about; handlers add the guids they learn from the body (error messages, the request log). */
  subject: RequestSubject;
  /** The whole request body as text, read before the handler runs (routes without a body ignore it). */
  body: string;
  /** The Authorization the request was let in with (the cookie's, when auth is on and it sent one). */
  authorization: string | undefined;
}

export type Handler<N extends ReceptorRouteName> = (ctx: HandlerContext<N>) => Promise<void>;

/** One handler per route: a route without a handler does not compile. */
export type Handlers = { readonly [N in ReceptorRouteName]: Handler<N> };
