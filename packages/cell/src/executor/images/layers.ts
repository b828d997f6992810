/**
 * Applying a layer to an image's root the way Docker's chroot-ed unpacker does, with GNU tar doing the
 * extraction. GNU tar follows a symlink that is already on disk, so a layer extracted straight into the root
 * could write through a lower layer's `etc -> /etc` onto the host. Instead each layer is extracted into an
 * empty directory of its own (where tar's own delayed-symlink handling keeps the layer's entries inside), then
 * merged into the root here, resolving every path inside the root as a chroot would. Whiteouts
 * (`.wh.<name>`, `.wh..wh..opq`) are applied during that merge, before the layer's own entries. The merge
 * hard-links the layer's files into the root and leaves the layer's directory as it was, so that it can stay the
 * store's copy of that layer for other images. Extraction can run for every layer at once, and while a layer
 * downloads (StreamingLayerExtraction); only the merges must follow the image's order.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { open, chmod, lchown, link, lstat, lutimes, mkdir, readdir, readlink, rm } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { join, posix } from 'node:path';
import type { Writable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { BlobObserver } from './blob-store';

const WHITEOUT_PREFIX = '.wh.';
const OPAQUE_MARKER = '.wh..wh..opq';
const MAX_SYMLINK_HOPS = 40;
const RUNNING_AS_ROOT = process.getuid?.() === 0;

/** A layer extracted into a directory of its own, which merging into roots leaves unchanged. */
export interface ExtractedLayer {
  /** On the roots' file system (merges hard-link its files). */
  dir: string;
  /** Directories the layer has its own entry for (their attributes replace the lower layers'). */
  explicitDirs: Set<string>;
}

/**
 * Extracts the layer tarball `blob` (plain, gzip or zstd) into `staging`, which must not exist and must be on the
 * same file system as the root it will be merged into.
 */
export async function extractLayerFile(blob: string, staging: string): Promise<ExtractedLayer> {
  await mkdir(staging, { recursive: false });
  const listing = await spawnTar(extractArgs(staging, blob, await compressionFlag(blob)), 'ignore').listing;
  return { dir: staging, explicitDirs: explicitDirsOf(listing) };
}

/**
 * A layer extracted into `staging` while its bytes arrive (the blob store hands them over as it downloads and
 * hashes them), so that unpacking overlaps the download instead of following it. The bytes are handed on a MiB
 * at a time: zlib inflates each write in a thread-pool round trip, and the socket's 64 KiB reads made 1,024 of
 * them for 64 MiB, which cost a third more CPU than the copy that joins them. tar starts on the first MiB, whose
 * first bytes tell the compression. What it extracts is not trusted before the blob's digest has been verified:
 * the caller merges it only then, and otherwise calls abort() and removes the staging directory.
 */
export class StreamingLayerExtraction implements BlobObserver {
  /** Bytes not yet handed on: the first `filled` of `batch`. */
  private batch: Buffer | null = null;
  private filled = 0;
  /**
   * Batches zlib (or tar) is done with, to fill again: a fresh MiB for each made 64 MiB more garbage per 64 MiB
   * layer, on top of the socket's; reusing a few took about a tenth off a first pull on the busy machine.
   */
  private readonly spare: Buffer[] = [];
  private tar: TarProcess | null = null;
  /** Where the layer's bytes go: tar's stdin, or the gunzip in front of it. */
  private input: Writable | null = null;

  constructor(private readonly staging: string) {}

  async write(chunk: Buffer): Promise<void> {
    for (let copied = 0; copied < chunk.length; ) {
      this.batch ??= this.spare.pop() ?? Buffer.allocUnsafe(INPUT_BATCH_BYTES);
      const n = chunk.copy(this.batch, this.filled, copied);
      copied += n;
      this.filled += n;
      if (this.filled === INPUT_BATCH_BYTES) await this.flush();
    }
  }

