// The BBS's API over mutual TLS (Diego's -requireSSL -caFile -certFile -keyFile): a client with a certificate
// signed by the BBS's CA is served, event streams included; one without a certificate, or with another CA's, is
// refused at the handshake, and both the client's error and the BBS's log say why.
import { request as httpsRequest } from 'node:https';
import { readFile } from 'node:fs/promises';
import { Writable } from 'node:stream';
import pino from 'pino';
import { BBS_SERVER_TLS_FLAGS, readMutualTls, type TlsMaterial } from '@diego/tls';
import { HttpBbsClient, type HttpBbsClientOptions } from '@diego/bbs-client';
import { startBbs, startBbsServer, type BbsServer } from '@diego/bbs';
import { BbsError } from '@diego/models';
import { eventually, makeTestCertificates, newValidTask, testKeySpace, type TestCertificates, type TestKeySpace } from '@diego/test-support';

let certs: TestCertificates;
let serverTls: TlsMaterial;
let keys: TestKeySpace;
let bbs: BbsServer;
let url: string;
let logLines: Record<string, unknown>[];
const clients: HttpBbsClient[] = [];

beforeAll(async () => {
  certs = await makeTestCertificates();
  serverTls = await readMutualTls(certs.serverTls, BBS_SERVER_TLS_FLAGS);
});

afterAll(() => certs?.remove());

beforeEach(async () => {
  keys = testKeySpace();
  logLines = [];
  const logs = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line !== '') logLines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  bbs = await startBbsServer({ etcd: keys.namespace, listenAddress: '127.0.0.1:0', tls: serverTls, logger: pino({ level: 'info' }, logs) });
  url = `https://${bbs.address}`;
});

afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  await bbs.stop();
  await keys.cleanup();
});

function clientWith(tls: HttpBbsClientOptions['tls'], urls = [url]): HttpBbsClient {
  const client = new HttpBbsClient(urls, { tls });
  clients.push(client);
  return client;
}

/** What a ping ends with: the error a user of the client sees. */
async function pingFailure(client: HttpBbsClient): Promise<BbsError> {
  const error: unknown = await client.ping().then(() => new Error('the ping was answered'), (err: unknown) => err);
  if (!(error instanceof BbsError)) throw error;
  return error;
}

