/**
 * What a failed TLS connection means, in words an operator can act on. Node reports OpenSSL's alerts and its own
 * verification results as error codes; these are the ones a misconfigured mutual TLS produces.
 */

/**
 * The other side's alerts when it will not take the client certificate it got, or the lack of one: TLS 1.3's
 * certificate_required, and the bad_certificate that Go's servers (etcd's among them) send in both cases.
 */
const CLIENT_CERTIFICATE_REFUSED = new Set([
  'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED',
  'ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE',
  'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA',
  'ERR_SSL_SSLV3_ALERT_CERTIFICATE_UNKNOWN',
  'ERR_SSL_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE',
  'ERR_SSL_TLSV1_ALERT_DECRYPT_ERROR',
]);
const CLIENT_CERTIFICATE_EXPIRED = new Set(['ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED']);
/** This side's verdict on the other side's certificate: not signed by a CA this side trusts. */
const SERVER_CERTIFICATE_UNTRUSTED = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
]);
const SERVER_CERTIFICATE_EXPIRED = new Set(['CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID']);
const SERVER_CERTIFICATE_WRONG_NAME = new Set(['ERR_TLS_CERT_ALTNAME_INVALID']);
/** An answer that is not TLS at all: a plain-HTTP server behind an https URL. */
const NOT_TLS = new Set(['ERR_SSL_WRONG_VERSION_NUMBER', 'ERR_SSL_PACKET_LENGTH_TOO_LONG']);

/** The error's `code`, duck-typed (errors may come from another realm, as in jest's sandbox). */
export function errorCodeOf(err: unknown): string | null {
  if (typeof err !== 'object' || err === null || !('code' in err)) return null;
  return typeof err.code === 'string' ? err.code : null;
}

/**
 * Why a TLS connection to `peer` (e.g. "etcd at https://10.0.0.1:2379") failed, or null when `err` is not a TLS
 * failure; `presentedCertificate`: whether this side offered a client certificate. Never includes certificate
 * contents.
 *
 * @example
 *   describeTlsFailure(err, 'etcd at https://127.0.0.1:2379', false)
 *   // 'etcd at https://127.0.0.1:2379 refused the TLS handshake: it requires a client certificate signed by its CA, and none was presented'
 */
export function describeTlsFailure(err: unknown, peer: string, presentedCertificate: boolean): string | null {
  const code = errorCodeOf(err);
  if (code === null) return null;
  if (CLIENT_CERTIFICATE_REFUSED.has(code)) {
    return presentedCertificate
      ? `${peer} refused the TLS handshake: it does not accept this client's certificate (not signed by the CA it trusts)`
      : `${peer} refused the TLS handshake: it requires a client certificate signed by its CA, and none was presented`;
  }
  if (CLIENT_CERTIFICATE_EXPIRED.has(code)) return `${peer} refused the TLS handshake: this client's certificate has expired`;
  if (SERVER_CERTIFICATE_UNTRUSTED.has(code)) {
    return `${peer} presented a certificate that is not signed by the CA this client trusts (${code})`;
  }
  if (SERVER_CERTIFICATE_EXPIRED.has(code)) return `${peer} presented a certificate that is not valid now (${code})`;
  if (SERVER_CERTIFICATE_WRONG_NAME.has(code)) {
    return `${peer} presented a certificate that is not valid for the address it was reached at`;
  }
  if (NOT_TLS.has(code)) return `${peer} does not speak TLS (is it served over plain http?)`;
  return null;
}

/**
 * What it means when a server that requires client certificates closes a connection right after its TLS
 * handshake, before answering anything: Node's TLS servers check a client's certificate only once the handshake is
 * done and then close the connection without an alert, so a certificate signed by another CA shows as this.
 */
export function closedAfterHandshake(peer: string): string {
  return `${peer} closed the connection right after the TLS handshake, before answering: ` +
    "most likely it does not accept this client's certificate (not signed by the CA it trusts)";
}
