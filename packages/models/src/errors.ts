import { models } from '../gen/proto';

/** Diego's error types (proto `Error.Type`), by name. */
export type ErrorType = keyof typeof models.Error.Type;

/**
 * The one typed error of the system. Stores, controllers and clients throw it; the BBS carries it in band
 * (`Error{type, message}`) and the receptor maps it to HTTP in one table.
 *
 * @example
 *   throw new BbsError('ResourceNotFound', 'the requested resource could not be found');
 *   if (isBbsError(err, 'ResourceConflict')) retry();
 */
export class BbsError extends Error {
  override readonly name = 'BbsError';

  constructor(
    readonly type: ErrorType,
    message: string = DEFAULT_MESSAGES[type] ?? 'the request failed for an unknown reason',
  ) {
    super(message);
  }

  /** The proto message carried in a BBS response's `error` field. */
  toProto(): models.IError {
    return { type: models.Error.Type[this.type], message: this.message };
  }

  static fromProto(error: models.IError): BbsError {
    const type = (models.Error.Type[error.type ?? 0] as ErrorType | undefined) ?? 'UnknownError';
    return new BbsError(type, error.message ?? '');
  }
}

const DEFAULT_MESSAGES: Partial<Record<ErrorType, string>> = {
  UnknownError: 'the request failed for an unknown reason',
  InvalidRequest: 'the request received is invalid',
  InvalidJSON: 'could not deserialize JSON',
  InvalidProtobufMessage: 'could not deserialize protobuf message',
  InvalidRecord: 'the record is invalid',
  ResourceConflict: 'the requested resource is in a conflicting state',
  ResourceExists: 'the requested resource already exists',
  ResourceNotFound: 'the requested resource could not be found',
  ActualLRPCannotBeClaimed: 'cannot claim actual LRP',
  ActualLRPCannotBeStarted: 'cannot start actual LRP',
  ActualLRPCannotBeCrashed: 'cannot crash actual LRP',
  ActualLRPCannotBeFailed: 'cannot fail actual LRP',
  ActualLRPCannotBeRemoved: 'cannot remove actual LRP',
  ActualLRPCannotBeStopped: 'cannot stop actual LRP',
  ActualLRPCannotBeUnclaimed: 'cannot unclaim actual LRP',
  ActualLRPCannotBeEvacuated: 'cannot evacuate actual LRP',
  ResourceVersionTooOld: 'the requested revision has been compacted',
  Unavailable: 'the store is unavailable',
};

/** True when `err` is a BbsError (of `type`, when given). Compares by type, never by message. */
export function isBbsError(err: unknown, type?: ErrorType): err is BbsError {
  return err instanceof BbsError && (type === undefined || err.type === type);
}

/** Anything that is not a BbsError becomes UnknownError with its message. */
export function convertError(err: unknown): BbsError {
  if (err instanceof BbsError) return err;
  return new BbsError('UnknownError', err instanceof Error ? err.message : String(err));
}

/** `Cannot transition from Pending to Running`, with the proto enum names as Go printed them. */
export function invalidStateTransition(from: string, to: string): BbsError {
  return new BbsError('InvalidStateTransition', `Cannot transition from ${from} to ${to}`);
}

export function runningOnDifferentCell(actual: string, requested: string): BbsError {
  return new BbsError('RunningOnDifferentCell', `Running on cell ${actual} not ${requested}`);
}
