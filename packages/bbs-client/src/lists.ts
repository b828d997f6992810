/** What the BBS's lists are asked for and answer: shared by the store that reads them, the server and the client. */

/**
 * A list and the etcd revision it was read at: the state after every change up to and including that revision,
 * so following the event stream from it (`Last-Event-ID: <revision>`) misses and repeats nothing.
 */
export interface Listed<T> {
  items: T[];
  revision: string;
}

export interface DesiredLRPFilter {
  domain?: string;
}

export interface ActualLRPFilter {
  domain?: string;
  cell_id?: string;
}

export interface TaskFilter {
  domain?: string;
  cell_id?: string;
}

/** One package repository of `diego packages` (Cosmos's PackageRepository). */
export interface PackageRepository {
  name: string;
  uri: string;
}

/**
 * A repository list as `JSON.parse` made it (the stored list, Cosmos's default-repositories.json): each element
 * kept to its `name` and `uri`; null when it is not an array of objects with those two strings.
 */
export function repositoryListOf(value: unknown): PackageRepository[] | null {
  const isRepository = (item: unknown): item is PackageRepository =>
    typeof item === 'object' && item !== null && typeof Reflect.get(item, 'name') === 'string' && typeof Reflect.get(item, 'uri') === 'string';
  if (!Array.isArray(value) || !value.every(isRepository)) return null;
  return value.map(({ name, uri }) => ({ name, uri }));
}
