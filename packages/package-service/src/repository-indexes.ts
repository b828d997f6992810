/**
 * Each repository's index, fetched from its URI, checked, and kept under `<dataDir>/repositories/<id>/index.json`
 * (the zip's tree unpacked to the JSON index form). A fetch that fails keeps the last good copy, marked stale with
 * the reason, so that search and install go on working from it.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { CosmosError } from './errors';
import { checkedIndex, IndexUnreadable, readIndex, type UniverseIndex } from './universe';

export interface PackageRepository {
  name: string;
  uri: string;
}

/** How a repository's copy stands: `ok` (the last fetch succeeded), `stale` (it failed; the copy is older), `missing`. */
export interface RepositoryStatus {
  state: 'ok' | 'stale' | 'missing';
  /** When the copy in use was fetched (ISO 8601). */
  fetchedAt?: string;
  /** Why the last fetch failed. */
  error?: string;
  packages: number;
}

interface Copy {
  index: UniverseIndex;
  fetchedAt: string;
}

/** Universe servers answer the newest index they know in the first type asked for; a zip or plain JSON does too. */
const INDEX_ACCEPT = [
  'application/vnd.dcos.universe.repo+json;charset=utf-8;version=v4',
  'application/vnd.dcos.universe.repo+json;charset=utf-8;version=v3;q=0.9',
  'application/zip;q=0.8',
  'application/json;q=0.5',
].join(',');

/** A repository index larger than this is refused (Mesosphere's whole Universe was a few MiB). */
const MAX_INDEX_BYTES = 64 * 1024 * 1024;

export interface RepositoryIndexesOptions {
  dataDir: string;
  logger: Logger;
  /** How long one fetch may take (default 30 s). */
  fetchTimeoutMs?: number;
}

export class RepositoryIndexes {
  private readonly copies = new Map<string, Copy>();
  private readonly failures = new Map<string, string>();
  private readonly fetchTimeoutMs: number;

  constructor(private readonly options: RepositoryIndexesOptions) {
    this.fetchTimeoutMs = options.fetchTimeoutMs ?? 30_000;
  }

  /**
   * Fetches and checks the repository's index; keeps it (in memory and on disk) only when good. Throws the
   * CosmosError that says which repository failed and why.
   */
  async fetch(repository: PackageRepository): Promise<UniverseIndex> {
    const logger = this.options.logger.child({ repository: repository.name, uri: repository.uri });
    try {
      const index = readIndex(...(await this.download(repository)));
      const copy = { index, fetchedAt: new Date().toISOString() };
      await this.save(repository.uri, copy);
      this.copies.set(repository.uri, copy);
      this.failures.delete(repository.uri);
      logger.info({ packages: index.packages.length }, 'repository-fetched');
      return index;
    } catch (err) {
      const failure = err instanceof IndexUnreadable
        ? new CosmosError('RepositoryIndexInvalid', `The index of repository [${repository.name}] at ${repository.uri} cannot be used: ${err.message}`, 400, { repository, cause: err.message })
        : err instanceof CosmosError ? err : connectionFailure(repository, err);
      this.failures.set(repository.uri, failure.message);
      logger.error({ error: failure.message }, 'repository-fetch-failed');
      throw failure;
    }
  }

  /** Fetches every repository's index at once; a failure keeps the last good copy (see `status`). */
  async refresh(repositories: readonly PackageRepository[]): Promise<void> {
    await Promise.all(repositories.map((repository) => this.fetch(repository).catch(() => undefined)));
  }

  /** The copy in use: the last good one fetched, else the one on disk from an earlier run; null when none. */
  async index(uri: string): Promise<UniverseIndex | null> {
    return (await this.copy(uri))?.index ?? null;
  }