  /** Once every byte was written and the blob verified: waits for tar and returns the layer. */
  async finish(): Promise<ExtractedLayer> {
    const tar = await this.flush();
    this.input?.end();
    return { dir: this.staging, explicitDirs: explicitDirsOf(await tar.listing) };
  }

  /** Stops tar and waits until it is gone, so that the staging directory can be removed. */
  async abort(): Promise<void> {
    if (this.tar === null) return;
    this.tar.child.kill('SIGKILL');
    await this.tar.listing.catch(() => undefined);
  }

  /** Hands the pending bytes on (starting tar with the first ones), waiting while tar is behind. */
  private async flush(): Promise<TarProcess> {
    const batch = this.batch;
    const bytes = batch === null ? Buffer.alloc(0) : batch.subarray(0, this.filled);
    this.batch = null;
    this.filled = 0;
    const tar = this.tar ?? (await this.start(bytes));
    const input = this.input;
    if (input === null || batch === null) return tar;
    // Called once zlib has inflated (or the pipe has taken) all of it: nothing reads the batch any more.
    input.write(bytes, () => this.spare.push(batch));
    // Waiting for 'drain' at the pipe's 16 KiB mark would step the download in lock with tar: let a few MiB queue.
    if (input.writableLength > MAX_QUEUED_BYTES) await Promise.race([once(input, 'drain'), tar.listing]);
    return tar;
  }

  private async start(head: Buffer): Promise<TarProcess> {
    await mkdir(this.staging, { recursive: false });
    const compression = compressionOf(head);
    // gzip is inflated here (zlib, off the main thread) rather than by tar's gzip(1), which takes about twice the CPU.
    const inflate = compression[0] === '-z';
    const tar = spawnTar(extractArgs(this.staging, '-', inflate ? [] : compression), 'pipe');
    const stdin = tar.child.stdin;
    // A tar that died says why through `listing`; its closed stdin must not throw on its own.
    stdin?.on('error', () => undefined);
    if (inflate && stdin !== null) {
      // zlib hands over one output chunk per thread-pool round trip: at its 16 KiB default, 4,096 of them for 64 MiB.
      const gunzip = createGunzip({ chunkSize: INFLATE_CHUNK_BYTES });
      // Bytes that are no gzip stop tar, whose `listing` then rejects.
      gunzip.on('error', () => tar.child.kill('SIGKILL'));
      gunzip.pipe(stdin);
      this.input = gunzip;
    } else {
      this.input = stdin;
    }
    this.tar = tar;
    return tar;
  }
}

/**
 * Merges an extracted layer into `root` (whiteouts first, every path resolved inside the root). Layers must be
 * merged in the image's order. Every file, symlink or device of the root is a hard link to the layer's, so
 * neither may be written to (the root is an overlay's read-only lower directory); directories are the root's own.
 * Hard links to files of lower layers are not supported (Docker-built layers do not carry them).
 */
export async function mergeLayer(root: string, layer: ExtractedLayer): Promise<void> {
  await mergeDir({ root, explicitDirs: layer.explicitDirs }, layer.dir, '', root);
}

/**
 * tar's arguments to extract `input` (`-` for stdin) into `staging`, listing each member (escaped) on stdout.
 * Records of 1 MiB rather than tar's 10 KiB halve its CPU (one read per MiB of a pipe). GNU tar still takes the
 * short last record of a layer written without tar's padding (Go's archive/tar), and still fails a truncated one.
 */
function extractArgs(staging: string, input: string, compression: string[]): string[] {
  return ['-x', ...compression, `--blocking-factor=${TAR_BLOCKING_FACTOR}`, '-f', input, '-C', staging, '--numeric-owner', '-p', '--xattrs', '--xattrs-include=*', '-v', '--quoting-style=escape'];
}

function explicitDirsOf(listing: string): Set<string> {
  return new Set(
    listing
      .split('\n')
      .filter((line) => line.endsWith('/'))
      .map((line) => normalizeMember(unescapeTarName(line))),
  );
}

