/**
 * The one way a record changes (Kubernetes' `GuaranteedUpdate`): read it with its `mod_revision`, let a transition
 * say what it becomes, compare-and-write on the revision read, and when someone wrote it in between, read it again
 * from etcd and let the transition decide again. A race that a fresh read settles is never the caller's error: the
 * update is applied to the record as it now is, or the transition refuses it with its own error (`Cannot
 * transition from RUNNING to CLAIMED`, not found). Only a record that keeps changing under every attempt ends it,
 * as ResourceConflict.
 *
 * An update is applied once: a write whose answer was lost is recognised by the store as its own (store.ts), so it
 * is never re-applied to a record it already changed (a crash counted twice, a tag index moved on twice).
 */
import { isBbsError, type ErrorType } from '@diego/models';
import type { DbContext } from './context';
import { resourceConflict, resourceNotFound } from './errors';
import type { Decode, Versioned } from './store';

/** The transition leaves the record as it is: nothing is written. */
export const UNCHANGED = Symbol('unchanged');
/** The transition removes the record. */
export const DELETE = Symbol('delete');

/** What a transition makes of a record: its new value, UNCHANGED or DELETE. */
export type Decision<T> = T | typeof UNCHANGED | typeof DELETE;

/**
 * Decides from the record as read (null when absent) and throws the domain's error for a change it refuses. It may
 * run several times, on newer reads, and only the last decision counts: it writes nothing itself (it may read other
 * records, such as the presence of the cell an instance is on).
 */
export type Transition<T> = (current: T | null) => Decision<T> | Promise<Decision<T>>;

/** How a kind of record is stored. */
export interface StoredAs<T> {
  decode: Decode<T>;
  /** Throws InvalidRecord for a value that must not be written. */
  encode(value: T): string;
}

export interface UpdateOptions<T> {
  /** The record as the caller already read it (null: absent), to decide on first instead of reading it again. */
  read?: Versioned<T> | null;
  /**
   * Writes go under a new lease of this TTL (none for 0), granted when the first write is made, and the lease of
   * the record a write replaces is revoked after it (best effort: it ends by its TTL). Without: writes carry no lease.
   */
  leaseTtlSeconds?: number;
}

export interface Updated<T> {
  /** The record the last decision was made on (null: absent). */
  before: Versioned<T> | null;
  /** What the record now holds as far as this update knows (null: absent). */
  after: T | null;
  /** The decision was a write (or a delete), and it was applied. */
  written: boolean;
  /** The lease the write went under (see `leaseTtlSeconds`). */
  lease?: string;
}

/** `Updated` of a record that exists and is not deleted. */
export interface Changed<T> {
  before: Versioned<T>;
  after: T;
  written: boolean;
}

/** Records whose value is taken as it is (cell presences, domains): read and written as their JSON text. */
export const AS_TEXT: StoredAs<string> = { decode: (text) => text, encode: (text) => text };

/** Attempts before an update that keeps losing gives up. */
const MAX_ATTEMPTS = 20;
/** The backoff window doubles from this up to MAX_BACKOFF_MS; each wait is a random part of it. */
const FIRST_BACKOFF_MS = 2;
const MAX_BACKOFF_MS = 200;
/** Write outcomes that mean the record changed since it was read. */
const LOST_RACE: ReadonlySet<ErrorType> = new Set(['ResourceConflict', 'ResourceExists', 'ResourceNotFound']);

/**
 * Applies `transition` to the record at `key` until its decision is written, or it refuses, or MAX_ATTEMPTS writes
 * in a row lost to concurrent ones (ResourceConflict, logged). The first read is the store's (the view when it
 * holds the record); every read after a lost write is etcd's. Updates of one key through one store take turns
 * (EtcdStore.updates), so that they race only those of other BBSes.
 *
 * @example
 *   const { before, after } = await guaranteedUpdate(ctx, taskKey(guid), TASK, existing((task) => ({ ...task, state: 'RESOLVING' })));
 */
export async function guaranteedUpdate<T>(
  ctx: Pick<DbContext, 'store' | 'logger'>,
  key: string,
  storedAs: StoredAs<T>,
  transition: Transition<T>,
  options: UpdateOptions<T> = {},
): Promise<Updated<T>> {
  return ctx.store.updates.run(key, () => updateOnce(ctx, key, storedAs, transition, options));
}

