/**
 * A Marathon app definition (Universe's `marathon.json.mustache`, rendered) as a DesiredLRP in the receptor's JSON:
 * what has an equivalent is translated, and the first field that has none is refused with its reason, so that a
 * package never runs differently from what its definition asks.
 */
import { isJsonObject } from '@diego/models';
import { CosmosError } from './errors';

type Json = Record<string, unknown>;

/** The domain every translated app is desired in. */
export const MARATHON_DOMAIN = 'packages';
/** Without a Docker image the app runs on the cell's own root filesystem, as a buildpack app's droplet would. */
const DEFAULT_ROOTFS = 'preloaded:cflinuxfs2';
/** Marathon's defaults. */
const DEFAULT_MEMORY_MB = 128;
/** Ports written as 0 ("any") get container ports from here, one after another. */
const FIRST_ANY_PORT = 8080;

/** Scheduling hints Marathon alone acts on: with no meaning for a DesiredLRP, they change nothing when left out. */
const IGNORED_FIELDS = new Set([
  'labels', 'upgradeStrategy', 'backoffSeconds', 'backoffFactor', 'maxLaunchDelaySeconds', 'requirePorts',
  'killSelection', 'unreachableStrategy', 'taskKillGracePeriodSeconds', 'version', 'versionInfo', 'role',
]);
const TRANSLATED_FIELDS = new Set(['id', 'cmd', 'args', 'user', 'instances', 'cpus', 'mem', 'disk', 'container', 'ports', 'portDefinitions', 'env', 'healthChecks']);
/** Fields that only matter when they ask for something: empty (or Marathon's default) they are left out. */
const ONLY_WHEN_EMPTY: Readonly<Record<string, string>> = {
  constraints: 'placement constraints have no DesiredLRP equivalent (cells are chosen by the auctioneer alone)',
  dependencies: 'dependencies between apps have no DesiredLRP equivalent',
  secrets: 'secrets have no DesiredLRP equivalent',
  fetch: 'artifacts to fetch have no DesiredLRP equivalent here',
  uris: 'artifacts to fetch have no DesiredLRP equivalent here',
  storeUrls: 'store URLs have no DesiredLRP equivalent',
  readinessChecks: 'readiness checks have no DesiredLRP equivalent',
  networks: 'container networks have no DesiredLRP equivalent',
  executor: 'custom executors have no DesiredLRP equivalent',
  residency: 'resident (stateful) apps have no DesiredLRP equivalent',
  ipAddress: 'an IP address per task has no DesiredLRP equivalent',
  containers: 'pods (several containers) have no DesiredLRP equivalent: a DesiredLRP runs one',
};

function refused(reason: string, field: string): CosmosError {
  return new CosmosError('MarathonAppNotTranslatable', `The package's Marathon app cannot run as a DesiredLRP: ${field}: ${reason}`, 400, { field, reason });
}


function isEmpty(value: unknown): boolean {
  if (value === undefined || value === null || value === '' || value === false || value === 0) return true;
  if (Array.isArray(value)) return value.length === 0 || (value.length === 1 && value[0] === '*');
  return isJsonObject(value) && Object.keys(value).length === 0;
}

function numberField(app: Json, field: string, fallback: number): number {
  const value = app[field];
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw refused('must be a number, 0 or more', field);
  return value;
}

