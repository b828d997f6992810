// A task whose stored JSON grows past what etcd takes (each `<` becomes `\u003c`) is refused as the client's
// InvalidRequest at the receptor, stores nothing, and does not fail anyone else's writes after it: neither the
// BBS's size check nor etcd's own refusal opens a breaker for everyone (issue 13, "Limits checked").
import { randomUUID } from 'node:crypto';
import { Etcd3 } from 'etcd3';
import pino from 'pino';
import { EtcdDb, etcdClientOptions, startBbsServer, type BbsServer } from '@diego/bbs';
import type { RunningServer } from '@diego/server-support';
import { startReceptor } from '@diego/receptor';
import { TEST_ETCD_ENV } from '@diego/test-support';

const silent = pino({ level: 'silent' });
/** Under the receptor's 1 MiB body limit; about 5.4 MB once stored as JSON. */
const OVERSIZED_VALUE = '<'.repeat(900_000);
const ATTEMPTS_THAT_OPENED_THE_BREAKER = 5;
const OTHER_CLIENTS_WRITES = 20;

let etcd: Etcd3 | undefined;
let db: EtcdDb | undefined;
let bbs: BbsServer | undefined;
let receptor: RunningServer | undefined;

afterEach(async () => {
  await receptor?.stop();
  await bbs?.stop();
  db?.close();
  if (etcd !== undefined) {
    await etcd.delete().prefix(prefix);
    etcd.close();
  }
});

let prefix = '';

/** A receptor over a BBS over its own prefix of the test etcd, whose store takes writes up to `maxRequestBytes`. */
async function start(maxRequestBytes?: number): Promise<string> {
  prefix = `/test-${randomUUID()}`;
  etcd = new Etcd3(etcdClientOptions([process.env[TEST_ETCD_ENV] ?? '']));
  const namespace = etcd.namespace(prefix);
  db = new EtcdDb(namespace, { logger: silent, view: true, ...(maxRequestBytes === undefined ? {} : { maxRequestBytes }) });
  bbs = await startBbsServer({ etcd: namespace, listenAddress: '127.0.0.1:0', logger: silent, db });
  receptor = await startReceptor(
    { address: '127.0.0.1:0', bbsAddress: [`http://${bbs.address}`], username: '', password: '', corsEnabled: false, logLevel: 'info', debugAddress: null },
    { logger: silent },
  );
  return `http://${receptor.address}`;
}

function createTask(receptorUrl: string, taskGuid: string, envValue = 'small'): Promise<Response> {
  return fetch(`${receptorUrl}/v1/tasks`, {
    method: 'POST',
    body: JSON.stringify({
      task_guid: taskGuid,
      domain: 'd',
      rootfs: 'docker:///busybox',
      env: [{ name: 'BIG', value: envValue }],
      action: { run: { path: 'true', user: 'vcap' } },
    }),
  });
}

async function expectRefusedThenOthersServed(receptorUrl: string): Promise<void> {
  for (let i = 0; i < ATTEMPTS_THAT_OPENED_THE_BREAKER; i++) {
    const res = await createTask(receptorUrl, `too-large-${i}`, OVERSIZED_VALUE);
    const body: unknown = await res.json();
    expect({ status: res.status, body }).toEqual({ status: 400, body: { name: 'InvalidTask', message: expect.stringContaining('too large') } });
    expect((await fetch(`${receptorUrl}/v1/tasks/too-large-${i}`)).status).toBe(404);
  }
  const guids = Array.from({ length: OTHER_CLIENTS_WRITES }, (_, i) => `normal-${i}`);
  const statuses = await Promise.all(guids.map(async (guid) => (await createTask(receptorUrl, guid)).status));
  expect(statuses).toEqual(guids.map(() => 201));
  const stored = (await (await fetch(`${receptorUrl}/v1/tasks`)).json()) as { task_guid: string }[];
  expect(stored.map((task) => task.task_guid).sort()).toEqual([...guids].sort());
}

it('refuses a record over etcd`s request limit before sending it, as the client`s 400, and serves the next writes', async () => {
  await expectRefusedThenOthersServed(await start());
});

it('answers etcd`s own refusal of an oversized request as a 400 too, without opening the breaker', async () => {
  // A BBS configured above what etcd takes: etcd (or gRPC) refuses the request itself.
  await expectRefusedThenOthersServed(await start(16 * 1024 * 1024));
});
