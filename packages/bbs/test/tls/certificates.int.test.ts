// The certificates `diego up --tls` keeps under its data directory: made once, reused while sound, made anew (all of
// them, a new CA too) when any is missing or does not fit the others.
import { X509Certificate } from 'node:crypto';
import { copyFile, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { localClusterCertificates } from '@diego/tls';

let dir: string;

beforeEach(async () => {
  dir = join(await mkdtemp(join(tmpdir(), 'diego-certs-')), 'tls');
});

afterEach(() => rm(join(dir, '..'), { recursive: true, force: true }));

describe('localClusterCertificates', () => {
  it('makes a CA, a loopback server certificate and client certificates, keys readable by their owner only', async () => {
    const made = await localClusterCertificates(dir);
    expect(made.created).toBe(true);
    const ca = new X509Certificate(await readFile(made.ca.certFile));
    const server = new X509Certificate(await readFile(made.server.certFile));
    expect(ca.ca).toBe(true);
    expect(server.checkIssued(ca)).toBe(true);
    expect([server.checkIP('127.0.0.1'), server.checkIP('::1'), server.checkHost('localhost')]).toEqual(['127.0.0.1', '::1', 'localhost']);
    for (const client of [made.etcdClient, made.bbsClient]) {
      const cert = new X509Certificate(await readFile(client.certFile));
      expect(cert.checkIssued(ca)).toBe(true);
      expect(cert.keyUsage).toContain('1.3.6.1.5.5.7.3.2'); // clientAuth
    }
    for (const files of [made.ca, made.server, made.etcdClient, made.bbsClient]) {
      expect((await stat(files.keyFile)).mode & 0o777).toBe(0o600);
    }
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
  });

  it('reuses them while they are all there and fit together', async () => {
    const made = await localClusterCertificates(dir);
    const again = await localClusterCertificates(dir);
    expect(again.created).toBe(false);
    expect(await readFile(again.ca.certFile)).toEqual(await readFile(made.ca.certFile));
  });

  it('makes them all anew when one is missing, or its key is not its own', async () => {
    const made = await localClusterCertificates(dir);
    const firstCa = await readFile(made.ca.certFile);
    await rm(made.bbsClient.keyFile);
    const remade = await localClusterCertificates(dir);
    expect(remade.created).toBe(true);
    expect(await readFile(remade.ca.certFile)).not.toEqual(firstCa);

    await copyFile(remade.etcdClient.keyFile, remade.server.keyFile);
    expect((await localClusterCertificates(dir)).created).toBe(true);
  });
});
