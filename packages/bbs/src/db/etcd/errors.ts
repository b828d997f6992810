/**
 * The one translation of etcd3 / gRPC failures and transaction outcomes into BbsErrors (bbs
 * `ErrorFromEtcdError`, k8s `Interpret*Error`).
 */
import {
  ClientClosedError,
  EtcdLeaseInvalidError,
  GRPCCancelledError,
  GRPCDeadlineExceededError,
  GRPCResourceExhastedError,
  GRPCUnavailableError,
  isRecoverableError,
} from 'etcd3';
import { BbsError, convertError, isBbsError, type ErrorType } from '@diego/models';

const COMPACTED = 'required revision has been compacted';
/** etcd's refusal of a request over `--max-request-bytes` (store.ts checks sizes first; this is the backstop). */
const TOO_LARGE = 'etcdserver: request is too large';

/** Any failure of an etcd call as a BbsError: connection trouble is `Unavailable` (retry-worthy). */
export function fromEtcdError(err: unknown): BbsError {
  if (isBbsError(err)) return err;
  if (err instanceof Error) {
    if (err.message.includes(COMPACTED)) return new BbsError('ResourceVersionTooOld', err.message);
    if (err instanceof EtcdLeaseInvalidError) return new BbsError('ResourceNotFound', err.message);
    // Too large for etcd or for gRPC's message limit: the request's fault, the same every time it is sent.
    if (err instanceof GRPCResourceExhastedError || err.message.includes(TOO_LARGE)) return new BbsError('InvalidRequest', `the request is too large for etcd: ${err.message}`);
    if (
      isRecoverableError(err) ||
      err instanceof GRPCUnavailableError ||
      err instanceof GRPCDeadlineExceededError ||
      err instanceof GRPCCancelledError ||
      err instanceof ClientClosedError
    ) {
      return new BbsError('Unavailable', err.message);
    }
  }
  return convertError(err);
}

/** Runs an etcd call, translating its failure. */
export async function etcdCall<T>(call: Promise<T>): Promise<T> {
  try {
    return await call;
  } catch (err) {
    throw fromEtcdError(err);
  }
}

/** The key is absent (a get, or a compare whose key is gone). */
export function resourceNotFound(): BbsError {
  return new BbsError('ResourceNotFound');
}

/** A create-if-absent found the key present. */
export function resourceExists(): BbsError {
  return new BbsError('ResourceExists');
}

/** A compare on mod_revision failed: someone else wrote the key since it was read. */
export function resourceConflict(): BbsError {
  return new BbsError('ResourceConflict');
}

/** A record that does not decode or validate. */
export function invalidRecord(err: unknown): BbsError {
  return isBbsError(err, 'InvalidRecord') ? err : new BbsError('InvalidRecord', convertError(err).message);
}

/**
 * The ActualLRP lifecycle reports an update that lost every race (the guaranteed update's ResourceConflict) as its
 * own error (`ActualLRPCannotBeClaimed`, ...), as bbs reported a lost write; other failures stay what they are.
 */
export async function orLifecycleError<T>(type: ErrorType, write: Promise<T>): Promise<T> {
  try {
    return await write;
  } catch (err) {
    if (isBbsError(err, 'ResourceConflict')) throw new BbsError(type);
    throw err;
  }
}