/**
 * `rel` (a path inside the root, as a container would see it) resolved to a host path that stays inside
 * `root`: `..` stops at the root and symlinks, absolute or relative, are followed from the root, as in a chroot.
 */
export async function resolveInRoot(root: string, rel: string): Promise<string> {
  const pending = rel.split('/').filter((part) => part !== '' && part !== '.');
  let resolved: string[] = [];
  let hops = 0;
  while (pending.length > 0) {
    const part = pending.shift()!;
    if (part === '..') {
      resolved.pop();
      continue;
    }
    const candidate = join(root, ...resolved, part);
    const stats = await lstatOrNull(candidate);
    if (stats?.isSymbolicLink()) {
      if (++hops > MAX_SYMLINK_HOPS) throw new Error(`too many levels of symbolic links resolving /${rel}`);
      const target = await readlink(candidate);
      if (target.startsWith('/')) resolved = [];
      pending.unshift(...target.split('/').filter((p) => p !== '' && p !== '.'));
      continue;
    }
    resolved.push(part);
  }
  return join(root, ...resolved);
}

interface MergeContext {
  root: string;
  /** Directories the layer has its own entry for (their attributes replace the lower layers'). */
  explicitDirs: Set<string>;
}

/** Merges the layer's directory `from` (the layer's `rel`) into `into`, a real directory inside the root. */
async function mergeDir(context: MergeContext, from: string, rel: string, into: string): Promise<void> {
  const names = await readdir(from);
  if (names.includes(OPAQUE_MARKER)) {
    await Promise.all((await readdir(into)).map((lower) => rm(join(into, lower), { recursive: true, force: true })));
  }
  for (const name of names) {
    if (!name.startsWith(WHITEOUT_PREFIX) || name === OPAQUE_MARKER) continue;
    const hidden = name.slice(WHITEOUT_PREFIX.length);
    if (hidden !== '' && hidden !== '.' && hidden !== '..') await rm(join(into, hidden), { recursive: true, force: true });
  }
  for (const name of names) {
    if (name.startsWith(WHITEOUT_PREFIX)) continue;
    const source = join(from, name);
    const memberRel = rel === '' ? name : `${rel}/${name}`;
    const sourceStats = await lstat(source);
    const target = join(into, name);
    const targetStats = await lstatOrNull(target);
    if (!sourceStats.isDirectory()) {
      // Anything but a directory over a directory replaces what the lower layers had there. link(2) does not
      // follow a symlink, so the root gets the symlink itself.
      if (targetStats !== null) await rm(target, { recursive: true, force: true });
      await link(source, target);
    } else if (context.explicitDirs.has(memberRel)) {
      if (targetStats !== null && !targetStats.isDirectory()) await rm(target, { recursive: true, force: true });
      if (targetStats === null || !targetStats.isDirectory()) await mkdir(target);
      await mergeDir(context, source, memberRel, target);
      await copyAttributes(sourceStats, target);
    } else {
      // No entry of its own, only children: like Docker, write them where the lower layers' path leads.
      const real = targetStats?.isSymbolicLink() ? await resolveInRoot(context.root, posix.join(...pathInRoot(context.root, target))) : target;
      const realStats = await lstatOrNull(real);
      if (realStats !== null && !realStats.isDirectory()) await rm(real, { recursive: true, force: true });
      if (realStats === null || !realStats.isDirectory()) await mkdir(real, { recursive: true, mode: 0o755 });
      await mergeDir(context, source, memberRel, real);
    }
  }
}

async function copyAttributes(from: Stats, to: string): Promise<void> {
  if (RUNNING_AS_ROOT) await lchown(to, from.uid, from.gid); // before chmod: chown clears set-id bits
  await chmod(to, from.mode & 0o7777);
  await lutimes(to, from.atime, from.mtime);
}

function pathInRoot(root: string, hostPath: string): string[] {
  return hostPath.slice(root.length).split('/').filter((part) => part !== '');
}

