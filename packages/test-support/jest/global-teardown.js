// Jest global teardown: stops the etcd the global setup started (same process, same globalThis).
module.exports = async function globalTeardown() {
  const etcd = globalThis.__DIEGO_TEST_ETCD__;
  if (etcd === undefined) return;
  delete globalThis.__DIEGO_TEST_ETCD__;
  delete process.env.DIEGO_TEST_ETCD;
  await etcd.stop();
};