/** A Marathon app id (`/group/app`) as a process guid (`group-app`). */
function processGuidOf(id: unknown): string {
  if (typeof id !== 'string' || id.replace(/\//g, '') === '') throw refused('an app id is needed', 'id');
  return id.replace(/^\/+|\/+$/g, '').replace(/\//g, '-');
}

interface Container {
  rootfs: string;
  portMappings: number[];
}

function container(app: Json): Container {
  const value = app.container;
  if (value === undefined || value === null) return { rootfs: DEFAULT_ROOTFS, portMappings: [] };
  if (!isJsonObject(value)) throw refused('must be an object', 'container');
  for (const field of Object.keys(value)) {
    if (field === 'volumes' && !isEmpty(value.volumes)) throw refused('volumes have no DesiredLRP equivalent', 'container.volumes');
    if (!['type', 'docker', 'volumes'].includes(field) && !isEmpty(value[field])) throw refused('has no DesiredLRP equivalent', `container.${field}`);
  }
  if (value.type !== undefined && value.type !== 'DOCKER' && value.type !== 'MESOS') throw refused('only DOCKER and MESOS containers run', 'container.type');
  const docker = value.docker;
  if (docker === undefined || docker === null) return { rootfs: DEFAULT_ROOTFS, portMappings: [] };
  if (!isJsonObject(docker) || typeof docker.image !== 'string' || docker.image === '') throw refused('an image is needed', 'container.docker.image');
  for (const field of Object.keys(docker)) {
    if (field === 'privileged' && docker.privileged === true) throw refused('privileged containers are not run', 'container.docker.privileged');
    if (field === 'parameters' && !isEmpty(docker.parameters)) throw refused('docker run parameters have no DesiredLRP equivalent', 'container.docker.parameters');
    if (field === 'network' && docker.network !== 'BRIDGE' && docker.network !== 'HOST') throw refused('only BRIDGE and HOST networks', 'container.docker.network');
  }
  const mappings = docker.portMappings;
  if (mappings !== undefined && mappings !== null && !Array.isArray(mappings)) throw refused('must be an array', 'container.docker.portMappings');
  const portMappings = (mappings ?? []).map((mapping: unknown, i: number) => {
    const port = isJsonObject(mapping) ? mapping.containerPort : undefined;
    if (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65535) throw refused('a containerPort is needed', `container.docker.portMappings[${i}]`);
    return port;
  });
  return { rootfs: `docker:///${docker.image}`, portMappings };
}

function ports(app: Json, mapped: number[]): number[] {
  let written: unknown[] = mapped;
  if (mapped.length === 0 && Array.isArray(app.portDefinitions)) written = app.portDefinitions.map((definition: unknown) => (isJsonObject(definition) ? definition.port : undefined));
  else if (mapped.length === 0 && Array.isArray(app.ports)) written = app.ports;
  let next = FIRST_ANY_PORT;
  return written.map((port, i) => {
    if (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65535) throw refused('ports are numbers from 0 to 65535', `ports[${i}]`);
    if (port !== 0) return port;
    next += 1;
    return next - 1;
  });
}

function environment(app: Json): { name: string; value: string }[] {
  const env = app.env;
  if (env === undefined || env === null) return [];
  if (!isJsonObject(env)) throw refused('must be an object of strings', 'env');
  return Object.entries(env).map(([name, value]) => {
    if (typeof value !== 'string') throw refused('only plain string values (secrets have no DesiredLRP equivalent)', `env.${name}`);
    return { name, value };
  });
}

/** The run action: `cmd` through the shell, or `args` as the command line. */
function action(app: Json, user: string): Json {
  if (typeof app.cmd === 'string' && app.cmd !== '') {
    if (!isEmpty(app.args)) throw refused('cmd and args together', 'args');
    return { run: { path: '/bin/sh', args: ['-c', app.cmd], user } };
  }
  const args = app.args;
  if (Array.isArray(args) && args.length > 0 && args.every((arg) => typeof arg === 'string')) {
    const [path, ...rest] = args;
    return { run: { path, args: rest, user } };
  }
  throw refused("a command is needed (the image's own entrypoint is not run)", 'cmd');
}

/** One health check as the monitor, which the cell runs inside the instance: healthy while it exits 0. */
function monitor(app: Json, user: string): Json | null {
  const checks = app.healthChecks;
  if (checks === undefined || checks === null || (Array.isArray(checks) && checks.length === 0)) return null;
  if (!Array.isArray(checks) || checks.length > 1) throw refused('a DesiredLRP has one monitor: one health check at most', 'healthChecks');
  const check: unknown = checks[0];
  if (!isJsonObject(check)) throw refused('must be an object', 'healthChecks[0]');
  const protocol = typeof check.protocol === 'string' ? check.protocol : 'HTTP';
  const shell = (script: string): Json => ({ run: { path: '/bin/sh', args: ['-c', script], user } });
  if (protocol === 'COMMAND' || protocol === 'MESOS_COMMAND') {
    const command = isJsonObject(check.command) ? check.command.value : undefined;
    if (typeof command !== 'string' || command === '') throw refused('a command value is needed', 'healthChecks[0].command');
    return shell(command);
  }
  if ((check.portIndex ?? 0) !== 0 || check.port !== undefined) throw refused('only the first port ($PORT) is checked', 'healthChecks[0].portIndex');
  if (protocol === 'TCP' || protocol === 'MESOS_TCP') return shell('nc -z 127.0.0.1 "$PORT"');
  if (protocol === 'HTTP' || protocol === 'MESOS_HTTP') {
    const path = typeof check.path === 'string' && check.path.startsWith('/') ? check.path : '/';
    if (!/^[A-Za-z0-9/._~%-]*$/.test(path)) throw refused('the path has characters a shell would read', 'healthChecks[0].path');
    const url = `http://127.0.0.1:$PORT${path}`;
    return shell(`wget -q -O /dev/null "${url}" 2>/dev/null || curl -fsS -o /dev/null "${url}"`);
  }
  throw refused(`the ${protocol} protocol has no DesiredLRP equivalent`, 'healthChecks[0].protocol');
}

/** The DesiredLRP (receptor JSON, as POST /v1/desired_lrps takes it) a rendered Marathon app stands for. */
export function desiredLrpFromMarathonApp(app: unknown): Json {
  if (!isJsonObject(app)) throw refused('the rendered template is not a JSON object', '/');
  for (const [field, value] of Object.entries(app)) {
    if (TRANSLATED_FIELDS.has(field) || IGNORED_FIELDS.has(field)) continue;
    const reason = ONLY_WHEN_EMPTY[field];
    if (reason !== undefined && isEmpty(value)) continue;
    if (field === 'gpus' && isEmpty(value)) continue;
    if (field === 'acceptedResourceRoles' && isEmpty(value)) continue;
    throw refused(reason ?? 'has no DesiredLRP equivalent', field);
  }
  const user = typeof app.user === 'string' && app.user !== '' ? app.user : 'vcap';
  const { rootfs, portMappings } = container(app);
  const instances = numberField(app, 'instances', 1);
  if (!Number.isInteger(instances)) throw refused('must be a whole number', 'instances');
  const lrpMonitor = monitor(app, user);
  return {
    process_guid: processGuidOf(app.id),
    domain: MARATHON_DOMAIN,
    rootfs,
    instances,
    // Marathon's cpus are shares of a core; a DesiredLRP's cpu_weight is a relative weight of 1 to 100.
    cpu_weight: Math.max(1, Math.min(100, Math.round(numberField(app, 'cpus', 1) * 100))),
    memory_mb: Math.round(numberField(app, 'mem', DEFAULT_MEMORY_MB)),
    disk_mb: Math.round(numberField(app, 'disk', 0)),
    ports: ports(app, portMappings),
    env: environment(app),
    action: action(app, user),
    ...(lrpMonitor === null ? {} : { monitor: lrpMonitor }),
  };
}
