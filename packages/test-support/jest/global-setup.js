// Jest global setup: starts one etcd for the whole run and publishes its endpoint in DIEGO_TEST_ETCD, which the
// workers inherit. Jest loads this file through the project's transform, which also compiles the TypeScript it
// requires, so the etcd runner has one implementation (src/etcd.ts). An etcd already given in DIEGO_TEST_ETCD is
// used as is.
const { execFileSync } = require('node:child_process');

function etcdOnPath() {
  try {
    execFileSync('etcd', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

module.exports = async function globalSetup() {
  if (process.env.DIEGO_TEST_ETCD) return;
  if (!etcdOnPath()) {
    throw new Error(
      'The tests need a real etcd, and `etcd` is not on PATH. Run `npm test` at the repository root, ' +
        'which installs it (Debian package etcd-server), or set DIEGO_TEST_ETCD to a running etcd.',
    );
  }
  const { startEtcd } = require('../src/etcd.ts');
  const etcd = await startEtcd();
  process.env.DIEGO_TEST_ETCD = etcd.endpoint;
  globalThis.__DIEGO_TEST_ETCD__ = etcd;
};
