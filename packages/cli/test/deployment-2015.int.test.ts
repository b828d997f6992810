/**
 * A 2015 Diego deployment's processes, run with their own command lines: the seed's receptor line (pointed at our
 * BBS and a local NATS) starts, serves the API, answers the 2015 client's GetVersion and registers its route; a BBS
 * on an etcd that requires client certificates, serving mutual TLS, serves that receptor and a cell given their
 * certificates, and refuses a client without one.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { removeCellLeftovers } from '@diego/cell';
import {
  eventually,
  freePorts,
  makeTestCertificates,
  RecordingRouter,
  startEtcd,
  startNatsServer,
  uniqueNetworkPool,
  type EtcdProcess,
  type NatsServerProcess,
  type TestCertificates,
} from '@diego/test-support';
import { assertBuilt, spawnDiego, stopAll, type DiegoProcess } from './diego-process';

/** The seed deployment's receptor command line, exactly as its job ran it (after the shell took the quotes off). */
const SEED_RECEPTOR_LINE =
  '-address=0.0.0.0:8887 -bbsAddress=http://bbs.service.cf.internal:8889 -taskHandlerAddress=10.244.16.6:1169 ' +
  '-debugAddr=0.0.0.0:17014 -etcdCluster=https://etcd.service.cf.internal:4001 -consulCluster=http://127.0.0.1:8500 ' +
  '-username= -password= -registerWithRouter=true -domainNames=receptor.10.244.0.34.xip.io ' +
  '-natsAddresses=10.244.0.6:4222 -natsUsername=nats -natsPassword=nats -corsEnabled=false -logLevel=debug';

const CELL_ID = 'cell-2015-seed';
const WAIT = { timeoutMs: 60_000, intervalMs: 100 };

/** The seed line with what points at the seed's network pointed at this test's loopback servers instead. */
function seedReceptorArgs(replacements: Record<string, string>): string[] {
  return SEED_RECEPTOR_LINE.split(' ').map((arg) => {
    const name = arg.slice(1, arg.indexOf('='));
    return replacements[name] === undefined ? arg : `-${name}=${replacements[name]}`;
  });
}

/** What an https request to the BBS got: its status, or the code of the error that refused it. */
async function bbsPing(url: string, files: { ca: string; cert?: string; key?: string }): Promise<number | string> {
  const tls = {
    ca: await readFile(files.ca),
    ...(files.cert === undefined ? {} : { cert: await readFile(files.cert) }),
    ...(files.key === undefined ? {} : { key: await readFile(files.key) }),
  };
  return new Promise((resolve) => {
    const req = httpsRequest(`${url}/v1/ping`, { method: 'POST', agent: false, ...tls }, (res) => {
      res.resume().once('end', () => resolve(res.statusCode ?? 0));
    });
    req.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    req.end();
  });
}

function flagsIgnored(process: DiegoProcess): string[] {
  return process
    .output()
    .split('\n')
    .filter((line) => line.includes('"flag-ignored"'))
    .map((line) => (JSON.parse(line) as { flag: string }).flag);
}

let certs: TestCertificates;
let etcd: EtcdProcess;
let nats: NatsServerProcess;
let router: RecordingRouter;
let workDir: string;

beforeAll(async () => {
  assertBuilt();
  certs = await makeTestCertificates();
  etcd = await startEtcd({
    clientTls: { caFile: certs.ca.certFile, certFile: certs.server.certFile, keyFile: certs.server.keyFile, client: certs.client },
  });
  // The seed's NATS credentials.
  nats = await startNatsServer({ username: 'nats', password: 'nats' });
  router = await RecordingRouter.start(nats);
  workDir = mkdtempSync(join(tmpdir(), 'diego-2015-'));
}, 60_000);

afterAll(async () => {
  await stopAll();
  await removeCellLeftovers(CELL_ID, pino({ level: 'silent' }));
  await router?.close();
  await nats?.stop();
  await etcd?.stop();
  await certs?.remove();
  rmSync(workDir, { recursive: true, force: true });
});

