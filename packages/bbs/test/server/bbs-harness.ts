/**
 * A real BBS server per test, on port 0, over its own key prefix of the shared test etcd, driven through the
 * real HttpBbsClient. `db` is a store on the same key space, for what no BBS route does (registering cells).
 */
import { createServer, type Server } from 'node:http';
import pino from 'pino';
import { EtcdDb, startBbsServer } from '@diego/bbs';
import { HttpBbsClient } from '@diego/bbs-client';
import type { RunningServer } from '@diego/server-support';
import { testKeySpace, type TestKeySpace } from '@diego/test-support';

export const silentLogger = pino({ level: 'silent' });

export interface BbsUnderTest {
  server: RunningServer;
  /** `http://127.0.0.1:<port>` */
  url: string;
  client: HttpBbsClient;
  db: EtcdDb;
  keys: TestKeySpace;
}

/** Registers before/after hooks; call the returned function inside a test. */
export function useBbs(): () => BbsUnderTest {
  let current: BbsUnderTest | undefined;
  beforeEach(async () => {
    const keys = testKeySpace();
    // The server's own store, so that what a test writes through it the server reads at once.
    const db = new EtcdDb(keys.namespace, { logger: silentLogger, view: true });
    const server = await startBbsServer({ etcd: keys.namespace, listenAddress: '127.0.0.1:0', logger: silentLogger, db });
    const url = `http://${server.address}`;
    current = { server, url, client: new HttpBbsClient([url]), db, keys };
  });
  afterEach(async () => {
    current?.client.close();
    await current?.server.stop();
    current?.db.close();
    await current?.keys.cleanup();
    current = undefined;
  });
  return () => {
    if (current === undefined) throw new Error('useBbs() is only available inside a test');
    return current;
  };
}

export interface RepRequest {
  method: string;
  path: string;
}

/** A cell's rep, faked: answers 202 to everything and records what it was asked. */
export interface FakeRep {
  /** `http://127.0.0.1:<port>`, what a cell registers as its rep_address. */
  url: string;
  requests: RepRequest[];
  close(): Promise<void>;
}

export function useFakeRep(): () => FakeRep {
  let current: { rep: FakeRep; server: Server } | undefined;
  beforeEach(async () => {
    const requests: RepRequest[] = [];
    const server = createServer((request, response) => {
      requests.push({ method: request.method ?? '', path: request.url ?? '' });
      request.resume();
      response.writeHead(202).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = portOf(server);
    const rep: FakeRep = {
      url: `http://127.0.0.1:${port}`,
      requests,
      close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    };
    current = { rep, server };
  });
  afterEach(async () => {
    current?.server.closeAllConnections();
    await current?.rep.close();
    current = undefined;
  });
  return () => {
    if (current === undefined) throw new Error('useFakeRep() is only available inside a test');
    return current.rep;
  };
}

/** A port nothing listens on: the kernel handed it out, and it was released again. */
export async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = portOf(server);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function portOf(server: Server): number {
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('not listening on a TCP port');
  return address.port;
}
