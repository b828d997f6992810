/**
 * Certificates for running Diego over TLS on one machine: a CA, a server certificate for loopback, and client
 * certificates, as `diego up --tls` and the TLS tests use them. Keys are made with Node's crypto (EC P-256, quick
 * to generate on a loaded machine) and written mode 0600; certificates are signed by Debian's `openssl`, as Node
 * can make keys but not certificates.
 */
import { execFile } from 'node:child_process';
import { X509Certificate, createPrivateKey, generateKeyPair, randomBytes } from 'node:crypto';
import { access, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const generateKeyPairAsync = promisify(generateKeyPair);

/** A certificate and its private key, as PEM files. */
export interface CertificateFiles {
  certFile: string;
  keyFile: string;
}

/** What a certificate is for: a server is valid for loopback's addresses, a client for client authentication. */
export type CertificateUsage = 'server' | 'client';

/** Where a server certificate is valid: every way of reaching this machine over loopback. */
export const LOOPBACK_IPS: readonly string[] = ['127.0.0.1', '::1'];
export const LOOPBACK_HOSTS: readonly string[] = ['localhost'];

const CA_VALIDITY_DAYS = 3650;
const LEAF_VALIDITY_DAYS = 825;
/** A reused certificate must stay valid at least this long. */
const MIN_REMAINING_VALIDITY_MS = 24 * 60 * 60 * 1000;

/** The X.509 extensions of each kind of certificate, as an openssl config file (one section each). */
const EXTENSIONS = `
[ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[server]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth,clientAuth
subjectAltName = ${[...LOOPBACK_IPS.map((ip) => `IP:${ip}`), ...LOOPBACK_HOSTS.map((host) => `DNS:${host}`)].join(',')}
authorityKeyIdentifier = keyid
[client]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = clientAuth
authorityKeyIdentifier = keyid
`;

/**
 * Makes a self-signed CA as `<dir>/<name>.crt` and `<dir>/<name>.key`.
 *
 * @example
 *   const ca = await createCertificateAuthority(dir, 'ca', 'diego-local-ca');
 *   const server = await issueCertificate(ca, dir, 'server', 'server');
 */
export async function createCertificateAuthority(dir: string, name: string, commonName: string): Promise<CertificateFiles> {
  const files = await newKey(dir, name);
  await withOpensslConfig(async (config) => {
    await openssl(['req', '-new', '-x509', '-key', files.keyFile, '-subj', `/CN=${commonName}`, '-days', String(CA_VALIDITY_DAYS),
      '-config', config, '-extensions', 'ca', '-set_serial', randomSerial(), '-out', files.certFile]);
  });
  return files;
}

/**
 * Makes `<dir>/<name>.crt` and `<dir>/<name>.key`, signed by `ca`: a server certificate valid for 127.0.0.1, ::1
 * and localhost, or a client certificate.
 */
export async function issueCertificate(ca: CertificateFiles, dir: string, name: string, usage: CertificateUsage): Promise<CertificateFiles> {
  const files = await newKey(dir, name);
  await withOpensslConfig(async (config, workDir) => {
    const request = join(workDir, `${name}.csr`);
    await openssl(['req', '-new', '-key', files.keyFile, '-subj', `/CN=${name}`, '-config', config, '-out', request]);
    await openssl(['x509', '-req', '-in', request, '-CA', ca.certFile, '-CAkey', ca.keyFile, '-set_serial', randomSerial(),
      '-days', String(LEAF_VALIDITY_DAYS), '-extfile', config, '-extensions', usage, '-out', files.certFile]);
  });
  return files;
}

/** The certificates of a whole local cluster, one CA for all (`diego up --tls`). */
export interface LocalClusterCertificates {
  /** The directory they are in. */
  dir: string;
  ca: CertificateFiles;
  /** etcd's and the BBS's: valid for loopback. */
  server: CertificateFiles;
  /** The BBS's, towards etcd (`-etcdCertFile`). */
  etcdClient: CertificateFiles;
  /** The receptor's, the cell's and an operator's, towards the BBS (`-bbsClientCert`). */
  bbsClient: CertificateFiles;
  /** Whether they were made now (false: those already in `dir` were valid and are reused). */
  created: boolean;
}

/**
 * The certificates under `dir`: reused when all are there, signed by the CA there, matched by their keys and valid
 * for at least another day; otherwise all made anew (a new CA too), so that they always fit together.
 */
export async function localClusterCertificates(dir: string): Promise<LocalClusterCertificates> {
  const expected = {
    ca: filesNamed(dir, 'ca'),
    server: filesNamed(dir, 'server'),
    etcdClient: filesNamed(dir, 'etcd-client'),
    bbsClient: filesNamed(dir, 'bbs-client'),
  };
  if (await stillValid(expected.ca, [expected.server, expected.etcdClient, expected.bbsClient], expected.server)) {
    return { dir, ...expected, created: false };
  }
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const ca = await createCertificateAuthority(dir, 'ca', 'diego-local-ca');
  return {
    dir,
    ca,
    server: await issueCertificate(ca, dir, 'server', 'server'),
    etcdClient: await issueCertificate(ca, dir, 'etcd-client', 'client'),
    bbsClient: await issueCertificate(ca, dir, 'bbs-client', 'client'),
    created: true,
  };
}

function filesNamed(dir: string, name: string): CertificateFiles {
  return { certFile: join(dir, `${name}.crt`), keyFile: join(dir, `${name}.key`) };
}

/** Whether every file is there and sound: each leaf signed by the CA, keys matching, the server valid for loopback. */
async function stillValid(ca: CertificateFiles, leaves: CertificateFiles[], server: CertificateFiles): Promise<boolean> {
  try {
    const caCert = await loadPair(ca);
    if (caCert === null || !caCert.ca) return false;
    for (const leaf of leaves) {
      const cert = await loadPair(leaf);
      if (cert === null || !cert.checkIssued(caCert) || !cert.verify(caCert.publicKey)) return false;
      if (leaf === server && !validForLoopback(cert)) return false;
    }
    return true;
  } catch {
    // Missing, unreadable or unparsable: made anew.
    return false;
  }
}

/** The certificate when its key matches it and it stays valid long enough; otherwise null. */
async function loadPair(files: CertificateFiles): Promise<X509Certificate | null> {
  await access(files.keyFile);
  const cert = new X509Certificate(await readFile(files.certFile));
  if (!cert.checkPrivateKey(createPrivateKey(await readFile(files.keyFile)))) return null;
  const now = Date.now();
  if (Date.parse(cert.validFrom) > now || Date.parse(cert.validTo) < now + MIN_REMAINING_VALIDITY_MS) return null;
  return cert;
}

function validForLoopback(cert: X509Certificate): boolean {
  return LOOPBACK_IPS.every((ip) => cert.checkIP(ip) !== undefined) && LOOPBACK_HOSTS.every((host) => cert.checkHost(host) !== undefined);
}

/** A new P-256 key at `<dir>/<name>.key`, mode 0600 (replacing any there); the certificate goes next to it. */
async function newKey(dir: string, name: string): Promise<CertificateFiles> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const files = filesNamed(dir, name);
  const { privateKey } = await generateKeyPairAsync('ec', { namedCurve: 'P-256' });
  // Removed first: writeFile's mode applies only to a file it creates.
  await rm(files.keyFile, { force: true });
  await writeFile(files.keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' });
  return files;
}

/** A positive 127-bit serial number, so that no two certificates of one CA share one. */
function randomSerial(): string {
  const serial = randomBytes(16);
  serial[0] = (serial[0] ?? 0) & 0x7f;
  return `0x${serial.toString('hex')}`;
}

/** Runs `work` with the extensions config in a temp directory of its own, removed afterwards. */
async function withOpensslConfig(work: (config: string, workDir: string) => Promise<void>): Promise<void> {
  const workDir = await mkdtemp(join(tmpdir(), 'diego-openssl-'));
  try {
    const config = join(workDir, 'extensions.cnf');
    await writeFile(config, EXTENSIONS);
    await work(config, workDir);
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}

const execFileAsync = promisify(execFile);

async function openssl(args: string[]): Promise<void> {
  try {
    await execFileAsync('openssl', args);
  } catch (err) {
    const code = typeof err === 'object' && err !== null && 'code' in err ? err.code : null;
    if (code === 'ENOENT') {
      throw new Error('openssl is not on the PATH: `npm run setup` installs it (Debian package openssl), or run `sudo apt-get install openssl`');
    }
    // openssl's stderr names files and steps, never key material.
    const stderr = typeof err === 'object' && err !== null && 'stderr' in err ? String(err.stderr).trim() : '';
    throw new Error(`openssl ${args[0] ?? ''} failed: ${stderr || String(err)}`);
  }
}
