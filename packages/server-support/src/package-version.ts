/** The version of one of our packages, from its package.json. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The `version` of the package.json one directory above `moduleDir`: a module's own `__dirname`, which is the
 * package's src/ under jest and dist/ once built.
 *
 * @example
 *   packageVersion(__dirname) // '0.1.0'
 */
export function packageVersion(moduleDir: string): string {
  const file = join(moduleDir, '..', 'package.json');
  const manifest: unknown = JSON.parse(readFileSync(file, 'utf8'));
  if (typeof manifest === 'object' && manifest !== null && 'version' in manifest && typeof manifest.version === 'string') {
    return manifest.version;
  }
  throw new Error(`${file} has no version`);
}
