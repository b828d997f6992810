/**
 * The etcd key schema (DESIGN.md), and the only code that builds or parses keys. Prefixes end with `/` so that a
 * range over one guid never matches a longer guid that starts with it.
 *
 * @example
 *   actualLrpInstanceKey('web', 0) // '/v1/actual/web/0/instance'
 *   parseKey('/v1/actual/web/0/evacuating') // { kind: 'actual', guid: 'web', index: 0, evacuating: true }
 */

export const V1_PREFIX = '/v1/';
export const DESIRED_LRP_PREFIX = '/v1/desired/';
export const ACTUAL_LRP_PREFIX = '/v1/actual/';
export const TASK_PREFIX = '/v1/task/';
export const DOMAIN_PREFIX = '/v1/domain/';
export const CELL_PREFIX = '/v1/cell/';
/**
 * The BBS election: each candidate's key is this prefix and its lease id (etcd3's Campaign, as Go's
 * concurrency.Election), and the key with the lowest create revision leads.
 */
export const BBS_LOCK_PREFIX = '/v1/locks/bbs_lock/';
/**
 * The label of the encryption key every record is stored under once a rotation has finished (Diego's
 * `/encryption-key`, spec/bbs.md §1.2), as plain text; absent while records are plain JSON. Outside `/v1/`, so no
 * watch of the records sees it.
 */
export const ENCRYPTION_KEY_LABEL_KEY = '/encryption-key';
/**
 * The package service's ordered repository list (Cosmos's `/cosmos/package/repositories`), one JSON array of
 * `{name, uri}`, always plain. No watch acts on it: no record kind parses from it.
 */
export const PACKAGE_REPOSITORIES_KEY = '/v1/package_repositories';

const INSTANCE = 'instance';
const EVACUATING = 'evacuating';

export function desiredLrpKey(processGuid: string): string {
  return `${DESIRED_LRP_PREFIX}${processGuid}`;
}

/** Every actual LRP record of one process guid. */
export function actualLrpProcessPrefix(processGuid: string): string {
  return `${ACTUAL_LRP_PREFIX}${processGuid}/`;
}

/** The instance and evacuating records of one index. */
export function actualLrpIndexPrefix(processGuid: string, index: number): string {
  return `${actualLrpProcessPrefix(processGuid)}${index}/`;
}

export function actualLrpInstanceKey(processGuid: string, index: number): string {
  return `${actualLrpIndexPrefix(processGuid, index)}${INSTANCE}`;
}

export function actualLrpEvacuatingKey(processGuid: string, index: number): string {
  return `${actualLrpIndexPrefix(processGuid, index)}${EVACUATING}`;
}

export function taskKey(taskGuid: string): string {
  return `${TASK_PREFIX}${taskGuid}`;
}

/** Domains are only checked for being non-empty: a `/` in one stays inside the key, and parses back whole. */
export function domainKey(domain: string): string {
  return `${DOMAIN_PREFIX}${domain}`;
}

export function cellKey(cellId: string): string {
  return `${CELL_PREFIX}${cellId}`;
}

/**
 * Which record of its index an ActualLRP key names, and the index's prefix (`/v1/actual/<guid>/<index>/`), by
 * its last segment alone: cheap enough for grouping every ActualLRP of a list that came from ActualLRP keys.
 */
export function actualLrpRecordOf(key: string): { indexPrefix: string; evacuating: boolean } | null {
  const slash = key.lastIndexOf('/');
  const name = key.slice(slash + 1);
  if (name !== INSTANCE && name !== EVACUATING) return null;
  return { indexPrefix: key.slice(0, slash + 1), evacuating: name === EVACUATING };
}

/** What a key under `/v1/` names. */
export type ParsedKey =
  | { kind: 'desired'; guid: string }
  | { kind: 'actual'; guid: string; index: number; evacuating: boolean }
  | { kind: 'task'; guid: string }
  | { kind: 'domain'; domain: string }
  | { kind: 'cell'; cellId: string };

const ACTUAL_SUFFIX = /^([^/]+)\/(0|[1-9][0-9]*)\/(instance|evacuating)$/;

/** The record a key names, or null for a key outside the schema. */
export function parseKey(key: string): ParsedKey | null {
  const rest = (prefix: string): string | null =>
    key.startsWith(prefix) && key.length > prefix.length ? key.slice(prefix.length) : null;

  const desired = rest(DESIRED_LRP_PREFIX);
  if (desired !== null) return desired.includes('/') ? null : { kind: 'desired', guid: desired };

  const actual = rest(ACTUAL_LRP_PREFIX);
  if (actual !== null) {
    const match = ACTUAL_SUFFIX.exec(actual);
    if (match === null) return null;
    const [, guid = '', index = '', record] = match;
    return { kind: 'actual', guid, index: Number(index), evacuating: record === EVACUATING };
  }

  const task = rest(TASK_PREFIX);
  if (task !== null) return task.includes('/') ? null : { kind: 'task', guid: task };

  const domain = rest(DOMAIN_PREFIX);
  if (domain !== null) return { kind: 'domain', domain };

  const cell = rest(CELL_PREFIX);
  if (cell !== null) return cell.includes('/') ? null : { kind: 'cell', cellId: cell };

  return null;
}
