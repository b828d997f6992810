/**
 * Certificates for TLS tests, made by the same code as `diego up --tls`'s (openssl): a CA with a server
 * certificate for loopback and a client certificate, and another CA with a client certificate of its own, the
 * one a server must refuse. All in one temp directory, removed by `remove()`.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCertificateAuthority, issueCertificate, type CertificateFiles, type MutualTlsFiles } from '@diego/tls';

export interface TestCertificates {
  dir: string;
  ca: CertificateFiles;
  /** Valid for 127.0.0.1, ::1 and localhost. */
  server: CertificateFiles;
  client: CertificateFiles;
  otherCa: CertificateFiles;
  /** Signed by `otherCa`. */
  otherClient: CertificateFiles;
  /** The server's side of mutual TLS: trusts `ca`, presents `server`. */
  serverTls: MutualTlsFiles;
  /** A client's side: trusts `ca`, presents `client`. */
  clientTls: MutualTlsFiles;
  remove(): Promise<void>;
}

/**
 * @example
 *   const certs = await makeTestCertificates();
 *   const bbs = await startBbs({ ...config, serverTls: certs.serverTls });
 *   await certs.remove();
 */
export async function makeTestCertificates(): Promise<TestCertificates> {
  const dir = await mkdtemp(join(tmpdir(), 'diego-tls-'));
  try {
    const ca = await createCertificateAuthority(dir, 'ca', 'diego-test-ca');
    const server = await issueCertificate(ca, dir, 'server', 'server');
    const client = await issueCertificate(ca, dir, 'client', 'client');
    const otherCa = await createCertificateAuthority(dir, 'other-ca', 'diego-other-test-ca');
    const otherClient = await issueCertificate(otherCa, dir, 'other-client', 'client');
    return {
      dir,
      ca,
      server,
      client,
      otherCa,
      otherClient,
      serverTls: { caFile: ca.certFile, certFile: server.certFile, keyFile: server.keyFile },
      clientTls: { caFile: ca.certFile, certFile: client.certFile, keyFile: client.keyFile },
      remove: () => rm(dir, { recursive: true, force: true }),
    };
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}
