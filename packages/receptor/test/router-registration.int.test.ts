// `-registerWithRouter`: the receptor announces its route to the Cloud Foundry router over a real nats-server, and a
// subscriber standing in for gorouter records what arrives (router.greet, router.register, router.unregister).
import type { RunningServer } from '@diego/server-support';
import { eventually, freePorts, RecordingRouter, startNatsServer, type NatsServerProcess, type RouterRegistryMessage } from '@diego/test-support';
import { startReceptor } from '../src';
import type { ReceptorConfig, RouterRegistrationConfig } from '../src/config';
import { CapturedLogs, startReceptorUnderTest, type ReceptorUnderTest } from './support/receptor-under-test';

const DOMAINS = ['receptor.10.244.0.34.xip.io', 'receptor.example.com'];
/** Deadlines guard liveness only: a registration every second needs far less on an idle machine. */
const WAIT = { timeoutMs: 20_000, intervalMs: 50 };

function portOf(address: string): number {
  return Number(address.slice(address.lastIndexOf(':') + 1));
}

function messages(logs: CapturedLogs, msg: string): Record<string, unknown>[] {
  return logs.entries().filter((entry) => entry.msg === msg);
}

let bbs: ReceptorUnderTest;
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  bbs = await startReceptorUnderTest();
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

afterAll(async () => {
  await bbs?.stop();
});

async function natsServer(options: Parameters<typeof startNatsServer>[0] = {}): Promise<NatsServerProcess> {
  const nats = await startNatsServer(options);
  cleanups.push(() => nats.stop());
  return nats;
}

async function recordingRouter(nats: NatsServerProcess): Promise<RecordingRouter> {
  const router = await RecordingRouter.start(nats);
  cleanups.push(() => router.close());
  return router;
}

async function receptorRegisteringWith(registration: RouterRegistrationConfig, logs: CapturedLogs): Promise<RunningServer> {
  const config: ReceptorConfig = {
    address: '127.0.0.1:0',
    bbsAddress: [bbs.bbsUrl],
    username: '',
    password: '',
    corsEnabled: false,
    logLevel: 'debug',
    debugAddress: null,
    routerRegistration: registration,
  };
  const receptor = await startReceptor(config, { logger: logs.logger });
  cleanups.push(() => receptor.stop());
  return receptor;
}

async function expectServing(receptor: RunningServer): Promise<void> {
  const res = await fetch(`http://${receptor.address}/v1/domains`);
  expect(res.status).toBe(200);
}

describe('router registration over NATS', () => {
  it('greets the router, registers its host, port and routes at once and at the interval asked, and unregisters on stop', async () => {
    const nats = await natsServer();
    const router = await recordingRouter(nats);
    const logs = new CapturedLogs();
    const receptor = await receptorRegisteringWith(
      { natsAddresses: [nats.address], natsUsername: nats.username, natsPassword: nats.password, domainNames: DOMAINS },
      logs,
    );
    const expected: RouterRegistryMessage = { host: '127.0.0.1', port: portOf(receptor.address), uris: DOMAINS };

    await eventually(async () => router.greets, (greets) => greets >= 1, WAIT);
    // The first on connecting, then one a second as the greeting's answer asked (the default is 20 s).
    await eventually(async () => router.registers.length, (count) => count >= 3, WAIT);
    expect(new Set(router.registers.map((message) => JSON.stringify(message)))).toEqual(new Set([JSON.stringify(expected)]));
    await expectServing(receptor);

    await receptor.stop();
    await eventually(async () => router.unregisters, (unregisters) => unregisters.length >= 1, WAIT);
    expect(router.unregisters).toEqual([expected]);
    expect(messages(logs, 'router-registration-started')).toHaveLength(1);
    expect(messages(logs, 'nats-connected')).toHaveLength(1);
    expect(messages(logs, 'router-registered').length).toBeGreaterThanOrEqual(3);
    expect(messages(logs, 'router-unregistered')).toHaveLength(1);
    expect(logs.lines.join('\n')).not.toContain(nats.password);
  }, 60_000);

  it('logs and ignores a router.start it cannot read, and goes on registering', async () => {
    const nats = await natsServer();
    const router = await recordingRouter(nats);
    const logs = new CapturedLogs();
    const receptor = await receptorRegisteringWith(
      { natsAddresses: [nats.address], natsUsername: nats.username, natsPassword: nats.password, domainNames: DOMAINS },
      logs,
    );
    await eventually(async () => router.registers.length, (count) => count >= 1, WAIT);

    router.announceStart('{not json');
    router.announceStart(JSON.stringify({ minimumRegisterIntervalInSeconds: 'soon' }));
    await eventually(async () => messages(logs, 'router-greeting-invalid'), (invalid) => invalid.length >= 2, WAIT);
    const before = router.registers.length;
    await eventually(async () => router.registers.length, (count) => count >= before + 2, WAIT);
    await expectServing(receptor);
  }, 60_000);

  it('serves with NATS credentials the server refuses, keeps trying, and never logs the password', async () => {
    const nats = await natsServer();
    const router = await recordingRouter(nats);
    const logs = new CapturedLogs();
    const wrongPassword = `wrong-${nats.password}`;
    const receptor = await receptorRegisteringWith(
      { natsAddresses: [nats.address], natsUsername: nats.username, natsPassword: wrongPassword, domainNames: DOMAINS },
      logs,
    );

    const failures = await eventually(async () => messages(logs, 'nats-connect-failed'), (failed) => failed.length >= 2, WAIT);
    expect(String(failures[0]?.error)).toMatch(/authorization/i);
    await expectServing(receptor);
    await receptor.stop();

    expect(router.registers).toEqual([]);
    const logged = logs.lines.join('\n');
    expect(logged).not.toContain(wrongPassword);
    expect(logged).not.toContain(nats.password);
  }, 60_000);

  it('registers with a NATS server that starts after it, and again after that server restarts', async () => {
    const [port] = await freePorts(1);
    const password = 'the-nats-password';
    const logs = new CapturedLogs();
    const receptor = await receptorRegisteringWith(
      { natsAddresses: [`127.0.0.1:${port}`], natsUsername: 'nats', natsPassword: password, domainNames: DOMAINS },
      logs,
    );
    await eventually(async () => messages(logs, 'nats-connect-failed'), (failed) => failed.length >= 1, WAIT);
    await expectServing(receptor);

    const first = await startNatsServer({ port, password });
    try {
      const router = await RecordingRouter.start(first);
      try {
        // Whether the receptor connected before or after the router subscribed, a router's start brings a registration.
        router.announceStart();
        await eventually(async () => router.registers.length, (count) => count >= 2, WAIT);
      } finally {
        await router.close();
      }
    } finally {
      await first.stop();
    }

    const second = await natsServer({ port, password });
    const router = await recordingRouter(second);
    router.announceStart();
    await eventually(async () => router.registers.length, (count) => count >= 2, WAIT);
    expect(router.registers[0]).toEqual({ host: '127.0.0.1', port: portOf(receptor.address), uris: DOMAINS });
    expect(messages(logs, 'nats-disconnected').length + messages(logs, 'nats-connection-closed').length).toBeGreaterThanOrEqual(1);
    expect(logs.lines.join('\n')).not.toContain(password);
  }, 90_000);
});
