/**
 * A container port reached at a host port, by a TCP proxy in the cell (what docker-proxy does) rather than DNAT:
 * it answers connections to 127.0.0.1 too (DNAT does not without route_localnet), and when the cell dies its
 * listeners die with it, leaving no firewall rule behind.
 */
import { createConnection, createServer, type Socket } from 'node:net';

export interface PortForwardSpec {
  /** The cell's address to listen on ('0.0.0.0' for all, '127.0.0.1' for local clients only). */
  listenHost: string;
  /** 0 lets the kernel choose one; PortForward.hostPort says which. */
  hostPort: number;
  targetIp: string;
  targetPort: number;
}

export interface PortForward {
  /** The port listened on. */
  readonly hostPort: number;
  /** Closes the listener and every open connection. */
  close(): Promise<void>;
}

/**
 * Listens on `listenHost:hostPort` and pipes each connection to `targetIp:targetPort`, both ways with backpressure
 * and half-close (a client that ends its side still gets the answer); an error on either side destroys both.
 *
 * @example
 *   const forward = await forwardPort({ listenHost: '0.0.0.0', hostPort: 61001, targetIp: container.ip, targetPort: 8080 });
 *   // ... the container stops:
 *   await forward.close();
 */
export async function forwardPort({ listenHost, hostPort, targetIp, targetPort }: PortForwardSpec): Promise<PortForward> {
  const sockets = new Set<Socket>();
  const track = (socket: Socket): void => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  };
  const server = createServer({ allowHalfOpen: true }, (client) => {
    track(client);
    const upstream = createConnection({ host: targetIp, port: targetPort, allowHalfOpen: true });
    track(upstream);
    // pipe() rather than stream.pipeline(): pipeline destroys the destination socket once its source ended,
    // which can cut the answer a half-closed client still waits for. pipe() ends the other side and keeps
    // backpressure; an error or an abrupt close on either side destroys both.
    const destroyBoth = (): void => {
      client.destroy();
      upstream.destroy();
    };
    for (const socket of [client, upstream]) {
      socket.once('error', destroyBoth);
      socket.once('close', (hadError) => hadError && destroyBoth());
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(hostPort, listenHost, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const listening = typeof address === 'object' && address !== null ? address.port : hostPort;
  let closed: Promise<void> | undefined;
  return {
    hostPort: listening,
    close: () => {
      closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
      return closed;
    },
  };
}