it("runs the seed's receptor line and 2015 BBS and rep lines over TLS: API, GetVersion, a cell's task, router registration", async () => {
  const [bbsPort = 0, receptorPort = 0, debugPort = 0] = await freePorts(3);
  const bbsUrl = `https://127.0.0.1:${bbsPort}`;
  const bbsClientFlags = [`-bbsCACert=${certs.ca.certFile}`, `-bbsClientCert=${certs.client.certFile}`, `-bbsClientKey=${certs.client.keyFile}`];

  const bbs = spawnDiego([
    'bbs', `-listenAddress=127.0.0.1:${bbsPort}`, `-etcdCluster=${etcd.endpoint}`,
    `-etcdCaFile=${certs.ca.certFile}`, `-etcdCertFile=${certs.client.certFile}`, `-etcdKeyFile=${certs.client.keyFile}`,
    '-requireSSL=true', `-caFile=${certs.ca.certFile}`, `-certFile=${certs.server.certFile}`, `-keyFile=${certs.server.keyFile}`,
    '-consulCluster=http://127.0.0.1:8500', '-sessionName=bbs', '-lockTTL=10s', '-lockRetryInterval=5s',
    '-communicationTimeout=10s', '-convergenceWorkers=20', '-updateWorkers=1000', '-taskCallBackWorkers=1000',
    '-dropsondeDestination=localhost:3457', '-etcdClientSessionCacheSize=0', '-etcdMaxIdleConnsPerHost=0', '-logLevel=info',
  ]);
  const receptor = spawnDiego([
    'receptor',
    ...seedReceptorArgs({ address: `127.0.0.1:${receptorPort}`, bbsAddress: bbsUrl, debugAddr: `127.0.0.1:${debugPort}`, natsAddresses: nats.address }),
    ...bbsClientFlags,
  ]);
  const cell = spawnDiego([
    'cell', `-cellID=${CELL_ID}`, '-zone=z1', '-listenAddr=127.0.0.1:0', `-bbsAddress=${bbsUrl}`, ...bbsClientFlags,
    '-memoryMB=1024', '-diskMB=1024', '-preloadedRootFS=cflinuxfs2', `-workDir=${workDir}`, `-networkPool=${uniqueNetworkPool()}`,
    '-dockerRegistryURL=http://127.0.0.1:1', '-pollingInterval=30s', '-evacuationPollingInterval=1s', '-exportNetworkEnvVars=false',
    '-gardenNetwork=tcp', '-gardenAddr=127.0.0.1:7777', '-consulCluster=http://127.0.0.1:8500', '-lockTTL=10s', '-logLevel=info',
  ]);

  // The API, through the receptor, over the BBS's mutual TLS.
  const receptorUrl = `http://127.0.0.1:${receptorPort}`;
  await eventually(() => fetch(`${receptorUrl}/v1/domains`).then((res) => res.status, () => 0), (status) => status === 200, WAIT);
  const version = await fetch(`${receptorUrl}/v1/version`);
  expect(version.status).toBe(200);
  expect(await version.json()).toEqual({ receptor: expect.stringMatching(/^\d+\.\d+\.\d+/) });

  // Registered with the router under the seed's domain, on the address and port it listens on.
  const register = await eventually(async () => router.registers.find((message) => message.port === receptorPort), (found) => found !== undefined, WAIT);
  expect(register).toEqual({ host: '127.0.0.1', port: receptorPort, uris: ['receptor.10.244.0.34.xip.io'] });
  expect(flagsIgnored(receptor)).toEqual(['taskHandlerAddress', 'etcdCluster', 'consulCluster']);

  // The cell, given its certificates, registers through the same BBS and runs a task to completion.
  await eventually(
    async () => (await (await fetch(`${receptorUrl}/v1/cells`)).json()) as { cell_id: string }[],
    (cells) => cells.some((found) => found.cell_id === CELL_ID),
    WAIT,
  );
  const task = {
    task_guid: 'task-2015', domain: 'cf-tasks', rootfs: 'preloaded:cflinuxfs2', result_file: '/tmp/result',
    action: { run: { path: '/bin/sh', args: ['-c', 'env > /tmp/result'], user: 'vcap' } },
  };
  expect((await fetch(`${receptorUrl}/v1/tasks`, { method: 'POST', body: JSON.stringify(task) })).status).toBe(201);
  const done = await eventually(
    async () => (await (await fetch(`${receptorUrl}/v1/tasks/task-2015`)).json()) as { state: string; failed: boolean; result: string; cell_id: string },
    (found) => found.state === 'COMPLETED',
    WAIT,
  );
  // The only cell ran it (a completed task no longer names its cell).
  expect(done).toMatchObject({ failed: false, result: expect.stringContaining('PATH=') });
  expect(flagsIgnored(cell)).toEqual(['gardenNetwork', 'gardenAddr', 'consulCluster']);
  expect(flagsIgnored(bbs)).toEqual(['etcdClientSessionCacheSize', 'etcdMaxIdleConnsPerHost', 'dropsondeDestination', 'consulCluster', 'sessionName']);

  // A client without a certificate, or with another CA's, is refused at the handshake; with ours it is served.
  expect(await bbsPing(bbsUrl, { ca: certs.ca.certFile, cert: certs.client.certFile, key: certs.client.keyFile })).toBe(200);
  expect(await bbsPing(bbsUrl, { ca: certs.ca.certFile })).not.toBe(200);
  expect(await bbsPing(bbsUrl, { ca: certs.ca.certFile, cert: certs.otherClient.certFile, key: certs.otherClient.keyFile })).not.toBe(200);

  // Stopped, the receptor takes its route back from the router.
  receptor.child.kill('SIGTERM');
  expect(await receptor.exitCode).toBe(0);
  await eventually(async () => router.unregisters.filter((message) => message.port === receptorPort), (found) => found.length > 0, WAIT);
}, 180_000);