/** `guaranteedUpdate` once it is this store's turn to update `key`. */
async function updateOnce<T>(
  ctx: Pick<DbContext, 'store' | 'logger'>,
  key: string,
  storedAs: StoredAs<T>,
  transition: Transition<T>,
  options: UpdateOptions<T>,
): Promise<Updated<T>> {
  const { store, logger } = ctx;
  let current = options.read !== undefined ? options.read : await store.tryGet(key, storedAs.decode);
  let lease: string | undefined;
  let leaseUsed = false;
  const writeLease = async (): Promise<string | undefined> => {
    const ttl = options.leaseTtlSeconds;
    if (ttl === undefined || ttl <= 0) return undefined;
    lease ??= await store.grantLease(ttl);
    return lease;
  };
  try {
    for (let attempt = 1; ; attempt++) {
      const decision = await transition(current?.value ?? null);
      if (decision === UNCHANGED || (decision === DELETE && current === null)) {
        return { before: current, after: current?.value ?? null, written: false };
      }
      try {
        let after: T | null = null;
        if (decision === DELETE) {
          if (current !== null) await store.compareAndDelete(key, current.modRevision);
        } else {
          const text = storedAs.encode(decision);
          const writeUnder = await writeLease();
          if (current === null) await store.create(key, text, writeUnder);
          else await store.compareAndSwap(key, current.modRevision, text, writeUnder);
          leaseUsed = writeUnder !== undefined;
          after = decision;
        }
        if (options.leaseTtlSeconds !== undefined && current !== null && current.lease !== lease) {
          await store.revokeSupersededLease(current.lease);
        }
        return { before: current, after, written: true, ...(leaseUsed ? { lease } : {}) };
      } catch (err) {
        if (!isBbsError(err) || !LOST_RACE.has(err.type)) throw err;
        if (attempt >= MAX_ATTEMPTS) {
          logger.error({ key, attempts: attempt }, 'guaranteed-update-gave-up');
          throw resourceConflict();
        }
        logger.debug({ key, attempt }, 'guaranteed-update-conflict');
      }
      await pause(attempt);
      current = await store.tryGetFromEtcd(key, storedAs.decode);
    }
  } finally {
    // Granted for a write that never happened: it has nothing to keep alive.
    if (lease !== undefined && !leaseUsed) await store.revokeSupersededLease(lease);
  }
}

/** A transition of a record that must exist: absent, the update is ResourceNotFound. */
export function existing<T>(transition: (current: T) => Decision<T> | Promise<Decision<T>>): Transition<T> {
  return (current) => {
    if (current === null) throw resourceNotFound();
    return transition(current);
  };
}

/** `guaranteedUpdate` of a record that must exist (else ResourceNotFound) and that `transition` never deletes. */
export async function updateExisting<T>(
  ctx: Pick<DbContext, 'store' | 'logger'>,
  key: string,
  storedAs: StoredAs<T>,
  transition: (current: T) => T | typeof UNCHANGED | Promise<T | typeof UNCHANGED>,
  options: UpdateOptions<T> = {},
): Promise<Changed<T>> {
  const { before, after, written } = await guaranteedUpdate(ctx, key, storedAs, existing(transition), options);
  // Unreachable: existing() refuses an absent record, and nothing here deletes it.
  if (before === null || after === null) throw resourceNotFound();
  return { before, after, written };
}

/**
 * Deletes a record that must exist (else ResourceNotFound) once `check` accepts it (it throws its refusal);
 * returns the record deleted.
 */
export async function deleteExisting<T>(
  ctx: Pick<DbContext, 'store' | 'logger'>,
  key: string,
  storedAs: StoredAs<T>,
  check: (current: T) => void,
): Promise<Versioned<T>> {
  const { before } = await guaranteedUpdate(ctx, key, storedAs, existing((current) => {
    check(current);
    return DELETE;
  }));
  // Unreachable: existing() refuses an absent record.
  if (before === null) throw resourceNotFound();
  return before;
}

/** A random wait in a window that doubles with each attempt: writers that collided do not collide again in step. */
function pause(attempt: number): Promise<void> {
  const windowMs = Math.min(MAX_BACKOFF_MS, FIRST_BACKOFF_MS * 2 ** (attempt - 1));
  return new Promise((resolve) => setTimeout(resolve, Math.random() * windowMs));
}
