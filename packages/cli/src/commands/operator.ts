/**
 * The operator commands (`diego desired-lrps`, `diego set-domain`, `diego events`, ...): cfdot's role, through the
 * receptor. Each compiles its flags and arguments into one receptor call; the answer is printed as one JSON value
 * per line, errors go to stderr as the receptor's `name: message` with exit code 1 (2 for a usage mistake).
 */
import { readFileSync } from 'node:fs';
import { parseJson } from '@diego/models';
import type { Command } from '../command';
import { parseEndpointUrl } from '../address';
import { parseGoDuration } from '../duration';
import { UsageError, type FlagDef, type FlagSet } from '../flags';
import { stringFlag } from '../flag-types';
import { followEvents, performCall, type CallOutput, type ReceptorCall, type ReceptorTarget } from '../receptor-calls';
import { checkBasicAuth } from './shared-flags';

/** A receptor URL as written, `user:password@` taken out of it (fetch refuses URLs with credentials). */
export interface ReceptorUrl {
  url: string;
  username: string;
  password: string;
}

function receptorUrlFlag(): FlagDef<ReceptorUrl> {
  return {
    usage: 'the receptor; basic auth credentials may be given in it (http://user:password@host:port)',
    valueName: 'url',
    defaultText: 'http://127.0.0.1:8887',
    envVar: 'RECEPTOR_URL',
    isSecret: true,
    parse: (written) => {
      const text = written[written.length - 1] ?? '';
      let parsed: URL;
      try {
        parsed = new URL(text);
      } catch {
        throw new Error('not a URL (e.g. http://127.0.0.1:8887)');
      }
      const username = decodeURIComponent(parsed.username);
      const password = decodeURIComponent(parsed.password);
      parsed.username = '';
      parsed.password = '';
      // parseEndpointUrl names the URL in its errors: give it the one without the credentials.
      return { url: parseEndpointUrl(parsed.href), username, password };
    },
  };
}

/** How every operator command reaches the receptor. */
export const connectionFlags = {
  receptorURL: receptorUrlFlag(),
  username: { ...stringFlag("basic auth user name (wins over the URL's)", '', 'name'), envVar: 'RECEPTOR_USERNAME' },
  password: {
    ...stringFlag("basic auth password (wins over the URL's; prefer the environment variable: flags show in ps)", '', 'password'),
    envVar: 'RECEPTOR_PASSWORD',
  },
};

interface ConnectionValues {
  receptorURL: ReceptorUrl;
  username: string;
  password: string;
}

/** The receptor to call, with the flags' (or the variables') credentials over the URL's. */
export function receptorTarget(values: ConnectionValues): ReceptorTarget {
  const username = values.username === '' ? values.receptorURL.username : values.username;
  const password = values.password === '' ? values.receptorURL.password : values.password;
  checkBasicAuth(username, password);
  return {
    url: values.receptorURL.url,
    authorization: username === '' ? null : `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`,
  };
}

const domainFlag = { ...stringFlag('only this domain', '', 'domain'), shortName: 'd' };

/** `?domain=<domain>`, or nothing for every domain. */
function domainQuery(domain: string): string {
  return domain === '' ? '' : `?domain=${encodeURIComponent(domain)}`;
}

/** A freshness TTL in whole seconds, written as a Go duration (`2m`) or as seconds (`120`); null when not given. */
function ttlFlag(): FlagDef<number | null> {
  return {
    usage: 'how long the domain stays fresh, a Go duration (2m) or seconds (120); forever when not given',
    valueName: 'ttl',
    defaultText: '',
    shortName: 't',
    parse: (written) => {
      const text = written[written.length - 1] ?? '';
      if (text === '') return null;
      if (/^\d+$/.test(text)) return Number(text);
      const milliseconds = parseGoDuration(text);
      if (milliseconds < 0 || milliseconds % 1000 !== 0) throw new Error('the TTL is a whole number of seconds, at least 0');
      return milliseconds / 1000;
    },
  };
}

function describeArguments(args: readonly string[]): string {
  return args.length === 0 ? 'none' : args.map((arg) => `"${arg}"`).join(' ');
}

function oneArgument(args: readonly string[], name: string): string {
  const [only] = args;
  if (args.length !== 1 || only === undefined || only === '') throw new UsageError(`expected ${name}, got ${describeArguments(args)}`);
  return only;
}

function twoArguments(args: readonly string[], firstName: string, secondName: string): [string, string] {
  const [first, second] = args;
  if (args.length !== 2 || first === undefined || second === undefined || first === '' || second === '') {
    throw new UsageError(`expected ${firstName} ${secondName}, got ${describeArguments(args)}`);
  }
  return [first, second];
}

