/**
 * A package repository served by a real HTTP server on loopback, as a user serves one from their machine: a
 * Universe JSON index, the same packages as a zip of a Universe repository tree, and broken ones.
 */
import { createServer, type Server } from 'node:http';
import { strToU8, zipSync } from 'fflate';

/** An app that answers every request with its greeting and the port it listens on. */
export const GREETER_APP = "require('http').createServer((q, s) => s.end(process.env.GREETING + ' on ' + process.env.PORT)).listen(Number(process.env.PORT))";

export const HELLO_CONFIG = {
  $schema: 'http://json-schema.org/schema#',
  type: 'object',
  properties: {
    service: {
      type: 'object',
      properties: {
        name: { type: 'string', default: 'hello', pattern: '^[a-z][a-z0-9-]*$' },
        instances: { type: 'integer', default: 1, minimum: 0, maximum: 5 },
      },
    },
    greeting: { type: 'string', default: 'hello' },
  },
  required: ['greeting'],
};

/** A DesiredLRP template: the app above, its process guid, instances and greeting from the options. */
export function helloTemplate(node: string): string {
  return JSON.stringify({
    process_guid: '{{service.name}}',
    domain: 'packages',
    rootfs: 'preloaded:cflinuxfs2',
    instances: 999_999,
    memory_mb: 64,
    ports: [8080],
    env: [{ name: 'GREETING', value: '{{greeting}}' }],
    action: { run: { path: node, args: ['-e', GREETER_APP], user: 'vcap' } },
  }).replace('999999', '{{service.instances}}');
}

const MARATHON_APP = JSON.stringify({
  id: '/{{name}}',
  cmd: 'exec sleep 1000',
  instances: 2,
  cpus: 0.5,
  mem: 96,
  disk: 10,
  container: { type: 'DOCKER', docker: { image: 'library/busybox:1.36', network: 'BRIDGE', portMappings: [{ containerPort: 80, hostPort: 0 }] } },
  env: { MODE: '{{mode}}' },
  labels: { team: 'web' },
  healthChecks: [{ protocol: 'HTTP', path: '/health', portIndex: 0 }],
  upgradeStrategy: { minimumHealthCapacity: 1 },
});

const CONSTRAINED_APP = JSON.stringify({ id: '/pinned', cmd: 'sleep 1000', constraints: [['hostname', 'UNIQUE']] });

const base64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');

/** The packages of the JSON index (Universe v4 form). */
export function universeIndex(node: string): { packages: Record<string, unknown>[] } {
  const hello = (version: string, releaseVersion: number): Record<string, unknown> => ({
    packagingVersion: '4.0',
    name: 'hello',
    version,
    releaseVersion,
    maintainer: 'test@example.com',
    description: 'Says hello over HTTP',
    tags: ['greeting', 'web'],
    postInstallNotes: 'hello is starting',
    config: HELLO_CONFIG,
    diego: { desiredLrpMustacheTemplate: base64(helloTemplate(node)) },
  });
  return {
    packages: [
      hello('1.0.0', 0),
      hello('2.0.0', 1),
      {
        packagingVersion: '3.0',
        name: 'marathon-web',
        version: '0.1',
        releaseVersion: 0,
        description: 'A Marathon app',
        tags: ['marathon'],
        config: { type: 'object', properties: { name: { type: 'string', default: 'marathon-web' }, mode: { type: 'string', default: 'prod' } } },
        marathon: { v2AppMustacheTemplate: base64(MARATHON_APP) },
      },
      {
        packagingVersion: '3.0',
        name: 'pinned',
        version: '1',
        releaseVersion: 0,
        description: 'A Marathon app with constraints',
        marathon: { v2AppMustacheTemplate: base64(CONSTRAINED_APP) },
      },
    ],
  };
}

/** The zip of a Universe repository tree (inside a top directory, as a GitHub archive has it). */
export function universeZip(node: string): Uint8Array {
  const dir = 'universe-main/repo/packages/Z/zipped-hello/0/';
  return zipSync({
    'universe-main/repo/meta/index.json': strToU8('{"packages":[]}'),
    [`${dir}package.json`]: strToU8(JSON.stringify({ packagingVersion: '3.0', name: 'zipped-hello', version: '3.1', description: 'hello, from a zip', tags: ['zip'] })),
    [`${dir}config.json`]: strToU8(JSON.stringify({ ...HELLO_CONFIG, properties: { ...HELLO_CONFIG.properties, service: { type: 'object', properties: { name: { type: 'string', default: 'zipped' }, instances: { type: 'integer', default: 1 } } } } })),
    [`${dir}desired_lrp.json.mustache`]: strToU8(helloTemplate(node)),
  });
}

export interface RepositoryServer {
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** While true, every path answers 503 (an unreachable repository). */
  down: boolean;
  requests: number;
  close(): Promise<void>;
}

export async function startRepositoryServer(node = process.execPath): Promise<RepositoryServer> {
  const bodies: Record<string, { type: string; body: string | Uint8Array }> = {
    '/repo.json': { type: 'application/vnd.dcos.universe.repo+json;charset=utf-8;version=v4', body: JSON.stringify(universeIndex(node)) },
    '/universe.zip': { type: 'application/zip', body: universeZip(node) },
    '/corrupt.json': { type: 'application/json', body: '{"packages": [' },
    '/not-an-index.json': { type: 'application/json', body: '{"packages": [{"name": "x"}]}' },
  };
  const state = { down: false, requests: 0 };
  const server: Server = createServer((req, res) => {
    state.requests += 1;
    const found = bodies[new URL(req.url ?? '/', 'http://repository').pathname];
    if (state.down) res.writeHead(503).end('down');
    else if (found === undefined) res.writeHead(404).end('not found');
    else res.writeHead(200, { 'Content-Type': found.type }).end(found.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    get down() {
      return state.down;
    },
    set down(value: boolean) {
      state.down = value;
    },
    get requests() {
      return state.requests;
    },
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
