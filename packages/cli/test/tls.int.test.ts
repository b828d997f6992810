/**
 * TLS as a 2015 Diego deployment had it, end to end: a BBS on an etcd that requires client certificates, serving
 * its API over mutual TLS to a receptor and a cell that present theirs; and `diego up --tls`, which makes the
 * certificates and runs the whole local cluster that way.
 */
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { startBbs, type RunningBbs } from '@diego/bbs';
import type { RunningServer } from '@diego/server-support';
import { ProcessExecutor, removeCellLeftovers, startCell, type RunningCell } from '@diego/cell';
import { startReceptor, type ReceptorConfig } from '@diego/receptor';
import { eventually, freePorts, makeTestCertificates, startEtcd, type EtcdProcess, type TestCertificates } from '@diego/test-support';
import { assertBuilt, spawnDiego, stdoutContains, stopAll, upOnFreePorts } from './diego-process';

const silent = pino({ level: 'silent' });

beforeAll(assertBuilt);

afterEach(stopAll);

/** What an https request with the given PEM files got: the status and body, or the error code of its refusal. */
type HttpsOutcome = { status: number; body: string } | { refused: string };

async function httpsExchange(url: string, method: string, files: { ca: string; cert?: string; key?: string }): Promise<HttpsOutcome> {
  const tls = {
    ca: await readFile(files.ca),
    ...(files.cert === undefined ? {} : { cert: await readFile(files.cert) }),
    ...(files.key === undefined ? {} : { key: await readFile(files.key) }),
  };
  return new Promise((resolve) => {
    const request = httpsRequest(url, { method, agent: false, ...tls }, (response) => {
      let body = '';
      response.setEncoding('latin1').on('data', (chunk: string) => (body += chunk));
      response.once('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    request.once('error', (err: NodeJS.ErrnoException) => resolve({ refused: err.code ?? err.message }));
    request.end();
  });
}

describe('a receptor and a cell on a BBS over mutual TLS, on an etcd that requires client certificates', () => {
  let certs: TestCertificates;
  let etcd: EtcdProcess;
  let workDir: string;
  const running: (RunningServer | RunningBbs | RunningCell)[] = [];

  beforeAll(async () => {
    certs = await makeTestCertificates();
    etcd = await startEtcd({
      clientTls: { caFile: certs.ca.certFile, certFile: certs.server.certFile, keyFile: certs.server.keyFile, client: certs.client },
    });
    workDir = await mkdtemp(join(tmpdir(), 'diego-tls-cell-'));
  }, 60_000);

  afterAll(async () => {
    for (const server of running.reverse()) await server.stop();
    await etcd?.stop();
    await certs?.remove();
    await rm(workDir, { recursive: true, force: true });
  });

  it('registers the cell, runs a task to completion, and a receptor with another CA\'s certificate is told why the BBS refuses it', async () => {
    const bbs = await startBbs({
      listenAddress: '127.0.0.1:0',
      etcdCluster: [etcd.endpoint],
      etcdTls: certs.clientTls,
      serverTls: certs.serverTls,
      logLevel: 'fatal',
      debugAddress: null,
      convergeRepeatIntervalMs: 3_600_000,
    });
    running.push(bbs);
    const bbsUrl = `https://${bbs.address}`;
    const receptorConfig: ReceptorConfig = {
      address: '127.0.0.1:0', bbsAddress: [bbsUrl], username: '', password: '', corsEnabled: false, logLevel: 'fatal', debugAddress: null,
    };
    const receptor = await startReceptor({ ...receptorConfig, bbsTls: certs.clientTls, communicationTimeoutMs: 5_000 }, { logger: silent });
    running.push(receptor);
    const cell = await startCell(
      {
        cellId: 'cell-tls',
        zone: 'z1',
        listenAddress: '127.0.0.1:0',
        bbsAddress: [bbsUrl],
        bbsTls: certs.clientTls,
        communicationTimeoutMs: 5_000,
        memoryMb: 1024,
        diskMb: 1024,
        containers: 10,
        preloadedRootFses: [{ name: 'cflinuxfs2', path: null }],
        evacuationTimeoutMs: 10_000,
        workDir,
        dockerRegistryURL: 'http://127.0.0.1:1',
        insecureDockerRegistries: [],
        dockerImageDir: null,
        networkPool: '10.254.0.0/22',
        logLevel: 'fatal',
      },
      { executor: new ProcessExecutor({ workDir, cellAddress: '127.0.0.1', logger: silent }), logger: silent },
    );
    running.push(cell);

    const receptorUrl = `http://${receptor.address}`;
    const cells = await eventually(
      async () => (await (await fetch(`${receptorUrl}/v1/cells`)).json()) as { cell_id: string }[],
      (listed) => listed.some((listedCell) => listedCell.cell_id === 'cell-tls'),
      { timeoutMs: 15_000 },
    );
    expect(cells.map((listedCell) => listedCell.cell_id)).toEqual(['cell-tls']);

    const task = {
      task_guid: 'tls-task',
      domain: 'tls-tasks',
      rootfs: 'preloaded:cflinuxfs2',
      memory_mb: 64,
      disk_mb: 64,
      result_file: '/tmp/result',
      action: { run: { path: 'sh', args: ['-c', 'printf over-tls > "$TMPDIR/result"'], user: 'vcap' } },
    };
    expect((await fetch(`${receptorUrl}/v1/tasks`, { method: 'POST', body: JSON.stringify(task) })).status).toBe(201);
    const completed = await eventually(
      async () => (await (await fetch(`${receptorUrl}/v1/tasks/tls-task`)).json()) as { state: string; failed: boolean; result: string },
      (seen) => seen.state === 'COMPLETED',
      { timeoutMs: 20_000 },
    );
    expect(completed).toMatchObject({ failed: false, result: 'over-tls' });

    const refused = await startReceptor(
      { ...receptorConfig, bbsTls: { caFile: certs.ca.certFile, certFile: certs.otherClient.certFile, keyFile: certs.otherClient.keyFile } },
      { logger: silent },
    );
    running.push(refused);
    const answer = await fetch(`http://${refused.address}/v1/cells`);
    expect(answer.status).toBe(500);
    expect(await answer.json()).toEqual({
      name: 'UnknownError',
      message:
        `no BBS could be reached (${bbsUrl}: the BBS closed the connection right after the TLS handshake, before answering: ` +
        "most likely it does not accept this client's certificate (not signed by the CA it trusts))",
    });
  }, 90_000);

  it('serves a receptor through diego bbs and diego receptor processes given the 2015 flags; without -etcdCertFile diego bbs exits saying why', async () => {
    const [bbsPort = 0, receptorPort = 0] = await freePorts(2);
    const etcdFlags = [`-etcdCluster=${etcd.endpoint}`, `-etcdCaFile=${certs.ca.certFile}`];
    const bbsFlags = [`-listenAddress=127.0.0.1:${bbsPort}`, '-logLevel=error', '-apiOnly'];
    const unauthenticated = spawnDiego(['bbs', ...bbsFlags, ...etcdFlags]);
    expect(await unauthenticated.exitCode).toBe(1);
    expect(unauthenticated.output()).toContain(
      `etcd at ${etcd.endpoint} refused the TLS handshake: it requires a client certificate signed by its CA, and none was presented`,
    );

    spawnDiego([
      'bbs', ...bbsFlags, ...etcdFlags, `-etcdCertFile=${certs.client.certFile}`, `-etcdKeyFile=${certs.client.keyFile}`,
      '-requireSSL', `-caFile=${certs.ca.certFile}`, `-certFile=${certs.server.certFile}`, `-keyFile=${certs.server.keyFile}`,
    ]);
    spawnDiego([
      'receptor', `-address=127.0.0.1:${receptorPort}`, `-bbsAddress=https://127.0.0.1:${bbsPort}`, '-logLevel=error',
      `-bbsCACert=${certs.ca.certFile}`, `-bbsClientCert=${certs.client.certFile}`, `-bbsClientKey=${certs.client.keyFile}`,
    ]);
    const receptorUrl = `http://127.0.0.1:${receptorPort}`;
    const status = await eventually(
      () => fetch(`${receptorUrl}/v1/domains/tls-processes`, { method: 'PUT' }).then((response) => response.status, () => 0),
      (answered) => answered === 204,
      { timeoutMs: 20_000 },
    );
    expect(status).toBe(204);
    expect(await (await fetch(`${receptorUrl}/v1/domains`)).json()).toContain('tls-processes');
  }, 60_000);

  it('a receptor does not start with a client key that is not its certificate\'s, naming the flags', async () => {
    await expect(
      startReceptor(
        {
          address: '127.0.0.1:0', bbsAddress: ['https://127.0.0.1:1'], username: '', password: '', corsEnabled: false, logLevel: 'fatal', debugAddress: null,
          bbsTls: { ...certs.clientTls, keyFile: certs.otherClient.keyFile },
        },
        { logger: silent },
      ),
    ).rejects.toThrow(`-bbsClientKey ${certs.otherClient.keyFile} is not the key of -bbsClientCert ${certs.client.certFile}`);
  });
});

describe('diego up --tls', () => {
  const CELL_ID = 'cell-up-tls';
  let workDir: string;

  beforeEach(async () => {
    workDir = await mkdtemp(join(tmpdir(), 'diego-up-tls-'));
  });

  afterEach(async () => {
    // A `diego up` killed outright leaves its root cell's cgroups, bridge and rules behind.
    await removeCellLeftovers(CELL_ID, silent);
    await rm(workDir, { recursive: true, force: true });
  });

  it('makes its certificates, runs etcd and the BBS over mutual TLS as its banner shows, stops cleanly and reuses them', async () => {
    const { ports, args } = await upOnFreePorts(CELL_ID);
    const up = spawnDiego([...args, '--tls'], { cwd: workDir });
    await stdoutContains(up, 'Try:', 60_000);
    const tlsDir = join(workDir, '.diego', 'tls');
    expect(up.stdout()).toContain(`  tls       made under ${tlsDir}: CA ${join(tlsDir, 'ca.crt')}`);
    expect(up.stdout()).toContain(`  bbs       https://127.0.0.1:${ports.bbs} (mutual TLS`);

    // The banner's curl against the BBS's ping, as an operator would run it.
    const curl = /curl .* --cacert (\S+) --cert (\S+) --key (\S+) -X POST (\S+)\n/.exec(up.stdout());
    expect(curl).not.toBeNull();
    const [, ca = '', cert = '', key = '', pingUrl = ''] = curl ?? [];
    expect(pingUrl).toBe(`https://127.0.0.1:${ports.bbs}/v1/ping`);
    expect(await httpsExchange(pingUrl, 'POST', { ca, cert, key })).toEqual({ status: 200, body: '\x08\x01' });
    expect(await httpsExchange(pingUrl, 'POST', { ca })).toEqual({ refused: 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED' });

    // The banner's etcdctl: etcd answers a client with the BBS's etcd certificate, and no one without one.
    const etcdctl = /etcdctl --endpoints=(\S+) --cacert=(\S+) --cert=(\S+) --key=(\S+) /.exec(up.stdout());
    const [, etcdUrl = '', etcdCa = '', etcdCert = '', etcdKey = ''] = etcdctl ?? [];
    expect(etcdUrl).toBe(`https://127.0.0.1:${ports.etcd}`);
    expect(await httpsExchange(`${etcdUrl}/health`, 'GET', { ca: etcdCa, cert: etcdCert, key: etcdKey })).toMatchObject({ status: 200 });
    expect(await httpsExchange(`${etcdUrl}/health`, 'GET', { ca: etcdCa })).toHaveProperty('refused');

    // The receptor and the cell reach the BBS with their certificates.
    const receptorUrl = `http://127.0.0.1:${ports.receptor}`;
    expect((await fetch(`${receptorUrl}/v1/domains/cf-apps`, { method: 'PUT' })).status).toBe(204);
    await eventually(
      async () => (await (await fetch(`${receptorUrl}/v1/cells`)).json()) as { cell_id: string }[],
      (cells) => cells.some((cell) => cell.cell_id === CELL_ID),
      { timeoutMs: 15_000 },
    );
    for (const name of ['ca', 'server', 'etcd-client', 'bbs-client']) {
      expect((await stat(join(tlsDir, `${name}.key`))).mode & 0o777).toBe(0o600);
    }

    up.child.kill('SIGTERM');
    expect(await up.exitCode).toBe(0);
    expect(up.output()).toMatch(/stopping cell\n.*stopping receptor\n.*stopping bbs\n.*stopping etcd\n/s);

    const caBefore = await readFile(join(tlsDir, 'ca.crt'));
    const again = spawnDiego([...args, '--tls'], { cwd: workDir });
    await stdoutContains(again, 'Try:', 60_000);
    expect(again.stdout()).toContain(`  tls       reused under ${tlsDir}`);
    expect(await readFile(join(tlsDir, 'ca.crt'))).toEqual(caBefore);
    expect(await (await fetch(`${receptorUrl}/v1/domains`)).json()).toEqual(['cf-apps']);
    again.child.kill('SIGTERM');
    expect(await again.exitCode).toBe(0);
  }, 180_000);

  it('refuses --tls with an etcd of the operator\'s', async () => {
    const { args } = await upOnFreePorts(CELL_ID);
    const up = spawnDiego([...args, '--tls', '--etcdCluster=http://127.0.0.1:1'], { cwd: workDir });
    expect(await up.exitCode).toBe(2);
    expect(up.stderr()).toContain('--tls makes certificates for the etcd diego up starts: it cannot be used with --etcdCluster');
  });
});
