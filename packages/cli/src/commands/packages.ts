/**
 * `diego packages` (the package service, Cosmos's API) and `diego package ...`, its client: repositories
 * (`repo add|list|remove`) and packages (`search|describe|install|list|uninstall`). The client prints each answer as
 * one JSON value per line, as the operator commands do; errors go to stderr as Cosmos's `type: message`, exit 1.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { repositoryListOf } from '@diego/bbs-client';
import { isJsonObject } from '@diego/models';
import { startPackageService, type PackageRepository, type PackageServiceConfig } from '@diego/package-service';
import { runCommand, serveUntilStopped, type CliIo, type Command } from '../command';
import { UsageError, type FlagDef } from '../flags';
import { addressFlag, boolFlag, durationFlag, logLevelFlag, optional, stringFlag, urlFlag, urlListFlag } from '../flag-types';
import { bbsFrontFlags, checkBasicAuth, compileBbsFront } from './shared-flags';

/**
 * `name=uri,name=uri`, or `@file` holding a JSON array of `{"name","uri"}` (Cosmos's default-repositories.json);
 * empty: none.
 */
function defaultRepositoriesFlag(): FlagDef<PackageRepository[]> {
  return {
    usage: 'the repository list written on the first start, when none exists: name=uri,... or @file.json ([{"name","uri"}])',
    valueName: 'list',
    defaultText: '',
    parse: (written) => {
      const text = written[written.length - 1] ?? '';
      if (text === '') return [];
      if (text.startsWith('@')) {
        const repositories = repositoryListOf(JSON.parse(readFileSync(text.slice(1), 'utf8')));
        if (repositories === null) throw new Error(`${text.slice(1)} is not a JSON array of {"name", "uri"}`);
        return repositories;
      }
      return text.split(',').map((pair) => {
        const eq = pair.indexOf('=');
        if (eq <= 0 || eq === pair.length - 1) throw new Error(`expected name=uri, got "${pair}"`);
        return { name: pair.slice(0, eq), uri: pair.slice(eq + 1) };
      });
    },
  };
}

export const packagesFlags = {
  address: addressFlag('where the package service listens (Cosmos\'s port)', '0.0.0.0:7070'),
  ...bbsFrontFlags("basic auth user name, as the receptor's (its auth cookie works too); on when set"),
  dataDir: stringFlag("where each repository's index is kept (<dataDir>/repositories)", '.diego/packages', 'dir'),
  defaultRepositories: defaultRepositoriesFlag(),
  refreshInterval: durationFlag("how often every repository's index is fetched again; 0s: only on demand", '5m'),
  fetchTimeout: durationFlag("how long fetching one repository's index may take", '30s'),
  dashboardOrigins: optional(urlListFlag(
    "the origins whose pages may call with credentials (CORS), comma-separated: the receptor's dashboard as it is opened, e.g. http://127.0.0.1:8887; none when empty",
    '',
  )),
  logLevel: logLevelFlag(),
};

export const packagesCommand: Command<typeof packagesFlags, PackageServiceConfig> = {
  name: 'packages',
  summary: "the package service: DC/OS Cosmos's package repositories and installs, through the BBS",
  description:
    "Runs the package service (Cosmos's /package/... API) until SIGINT or SIGTERM. The repository list lives in\n" +
    "the BBS (etcd /v1/package_repositories); each repository's index is kept under <dataDir>/repositories.",
  flags: packagesFlags,
  compile: (values) => {
    return {
      ...compileBbsFront(values),
      address: values.address,
      dataDir: resolve(values.dataDir),
      defaultRepositories: values.defaultRepositories,
      refreshIntervalMs: values.refreshInterval,
      fetchTimeoutMs: values.fetchTimeout,
      dashboardOrigins: values.dashboardOrigins ?? [],
    };
  },
  run: (config, io, notes) => serveUntilStopped('packages', config.logLevel, () => startPackageService(config), io, notes),
};

// ---- the client: `diego package ...` ----

const clientFlags = {
  packagesURL: { ...urlFlag('the package service', 'http://127.0.0.1:7070'), envVar: 'PACKAGES_URL' },
  username: { ...stringFlag('basic auth user name', '', 'name'), envVar: 'PACKAGES_USERNAME' },
  password: { ...stringFlag('basic auth password (prefer the environment variable: flags show in ps)', '', 'password'), envVar: 'PACKAGES_PASSWORD' },
};

/** Where the client commands find the package service, as their usage says it. */
export const PACKAGE_SERVICE_URL_HELP = `--packagesURL or ${clientFlags.packagesURL.envVar}, default ${clientFlags.packagesURL.defaultText}`;

/** One Cosmos request and which member of its answer is printed: an array element per line, or the whole answer. */
interface PackageCall {
  url: string;
  authorization: string | null;
  path: string;
  body: Record<string, unknown>;
  print: string | null;
}