  async status(uri: string): Promise<RepositoryStatus> {
    const copy = await this.copy(uri);
    const error = this.failures.get(uri);
    if (copy === null) return { state: 'missing', packages: 0, ...(error === undefined ? {} : { error }) };
    return {
      state: error === undefined ? 'ok' : 'stale',
      fetchedAt: copy.fetchedAt,
      packages: copy.index.packages.length,
      ...(error === undefined ? {} : { error }),
    };
  }

  private async copy(uri: string): Promise<Copy | null> {
    const cached = this.copies.get(uri);
    if (cached !== undefined) return cached;
    const loaded = await this.load(uri);
    if (loaded !== null) this.copies.set(uri, loaded);
    return loaded;
  }

  private async download(repository: PackageRepository): Promise<[Uint8Array, string]> {
    let response: Response;
    try {
      response = await fetch(repository.uri, { headers: { Accept: INDEX_ACCEPT }, signal: AbortSignal.timeout(this.fetchTimeoutMs) });
    } catch (err) {
      throw connectionFailure(repository, err);
    }
    if (response.status === 404) {
      await response.body?.cancel();
      throw new CosmosError('IndexNotFound', `Index file missing for repo [${repository.uri}]`, 400, { repoUri: repository.uri });
    }
    if (!response.ok) {
      await response.body?.cancel();
      throw new CosmosError('GenericHttpError', `Repository [${repository.name}] at ${repository.uri} answered HTTP ${response.status}`, 400, {
        repository,
        clientStatus: response.status,
      });
    }
    const declared = Number(response.headers.get('content-length') ?? '0');
    if (declared > MAX_INDEX_BYTES) {
      await response.body?.cancel();
      throw new IndexUnreadable(`it is ${declared} bytes, more than ${MAX_INDEX_BYTES}`);
    }
    let body: Uint8Array;
    try {
      body = new Uint8Array(await response.arrayBuffer());
    } catch (err) {
      throw connectionFailure(repository, err);
    }
    if (body.byteLength > MAX_INDEX_BYTES) throw new IndexUnreadable(`it is ${body.byteLength} bytes, more than ${MAX_INDEX_BYTES}`);
    return [body, response.headers.get('content-type') ?? ''];
  }

  private directory(uri: string): string {
    const id = createHash('sha256').update(uri).digest('hex').slice(0, 16);
    return join(this.options.dataDir, 'repositories', id);
  }

  /** Written whole to a temporary file and renamed: a crash leaves the old copy or the new, never half of one. */
  private async save(uri: string, copy: Copy): Promise<void> {
    const dir = this.directory(uri);
    await mkdir(dir, { recursive: true });
    const file = join(dir, 'index.json');
    await writeFile(`${file}.tmp`, JSON.stringify({ uri, fetchedAt: copy.fetchedAt, ...copy.index }));
    await rename(`${file}.tmp`, file);
  }

  private async load(uri: string): Promise<Copy | null> {
    let text: string;
    try {
      text = await readFile(join(this.directory(uri), 'index.json'), 'utf8');
    } catch {
      return null;
    }
    try {
      const stored: unknown = JSON.parse(text);
      if (typeof stored !== 'object' || stored === null) return null;
      const fetchedAt: unknown = Reflect.get(stored, 'fetchedAt');
      return { index: checkedIndex({ packages: Reflect.get(stored, 'packages') }), fetchedAt: typeof fetchedAt === 'string' ? fetchedAt : '' };
    } catch (err) {
      this.options.logger.error({ uri, error: err instanceof Error ? err.message : String(err) }, 'repository-copy-unreadable');
      return null;
    }
  }
}

function connectionFailure(repository: PackageRepository, err: unknown): CosmosError {
  const cause = err instanceof Error ? (err.cause instanceof Error ? `${err.message}: ${err.cause.message}` : err.message) : String(err);
  return new CosmosError(
    'RepositoryUriConnection',
    `Could not access data at URI for repository [${repository.name}]: ${repository.uri} (${cause})`,
    400,
    { repository, cause },
  );
}