/** A member name as tar printed it, made relative to the root without `./` or trailing `/`. */
function normalizeMember(name: string): string {
  const normalized = posix.normalize(`/${name}`).replace(/\/+$/, '');
  return normalized.replace(/^\/+/, '');
}

/** Undoes tar's `--quoting-style=escape` (C escapes, octal for bytes outside printable ASCII). */
export function unescapeTarName(quoted: string): string {
  const bytes: number[] = [];
  const simple: Record<string, number> = { n: 10, t: 9, r: 13, a: 7, b: 8, f: 12, v: 11, '\\': 92 };
  for (let i = 0; i < quoted.length; i++) {
    const char = quoted[i]!;
    if (char !== '\\' || i + 1 >= quoted.length) {
      bytes.push(...Buffer.from(char, 'utf8'));
      continue;
    }
    const next = quoted[i + 1]!;
    const octal = /^[0-7]{3}/.exec(quoted.slice(i + 1));
    if (octal !== null) {
      bytes.push(parseInt(octal[0], 8));
      i += 3;
    } else {
      bytes.push(simple[next] ?? next.charCodeAt(0));
      i += 1;
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/** How much of a downloading layer may wait in memory for tar before the download waits. */
const MAX_QUEUED_BYTES = 8 * 1024 * 1024;

/** The layer's bytes handed to zlib (or tar) at once. */
const INPUT_BATCH_BYTES = 1024 * 1024;

/** The inflated bytes zlib hands over at once (and writes to tar's pipe in one go). */
const INFLATE_CHUNK_BYTES = 1024 * 1024;

/** tar's record, in 512-byte blocks: 1 MiB, as much as INFLATE_CHUNK_BYTES writes at once. */
const TAR_BLOCKING_FACTOR = 2048;

/** Bytes enough to tell gzip and zstd from a plain tar. */
const MAGIC_BYTES = 4;

/** tar's flag for a blob's compression, told by its first bytes (media types are not always right). */
function compressionOf(magic: Buffer): string[] {
  if (magic[0] === 0x1f && magic[1] === 0x8b) return ['-z'];
  if (magic.subarray(0, MAGIC_BYTES).equals(Buffer.from([0x28, 0xb5, 0x2f, 0xfd]))) return ['--zstd'];
  return [];
}

async function compressionFlag(blob: string): Promise<string[]> {
  const magic = Buffer.alloc(MAGIC_BYTES);
  const handle = await open(blob, 'r');
  try {
    await handle.read(magic, 0, MAGIC_BYTES, 0);
  } finally {
    await handle.close();
  }
  return compressionOf(magic);
}

async function lstatOrNull(path: string): Promise<Stats | null> {
  try {
    return await lstat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

interface TarProcess {
  child: ChildProcess;
  /** tar's stdout once it exited with 0 (the member listing with -v); rejects with its stderr otherwise. */
  listing: Promise<string>;
}

/** Runs GNU tar (C locale, for a stable listing) and resolves with its stdout; artifacts.ts's runner drops stdout. */
export function runTar(args: string[], signal?: AbortSignal): Promise<string> {
  return spawnTar(args, 'ignore', signal).listing;
}

function spawnTar(args: string[], stdin: 'ignore' | 'pipe', signal?: AbortSignal): TarProcess {
  const child = spawn('tar', args, { stdio: [stdin, 'pipe', 'pipe'], env: { ...process.env, LC_ALL: 'C' }, signal });
  const stdout: Buffer[] = [];
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => stdout.push(chunk));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const listing = new Promise<string>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => {
      if (code === 0) resolve(Buffer.concat(stdout).toString('utf8'));
      else reject(new Error(`tar exited with status ${code ?? 'killed'}: ${stderr.trim()}`));
    });
  });
  // Awaited by whoever needs it (finish, abort, a write waiting for drain); never an unhandled rejection meanwhile.
  listing.catch(() => undefined);
  return { child, listing };
}
