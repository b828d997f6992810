/**
 * Docker Registry HTTP API v2 over node:http (http.ts says why not fetch): manifests (by tag or digest) and
 * blobs of one repository, with the anonymous bearer-token flow (a 401 with `WWW-Authenticate: Bearer realm=...`
 * sends us to the realm for a token, then the request is made again with it).
 */
import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import { httpGet, type HttpAnswer } from './http';
import { MANIFEST_ACCEPT, sha256Digest } from './manifest';
import type { ImageReference } from './reference';

/** The registry could not give what was asked, said in words an operator can act on. */
export class RegistryError extends Error {}

export interface RegistryClientOptions {
  /** Where `docker:///...` images come from, e.g. `https://registry-1.docker.io`. */
  defaultRegistryURL: string;
  /** `host:port`s reached over plain http. */
  insecureRegistries: string[];
  logger: Logger;
}

export interface FetchedManifest {
  body: Buffer;
  contentType: string | null;
  /** sha256 of the body, checked against the digest asked for or the registry's Docker-Content-Digest. */
  digest: string;
}

const TOKEN_MARGIN_MS = 5000;
const DEFAULT_TOKEN_LIFETIME_S = 60;

/**
 * Reads manifests and blobs from v2 registries.
 *
 * @example
 *   const client = new RegistryClient({ defaultRegistryURL: 'http://127.0.0.1:5000', insecureRegistries: [], logger });
 *   const { body, digest } = await client.manifest(parseDockerRootfs('docker:///org/app#v1'), 'v1');
 */
export class RegistryClient {
  private readonly defaultRegistry: URL;
  /** Bearer tokens by `<registry base URL> <scope>`. */
  private readonly tokens = new Map<string, { token: string; expiresAt: number }>();

  constructor(private readonly options: RegistryClientOptions) {
    this.defaultRegistry = new URL(options.defaultRegistryURL);
  }

  /** `host:port/repository`, for messages. */
  describe(ref: ImageReference): string {
    return `${ref.registry ?? this.defaultRegistry.host}/${ref.repository}`;
  }

  /** The manifest at `reference` (a tag or a digest), its digest verified. */
  async manifest(ref: ImageReference, reference: string, signal?: AbortSignal): Promise<FetchedManifest> {
    const response = await this.get(ref, `manifests/${reference}`, { Accept: MANIFEST_ACCEPT }, signal);
    if (!response.ok) throw await this.failure(ref, response, reference);
    const body = await response.bytes();
    const digest = sha256Digest(body);
    const claimed = reference.startsWith('sha256:') ? reference : response.header('docker-content-digest');
    if (claimed !== null && claimed !== digest) {
      throw new RegistryError(`manifest ${claimed} failed verification: its content hashes to ${digest}`);
    }
    return { body, contentType: response.header('content-type'), digest };
  }

  /** The blob's bytes as they arrive (the caller verifies them against `digest`). */
  async blob(ref: ImageReference, digest: string, signal?: AbortSignal): Promise<Readable> {
    const response = await this.get(ref, `blobs/${digest}`, {}, signal);
    if (!response.ok) throw await this.failure(ref, response, digest);
    return response.body;
  }

  private baseURL(ref: ImageReference): URL {
    if (ref.registry === null || ref.registry === this.defaultRegistry.host) return this.defaultRegistry;
    const scheme = this.options.insecureRegistries.includes(ref.registry) ? 'http' : 'https';
    return new URL(`${scheme}://${ref.registry}`);
  }

  private async get(ref: ImageReference, path: string, headers: Record<string, string>, signal?: AbortSignal): Promise<HttpAnswer> {
    const base = this.baseURL(ref);
    const url = new URL(`/v2/${ref.repository}/${path}`, base);
    const scope = `repository:${ref.repository}:pull`;
    const tokenKey = `${base.origin} ${scope}`;
    const cached = this.tokens.get(tokenKey);
    const authorization: Record<string, string> =
      cached !== undefined && cached.expiresAt > Date.now() ? { Authorization: `Bearer ${cached.token}` } : {};
    let response = await this.getOrExplain(ref, url, { ...headers, ...authorization }, signal);
    if (response.status !== 401) return response;
    const challenge = parseBearerChallenge(response.header('www-authenticate'));
    if (challenge === null) return response;
    await response.bytes();
    const token = await this.fetchToken(ref, challenge, scope, signal);
    this.tokens.set(tokenKey, token);
    response = await this.getOrExplain(ref, url, { ...headers, Authorization: `Bearer ${token.token}` }, signal);
    return response;
  }