describe('the BBS over mutual TLS', () => {
  it('serves a client whose certificate its CA signed: calls and event streams', async () => {
    const client = clientWith({ ca: await readFile(certs.ca.certFile), cert: await readFile(certs.client.certFile), key: await readFile(certs.client.keyFile) });
    expect(await client.ping()).toBe(true);

    const events = await client.subscribeToEvents();
    try {
      const { definition, domain } = newValidTask('mtls-task');
      await client.desireTask('mtls-task', domain, definition);
      expect(await client.taskByGuid('mtls-task')).toMatchObject({ task_guid: 'mtls-task', state: 'PENDING' });
      expect(await events.next()).toMatchObject({ type: 'task_created', task: { task_guid: 'mtls-task' } });
    } finally {
      events.close();
    }
  });

  it('refuses a client without a certificate at the handshake, and says it requires one', async () => {
    const failure = await pingFailure(clientWith({ ca: await readFile(certs.ca.certFile) }));
    expect(failure.type).toBe('Unavailable');
    expect(failure.message).toBe(
      `no BBS could be reached (${url}: the BBS refused the TLS handshake: it requires a client certificate signed by its CA, and none was presented)`,
    );
    await eventually(
      () => Promise.resolve(logLines.filter((line) => line['msg'] === 'bbs-tls-client-refused')),
      (refusals) => refusals.some((line) => line['reason'] === 'no client certificate'),
    );
  });

  it("refuses a client whose certificate another CA signed, and the BBS's log says why", async () => {
    const failure = await pingFailure(
      clientWith({ ca: await readFile(certs.ca.certFile), cert: await readFile(certs.otherClient.certFile), key: await readFile(certs.otherClient.keyFile) }),
    );
    expect(failure.type).toBe('Unavailable');
    expect(failure.message).toBe(
      `no BBS could be reached (${url}: the BBS closed the connection right after the TLS handshake, before answering: ` +
        "most likely it does not accept this client's certificate (not signed by the CA it trusts))",
    );
    const refusals = await eventually(
      () => Promise.resolve(logLines.filter((line) => line['msg'] === 'bbs-tls-client-refused')),
      (lines) => lines.length > 0,
    );
    // Node's verdict on the certificate, e.g. UNABLE_TO_VERIFY_LEAF_SIGNATURE.
    expect(refusals[0]).toMatchObject({ reason: expect.stringMatching(/^[A-Z_]+$/) });
  });

  it('is refused by a client that does not trust its certificate', async () => {
    const failure = await pingFailure(
      clientWith({ ca: await readFile(certs.otherCa.certFile), cert: await readFile(certs.client.certFile), key: await readFile(certs.client.keyFile) }),
    );
    expect(failure.message).toMatch(
      new RegExp(`^no BBS could be reached \\(${url}: the BBS presented a certificate that is not signed by the CA this client trusts \\([A-Z_]+\\)\\)$`),
    );
  });

  it('serves no plain HTTP', async () => {
    const failure = await pingFailure(clientWith(undefined, [url.replace('https:', 'http:')]));
    expect(failure.type).toBe('Unavailable');
  });

  it('refuses a write without a certificate before it reaches the BBS: nothing is stored', async () => {
    const client = clientWith({ ca: await readFile(certs.ca.certFile) });
    const { definition, domain } = newValidTask('never-stored');
    await expect(client.desireTask('never-stored', domain, definition)).rejects.toMatchObject({ type: 'Unavailable' });
    // A client certificate of another CA, on a route that may not be repeated: nothing stored either.
    const other = clientWith({ ca: await readFile(certs.ca.certFile), cert: await readFile(certs.otherClient.certFile), key: await readFile(certs.otherClient.keyFile) });
    await expect(other.cancelTask('never-stored')).rejects.toMatchObject({ type: 'Unavailable' });
    expect(await keys.namespace.getAll().prefix('/v1/task/').keys()).toEqual([]);
  });
});

describe('startBbs with -requireSSL', () => {
  it('serves https only, to clients with a certificate of its CA', async () => {
    const running = await startBbs({
      listenAddress: '127.0.0.1:0',
      etcdCluster: [process.env['DIEGO_TEST_ETCD'] ?? ''],
      logLevel: 'fatal',
      debugAddress: null,
      apiOnly: true,
      serverTls: certs.serverTls,
    });
    try {
      const client = clientWith(
        { ca: await readFile(certs.ca.certFile), cert: await readFile(certs.client.certFile), key: await readFile(certs.client.keyFile) },
        [`https://${running.address}`],
      );
      expect(await client.ping()).toBe(true);
      // What curl without --cert meets: the handshake itself fails.
      const handshake = await new Promise<string>((resolve) => {
        const request = httpsRequest(`https://${running.address}/v1/ping`, { method: 'POST', ca: serverTls.ca, agent: false });
        request.once('response', (response) => resolve(`answered ${response.statusCode ?? '?'}`));
        request.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
        request.end();
      });
      expect(handshake).toBe('ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED');
    } finally {
      await running.stop();
    }
  });

  it('does not start with a server key that is not its certificate\'s, naming the flags', async () => {
    await expect(
      startBbs({
        listenAddress: '127.0.0.1:0',
        etcdCluster: ['http://127.0.0.1:1'],
        logLevel: 'fatal',
        debugAddress: null,
        serverTls: { ...certs.serverTls, keyFile: certs.client.keyFile },
      }),
    ).rejects.toThrow(`-keyFile ${certs.client.keyFile} is not the key of -certFile ${certs.server.certFile}`);
  });
});
