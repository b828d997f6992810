import { repositoryListOf, type PackageRepository } from '@diego/bbs-client';
import { BbsError, convertError, isBbsError } from '@diego/models';
import type { Namespace } from 'etcd3';
import type { Logger } from 'pino';
import { guaranteedUpdate, type StoredAs } from './guaranteed-update';
import { PACKAGE_REPOSITORIES_KEY } from './keys';
import { EtcdStore, ETCD_MAX_REQUEST_BYTES } from './store';

/** Which repository a delete names: by name, by URI, or both (then one repository must have both). */
export interface PackageRepositorySelector {
  name: string;
  uri: string;
}

/**
 * The ordered package repository list at `/v1/package_repositories`: one plain JSON array, so that `etcdctl get`
 * prints it, changed only through the guaranteed update (guaranteed-update.ts), so that concurrent adds and deletes
 * all land. Absent until the first write: it lists as empty then. Its store has no view: reads go to etcd.
 *
 * @example
 *   const repositories = new EtcdPackageRepositoryDb(namespace, logger);
 *   await repositories.add({ name: 'local', uri: 'http://127.0.0.1:8000/repo.json' }); // the whole list after
 */
export class EtcdPackageRepositoryDb {
  private readonly store: EtcdStore;

  constructor(
    namespace: Namespace,
    private readonly logger: Logger,
  ) {
    // One key, never ranged over: the page settings only satisfy the store's options.
    this.store = new EtcdStore(namespace, { pageSize: 1, pageBytes: ETCD_MAX_REQUEST_BYTES, logger });
  }

  async list(): Promise<PackageRepository[]> {
    return (await this.store.tryGetFromEtcd(PACKAGE_REPOSITORIES_KEY, decodeRepositories))?.value ?? [];
  }

  /**
   * Inserts at `index` (0 first; the end when undefined). ResourceExists when the name or the URI is present,
   * InvalidRequest when the index is past the end or the repository malformed.
   */
  async add(repository: PackageRepository, index?: number): Promise<PackageRepository[]> {
    checkRepository(repository);
    return this.update((current) => {
      const sameName = current.some((r) => r.name === repository.name);
      const sameUri = current.some((r) => r.uri === repository.uri);
      if (sameName || sameUri) throw new BbsError('ResourceExists', alreadyPresentMessage(repository, sameName, sameUri));
      const at = index ?? current.length;
      if (!Number.isInteger(at) || at < 0 || at > current.length) {
        throw new BbsError('InvalidRequest', `Index (${at}) is out of range. Index value must be between 0 and ${current.length} inclusive.`);
      }
      return [...current.slice(0, at), repository, ...current.slice(at)];
    });
  }

  /** InvalidRequest when the selector names neither; ResourceNotFound when no repository matches it. */
  async delete(selector: PackageRepositorySelector): Promise<PackageRepository[]> {
    if (selector.name === '' && selector.uri === '') throw new BbsError('InvalidRequest', 'Must specify either the name or URI of the repository');
    const matches = (r: PackageRepository): boolean =>
      (selector.name === '' || r.name === selector.name) && (selector.uri === '' || r.uri === selector.uri);
    return this.update((current) => {
      if (!current.some(matches)) throw new BbsError('ResourceNotFound', notPresentMessage(selector));
      return current.filter((r) => !matches(r));
    });
  }

  /** Writes `defaults` only when no list exists yet (create-if-absent); answers the list as it is after. */
  async initialize(defaults: readonly PackageRepository[]): Promise<PackageRepository[]> {
    defaults.forEach(checkRepository);
    const names = new Set(defaults.map((r) => r.name));
    const uris = new Set(defaults.map((r) => r.uri));
    if (names.size !== defaults.length || uris.size !== defaults.length) {
      throw new BbsError('InvalidRequest', 'the default repositories repeat a name or a URI');
    }
    try {
      await this.store.create(PACKAGE_REPOSITORIES_KEY, JSON.stringify(defaults));
    } catch (err) {
      if (!isBbsError(err, 'ResourceExists')) throw err;
    }
    return this.list();
  }

  /** `change` applied to the list as etcd holds it through the guaranteed update, so that concurrent writes all land. */
  private async update(change: (current: PackageRepository[]) => PackageRepository[]): Promise<PackageRepository[]> {
    const { after } = await guaranteedUpdate({ store: this.store, logger: this.logger }, PACKAGE_REPOSITORIES_KEY, REPOSITORIES, (current) =>
      change(current ?? []),
    );
    return after ?? [];
  }
}

/** The list as stored: plain JSON, so that `etcdctl get` prints it. */
const REPOSITORIES: StoredAs<PackageRepository[]> = { decode: decodeRepositories, encode: (repositories) => JSON.stringify(repositories) };

function checkRepository(repository: PackageRepository): void {
  if (repository.name.trim() === '') throw new BbsError('InvalidRequest', 'a repository needs a name');
  let url: URL;
  try {
    url = new URL(repository.uri);
  } catch {
    throw new BbsError('InvalidRequest', `URI for repository [${repository.name}] has invalid syntax: ${repository.uri}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new BbsError('InvalidRequest', `Repository URI [${repository.uri}] uses an unsupported scheme. Only http and https are supported`);
  }
}

function decodeRepositories(text: string): PackageRepository[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new BbsError('InvalidRecord', `${PACKAGE_REPOSITORIES_KEY} is not JSON: ${convertError(err).message}`);
  }
  const repositories = repositoryListOf(value);
  if (repositories === null) throw new BbsError('InvalidRecord', `${PACKAGE_REPOSITORIES_KEY} is not an array of {name, uri}`);
  return repositories;
}

function alreadyPresentMessage(repository: PackageRepository, sameName: boolean, sameUri: boolean): string {
  if (sameName && sameUri) return `Repository name [${repository.name}] and URI [${repository.uri}] are both already present in the list`;
  if (sameName) return `Repository name [${repository.name}] is already present in the list`;
  return `Repository URI [${repository.uri}] is already present in the list`;
}

function notPresentMessage(selector: PackageRepositorySelector): string {
  if (selector.name !== '' && selector.uri !== '') {
    return `No repository has both name [${selector.name}] and URI [${selector.uri}]`;
  }
  if (selector.name !== '') return `Repository name [${selector.name}] is not present in the list`;
  return `Repository URI [${selector.uri}] is not present in the list`;
}
