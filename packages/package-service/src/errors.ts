/**
 * Cosmos's errors: `{"type", "message", "data"?}` in `application/vnd.dcos.package.error+json`, with Cosmos's type
 * names, and the one table that turns a BBS failure into one.
 */
import { convertError, type BbsError } from '@diego/models';

export const ERROR_MEDIA_TYPE = 'application/vnd.dcos.package.error+json;charset=utf-8;version=v1';

/** What a failed request answers. Messages never hold credentials (the service is never given a secret to echo). */
export class CosmosError extends Error {
  override readonly name = 'CosmosError';

  constructor(
    readonly type: string,
    message: string,
    readonly status: number = 400,
    readonly data?: Readonly<Record<string, unknown>>,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
  }

  toJSON(): { type: string; message: string; data?: Readonly<Record<string, unknown>> } {
    return { type: this.type, message: this.message, ...(this.data === undefined ? {} : { data: this.data }) };
  }
}

export function isCosmosError(err: unknown): err is CosmosError {
  return err instanceof CosmosError;
}

/** A BBS failure no route maps: the BBS's own type, as Cosmos answered a failing Marathon (502 when unreachable). */
export function fromBbsError(err: unknown): CosmosError {
  if (err instanceof CosmosError) return err;
  const bbs: BbsError = convertError(err);
  const status = bbs.type === 'Unavailable' || bbs.type === 'UnknownError' ? 502 : bbs.type === 'InvalidRequest' ? 400 : 500;
  return new CosmosError(bbs.type === 'UnknownError' ? 'ServiceUnavailable' : bbs.type, bbs.message, status);
}

// ---- the errors several modules raise ----

export function malformedRequest(message: string): CosmosError {
  return new CosmosError('MalformedRequest', message, 400);
}

export function packageNotFound(packageName: string): CosmosError {
  return new CosmosError('PackageNotFound', `Package [${packageName}] not found`, 404, { packageName });
}

export function versionNotFound(packageName: string, packageVersion: string): CosmosError {
  return new CosmosError('VersionNotFound', `Version [${packageVersion}] of package [${packageName}] not found`, 404, {
    packageName,
    packageVersion,
  });
}
