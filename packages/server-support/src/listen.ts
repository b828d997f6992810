/** Listening on a Diego-style `host:port` address, shared by the BBS, the receptor and the debug server. */
import type { Server } from 'node:http';

/** Longer than any client keeps an idle connection (Go's http.Transport: 90 s). */
const KEEP_ALIVE_TIMEOUT_MS = 95_000;

/** `host:port` or `[v6]:port`; an empty host means every interface. */
export function parseListenAddress(address: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(address);
  if (match === null) throw new Error(`invalid listen address ${address}: expected host:port`);
  const port = Number(match[3]);
  if (port > 65535) throw new Error(`invalid listen address ${address}: port out of range`);
  return { host: match[1] ?? (match[2] === '' || match[2] === undefined ? '0.0.0.0' : match[2]), port };
}

/**
 * Starts `server` on `address` and resolves with the address it really listens on (port 0 picks a free port);
 * rejects when the address is taken.
 */
export async function listenOn(server: Server, address: string): Promise<string> {
  const { host, port } = parseListenAddress(address);
  // Node closes a kept-alive connection after 5 s idle, while clients keep theirs longer (Go's 90 s): a request
  // sent on a connection just as the server closes it fails with "socket hang up". Outlast the clients instead.
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  server.headersTimeout = KEEP_ALIVE_TIMEOUT_MS + 1_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = server.address();
  if (bound === null || typeof bound === 'string') throw new Error(`not listening on a TCP port: ${address}`);
  return `${host.includes(':') ? `[${host}]` : host}:${bound.port}`;
}

/** Closes the listener and every open connection (keep-alive and streams included). */
export function closeServer(server: Server): Promise<void> {
  const closed = new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
  server.closeAllConnections();
  return closed;
}
