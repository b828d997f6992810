// The structural lint (issue 17): no import cycles, and no import that runs against the layers
//   models <- store (bbs db/) <- server and leader loops <- processes (cli)
// with the clients (BBS client, rep API) on models and routes alone. Style is left to the reviewers.
// import-x/no-cycle skips type-only imports: `npm run lint` runs madge after ESLint for those.
import tseslint from 'typescript-eslint';
import importX from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';

const bbs = 'packages/bbs/src';
/** Everything in the BBS above its store: the HTTP server, the event sources and the leader's loops. */
const aboveTheStore = [
  `${bbs}/server`, `${bbs}/events`, `${bbs}/converger`, `${bbs}/auctioneer`, `${bbs}/controllers`,
  `${bbs}/task-callbacks`, `${bbs}/leader`, `${bbs}/metrics.ts`, `${bbs}/index.ts`,
];
const processes = ['packages/receptor/src', 'packages/cell/src', 'packages/package-service/src', 'packages/cli/src'];

const layers = [
  {
    target: 'packages/models/src/**/!(*.test).ts',
    from: 'packages/!(models)/**',
    message: 'models import nothing of ours.',
  },
  {
    target: 'packages/models/src/**/!(*.test).ts',
    from: 'routes.ts',
    message: 'models import nothing of ours.',
  },
  {
    target: 'routes.ts',
    from: 'packages/!(models)/**',
    message: 'the route table is pure data over the models.',
  },
  {
    target: `${bbs}/db`,
    from: aboveTheStore,
    message: 'the store (db/) is below the server and the leader loops: pass what it needs down, or move it down.',
  },
  {
    target: `${bbs}/events`,
    from: `${bbs}/server`,
    message: 'events are produced below the HTTP server that streams them.',
  },
  {
    target: `${bbs}/metrics.ts`,
    from: aboveTheStore.filter((path) => !path.endsWith('metrics.ts')),
    message: 'metrics own their report types; the loops report to them.',
  },
  {
    target: ['packages/bbs-client/src', 'packages/rep-api/src'],
    from: ['packages/!(models|bbs-client|rep-api|tls)/**'],
    message: 'a client depends on the models, the route table and TLS files only.',
  },
  {
    target: processes.filter((path) => !path.startsWith('packages/cli')),
    from: 'packages/bbs/**',
    message: 'the receptor, the cell and the package service reach the BBS through @diego/bbs-client only.',
  },
  {
    target: 'packages/cli/src',
    from: 'packages/bbs/src',
    except: ['./index.ts'],
    message: 'the CLI starts the BBS through its index, never its internals.',
  },
  {
    target: 'packages/!(cli)/src/**',
    from: 'packages/cli/**',
    message: 'nothing imports the CLI: it is the top.',
  },
];

export default tseslint.config(
  {
    ignores: [
      '**/node_modules/**', '**/dist/**', 'packages/models/gen/**', 'packages/receptor/dashboard/static/**',
      'bench/results/**', 'coverage/**', '.diego/**', 'jest.config.js', 'packages/test-support/jest/**',
    ],
  },
  {
    files: ['**/*.ts'],
    languageOptions: { parser: tseslint.parser, ecmaVersion: 2022, sourceType: 'module' },
    plugins: { 'import-x': importX },
    settings: {
      // no-cycle reads the modules imported: it must know .ts files and how to parse them.
      'import-x/extensions': ['.ts'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: 'tsconfig.test.json' })],
    },
    rules: {
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      'import-x/no-self-import': 'error',
      'import-x/no-restricted-paths': ['error', { zones: layers }],
      'no-restricted-imports': ['error', {
        patterns: [{ group: ['@diego/*/*'], message: 'import a package by its name: its index says what it offers.' }],
      }],
    },
  },
);
