// `diego receptor` as a process component: startReceptor listens, logs, serves through a real BBS, and stops.
import { startReceptor } from '../src';
import type { ReceptorConfig } from '../src/config';
import { CapturedLogs, startReceptorUnderTest, type ReceptorUnderTest } from './support/receptor-under-test';

let receptor: ReceptorUnderTest;

beforeAll(async () => {
  receptor = await startReceptorUnderTest();
});

afterAll(async () => {
  await receptor?.stop();
});

function config(overrides: Partial<ReceptorConfig> = {}): ReceptorConfig {
  return {
    address: '127.0.0.1:0',
    bbsAddress: [receptor.bbsUrl],
    username: '',
    password: '',
    corsEnabled: false,
    logLevel: 'info',
    debugAddress: null,
    ...overrides,
  };
}

describe('startReceptor', () => {
  it('listens on a free port for port 0, logs receptor-started with the address, and serves the API', async () => {
    const logs = new CapturedLogs();
    const server = await startReceptor(config(), { logger: logs.logger });
    try {
      expect(server.address).toMatch(/^127\.0\.0\.1:[1-9]\d*$/);
      expect(logs.entries()).toContainEqual(expect.objectContaining({ msg: 'receptor-started', address: server.address }));
      const res = await fetch(`http://${server.address}/v1/domains`);
      expect([res.status, res.headers.get('content-type'), await res.text()]).toEqual([200, 'application/json', '[]']);
    } finally {
      await server.stop();
    }
  });

  it('stops listening on stop(), which may be called again', async () => {
    const logs = new CapturedLogs();
    const server = await startReceptor(config(), { logger: logs.logger });
    await server.stop();
    await server.stop();
    await expect(fetch(`http://${server.address}/v1/domains`)).rejects.toThrow();
    expect(logs.entries().filter((entry) => entry.msg === 'receptor-stopped')).toHaveLength(1);
  });

  it('turns basic auth on with a username and CORS on with corsEnabled, and never logs the password', async () => {
    const logs = new CapturedLogs();
    const password = 'the-secret-password';
    const server = await startReceptor(config({ username: 'admin', password, corsEnabled: true }), { logger: logs.logger });
    try {
      const refused = await fetch(`http://${server.address}/v1/domains`, { headers: { Origin: 'http://ui.example.com' } });
      expect([refused.status, refused.headers.get('access-control-allow-origin')]).toEqual([401, 'http://ui.example.com']);
      const authorization = `Basic ${Buffer.from(`admin:${password}`).toString('base64')}`;
      expect((await fetch(`http://${server.address}/v1/domains`, { headers: { Authorization: authorization } })).status).toBe(200);
    } finally {
      await server.stop();
    }
    expect(logs.lines.join('\n')).not.toContain(password);
  });

  it('rejects when its address is taken', async () => {
    const first = await startReceptor(config(), { logger: new CapturedLogs().logger });
    try {
      await expect(startReceptor(config({ address: first.address }), { logger: new CapturedLogs().logger })).rejects.toThrow(
        /EADDRINUSE/,
      );
    } finally {
      await first.stop();
    }
  });
});
