/**
 * Applying a layer to an image's root the way Docker's chroot-ed unpacker does, with GNU tar doing the
 * extraction. GNU tar follows a symlink that is already on disk, so a layer extracted straight into the root
 * could write through a lower layer's `etc -> /etc` onto the host. Instead each layer is extracted into an
 * empty staging directory (where tar's own delayed-symlink handling keeps the layer's entries inside), then
 * merged into the root here, resolving every path inside the root as a chroot would. Whiteouts
 * (`.wh.<name>`, `.wh..wh..opq`) are applied during that merge, before the layer's own entries.
 */
import { spawn } from 'node:child_process';
import { open, chmod, lchown, lstat, lutimes, mkdir, readdir, readlink, rename, rm } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { join, posix } from 'node:path';

const WHITEOUT_PREFIX = '.wh.';
const OPAQUE_MARKER = '.wh..wh..opq';
const MAX_SYMLINK_HOPS = 40;
const RUNNING_AS_ROOT = process.getuid?.() === 0;

/**
 * Applies the layer tarball `blob` (plain, gzip or zstd) on top of `root`, using `staging` (which must not
 * exist, on the same file system as `root`) as scratch space; removes `staging` afterwards.
 * Hard links to files of lower layers are not supported (Docker-built layers do not carry them).
 */
export async function applyLayer(root: string, blob: string, staging: string, signal?: AbortSignal): Promise<void> {
  await mkdir(staging, { recursive: false });
  try {
    const compression = await compressionFlag(blob);
    const listing = await runTar(
      ['-x', ...compression, '-f', blob, '-C', staging, '--numeric-owner', '-p', '--xattrs', '--xattrs-include=*', '-v', '--quoting-style=escape'],
      signal,
    );
    const explicitDirs = new Set(
      listing
        .split('\n')
        .filter((line) => line.endsWith('/'))
        .map((line) => normalizeMember(unescapeTarName(line))),
    );
    await mergeDir({ root, explicitDirs }, staging, '', root);
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
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

/** Merges staging directory `from` (the layer's `rel`) into `into`, a real directory inside the root. */
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
      // Anything but a directory over a directory replaces what the lower layers had there.
      if (targetStats !== null) await rm(target, { recursive: true, force: true });
      await rename(source, target);
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

/** tar's flag for the blob's compression, told by its first bytes (media types are not always right). */
async function compressionFlag(blob: string): Promise<string[]> {
  const magic = Buffer.alloc(4);
  const handle = await open(blob, 'r');
  try {
    await handle.read(magic, 0, 4, 0);
  } finally {
    await handle.close();
  }
  if (magic[0] === 0x1f && magic[1] === 0x8b) return ['-z'];
  if (magic.equals(Buffer.from([0x28, 0xb5, 0x2f, 0xfd]))) return ['--zstd'];
  return [];
}

async function lstatOrNull(path: string): Promise<Stats | null> {
  try {
    return await lstat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/** Runs GNU tar (C locale, for a stable listing) and resolves with its stdout; artifacts.ts's runner drops stdout. */
export function runTar(args: string[], signal?: AbortSignal): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('tar', args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LC_ALL: 'C' }, signal });
    const stdout: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => {
      if (code === 0) resolve(Buffer.concat(stdout).toString('utf8'));
      else reject(new Error(`tar exited with status ${code ?? 'killed'}: ${stderr.trim()}`));
    });
  });
}
