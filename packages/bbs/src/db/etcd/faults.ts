/**
 * Which etcd failures are transient, which certainly left etcd untouched, and the retry loop the store runs its
 * calls in. A leader change, `etcdserver: request timed out`, `14 UNAVAILABLE` or a member that went away pass
 * within seconds; the store retries them with backoff until a deadline rather than hand them to its clients.
 */
import { isBrokenCircuitError } from 'cockatiel';
import { ClientClosedError, GRPCResourceExhastedError, GRPCUnavailableError, isRecoverableError } from 'etcd3';
import { BbsError, isBbsError } from '@diego/models';
import type { Logger } from 'pino';
import { fromEtcdError } from './errors';

/** How long the store keeps retrying one call's transient failures before it answers `Unavailable`. */
export const ETCD_RETRY_DEADLINE_MS = 6_000;
/**
 * The longest a single unary etcd call may take (set as the client's default gRPC deadline). etcd itself gives up
 * on a proposal after 7 s (`request timed out`); cutting an attempt sooner lets a retry reach a member that has a
 * leader. Together with ETCD_RETRY_DEADLINE_MS it keeps a BBS answer under its clients' 10 s timeout.
 */
export const ETCD_ATTEMPT_TIMEOUT_MS = 3_000;
const FIRST_BACKOFF_MS = 50;
const MAX_BACKOFF_MS = 1_000;

/**
 * Messages of etcd's own transient refusals (rpctypes `ErrGRPCTimeout`, `ErrGRPCLeaderChanged`, ...), in case a
 * proxy or an older member sends them with a code etcd3 does not mark recoverable.
 */
const TRANSIENT_MESSAGES = [
  'etcdserver: request timed out',
  'etcdserver: leader changed',
  'etcdserver: no leader',
  'etcdserver: too many requests',
  'etcdserver: server stopped',
  'etcdserver: not capable',
];

/** Transport failures before a connection existed: the request never left this process. */
const NOT_CONNECTED = /No connection established|ECONNREFUSED|EHOSTUNREACH|ENETUNREACH/;

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * A failure that may pass if the same call is made again shortly: etcd3's recoverable gRPC errors (unavailable,
 * deadline exceeded, cancelled, internal), an open circuit breaker, and etcd's transient refusals. Not a request
 * etcd or gRPC refused for its size (RESOURCE_EXHAUSTED), which fails the same way every time.
 */
export function isTransientEtcdError(err: unknown): boolean {
  if (isBrokenCircuitError(err)) return true;
  // Already translated: a store outcome (exists, conflict, ...), never retried here.
  if (isBbsError(err)) return false;
  if (!(err instanceof Error) || err instanceof ClientClosedError || err instanceof GRPCResourceExhastedError) return false;
  if (isRecoverableError(err)) return true;
  const message = err.message;
  return TRANSIENT_MESSAGES.some((transient) => message.includes(transient));
}

/** The call cannot have reached etcd (no connection, or a breaker refused it): its effect is certainly absent. */
export function neverReachedEtcd(err: unknown): boolean {
  return isBrokenCircuitError(err) || (err instanceof GRPCUnavailableError && NOT_CONNECTED.test(err.message));
}

/**
 * The member is unhealthy as a host (it refuses or drops connections, or does not answer in time), as opposed to
 * a healthy member refusing one request (too large, invalid, no leader right now). Only these count towards the
 * client's per-host circuit breaker (client-options.ts).
 */
export function isHostFailure(err: unknown): boolean {
  if (!(err instanceof Error) || !isRecoverableError(err) || err instanceof GRPCResourceExhastedError) return false;
  return !err.message.includes('etcdserver:');
}

/** What a retried call learns about the attempts before it. */
export interface AttemptContext {
  /**
   * An earlier attempt failed in a way that may have applied it (it reached etcd, its answer was lost): a
   * compare-and-swap must then judge a lost compare by whether the record is now what it wrote.
   */
  outcomeUnknown: boolean;
  attempt: number;
}

export interface RetryOptions {
  logger: Logger;
  /** Default ETCD_RETRY_DEADLINE_MS. */
  deadlineMs?: number;
}

/**
 * Runs `attempt` until it succeeds, fails for good, or transient failures outlast the deadline (then `Unavailable`,
 * naming the last failure). Failures come out as BbsErrors (errors.ts). Backoff is exponential with full jitter,
 * so that BBSes retrying together do not hit a recovering etcd in step.
 *
 * @example
 *   const res = await withEtcdRetries('get', ({ outcomeUnknown }) => ns.get(key).exec(), { logger });
 */
export async function withEtcdRetries<T>(
  operation: string,
  attempt: (context: AttemptContext) => Promise<T>,
  { logger, deadlineMs = ETCD_RETRY_DEADLINE_MS }: RetryOptions,
): Promise<T> {
  const deadline = Date.now() + deadlineMs;
  const context: AttemptContext = { outcomeUnknown: false, attempt: 1 };
  for (let backoffMs = FIRST_BACKOFF_MS; ; backoffMs = Math.min(MAX_BACKOFF_MS, backoffMs * 2)) {
    try {
      return await attempt(context);
    } catch (err) {
      if (!isTransientEtcdError(err)) throw fromEtcdError(err);
      const waitMs = Math.random() * backoffMs;
      if (Date.now() + waitMs >= deadline) {
        logger.error({ operation, attempts: context.attempt, error: messageOf(err) }, 'etcd-retries-exhausted');
        throw new BbsError('Unavailable', `etcd did not answer ${operation} within ${deadlineMs} ms: ${messageOf(err)}`);
      }
      logger.info({ operation, attempt: context.attempt, error: messageOf(err) }, 'etcd-call-retrying');
      if (!neverReachedEtcd(err)) context.outcomeUnknown = true;
      context.attempt += 1;
      await new Promise((resolve) => setTimeout(resolve, waitMs));
    }
  }
}
