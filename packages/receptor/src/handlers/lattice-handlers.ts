/**
 * Lattice's routes (spec/receptor-api.md §3.19–3.20, Oct 2015): `ltc` binaries from -artifactPath, and the release
 * versions of the installation from -versionFilesPath, which the 2015 Go client's `GetVersion` reads.
 */
import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { packageVersion } from '@diego/server-support';
import { sendEmpty, sendJson } from '../responses';
import type { Handlers } from './handler';

export type LatticeHandlers = Pick<Handlers, 'Download' | 'GetVersion'>;

export interface LatticePaths {
  /** Where /v1/sync/:arch/:artifact serves files from; null: nothing to serve. */
  artifactPath: string | null;
  /** Where /v1/version reads version files from; null: none. */
  versionFilesPath: string | null;
}

/** Each VersionResponse key and the file it is read from (the cf release has had two file names). */
const VERSION_FILES: ReadonlyArray<readonly [key: string, files: readonly string[]]> = [
  ['cf_release', ['CF_RELEASE', 'CF_LATTICE_RELEASE']],
  ['cf_routing_release', ['CF_ROUTING_RELEASE']],
  ['diego_release', ['DIEGO_RELEASE']],
  ['garden_linux_release', ['GARDEN_LINUX_RELEASE']],
  ['lattice_release', ['LATTICE_RELEASE']],
  ['lattice_release_image', ['LATTICE_RELEASE_IMAGE']],
  ['ltc', ['LTC']],
  ['receptor', ['RECEPTOR']],
];

/** A version file's text without its line ending; null when it cannot be read. */
async function versionFile(dir: string | null, name: string): Promise<string | null> {
  if (dir === null) return null;
  try {
    return (await readFile(join(dir, name), 'utf8')).replace(/[\r\n]+$/, '');
  } catch {
    return null;
  }
}

/**
 * The versions the files give, each key omitted when its file is missing or empty (Go's `omitempty`, so a client
 * reads ""), except `receptor`: `ownVersion` when no RECEPTOR file names another.
 */
async function versions(dir: string | null, ownVersion: string): Promise<Record<string, string>> {
  const found: Record<string, string> = {};
  for (const [key, files] of VERSION_FILES) {
    for (const file of files) {
      const text = await versionFile(dir, file);
      if (text !== null && text !== '') {
        found[key] = text;
        break;
      }
    }
  }
  found['receptor'] ??= ownVersion;
  return found;
}

/** A path segment that names a file inside its directory: not `.` or `..`, whose basename would leave it. */
function fileName(segment: string): string | null {
  const name = basename(segment);
  return name === '.' || name === '..' || name === '' ? null : name;
}

export function latticeHandlers({ artifactPath, versionFilesPath }: LatticePaths): LatticeHandlers {
  // Read once: it cannot change while the receptor runs.
  const ownVersion = packageVersion(join(__dirname, '..'));
  return {
    async Download({ res, param }) {
      const arch = fileName(param('arch'));
      const artifact = fileName(param('artifact'));
      if (artifactPath === null || arch === null || artifact === null) {
        sendEmpty(res, 404);
        return;
      }
      // http.ServeContent's answer: the bytes as an octet stream, Range requests honoured, no Last-Modified.
      await new Promise<void>((resolve) => {
        res.sendFile(
          join(artifactPath, arch, artifact),
          { dotfiles: 'allow', lastModified: false, etag: false, headers: { 'Content-Type': 'application/octet-stream' } },
          (err: (Error & { code?: string }) | undefined) => {
            if (err !== undefined && !res.headersSent) sendEmpty(res, err.code === 'ENOENT' || err.code === 'ENOTDIR' || err.code === 'EISDIR' ? 404 : 500);
            resolve();
          },
        );
      });
    },

    async GetVersion({ res }) {
      sendJson(res, 200, JSON.stringify(await versions(versionFilesPath, ownVersion)));
    },
  };
}
