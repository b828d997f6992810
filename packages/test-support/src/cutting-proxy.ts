/** A TCP proxy that a test can cut, to break a client's etcd connection under it (etcd3's test Proxy, simplified). */
import { createConnection, createServer, type Server, type Socket } from 'node:net';

export interface CuttingProxyOptions {
  /**
   * Pass the target's answers back (default true). False holds every answer back, so that a test can cut a
   * connection after the target acted on a request but before the client heard of it.
   */
  forwardAnswers?: boolean;
}

/** Forwards TCP to `target`; `cut()` breaks every connection made so far (new ones go through again). */
export class CuttingProxy {
  private readonly sockets = new Set<Socket>();
  private readonly server: Server;
  private forwardAnswers: boolean;

  constructor(target: URL, { forwardAnswers = true }: CuttingProxyOptions = {}) {
    this.forwardAnswers = forwardAnswers;
    this.server = createServer((downstream) => {
      const upstream = createConnection({ host: target.hostname, port: Number(target.port) });
      for (const [from, to] of [[downstream, upstream], [upstream, downstream]] as const) {
        this.sockets.add(from);
        from.on('error', () => to.destroy());
        from.on('close', () => {
          this.sockets.delete(from);
          to.destroy();
        });
        // Answers held back are dropped: the connection is only good for cutting then.
        from.on('data', (chunk: Buffer) => {
          if (from === downstream || this.forwardAnswers) to.write(chunk);
        });
      }
    });
  }

  /** From now on, on every connection, pass the target's answers back or hold them back (see `forwardAnswers`). */
  setForwardAnswers(forward: boolean): void {
    this.forwardAnswers = forward;
  }

  /** Listens on a free loopback port; resolves with it. */
  async listen(): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    const address = this.server.address();
    if (address === null || typeof address === 'string') throw new Error('no TCP address');
    return address.port;
  }

  cut(): void {
    for (const socket of this.sockets) socket.destroy();
  }

  async stop(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
