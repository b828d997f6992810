/**
 * A fresh EtcdDb per test, in its own key prefix of the shared test etcd, with a clock the test moves.
 */
import pino from 'pino';
import { testKeySpace, type TestKeySpace } from '@diego/test-support';
import { EtcdDb, type Clock, type EtcdDbOptions } from '@diego/bbs';
import type { IKeyValue } from 'etcd3';

/** Unix nanoseconds beyond 2^53, so a lost digit shows. */
export const START_NS = 1_449_151_201_123_456_789n;
export const SECOND_NS = 1_000_000_000n;
export const MINUTE_NS = 60n * SECOND_NS;

/** bbs's fakeclock: time moves only when the test says so. */
export class FakeClock {
  now = START_NS;
  readonly clock: Clock = () => this.now;
  advance(ns: bigint): bigint {
    this.now += ns;
    return this.now;
  }
}

export interface StoreUnderTest {
  db: EtcdDb;
  keys: TestKeySpace;
  clock: FakeClock;
  /** A second store on the same key space (another BBS), with its own options. */
  otherDb(options?: Omit<EtcdDbOptions, 'clock' | 'logger'>): EtcdDb;
  /** The raw stored key-value (value, mod_revision, lease), or undefined. */
  raw(key: string): Promise<IKeyValue | undefined>;
}

export const silentLogger = pino({ level: 'silent' });

/** The two ways a store reads: straight from etcd, and from its watch-maintained view (what every BBS does). */
export const STORE_READS = ['from etcd', 'through the view'] as const;

/** Registers before/after hooks; call the returned function inside a test. */
export function useStore(options: Omit<EtcdDbOptions, 'clock' | 'logger'> = {}): () => StoreUnderTest {
  let current: StoreUnderTest | undefined;
  let opened: EtcdDb[] = [];
  beforeEach(() => {
    const keys = testKeySpace();
    const clock = new FakeClock();
    const otherDb = (more: Omit<EtcdDbOptions, 'clock' | 'logger'> = {}): EtcdDb => {
      const db = new EtcdDb(keys.namespace, { clock: clock.clock, logger: silentLogger, ...more });
      opened.push(db);
      return db;
    };
    current = {
      db: otherDb(options),
      keys,
      clock,
      otherDb,
      raw: async (key) => (await keys.namespace.get(key).exec()).kvs[0],
    };
  });
  afterEach(async () => {
    for (const db of opened) db.close();
    opened = [];
    await current?.keys.cleanup();
    current = undefined;
  });
  return () => {
    if (current === undefined) throw new Error('useStore() is only available inside a test');
    return current;
  };
}