type ClientValues = { packagesURL: string; username: string; password: string };

function packageCall(values: ClientValues, path: string, body: Record<string, unknown>, print: string | null): PackageCall {
  checkBasicAuth(values.username, values.password);
  return {
    url: values.packagesURL.replace(/\/+$/, ''),
    authorization: values.username === '' ? null : `Basic ${Buffer.from(`${values.username}:${values.password}`).toString('base64')}`,
    path,
    body,
    print,
  };
}

async function performPackageCall(command: string, call: PackageCall, io: CliIo): Promise<number> {
  let status: number;
  let answer: unknown;
  try {
    const response = await fetch(`${call.url}${call.path}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json', ...(call.authorization === null ? {} : { Authorization: call.authorization }) },
      body: JSON.stringify(call.body),
    });
    status = response.status;
    const text = await response.text();
    try {
      answer = JSON.parse(text);
    } catch {
      answer = text;
    }
  } catch (error) {
    const reason = error instanceof Error && error.cause instanceof Error ? error.cause.message : String(error);
    io.stderr.write(`diego ${command}: cannot reach the package service at ${call.url}: ${reason}\n`);
    return 1;
  }
  const fields: Record<string, unknown> | null = isJsonObject(answer) ? { ...answer } : null;
  if (status !== 200) {
    const described = fields !== null && typeof fields.type === 'string' && typeof fields.message === 'string'
      ? `${fields.type}: ${fields.message}` : `HTTP ${status}: ${String(answer).trim()}`;
    io.stderr.write(`diego ${command}: ${described}\n`);
    return 1;
  }
  const printed = call.print === null || fields === null ? answer : fields[call.print];
  const values = call.print !== null && Array.isArray(printed) ? printed : [printed];
  io.stdout.write(values.map((value) => `${JSON.stringify(value)}\n`).join(''));
  return 0;
}

function clientCommand<F extends typeof clientFlags>(command: Omit<Command<F, PackageCall>, 'run'>): Command<F, PackageCall> {
  return { ...command, run: (call, io) => performPackageCall(command.name, call, io) };
}

function argumentsOf(args: readonly string[], names: readonly string[], optionalCount = 0): string[] {
  if (args.length < names.length - optionalCount || args.length > names.length || args.some((arg) => arg === '')) {
    throw new UsageError(`expected ${names.join(' ')}, got ${args.length === 0 ? 'none' : args.map((a) => `"${a}"`).join(' ')}`);
  }
  return [...args];
}

/** Install options written inline (`'{"greeting":"hi"}'`) or read from a file (`@options.json`). */
function optionsArgument(written: string): Record<string, unknown> {
  let text = written;
  if (written.startsWith('@')) {
    try {
      text = readFileSync(written.slice(1), 'utf8');
    } catch (error) {
      throw new UsageError(`cannot read ${written.slice(1)}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`--options is not JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (!isJsonObject(parsed)) throw new UsageError('--options must be a JSON object');
  return { ...parsed };
}

const ONE_PER_LINE = 'Prints one JSON object per line.';

const repoAdd = clientCommand({
  name: 'package repo add',
  summary: 'add a package repository (fetched and checked first)',
  description: `Adds a repository (POST /package/repository/add), at --index (0 first) or at the end. ${ONE_PER_LINE}`,
  argumentsUsage: 'NAME URI',
  flags: { ...clientFlags, index: stringFlag('where in the list (0 first); the end when not given', '', 'n') },
  compile: (values, args) => {
    const [name, uri] = argumentsOf(args, ['NAME', 'URI']);
    if (values.index !== '' && !/^\d+$/.test(values.index)) throw new UsageError('--index must be a whole number, 0 or more');
    return packageCall(values, '/package/repository/add', { name, uri, ...(values.index === '' ? {} : { index: Number(values.index) }) }, 'repositories');
  },
});

const repoList = clientCommand({
  name: 'package repo list',
  summary: 'list the package repositories, in order, with the state of each copy',
  description: `Lists the repositories (POST /package/repository/list). ${ONE_PER_LINE}`,
  flags: clientFlags,
  compile: (values, args) => {
    argumentsOf(args, []);
    return packageCall(values, '/package/repository/list', {}, 'repositories');
  },
});

const repoRemove = clientCommand({
  name: 'package repo remove',
  summary: 'remove a package repository by name or by URI',
  description: `Removes the repository named NAME, or whose URI is NAME when it has :// (POST /package/repository/delete). ${ONE_PER_LINE}`,
  argumentsUsage: 'NAME|URI',
  flags: clientFlags,
  compile: (values, args) => {
    const [which = ''] = argumentsOf(args, ['NAME|URI']);
    return packageCall(values, '/package/repository/delete', which.includes('://') ? { uri: which } : { name: which }, 'repositories');
  },
});

const search = clientCommand({
  name: 'package search',
  summary: 'search the repositories by text (* matches anything)',
  description: `Searches names, descriptions and tags (POST /package/search). ${ONE_PER_LINE}`,
  argumentsUsage: '[QUERY]',
  flags: clientFlags,
  compile: (values, args) => {
    const [query = ''] = argumentsOf(args, ['QUERY'], 1);
    return packageCall(values, '/package/search', { query }, 'packages');
  },
});

const describe = clientCommand({
  name: 'package describe',
  summary: 'show a package release (the newest unless --packageVersion)',
  description: 'Prints the release (POST /package/describe) on one line.',
  argumentsUsage: 'NAME',
  flags: { ...clientFlags, packageVersion: stringFlag('the version; the newest when not given', '', 'version') },
  compile: (values, args) => {
    const [packageName] = argumentsOf(args, ['NAME']);
    return packageCall(values, '/package/describe', { packageName, ...(values.packageVersion === '' ? {} : { packageVersion: values.packageVersion }) }, null);
  },
});

const install = clientCommand({
  name: 'package install',
  summary: 'install a package: its app desired through the BBS',
  description: 'Installs a package (POST /package/install) with --options (JSON, or @file) over its defaults; prints the answer on one line.',
  argumentsUsage: 'NAME',
  flags: {
    ...clientFlags,
    packageVersion: stringFlag('the version; the newest when not given', '', 'version'),
    options: stringFlag('the install options: JSON, or @file.json', '', 'json'),
    appId: stringFlag("the app's id (its process guid); the package's own when not given", '', 'id'),
  },
  compile: (values, args) => {
    const [packageName] = argumentsOf(args, ['NAME']);
    return packageCall(values, '/package/install', {
      packageName,
      ...(values.packageVersion === '' ? {} : { packageVersion: values.packageVersion }),
      ...(values.options === '' ? {} : { options: optionsArgument(values.options) }),
      ...(values.appId === '' ? {} : { appId: values.appId }),
    }, null);
  },
});

const list = clientCommand({
  name: 'package list',
  summary: 'list the installed packages',
  description: `Lists the installs (POST /package/list), of one package when NAME is given. ${ONE_PER_LINE}`,
  argumentsUsage: '[NAME]',
  flags: clientFlags,
  compile: (values, args) => {
    const [packageName] = argumentsOf(args, ['NAME'], 1);
    return packageCall(values, '/package/list', packageName === undefined ? {} : { packageName }, 'packages');
  },
});

const uninstall = clientCommand({
  name: 'package uninstall',
  summary: "uninstall a package: its app's DesiredLRP removed",
  description: `Uninstalls (POST /package/uninstall) the one install of NAME, the one of --appId, or all with --all. ${ONE_PER_LINE}`,
  argumentsUsage: 'NAME',
  flags: { ...clientFlags, appId: stringFlag('the install to remove', '', 'id'), all: boolFlag('remove every install of the package') },
  compile: (values, args) => {
    const [packageName] = argumentsOf(args, ['NAME']);
    return packageCall(values, '/package/uninstall', { packageName, ...(values.appId === '' ? {} : { appId: values.appId }), ...(values.all ? { all: true } : {}) }, 'results');
  },
});

/** `diego package <words>`: the client commands by their words after `package`. */
const CLIENT_COMMANDS = [repoAdd, repoList, repoRemove, search, describe, install, list, uninstall];

function packageUsage(): string {
  const width = Math.max(...CLIENT_COMMANDS.map((command) => command.name.length));
  return [
    'Usage: diego package <command> [flags] [arguments]',
    '',
    `The package service's client (${PACKAGE_SERVICE_URL_HELP}):`,
    ...CLIENT_COMMANDS.map((command) => `  ${command.name.padEnd(width)}  ${command.summary}`),
    '',
    "Run 'diego package <command> --help' for its flags.",
    '',
  ].join('\n');
}

/** Dispatches `diego package repo add ...` and the rest; usage (exit 2) for words it does not know. */
export async function runPackageCommand(args: readonly string[], io: CliIo): Promise<number> {
  const [first = '', second = ''] = args;
  const words = first === 'repo' ? `package repo ${second}` : `package ${first}`;
  const command = CLIENT_COMMANDS.find((candidate) => candidate.name === words);
  if (command === undefined) {
    const help = first === '' || first === '--help' || first === '-help' || first === '-h';
    (help ? io.stdout : io.stderr).write(help ? packageUsage() : `diego package: unknown command "${args.join(' ')}"\n\n${packageUsage()}`);
    return help ? 0 : 2;
  }
  return runCommand(command, args.slice(first === 'repo' ? 2 : 1), io);
}

export const PACKAGE_CLIENT_SUMMARY = 'the package service\'s client: repo add|list|remove, search, describe, install, list, uninstall';
