// Two projects: `unit` (pure logic, next to the code) and `integration` (real etcd, real servers, real
// processes). One etcd is started for the whole run by the global setup; each test file works in its own
// key prefix (see @diego/test-support).
const swc = ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } }];
const shared = {
  transform: { '^.+\\.ts$': swc },
  moduleNameMapper: {
    '^@diego/routes$': '<rootDir>/routes.ts',
    '^@diego/([a-z-]+)$': '<rootDir>/packages/$1/src',
  },
  testEnvironment: 'node',
};

/** @type {import('jest').Config} */
module.exports = {
  globalSetup: '<rootDir>/packages/test-support/jest/global-setup.js',
  globalTeardown: '<rootDir>/packages/test-support/jest/global-teardown.js',
  testTimeout: 30000,
  projects: [
    { ...shared, displayName: 'unit', testMatch: ['<rootDir>/packages/*/src/**/*.test.ts', '<rootDir>/test/unit/**/*.test.ts', '<rootDir>/bench/src/**/*.test.ts'] },
    { ...shared, displayName: 'integration', testMatch: ['<rootDir>/packages/*/test/**/*.int.test.ts', '<rootDir>/test/**/*.int.test.ts', '<rootDir>/bench/test/**/*.int.test.ts'], slowTestThreshold: 30 },
  ],
};
