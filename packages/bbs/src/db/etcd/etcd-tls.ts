/**
 * The BBS towards etcd over TLS (`-etcdCluster=https://... -etcdCaFile -etcdCertFile -etcdKeyFile`): the files are
 * read and checked at start, and each member is asked once over https whether it accepts them, so that a wrong or
 * missing client certificate stops the BBS at once with the reason, instead of every store call failing later with
 * gRPC's "no connection established".
 */
import https from 'node:https';
import { type EtcdTlsFiles, describeTlsFailure, readEtcdTls, TlsFileError, type EtcdTlsMaterial } from '@diego/tls';

/** How long the start-up probe waits for a member's TLS handshake and answer. */
const PROBE_TIMEOUT_MS = 5_000;

/**
 * The TLS material for `cluster`: null for http members, read from `files` for https ones (null files: the
 * system's CAs and no client certificate). Refuses a mix of http and https members, and TLS files for http ones
 * (they would be silently unused, and the store unencrypted).
 */
export async function etcdTlsFor(cluster: readonly string[], files: EtcdTlsFiles | null | undefined): Promise<EtcdTlsMaterial | null> {
  const secure = cluster.filter((url) => url.startsWith('https://'));
  const given = files !== null && files !== undefined && (files.caFile !== null || files.certFile !== null || files.keyFile !== null) ? files : null;
  if (secure.length === 0) {
    if (given !== null) {
      throw new TlsFileError('-etcdCaFile, -etcdCertFile and -etcdKeyFile are for https -etcdCluster URLs, and these are http: use https:// URLs');
    }
    return null;
  }
  if (secure.length !== cluster.length) throw new TlsFileError('-etcdCluster mixes http and https URLs: etcd is reached over TLS or not at all');
  return given === null ? { ca: null, clientCertificate: null } : readEtcdTls(given);
}

/**
 * Rejects when a member refuses this TLS configuration (or presents a certificate this side does not trust),
 * saying why. A member that cannot be reached now is no reason to stop: the store retries it as it does any
 * member that is down.
 */
export async function checkEtcdTls(cluster: readonly string[], tls: EtcdTlsMaterial): Promise<void> {
  const failures = (await Promise.all(cluster.map((url) => tlsFailureOf(url, tls)))).filter((failure) => failure !== null);
  if (failures.length > 0) throw new Error(failures.join('; '));
}

function tlsFailureOf(url: string, tls: EtcdTlsMaterial): Promise<string | null> {
  return new Promise((resolve) => {
    const request = https.get(`${url.replace(/\/+$/, '')}/health`, {
      agent: false,
      timeout: PROBE_TIMEOUT_MS,
      ...(tls.ca === null ? {} : { ca: tls.ca }),
      ...(tls.clientCertificate === null ? {} : { cert: tls.clientCertificate.cert, key: tls.clientCertificate.key }),
    });
    // Whatever it answers, the handshake went through.
    request.once('response', (response) => {
      response.resume();
      request.destroy();
      resolve(null);
    });
    request.once('timeout', () => request.destroy());
    request.once('error', (err) => resolve(describeTlsFailure(err, `etcd at ${url}`, tls.clientCertificate !== null)));
  });
}