/** A request body written inline (`'{"process_guid":...}'`) or read from a file (`@lrp.json`); checked to be JSON. */
function jsonArgument(written: string): string {
  let text = written;
  let source = 'the argument';
  if (written.startsWith('@')) {
    source = written.slice(1);
    try {
      text = readFileSync(source, 'utf8');
    } catch (error) {
      throw new UsageError(`cannot read ${source}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  try {
    parseJson(text);
  } catch (error) {
    throw new UsageError(`${source} is not JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  return text;
}

function call(
  values: ConnectionValues,
  method: ReceptorCall['method'],
  path: string,
  output: CallOutput,
  { body = null, headers = {} }: { body?: string | null; headers?: Record<string, string> } = {},
): ReceptorCall {
  return { target: receptorTarget(values), method, path, headers, body, output };
}

const ELEMENTS: CallOutput = { kind: 'elements', onlyCellId: null };
const VALUE: CallOutput = { kind: 'value' };
const NOTHING: CallOutput = { kind: 'nothing' };

/** An operator command: its description, flags and how they become one receptor call; the call is made the same way for all. */
function operatorCommand<F extends FlagSet>(command: Omit<Command<F, ReceptorCall>, 'run'>): Command<F, ReceptorCall> {
  return { ...command, run: (compiled, io) => performCall(command.name, compiled, io) };
}

const ONE_PER_LINE = 'Prints one JSON object per line, as the receptor wrote it.';

export const desiredLrpsCommand = operatorCommand({
  name: 'desired-lrps',
  summary: 'list the DesiredLRPs',
  description: `Lists the DesiredLRPs (GET /v1/desired_lrps), of one domain with -d. ${ONE_PER_LINE}`,
  flags: { ...connectionFlags, domain: domainFlag },
  compile: (values) => call(values, 'GET', `/v1/desired_lrps${domainQuery(values.domain)}`, ELEMENTS),
});

export const desiredLrpCommand = operatorCommand({
  name: 'desired-lrp',
  summary: 'show one DesiredLRP',
  description: 'Prints the DesiredLRP with this process guid (GET /v1/desired_lrps/GUID) on one line.',
  argumentsUsage: 'GUID',
  flags: connectionFlags,
  compile: (values, args) => call(values, 'GET', `/v1/desired_lrps/${encodeURIComponent(oneArgument(args, 'GUID'))}`, VALUE),
});

export const actualLrpsCommand = operatorCommand({
  name: 'actual-lrps',
  summary: 'list the ActualLRPs (instances)',
  description:
    `Lists the ActualLRPs (GET /v1/actual_lrps), of one domain with -d, on one cell with -c. ${ONE_PER_LINE}`,
  flags: { ...connectionFlags, domain: domainFlag, cell: { ...stringFlag('only the instances on this cell (its cell_id)', '', 'id'), shortName: 'c' } },
  compile: (values) => ({
    ...call(values, 'GET', `/v1/actual_lrps${domainQuery(values.domain)}`, ELEMENTS),
    output: { kind: 'elements', onlyCellId: values.cell === '' ? null : values.cell },
  }),
});

export const tasksCommand = operatorCommand({
  name: 'tasks',
  summary: 'list the Tasks',
  description: `Lists the Tasks (GET /v1/tasks), of one domain with -d. ${ONE_PER_LINE}`,
  flags: { ...connectionFlags, domain: domainFlag },
  compile: (values) => call(values, 'GET', `/v1/tasks${domainQuery(values.domain)}`, ELEMENTS),
});

export const taskCommand = operatorCommand({
  name: 'task',
  summary: 'show one Task',
  description: 'Prints the Task with this guid (GET /v1/tasks/GUID) on one line.',
  argumentsUsage: 'GUID',
  flags: connectionFlags,
  compile: (values, args) => call(values, 'GET', `/v1/tasks/${encodeURIComponent(oneArgument(args, 'GUID'))}`, VALUE),
});

export const cellsCommand = operatorCommand({
  name: 'cells',
  summary: 'list the cells that are present',
  description: `Lists the cells registered with the BBS (GET /v1/cells). ${ONE_PER_LINE}`,
  flags: connectionFlags,
  compile: (values) => call(values, 'GET', '/v1/cells', ELEMENTS),
});

export const domainsCommand = operatorCommand({
  name: 'domains',
  summary: 'list the fresh domains',
  description: 'Lists the fresh domains (GET /v1/domains), one JSON string per line.',
  flags: connectionFlags,
  compile: (values) => call(values, 'GET', '/v1/domains', ELEMENTS),
});

export const setDomainCommand = operatorCommand({
  name: 'set-domain',
  summary: 'mark a domain fresh',
  description:
    'Marks a domain fresh (PUT /v1/domains/DOMAIN) for -t (sent as Cache-Control: max-age=N), or forever.\n' +
    'While a domain is fresh, convergence also stops the instances nobody desires any more.',
  argumentsUsage: 'DOMAIN',
  flags: { ...connectionFlags, ttl: ttlFlag() },
  compile: (values, args) =>
    call(values, 'PUT', `/v1/domains/${encodeURIComponent(oneArgument(args, 'DOMAIN'))}`, NOTHING, {
      headers: values.ttl === null ? {} : { 'cache-control': `max-age=${values.ttl}` },
    }),
});

export const createDesiredLrpCommand = operatorCommand({
  name: 'create-desired-lrp',
  summary: 'desire an LRP',
  description: 'Posts a DesiredLRPCreateRequest (POST /v1/desired_lrps), written inline or as @file.',
  argumentsUsage: '(JSON|@file)',
  flags: connectionFlags,
  compile: (values, args) => call(values, 'POST', '/v1/desired_lrps', NOTHING, { body: jsonArgument(oneArgument(args, 'JSON or @file')) }),
});

export const updateDesiredLrpCommand = operatorCommand({
  name: 'update-desired-lrp',
  summary: 'change a DesiredLRP (instances, routes, annotation)',
  description: 'Sends a DesiredLRPUpdateRequest (PUT /v1/desired_lrps/GUID), written inline or as @file.',
  argumentsUsage: 'GUID (JSON|@file)',
  flags: connectionFlags,
  compile: (values, args) => {
    const [guid, body] = twoArguments(args, 'GUID', 'JSON or @file');
    return call(values, 'PUT', `/v1/desired_lrps/${encodeURIComponent(guid)}`, NOTHING, { body: jsonArgument(body) });
  },
});

export const deleteDesiredLrpCommand = operatorCommand({
  name: 'delete-desired-lrp',
  summary: 'stop desiring an LRP (its instances are stopped)',
  description: 'Deletes the DesiredLRP with this process guid (DELETE /v1/desired_lrps/GUID).',
  argumentsUsage: 'GUID',
  flags: connectionFlags,
  compile: (values, args) => call(values, 'DELETE', `/v1/desired_lrps/${encodeURIComponent(oneArgument(args, 'GUID'))}`, NOTHING),
});

export const createTaskCommand = operatorCommand({
  name: 'create-task',
  summary: 'create a Task',
  description: 'Posts a TaskCreateRequest (POST /v1/tasks), written inline or as @file.',
  argumentsUsage: '(JSON|@file)',
  flags: connectionFlags,
  compile: (values, args) => call(values, 'POST', '/v1/tasks', NOTHING, { body: jsonArgument(oneArgument(args, 'JSON or @file')) }),
});

export const cancelTaskCommand = operatorCommand({
  name: 'cancel-task',
  summary: 'cancel a Task',
  description: 'Cancels the Task with this guid (POST /v1/tasks/GUID/cancel): it completes as failed.',
  argumentsUsage: 'GUID',
  flags: connectionFlags,
  compile: (values, args) => call(values, 'POST', `/v1/tasks/${encodeURIComponent(oneArgument(args, 'GUID'))}/cancel`, NOTHING),
});

export const deleteTaskCommand = operatorCommand({
  name: 'delete-task',
  summary: 'delete a completed Task',
  description: 'Deletes (resolves) the completed Task with this guid (DELETE /v1/tasks/GUID).',
  argumentsUsage: 'GUID',
  flags: connectionFlags,
  compile: (values, args) => call(values, 'DELETE', `/v1/tasks/${encodeURIComponent(oneArgument(args, 'GUID'))}`, NOTHING),
});

export const retireActualLrpCommand = operatorCommand({
  name: 'retire-actual-lrp',
  summary: 'stop one instance (it is started again while desired)',
  description: 'Kills the instance INDEX of the LRP GUID (DELETE /v1/actual_lrps/GUID/index/INDEX).',
  argumentsUsage: 'GUID INDEX',
  flags: connectionFlags,
  compile: (values, args) => {
    const [guid, index] = twoArguments(args, 'GUID', 'INDEX');
    if (!/^\d+$/.test(index)) throw new UsageError(`INDEX must be a whole number (0, 1, ...), got "${index}"`);
    return call(values, 'DELETE', `/v1/actual_lrps/${encodeURIComponent(guid)}/index/${index}`, NOTHING);
  },
});

export interface EventsConfig {
  target: ReceptorTarget;
  lastEventId: string | null;
}

const eventsFlags = {
  ...connectionFlags,
  lastEventID: stringFlag('resume after this event id (<revision>.<place> from an event, or a revision, e.g. the X-Diego-Revision of a list)', '', 'id'),
};

export const eventsCommand: Command<typeof eventsFlags, EventsConfig> = {
  name: 'events',
  summary: 'follow the event stream',
  description:
    'Follows /v1/events until Ctrl-C, printing each event on one line as {"type":...,"id":...,"data":{...}}.\n' +
    'With --lastEventID, starts after that event (no gap, no repeat).',
  flags: eventsFlags,
  compile: (values) => {
    if (values.lastEventID !== '' && !/^\d+(?:\.\d+)?$/.test(values.lastEventID)) {
      throw new UsageError('-lastEventID is an event id (<revision>.<place>) or an etcd revision (digits)');
    }
    return { target: receptorTarget(values), lastEventId: values.lastEventID === '' ? null : values.lastEventID };
  },
  run: (config, io) => followEvents('events', config.target, config.lastEventId, io),
};
