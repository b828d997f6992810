/**
 * Key rotation (Diego's encryptor, spec/bbs.md §1.2). `/encryption-key` names the key every record is stored under
 * (absent: plain JSON). Every BBS checks at start that it can read that key's records; the leader, when the
 * active key differs, rewrites every record under it in the background and then records its label there. Reads
 * keep working throughout, as a BBS reads records under any key it was given.
 *
 * Each rewrite is a compare-and-swap on the `mod_revision` read, keeping the record's lease (evacuating
 * instances, cell presences): a concurrent write is never lost. A lost compare means someone wrote the record
 * since, normally under the active key already; it is read again and rewritten only if it is not.
 *
 * There is no way back to plain JSON (neither had Diego): a BBS without keys refuses a store whose
 * `/encryption-key` names one.
 */
import { isBbsError } from '@diego/models';
import type { Logger } from 'pino';
import { forEachWithWorkers } from '../../workers';
import { ACTUAL_LRP_PREFIX, CELL_PREFIX, DESIRED_LRP_PREFIX, ENCRYPTION_KEY_LABEL_KEY, TASK_PREFIX } from './keys';
import type { EtcdStore, StoredRecord } from './store';

/** bbs `-updateWorkers`. */
export const DEFAULT_UPDATE_WORKERS = 1000;
/** After a rotation that etcd's failures cut short, before the next attempt. */
const DEFAULT_RETRY_INTERVAL_MS = 5_000;
/** The collections whose values the codec encrypts (record-codec.ts); domains hold no value. */
const RECORD_PREFIXES: readonly string[] = [ACTUAL_LRP_PREFIX, CELL_PREFIX, DESIRED_LRP_PREFIX, TASK_PREFIX];

/**
 * Throws, with what to do, when the store's records are under a key this BBS was not given: `/encryption-key`
 * names a label that is not among its keys, or it has no keys at all.
 */
export async function checkEncryptionKeyLabel(store: EtcdStore): Promise<void> {
  const stored = await store.findInEtcd(ENCRYPTION_KEY_LABEL_KEY);
  if (stored === null) return;
  const label = stored.value;
  const { codec } = store;
  if (codec.activeLabel === null) {
    throw new Error(
      `the store's records are encrypted with the key labelled "${label}" (${ENCRYPTION_KEY_LABEL_KEY}), and this BBS was ` +
        `given no encryption keys: start it with -encryptionKey ${label}:<passphrase> -activeKeyLabel ${label} ` +
        '(records do not go back to plain JSON)',
    );
  }
  if (!codec.knows(label)) {
    throw new Error(
      `the store's records are encrypted with the key labelled "${label}" (${ENCRYPTION_KEY_LABEL_KEY}), which is not ` +
        `among this BBS's encryption keys (${codec.labels.join(', ')}): give it that key too, so that it can read ` +
        'the records and rewrite them under the active key',
    );
  }
}

export interface EncryptorOptions {
  store: EtcdStore;
  logger: Logger;
  /** Records rewritten at once (`-updateWorkers`, default 1000). */
  workers?: number;
  /** After a rotation that etcd's failures cut short, before the next attempt (default 5 s). */
  retryIntervalMs?: number;
}

/** What a rotation did, for its log lines. */
interface RotationCounts {
  records: number;
  rewritten: number;
  /** Already under the active key (written since the active key was set, or by an earlier attempt). */
  already: number;
  /** Deleted (or expired) before they were rewritten. */
  gone: number;
  /** Left as they are: unreadable here (a key this BBS was not given), or too large once encrypted. */
  left: number;
}

/** One run, from a start to its stop. */
interface Run {
  stopped: boolean;
  /** Ends the pause between attempts early. */
  wake: (() => void) | null;
  done: Promise<void>;
}

/** A rotation that was stopped (leadership ended, or shutdown) between records. */
class Stopped extends Error {}

/**
 * The leader's loop that moves every record to the active key, once per leadership, in the background.
 *
 * @example
 *   const encryptor = new Encryptor({ store, logger }); // a LeaderLoop by its shape (name, start, stop)
 *   await encryptor.start(); // returns at once; the rotation runs on
 */
export class Encryptor {
  readonly name = 'encryptor';
  private run: Run | null = null;
  private readonly workers: number;
  private readonly retryIntervalMs: number;

