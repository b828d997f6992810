/**
 * Reading the PEM files a process is given for TLS, once at start. Every mistake is refused with the flag and
 * the file it is about, never with the file's contents: a file that cannot be read, that holds no certificate or
 * no usable key, a certificate without its key, a key that is not the certificate's.
 */
import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';

/** PEM files for mutual TLS: the CA that signs the other side's certificate, and this side's certificate and key. */
export interface MutualTlsFiles {
  caFile: string;
  certFile: string;
  keyFile: string;
}

/**
 * How the BBS reaches etcd over https (`-etcdCaFile -etcdCertFile -etcdKeyFile`): the CA that signed etcd's
 * certificate (null: the system's CAs) and, for an etcd run with `--client-cert-auth`, the client certificate and
 * key (both or neither; null: none).
 */
export interface EtcdTlsFiles {
  caFile: string | null;
  certFile: string | null;
  keyFile: string | null;
}

/** PEM contents for one side of mutual TLS: the CA that signs the other side, this side's certificate and key. */
export interface TlsMaterial {
  ca: Buffer;
  cert: Buffer;
  key: Buffer;
}

/** The BBS towards etcd: its CA (null: the system's) and a client certificate with its key (both or neither). */
export interface EtcdTlsMaterial {
  ca: Buffer | null;
  clientCertificate: { cert: Buffer; key: Buffer } | null;
}

/** The flag each file was given by, for errors. */
export interface TlsFlagNames {
  caFile: string;
  certFile: string;
  keyFile: string;
}

/** `diego bbs -requireSSL`'s files. */
export const BBS_SERVER_TLS_FLAGS: TlsFlagNames = { caFile: '-caFile', certFile: '-certFile', keyFile: '-keyFile' };
/** `diego bbs`'s files towards etcd. */
export const ETCD_TLS_FLAGS: TlsFlagNames = { caFile: '-etcdCaFile', certFile: '-etcdCertFile', keyFile: '-etcdKeyFile' };
/** A BBS client's files (the receptor's, the cell's). */
export const BBS_CLIENT_TLS_FLAGS: TlsFlagNames = { caFile: '-bbsCACert', certFile: '-bbsClientCert', keyFile: '-bbsClientKey' };

/** A TLS file that cannot be used as given. */
export class TlsFileError extends Error {
  override readonly name = 'TlsFileError';
}

/**
 * Reads and checks the three files of one side of mutual TLS.
 *
 * @example
 *   const tls = await readMutualTls(config.bbsTls, BBS_CLIENT_TLS_FLAGS);
 *   const bbs = new HttpBbsClient(config.bbsAddress, { tls });
 */
export async function readMutualTls(files: MutualTlsFiles, flags: TlsFlagNames): Promise<TlsMaterial> {
  const ca = await readCertificates(files.caFile, flags.caFile);
  const { cert, key } = await readCertificateAndKey(files.certFile, files.keyFile, flags);
  return { ca, cert, key };
}

/** Reads and checks the BBS's etcd TLS files; a certificate and a key go together. */
export async function readEtcdTls(files: EtcdTlsFiles): Promise<EtcdTlsMaterial> {
  const flags = ETCD_TLS_FLAGS;
  const ca = files.caFile === null ? null : await readCertificates(files.caFile, flags.caFile);
  if (files.certFile === null && files.keyFile === null) return { ca, clientCertificate: null };
  if (files.certFile === null) throw new TlsFileError(`${flags.keyFile} is given without ${flags.certFile}: give both or neither`);
  if (files.keyFile === null) throw new TlsFileError(`${flags.certFile} is given without ${flags.keyFile}: give both or neither`);
  return { ca, clientCertificate: await readCertificateAndKey(files.certFile, files.keyFile, flags) };
}

async function readCertificateAndKey(certFile: string, keyFile: string, flags: TlsFlagNames): Promise<{ cert: Buffer; key: Buffer }> {
  const cert = await readCertificates(certFile, flags.certFile);
  const key = await readTlsFile(keyFile, flags.keyFile);
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(key);
  } catch {
    throw new TlsFileError(`${flags.keyFile} ${keyFile} holds no usable private key (it must be PEM, without a passphrase)`);
  }
  if (!new X509Certificate(cert).checkPrivateKey(privateKey)) {
    throw new TlsFileError(`${flags.keyFile} ${keyFile} is not the key of ${flags.certFile} ${certFile}`);
  }
  return { cert, key };
}

/** A PEM file whose first certificate parses (a CA file may hold several). */
async function readCertificates(file: string, flag: string): Promise<Buffer> {
  const pem = await readTlsFile(file, flag);
  try {
    new X509Certificate(pem);
  } catch {
    throw new TlsFileError(`${flag} ${file} holds no PEM certificate`);
  }
  return pem;
}

async function readTlsFile(file: string, flag: string): Promise<Buffer> {
  if (file === '') throw new TlsFileError(`${flag} is empty: it must name a PEM file`);
  try {
    return await readFile(file);
  } catch (err) {
    const code = typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : 'unknown error';
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'it is a directory' : code;
    throw new TlsFileError(`${flag} ${file} cannot be read: ${why}`);
  }
}
