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
