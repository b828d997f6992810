/**
 * Blobs on disk, once per digest: `<dir>/sha256/<hex>`, each verified against its digest while it is written
 * to a temporary name and renamed into place only when it matches, so a present file is always a good one.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { digestHex } from './manifest';

/** How much of a blob may wait in memory for the disk before the download waits. */
const WRITE_BUFFER_BYTES = 8 * 1024 * 1024;

/** The bytes did not hash to the digest that named them. */
export class DigestMismatch extends Error {
  constructor(
    readonly expected: string,
    readonly actual: string,
  ) {
    super(`blob ${expected} failed verification: its content hashes to ${actual}`);
  }
}

/** Takes a blob's bytes as they are hashed, before they are verified (e.g. to unpack a layer meanwhile). */
export interface BlobObserver {
  /** Resolves when it is ready for more (backpressure); a rejection fails the verification. */
  write(chunk: Buffer): Promise<void>;
}

/**
 * Verified blobs by digest, with one write in flight per digest however many callers ask.
 *
 * @example
 *   const path = await blobs.ensure(layer.digest, () => registry.openBlob(ref, layer.digest));
 */
export class BlobStore {
  private readonly inFlight = new Map<string, Promise<string>>();

  constructor(private readonly dir: string) {}

  /** Where the blob lives once stored. */
  path(digest: string): string {
    return join(this.dir, 'sha256', digestHex(digest));
  }

  async has(digest: string): Promise<boolean> {
    try {
      return (await stat(this.path(digest))).isFile();
    } catch {
      return false;
    }
  }

  /** The blob's path, calling `open` for its bytes only when it is neither stored nor being stored. */
  ensure(digest: string, open: () => Promise<Readable>): Promise<string> {
    let pending = this.inFlight.get(digest);
    if (pending === undefined) {
      pending = (async () => {
        if (await this.has(digest)) return this.path(digest);
        const stored = await this.write(await open(), digest);
        return stored.path;
      })().finally(() => this.inFlight.delete(digest));
      this.inFlight.set(digest, pending);
    }
    return pending;
  }

  /** Stores bytes whose digest nobody told us (a `docker save` member), under the digest they hash to. */
  adopt(source: Readable): Promise<{ digest: string; path: string; size: number }> {
    return this.write(source, null);
  }

  /**
   * Hands `source` to `observer` as it hashes it, storing nothing, and rejects with DigestMismatch once it has
   * all unless it hashes to `expected`: for a layer that is kept unpacked rather than as its blob (image-store.ts).
   */
  async verify(expected: string, source: Readable, observer: BlobObserver): Promise<void> {
    const hash = createHash('sha256');
    for await (const chunk of source) {
      hash.update(chunk as Buffer);
      await observer.write(chunk as Buffer);
    }
    const digest = `sha256:${hash.digest('hex')}`;
    if (digest !== expected) throw new DigestMismatch(expected, digest);
  }

  /** Writes `source` to a temporary name, checks it against `expected` (when known), renames it into place. */
  private async write(source: Readable, expected: string | null): Promise<{ digest: string; path: string; size: number }> {
    await mkdir(join(this.dir, 'sha256'), { recursive: true });
    const partial = join(this.dir, 'sha256', `.partial-${process.pid}-${randomUUID()}`);
    const hash = createHash('sha256');
    let size = 0;
    const hashing = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        hash.update(chunk);
        size += chunk.length;
        callback(null, chunk);
      },
    });
    try {
      // A deep write buffer: at the 16 KiB default every socket chunk waited for its own thread-pool write.
      await pipeline(source, hashing, createWriteStream(partial, { mode: 0o644, highWaterMark: WRITE_BUFFER_BYTES }));
      const digest = `sha256:${hash.digest('hex')}`;
      if (expected !== null && digest !== expected) throw new DigestMismatch(expected, digest);
      const path = this.path(digest);
      await rename(partial, path);
      return { digest, path, size };
    } finally {
      await rm(partial, { force: true });
    }
  }
}
