/**
 * The raw twins' etcd operations: the minimal etcd work for the same logical work, straight through the etcd3
 * client's KV RPCs. Writes go under RAW_PREFIX so they never touch the BBS's keys; reads may read its keys.
 */
import { Etcd3, type IKeyValue } from 'etcd3';

export const RAW_PREFIX = '/bench-raw';
export const PAGE_SIZE = 10_000;

const b = (s: string): Buffer => Buffer.from(s);

/** The key just after every key starting with `prefix` (etcd's range_end for a prefix). */
export function prefixEnd(prefix: string): Buffer {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if ((end[i] as number) < 0xff) {
      end[i] = (end[i] as number) + 1;
      return end.subarray(0, i + 1);
    }
  }
  return Buffer.from([0]);
}

export class RawEtcd {
  readonly client: Etcd3;

  constructor(endpoint: string) {
    this.client = new Etcd3({ hosts: endpoint, grpcOptions: { 'grpc.max_receive_message_length': 512 * 1024 * 1024 } });
  }

  close(): void {
    this.client.close();
  }

  /** etcd's current revision (a read: it never moves it). */
  async revision(): Promise<string> {
    const res = await this.client.kv.range({ key: b('/bench-probe'), limit: 1 });
    return res.header.revision;
  }

  /**
   * Every key and value under `prefix`, in pages of PAGE_SIZE at one revision (as `etcdctl get --prefix` with a
   * limit); `visit` sees each page's key-values. Resolves with the count.
   */
  async readPrefix(prefix: string, visit?: (kvs: IKeyValue[]) => void): Promise<number> {
    const end = prefixEnd(prefix);
    let key = b(prefix);
    let revision: string | undefined;
    let count = 0;
    for (;;) {
      const res = await this.client.kv.range({ key, range_end: end, limit: PAGE_SIZE, ...(revision === undefined ? {} : { revision }) });
      revision ??= res.header.revision;
      count += res.kvs.length;
      visit?.(res.kvs);
      const last = res.kvs[res.kvs.length - 1];
      if (!res.more || last === undefined) return count;
      key = Buffer.concat([last.key, Buffer.from([0])]);
    }
  }

  async get(key: string): Promise<IKeyValue | null> {
    const res = await this.client.kv.range({ key: b(key) });
    return res.kvs[0] ?? null;
  }

  /** One txn of gets, one per key; resolves with how many existed. */
  async getMany(keys: readonly string[]): Promise<number> {
    const res = await this.client.kv.txn({ success: keys.map((key) => ({ request_range: { key: b(key) } })) });
    let found = 0;
    for (const op of res.responses) found += op.response_range?.kvs.length ?? 0;
    return found;
  }

  /** Puts every pair only when none of the keys exists; resolves with the txn's revision. */
  async createAll(pairs: readonly [string, string][]): Promise<string> {
    const res = await this.client.kv.txn({
      compare: pairs.map(([key]) => ({ key: b(key), target: 'Create' as const, result: 'Equal' as const, create_revision: 0 })),
      success: pairs.map(([key, value]) => ({ request_put: { key: b(key), value: b(value) } })),
    });
    if (!res.succeeded) throw new Error(`raw create of ${pairs[0]?.[0] ?? ''}: a key exists`);
    return res.header.revision;
  }

  /** Compare-and-swap on the key's mod revision; resolves with the new revision. */
  async cas(key: string, value: string, modRevision: string): Promise<string> {
    const res = await this.client.kv.txn({
      compare: [{ key: b(key), target: 'Mod', result: 'Equal', mod_revision: modRevision }],
      success: [{ request_put: { key: b(key), value: b(value) } }],
    });
    if (!res.succeeded) throw new Error(`raw compare-and-swap of ${key} at ${modRevision} failed`);
    return res.header.revision;
  }

  /** Deletes the key if it is still at `modRevision`. */
  async casDelete(key: string, modRevision: string): Promise<string> {
    const res = await this.client.kv.txn({
      compare: [{ key: b(key), target: 'Mod', result: 'Equal', mod_revision: modRevision }],
      success: [{ request_delete_range: { key: b(key) } }],
    });
    if (!res.succeeded) throw new Error(`raw delete of ${key} at ${modRevision} failed`);
    return res.header.revision;
  }

  async deletePrefix(prefix: string): Promise<void> {
    await this.client.kv.deleteRange({ key: b(prefix), range_end: prefixEnd(prefix) });
  }
}
