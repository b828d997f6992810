/**
 * No Docker engine runs here, so docker-compose.yml is checked the way it can be: every diego service's
 * command line is one this CLI accepts, the services point at each other where they listen, and etcd's
 * image is pinned.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { parseCommandLine, type Command } from './command';
import { bbsCommand } from './commands/bbs';
import { cellCommand } from './commands/cell';
import { receptorCommand } from './commands/receptor';
import { envVarName, type FlagSet } from './flags';

const repositoryRoot = join(__dirname, '..', '..', '..');

type Yaml = Record<string, unknown>;

function isRecord(value: unknown): value is Yaml {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}

// Compose reads `<<:` merge keys (YAML 1.1), which the yaml package applies only when asked.
const compose: unknown = parse(readFileSync(join(repositoryRoot, 'docker-compose.yml'), 'utf8'), { merge: true });
const services = isRecord(compose) && isRecord(compose.services) ? compose.services : {};

function service(name: string): Yaml {
  const found = services[name];
  if (!isRecord(found)) throw new Error(`docker-compose.yml has no service "${name}"`);
  return found;
}

/** The service's command, checked to start with the subcommand, then parsed by the CLI's own parser. */
function commandLine<F extends FlagSet, C>(command: Command<F, C>): C {
  const args = service(command.name).command;
  if (!isStringArray(args)) throw new Error(`service ${command.name}: command is not a list of strings`);
  expect(args[0]).toBe(command.name);
  const config = parseCommandLine(command, args.slice(1), {});
  if (config === null) throw new Error(`service ${command.name}: the command asks for help`);
  return config;
}

describe('docker-compose.yml', () => {
  it('has the services etcd, bbs, receptor and cell', () => {
    expect(Object.keys(services).sort()).toEqual(['bbs', 'cell', 'etcd', 'receptor']);
  });

  it('pins the upstream etcd image to a version', () => {
    expect(service('etcd').image).toMatch(/^quay\.io\/coreos\/etcd:v\d+\.\d+\.\d+$/);
  });

  it('builds every diego service from the one Dockerfile, whose entrypoint is the CLI', () => {
    for (const name of ['bbs', 'receptor', 'cell']) expect(service(name).build).toBe('.');
    expect(readFileSync(join(repositoryRoot, 'Dockerfile'), 'utf8')).toMatch(/^ENTRYPOINT \["node", "packages\/cli\/dist\/main\.js"\]$/m);
  });

  it("gives each diego service a command line the CLI accepts, wired to where the others listen", () => {
    const etcdArgs = service('etcd').command;
    if (!isStringArray(etcdArgs)) throw new Error('service etcd: command is not a list of strings');
    const etcdClientUrl = etcdArgs.find((arg) => arg.startsWith('--advertise-client-urls='))?.split('=')[1];

    const bbs = commandLine(bbsCommand);
    const receptor = commandLine(receptorCommand);
    const cell = commandLine(cellCommand);

    expect(bbs.etcdCluster).toEqual([etcdClientUrl]);
    const bbsUrl = `http://bbs:${bbs.listenAddress.split(':')[1] ?? ''}`;
    expect(receptor.bbsAddress).toEqual([bbsUrl]);
    expect(cell.bbsAddress).toEqual([bbsUrl]);
    // The README promises the receptor at localhost:8887.
    expect(service('receptor').ports).toEqual([`8887:${receptor.address.split(':')[1] ?? ''}`]);
  });

  it('sets only environment variables the CLI reads', () => {
    for (const command of [bbsCommand, receptorCommand, cellCommand]) {
      const known = Object.keys(command.flags).map((flag) => envVarName(command.name, flag));
      const environment = service(command.name).environment;
      const names = isRecord(environment) ? Object.keys(environment) : [];
      expect(names.filter((name) => !known.includes(name))).toEqual([]);
    }
  });
});
