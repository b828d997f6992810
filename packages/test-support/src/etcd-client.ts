import { randomUUID } from 'node:crypto';
import { Etcd3, type Namespace } from 'etcd3';

/** The env var the jest global setup sets to the shared etcd's client URL. */
export const TEST_ETCD_ENV = 'DIEGO_TEST_ETCD';

/** One test file's private corner of the shared etcd. */
export interface TestKeySpace {
  client: Etcd3;
  /** `/test-<random>` inside the shared etcd: give this to the store under test. */
  namespace: Namespace;
  /** The namespace's key prefix, for reading raw keys through `client`. */
  prefix: string;
  /** Deletes every key under the prefix and closes the client. */
  cleanup(): Promise<void>;
}

/**
 * A fresh key prefix in the etcd the jest global setup started, so test files never see each other's keys.
 *
 * @example
 *   let keys: TestKeySpace;
 *   beforeEach(() => { keys = testKeySpace(); });
 *   afterEach(() => keys.cleanup());
 *   const db = new EtcdDb(keys.namespace);
 */
export function testKeySpace(): TestKeySpace {
  const endpoint = process.env[TEST_ETCD_ENV];
  if (endpoint === undefined || endpoint === '') {
    throw new Error(`${TEST_ETCD_ENV} is not set: run the tests through jest (its global setup starts etcd)`);
  }
  const client = new Etcd3({ hosts: endpoint });
  const prefix = `/test-${randomUUID()}`;
  const namespace = client.namespace(prefix);
  return {
    client,
    namespace,
    prefix,
    async cleanup() {
      try {
        await namespace.delete().all();
      } finally {
        client.close();
      }
    },
  };
}
