#!/usr/bin/env node
// The `diego` executable (bin/diego.js loads it; `node packages/cli/dist/main.js` runs it directly).
import { runCli } from './cli';

runCli(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env }).then(
  // Exit explicitly: a command is over when it says so, whatever handles a library left open.
  (exitCode) => process.exit(exitCode),
  (error: unknown) => {
    process.stderr.write(`diego: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
