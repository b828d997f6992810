/**
 * The download and upload actions' transfers: fetching an archive (http, https or file URL), caching it by
 * cache_key, extracting it (.tgz, .tar or .zip, told apart by their first bytes as Diego's extractor does),
 * and POSTing a container file to a URL.
 */
import { spawn } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { copyFile, mkdir, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Puts the archive at `from` in a local file: from the cache when `cacheKey` names one there, else fetched
 * (and then kept in the cache under that key). Returns the file and whether it is a temporary one.
 */
export async function fetchArchive(
  from: string,
  cacheKey: string,
  cacheDir: string,
  signal: AbortSignal,
): Promise<{ file: string; temporary: boolean; cached: boolean }> {
  await mkdir(cacheDir, { recursive: true });
  const cacheFile = cacheKey === '' ? null : join(cacheDir, createHash('sha256').update(cacheKey).digest('hex'));
  if (cacheFile !== null && (await exists(cacheFile))) return { file: cacheFile, temporary: false, cached: true };
  const partial = join(cacheDir, `partial-${randomUUID()}`);
  try {
    const url = new URL(from);
    if (url.protocol === 'file:') {
      await copyFile(fileURLToPath(url), partial);
    } else if (url.protocol === 'http:' || url.protocol === 'https:') {
      const response = await fetch(url, { signal });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      await writeFile(partial, Buffer.from(await response.arrayBuffer()));
    } else {
      throw new Error(`unsupported URL scheme ${url.protocol}`);
    }
    if (cacheFile === null) return { file: partial, temporary: true, cached: false };
    await rename(partial, cacheFile);
    return { file: cacheFile, temporary: false, cached: false };
  } catch (err) {
    await rm(partial, { force: true });
    throw err;
  }
}

/** Extracts a .tgz, .tar or .zip archive into `into` (created if missing). */
export async function extractArchive(file: string, into: string, signal: AbortSignal): Promise<void> {
  await mkdir(into, { recursive: true });
  const magic = Buffer.alloc(4);
  const handle = await open(file, 'r');
  try {
    await handle.read(magic, 0, 4, 0);
  } finally {
    await handle.close();
  }
  if (magic[0] === 0x50 && magic[1] === 0x4b) await runTool('unzip', ['-o', '-q', file, '-d', into], signal);
  else if (magic[0] === 0x1f && magic[1] === 0x8b) await runTool('tar', ['-xzf', file, '-C', into], signal);
  else await runTool('tar', ['-xf', file, '-C', into], signal);
}

/** POSTs the file to `to`; anything but a 2xx answer is a failure. */
export async function uploadFile(file: string, to: string, signal: AbortSignal): Promise<void> {
  const { size } = await stat(file);
  const body = size === 0 ? Buffer.alloc(0) : await readFile(file);
  const response = await fetch(to, { method: 'POST', body, signal, headers: { 'Content-Length': `${size}` } });
  await response.arrayBuffer();
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

function runTool(command: string, args: string[], signal: AbortSignal): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'], signal });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code === 0) resolvePromise();
      else reject(new Error(`${command} exited with status ${code ?? 'killed'}: ${stderr.trim()}`));
    });
  });
}