  constructor(private readonly options: EncryptorOptions) {
    this.workers = options.workers ?? DEFAULT_UPDATE_WORKERS;
    this.retryIntervalMs = options.retryIntervalMs ?? DEFAULT_RETRY_INTERVAL_MS;
  }

  async start(): Promise<void> {
    if (this.run !== null) return;
    const run: Run = { stopped: false, wake: null, done: Promise.resolve() };
    run.done = this.untilRotated(run);
    this.run = run;
  }

  async stop(): Promise<void> {
    const run = this.run;
    if (run === null) return;
    this.run = null;
    run.stopped = true;
    run.wake?.();
    await run.done;
  }

  /** Rotates, again after a pause while etcd fails, until done or stopped. */
  private async untilRotated(run: Run): Promise<void> {
    const { store, logger } = this.options;
    const active = store.codec.activeLabel;
    if (active === null) return;
    while (!run.stopped) {
      try {
        const current = await store.findInEtcd(ENCRYPTION_KEY_LABEL_KEY);
        if (current?.value !== active) await this.rotate(run, active, current);
        return;
      } catch (err) {
        if (err instanceof Stopped || run.stopped) return;
        logger.error({ to_label: active, retry_ms: this.retryIntervalMs, error: String(err) }, 'encryption-rotation-failed');
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, this.retryIntervalMs);
          run.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        run.wake = null;
      }
    }
  }

  private async rotate(run: Run, active: string, current: StoredRecord | null): Promise<void> {
    const { store, logger } = this.options;
    const fromLabel = current?.value ?? null;
    const startedAt = Date.now();
    logger.info({ from_label: fromLabel, to_label: active, workers: this.workers }, 'encryption-rotation-started');
    const counts: RotationCounts = { records: 0, rewritten: 0, already: 0, gone: 0, left: 0 };
    for (const prefix of RECORD_PREFIXES) {
      await store.walk(prefix, async (page) => {
        let failure: unknown = null;
        await forEachWithWorkers(page, this.workers, async (item) => {
          try {
            await this.rewrite(run, active, item, counts);
          } catch (err) {
            failure ??= err;
          }
        });
        if (failure !== null) throw failure;
      });
    }
    const summary = { from_label: fromLabel, to_label: active, ...counts, duration_ms: Date.now() - startedAt };
    if (counts.left > 0) {
      // `/encryption-key` would say every record is under the active key; the next leader tries again.
      logger.error(summary, 'encryption-rotation-incomplete');
      return;
    }
    try {
      if (current === null) await store.create(ENCRYPTION_KEY_LABEL_KEY, active);
      else await store.compareAndSwap(ENCRYPTION_KEY_LABEL_KEY, current.modRevision, active);
    } catch (err) {
      // Another leader (of a moment ago) finished the same rotation first.
      if (!isBbsError(err, 'ResourceExists') && !isBbsError(err, 'ResourceConflict')) throw err;
    }
    logger.info(summary, 'encryption-rotation-finished');
  }

  /** Rewrites one record under the active key unless it is there already; throws only for etcd's failures. */
  private async rewrite(run: Run, active: string, listed: StoredRecord, counts: RotationCounts): Promise<void> {
    const { store, logger } = this.options;
    counts.records += 1;
    let record: StoredRecord | null = listed;
    for (;;) {
      if (run.stopped) throw new Stopped();
      if (record === null) {
        counts.gone += 1;
        return;
      }
      if (record.unreadable !== undefined) {
        counts.left += 1; // logged as it was read
        return;
      }
      if (record.keyLabel === active) {
        counts.already += 1;
        return;
      }
      try {
        await store.compareAndSwap(record.key, record.modRevision, record.value, record.lease === '0' ? undefined : record.lease);
        counts.rewritten += 1;
        return;
      } catch (err) {
        if (isBbsError(err, 'InvalidRequest')) {
          logger.error({ key: record.key, error: err.message }, 'record-too-large-to-encrypt');
          counts.left += 1;
          return;
        }
        // Written, deleted or expired (its lease with it) since it was read: see what it holds now.
        if (!isBbsError(err, 'ResourceConflict') && !isBbsError(err, 'ResourceNotFound')) throw err;
        record = await store.findInEtcd(record.key);
      }
    }
  }
}
