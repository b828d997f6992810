/**
 * How the BBS's etcd3 client handles faults. etcd3's defaults turn one request's failure into everyone's: its
 * per-host circuit breaker opens for 5 s after three recoverable failures of any kind, so three oversized writes
 * (RESOURCE_EXHAUSTED) or three proposals during a leader election failed every write of every client. Here the
 * breaker counts only what says the member itself is unwell, and etcd3's own retries are limited to calls that
 * never reached a member: whether any other call may be repeated is the store's decision (faults.ts), since a
 * repeated compare-and-swap must judge its own earlier success.
 */
import { rootCertificates } from 'node:tls';
import { circuitBreaker, ConsecutiveBreaker, handleWhen, retry } from 'cockatiel';
import type { IOptions } from 'etcd3';
import type { EtcdTlsMaterial } from '@diego/tls';
import { ETCD_ATTEMPT_TIMEOUT_MS, isHostFailure, neverReachedEtcd } from './faults';

/**
 * gRPC's receive limit for answers. Lists are paged to about 2 MiB, but a page that meets larger records than the
 * last is allowed more room than gRPC's 4 MiB default.
 */
const ETCD_MAX_RECEIVE_BYTES = 64 * 1024 * 1024;
/** Consecutive host failures (refused, dropped, no answer in time) that take a member out of rotation. */
const HOST_FAILURES_TO_OPEN = 3;
/** How long a member is left alone before one call probes it again; short, as the store is retrying meanwhile. */
const HOST_HALF_OPEN_AFTER_MS = 1_000;

/**
 * The options of the BBS's `Etcd3` client for the given members; `tls` for https members (read by readEtcdTls):
 * the CA that signed etcd's certificate (null: the system's) and the client certificate etcd may require.
 *
 * @example
 *   const etcd = new Etcd3(etcdClientOptions(['http://10.0.0.1:2379', 'http://10.0.0.2:2379']));
 */
export function etcdClientOptions(hosts: string[], tls: EtcdTlsMaterial | null = null): IOptions {
  return {
    hosts,
    ...(tls === null
      ? {}
      : {
          credentials: {
            rootCertificate: tls.ca ?? Buffer.from(rootCertificates.join('\n')),
            ...(tls.clientCertificate === null ? {} : { certChain: tls.clientCertificate.cert, privateKey: tls.clientCertificate.key }),
          },
        }),
    grpcOptions: { 'grpc.max_receive_message_length': ETCD_MAX_RECEIVE_BYTES },
    // Streams (watches, lease keep-alives) live on; a unary call that hangs on a stopped member is cut and retried.
    defaultCallOptions: (context) => (context.isStream ? {} : { deadline: Date.now() + ETCD_ATTEMPT_TIMEOUT_MS }),
    faultHandling: {
      host: () =>
        circuitBreaker(handleWhen(isHostFailure), {
          halfOpenAfter: HOST_HALF_OPEN_AFTER_MS,
          breaker: new ConsecutiveBreaker(HOST_FAILURES_TO_OPEN),
        }),
      // Each global retry picks another member: safe only for a call no member received.
      global: retry(handleWhen(neverReachedEtcd), { maxAttempts: Math.max(1, hosts.length - 1) }),
    },
  };
}
