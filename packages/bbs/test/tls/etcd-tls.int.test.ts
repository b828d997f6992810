// The BBS on an etcd that requires client certificates (etcd's --client-cert-auth over https), as a 2015 Diego
// deployment ran it: with the right certificate it works; without one, or with another CA's, it does not start and
// says why; a file it cannot use stops it with the flag and the file, never their contents.
import { copyFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { HttpBbsClient } from '@diego/bbs-client';
import { startBbs, type BbsConfig, type RunningBbs } from '@diego/bbs';
import { makeTestCertificates, newValidTask, startEtcd, type EtcdProcess, type TestCertificates } from '@diego/test-support';

let certs: TestCertificates;
let etcd: EtcdProcess;

beforeAll(async () => {
  certs = await makeTestCertificates();
  etcd = await startEtcd({
    clientTls: { caFile: certs.ca.certFile, certFile: certs.server.certFile, keyFile: certs.server.keyFile, client: certs.client },
  });
}, 60_000);

afterAll(async () => {
  await etcd?.stop();
  await certs?.remove();
});

function bbsOnTlsEtcd(etcdTls: BbsConfig['etcdTls'], etcdCluster = [etcd.endpoint]): Promise<RunningBbs> {
  return startBbs({ listenAddress: '127.0.0.1:0', etcdCluster, etcdTls, logLevel: 'fatal', debugAddress: null, apiOnly: true });
}

describe('the BBS on an etcd that requires client certificates', () => {
  it('stores and reads records with a client certificate signed by etcd\'s CA', async () => {
    expect(etcd.endpoint).toMatch(/^https:/);
    const bbs = await bbsOnTlsEtcd({ caFile: certs.ca.certFile, certFile: certs.client.certFile, keyFile: certs.client.keyFile });
    const client = new HttpBbsClient([`http://${bbs.address}`]);
    try {
      const { definition, domain } = newValidTask('over-tls');
      await client.desireTask('over-tls', domain, definition);
      expect(await client.taskByGuid('over-tls')).toMatchObject({ task_guid: 'over-tls', domain, state: 'PENDING' });
      await client.upsertDomain('tls-domain', 0);
      expect(await client.domains()).toContain('tls-domain');
    } finally {
      client.close();
      await bbs.stop();
    }
  });

  it('does not start without a client certificate, and says etcd requires one', async () => {
    await expect(bbsOnTlsEtcd({ caFile: certs.ca.certFile, certFile: null, keyFile: null })).rejects.toThrow(
      `etcd at ${etcd.endpoint} refused the TLS handshake: it requires a client certificate signed by its CA, and none was presented`,
    );
  });

  it("does not start with a certificate signed by another CA, and says etcd does not accept it", async () => {
    await expect(
      bbsOnTlsEtcd({ caFile: certs.ca.certFile, certFile: certs.otherClient.certFile, keyFile: certs.otherClient.keyFile }),
    ).rejects.toThrow(`etcd at ${etcd.endpoint} refused the TLS handshake: it does not accept this client's certificate`);
  });

  it("does not start when it does not trust etcd's certificate (no -etcdCaFile: the system's CAs)", async () => {
    await expect(bbsOnTlsEtcd({ caFile: null, certFile: certs.client.certFile, keyFile: certs.client.keyFile })).rejects.toThrow(
      `etcd at ${etcd.endpoint} presented a certificate that is not signed by the CA this client trusts`,
    );
  });
});

describe('TLS files the BBS cannot use', () => {
  async function refusal(etcdTls: BbsConfig['etcdTls'], etcdCluster = [etcd.endpoint]): Promise<string> {
    const error: unknown = await bbsOnTlsEtcd(etcdTls, etcdCluster).then(
      async (bbs) => {
        await bbs.stop();
        return new Error('started');
      },
      (err: unknown) => err,
    );
    const message = error instanceof Error ? error.message : String(error);
    // Never a byte of a certificate or key.
    expect(message).not.toContain('BEGIN');
    return message;
  }

  it('names a missing file and its flag', async () => {
    const missing = join(certs.dir, 'no-such.crt');
    expect(await refusal({ caFile: certs.ca.certFile, certFile: missing, keyFile: certs.client.keyFile })).toBe(
      `-etcdCertFile ${missing} cannot be read: no such file`,
    );
  });

  it('refuses a certificate without its key', async () => {
    expect(await refusal({ caFile: certs.ca.certFile, certFile: certs.client.certFile, keyFile: null })).toBe(
      '-etcdCertFile is given without -etcdKeyFile: give both or neither',
    );
  });

  it("refuses a key that is not the certificate's", async () => {
    expect(await refusal({ caFile: certs.ca.certFile, certFile: certs.client.certFile, keyFile: certs.otherClient.keyFile })).toBe(
      `-etcdKeyFile ${certs.otherClient.keyFile} is not the key of -etcdCertFile ${certs.client.certFile}`,
    );
  });

  it('refuses a file that holds no certificate, or no key', async () => {
    const notPem = join(certs.dir, 'not-pem.txt');
    await writeFile(notPem, 'not a certificate\n');
    expect(await refusal({ caFile: notPem, certFile: certs.client.certFile, keyFile: certs.client.keyFile })).toBe(
      `-etcdCaFile ${notPem} holds no PEM certificate`,
    );
    const keyAsCert = join(certs.dir, 'key-as-cert.crt');
    await copyFile(certs.client.keyFile, keyAsCert);
    expect(await refusal({ caFile: certs.ca.certFile, certFile: keyAsCert, keyFile: certs.client.keyFile })).toBe(
      `-etcdCertFile ${keyAsCert} holds no PEM certificate`,
    );
    expect(await refusal({ caFile: certs.ca.certFile, certFile: certs.client.certFile, keyFile: certs.client.certFile })).toBe(
      `-etcdKeyFile ${certs.client.certFile} holds no usable private key (it must be PEM, without a passphrase)`,
    );
  });

  it('refuses TLS files for http etcd URLs, and a mix of http and https URLs', async () => {
    const files = { caFile: certs.ca.certFile, certFile: certs.client.certFile, keyFile: certs.client.keyFile };
    expect(await refusal(files, ['http://127.0.0.1:1'])).toBe(
      '-etcdCaFile, -etcdCertFile and -etcdKeyFile are for https -etcdCluster URLs, and these are http: use https:// URLs',
    );
    expect(await refusal(files, [etcd.endpoint, 'http://127.0.0.1:1'])).toBe(
      '-etcdCluster mixes http and https URLs: etcd is reached over TLS or not at all',
    );
  });
});