  private async fetchToken(
    ref: ImageReference,
    challenge: Record<string, string>,
    defaultScope: string,
    signal?: AbortSignal,
  ): Promise<{ token: string; expiresAt: number }> {
    const realm = challenge.realm;
    if (realm === undefined) throw new RegistryError(`${this.describe(ref)} asked for a bearer token without a realm`);
    const url = new URL(realm);
    if (challenge.service !== undefined) url.searchParams.set('service', challenge.service);
    url.searchParams.set('scope', challenge.scope ?? defaultScope);
    let response: HttpAnswer;
    try {
      response = await httpGet(url, {}, signal);
    } catch (err) {
      throw new RegistryError(`token service ${url.host} unreachable (${causeOf(err)})`);
    }
    if (!response.ok) {
      response.body.resume();
      throw new RegistryError(`token service ${url.host} refused a token: HTTP ${response.status}`);
    }
    const answer: unknown = await response
      .bytes()
      .then((body) => JSON.parse(body.toString('utf8')) as unknown)
      .catch(() => null);
    const fields = typeof answer === 'object' && answer !== null ? (answer as Record<string, unknown>) : {};
    const token = typeof fields.token === 'string' ? fields.token : typeof fields.access_token === 'string' ? fields.access_token : null;
    if (token === null) throw new RegistryError(`token service ${url.host} answered without a token`);
    const lifetimeS = typeof fields.expires_in === 'number' ? fields.expires_in : DEFAULT_TOKEN_LIFETIME_S;
    this.options.logger.debug({ registry: url.host, scope: challenge.scope ?? defaultScope }, 'registry-token-fetched');
    return { token, expiresAt: Date.now() + lifetimeS * 1000 - TOKEN_MARGIN_MS };
  }

  private async getOrExplain(ref: ImageReference, url: URL, headers: Record<string, string>, signal?: AbortSignal): Promise<HttpAnswer> {
    try {
      return await httpGet(url, headers, signal);
    } catch (err) {
      if (signal?.aborted === true) throw err;
      throw new RegistryError(`registry ${url.host} unreachable (${causeOf(err)}) fetching ${this.describe(ref)}`);
    }
  }

  /** A non-2xx answer in words: the registry's own error code and message, and what was missing. */
  private async failure(ref: ImageReference, response: HttpAnswer, reference: string): Promise<RegistryError> {
    const text = await response
      .bytes()
      .then((body) => body.toString('utf8'))
      .catch(() => '');
    let said = `HTTP ${response.status}`;
    let code = '';
    try {
      const parsed = JSON.parse(text) as { errors?: Array<{ code?: unknown; message?: unknown }> };
      const first = parsed.errors?.[0];
      if (first !== undefined) {
        code = typeof first.code === 'string' ? first.code : '';
        said = typeof first.message === 'string' ? first.message : code;
      }
    } catch {
      // not the registry's JSON error form: the status says enough
    }
    const what = reference.startsWith('sha256:') ? reference : `tag ${reference}`;
    if (response.status === 404 || code === 'MANIFEST_UNKNOWN' || code === 'NAME_UNKNOWN' || code === 'BLOB_UNKNOWN') {
      return new RegistryError(`${said} (no ${what} in ${this.describe(ref)})`);
    }
    return new RegistryError(`${said} (fetching ${what} from ${this.describe(ref)})`);
  }
}

/** The parameters of a `Bearer realm="...",service="...",scope="..."` challenge, or null for another scheme. */
export function parseBearerChallenge(header: string | null): Record<string, string> | null {
  if (header === null) return null;
  const match = /^\s*Bearer\s+(.*)$/i.exec(header);
  if (match === null) return null;
  const params: Record<string, string> = {};
  for (const [, key, quoted, bare] of match[1]!.matchAll(/([A-Za-z_]+)=(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g)) {
    params[key!.toLowerCase()] = quoted !== undefined ? quoted.replace(/\\(.)/g, '$1') : (bare ?? '');
  }
  return params;
}

/** The reason (ECONNREFUSED, a TLS failure), which an error may hide in its cause. Duck-typed: jest's realms defeat instanceof. */
function causeOf(err: unknown): string {
  const cause = hasMessage(err) && hasMessage(err.cause) ? err.cause : err;
  return hasMessage(cause) ? cause.message : String(cause);
}

function hasMessage(value: unknown): value is { message: string; cause?: unknown } {
  return typeof value === 'object' && value !== null && typeof (value as { message?: unknown }).message === 'string';
}
