import { spawn } from 'node:child_process';
import { join } from 'node:path';

// The generated code is committed (reviewable as type diffs, usable without a build); this keeps it from
// drifting away from proto/. The fix when it fails: `npm run gen`, then commit packages/models/gen.
describe('the generated proto code in packages/models/gen', () => {
  it('is what proto/ generates today', async () => {
    const child = spawn(process.execPath, [join(__dirname, '..', 'scripts', 'gen.mjs'), '--check'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    const exitCode = await new Promise<number | null>((resolve) => child.once('close', resolve));
    expect({ exitCode, output }).toEqual({ exitCode: 0, output: 'generated code is up to date\n' });
  });
});
