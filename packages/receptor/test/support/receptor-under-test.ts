/**
 * The receptor app wired to a real BBS, started in-process on the test file's own etcd key space. Each test
 * file starts one in `beforeAll` and stops it in `afterAll`; tests keep apart by unique guids and domains.
 */
import { createServer } from 'node:net';
import { Writable } from 'node:stream';
import type { Express } from 'express';
import pino, { type Logger } from 'pino';
import { HttpBbsClient, type BbsClient } from '@diego/bbs-client';
import { startBbsServer, type Clock } from '@diego/bbs';
import type { RunningServer } from '@diego/server-support';
import { testKeySpace, type TestKeySpace } from '@diego/test-support';
import { createReceptorApp } from '../../src';
import type { LatticePaths } from '../../src/handlers/lattice-handlers';

/** Every log line the receptor wrote, parsed. */
export class CapturedLogs {
  readonly lines: string[] = [];

  readonly logger: Logger = pino(
    { level: 'debug' },
    new Writable({
      write: (chunk: Buffer, _encoding, done) => {
        this.lines.push(...chunk.toString('utf8').split('\n').filter((line) => line !== ''));
        done();
      },
    }),
  );

  entries(): Record<string, unknown>[] {
    return this.lines.map((line): Record<string, unknown> => JSON.parse(line));
  }
}

export interface ReceptorOptions {
  username?: string;
  password?: string;
  corsEnabled?: boolean;
  /** The BBS client the receptor uses; the real one by default (tests may wrap it to inject faults). */
  wrapBbs?: (bbs: BbsClient) => BbsClient;
  /** Where Lattice's /v1/sync and /v1/version read from; nothing by default. */
  lattice?: LatticePaths;
}

export interface ReceptorUnderTest {
  /** The receptor app, for supertest. */
  app: Express;
  /** The BBS client, to act as a cell would (claim, start) or to seed state. */
  bbs: HttpBbsClient;
  bbsUrl: string;
  keys: TestKeySpace;
  logs: CapturedLogs;
  /** A receptor app with other options, on the same BBS. */
  appWith(options: ReceptorOptions): Express;
  stop(): Promise<void>;
}

export interface BbsOptions {
  /** The BBS's clock (Unix nanoseconds), to make timestamps known in advance. */
  clock?: Clock;
}

export async function startReceptorUnderTest(
  options: ReceptorOptions = {},
  { clock }: BbsOptions = {},
): Promise<ReceptorUnderTest> {
  const keys = testKeySpace();
  let bbsServer: RunningServer;
  try {
    bbsServer = await startBbsServer({
      etcd: keys.namespace,
      listenAddress: '127.0.0.1:0',
      logger: pino({ level: 'silent' }),
      ...(clock === undefined ? {} : { clock }),
    });
  } catch (err) {
    await keys.cleanup();
    throw err;
  }
  const bbsUrl = `http://${bbsServer.address}`;
  const bbs = new HttpBbsClient([bbsUrl]);
  const logs = new CapturedLogs();
  const appWith = ({ username = '', password = '', corsEnabled = false, wrapBbs, lattice }: ReceptorOptions): Express =>
    createReceptorApp({
      bbs: wrapBbs === undefined ? bbs : wrapBbs(bbs),
      username,
      password,
      corsEnabled,
      logger: logs.logger,
      ...(lattice === undefined ? {} : { lattice }),
    });
  return {
    app: appWith(options),
    bbs,
    bbsUrl,
    keys,
    logs,
    appWith,
    async stop() {
      bbs.close();
      try {
        await bbsServer.stop();
      } finally {
        await keys.cleanup();
      }
    },
  };
}

/** A URL where nothing listens: a port the kernel handed out and took back. */
export async function deadBbsUrl(): Promise<string> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const address = probe.address();
  await new Promise((resolve) => probe.close(resolve));
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  return `http://127.0.0.1:${address.port}`;
}
