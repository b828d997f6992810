#!/usr/bin/env node
// npm links a package's bin when it installs it, before anything is built, and skips a target that does not
// exist yet; this file is there from the clone on, so `npx diego` works as soon as `npm run build` has run.
try {
  require.resolve('../dist/main.js');
} catch {
  process.stderr.write('diego is not built yet: run `npm run build` at the repository root\n');
  process.exit(1);
}
require('../dist/main.js');
