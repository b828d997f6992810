/**
 * The converger's collaborators for tests: a store on the test file's own etcd key space with a clock the test
 * moves, a fake rep (an outbound collaborator: a cell's rep cannot be started here), and recorders standing in
 * for the auctioneer's and the completion workers' intakes (internal collaborators whose own tests place and
 * call back; here only what convergence hands them matters).
 */
import { createServer, type Server } from 'node:http';
import pino from 'pino';
import {
  ActualLRPController, EtcdDb, LRPConvergenceController, TaskConvergenceController, type AuctionRequester, type LRPStartRequest, type TaskCompletionSubmitter, type TaskStartRequest,
} from '@diego/bbs';
import { HttpRepClient } from '@diego/rep-api';
import type { Task } from '@diego/models';
import { testKeySpace, type TestKeySpace } from '@diego/test-support';

export const silentLogger = pino({ level: 'silent' });

/** 2023-11-14T22:13:20Z in Unix nanoseconds. */
export const START_NS = 1_700_000_000_000_000_000n;
export const SECOND_NS = 1_000_000_000n;

export class RecordingAuctioneer implements AuctionRequester {
  readonly lrpStarts: LRPStartRequest[] = [];
  readonly taskStarts: TaskStartRequest[] = [];

  requestLRPAuctions(starts: LRPStartRequest[]): void {
    this.lrpStarts.push(...starts);
  }

  requestTaskAuctions(tasks: TaskStartRequest[]): void {
    this.taskStarts.push(...tasks);
  }
}

export class RecordingCompletions implements TaskCompletionSubmitter {
  readonly submitted: Task[] = [];

  submit(task: Task): void {
    this.submitted.push(task);
  }
}

export interface ConvergenceUnderTest {
  keys: TestKeySpace;
  db: EtcdDb;
  /** Sets the store's and the converger's clock (Unix ns). */
  setNow(now: bigint): void;
  auctioneer: RecordingAuctioneer;
  completions: RecordingCompletions;
  lrps: LRPConvergenceController;
  tasks: TaskConvergenceController;
  /** Where a cell's rep is reached: `http://127.0.0.1:<port>`. */
  repUrl: string;
  /** `POST <path>`s the rep received. */
  repRequests: string[];
}

/** Registers before/after hooks; call the returned function inside a test. */
export function useConvergence(): () => ConvergenceUnderTest {
  let current: { under: ConvergenceUnderTest; rep: Server } | undefined;
  beforeEach(async () => {
    const keys = testKeySpace();
    let now = START_NS;
    const clock = (): bigint => now;
    const db = new EtcdDb(keys.namespace, { logger: silentLogger, clock });
    const repRequests: string[] = [];
    const rep = createServer((request, response) => {
      repRequests.push(`${request.method ?? ''} ${request.url ?? ''}`);
      request.resume();
      response.writeHead(202).end();
    });
    await new Promise<void>((resolve) => rep.listen(0, '127.0.0.1', resolve));
    const address = rep.address();
    if (address === null || typeof address === 'string') throw new Error('the fake rep is not on a TCP port');
    const auctioneer = new RecordingAuctioneer();
    const completions = new RecordingCompletions();
    const actualLRPs = new ActualLRPController(db, new HttpRepClient(), silentLogger);
    current = {
      rep,
      under: {
        keys,
        db,
        setNow: (value) => {
          now = value;
        },
        auctioneer,
        completions,
        lrps: new LRPConvergenceController({ db, actualLRPs, auctioneer, logger: silentLogger, clock }),
        tasks: new TaskConvergenceController({ db, auctioneer, completions, logger: silentLogger, clock }),
        repUrl: `http://127.0.0.1:${address.port}`,
        repRequests,
      },
    };
  });
  afterEach(async () => {
    if (current === undefined) return;
    current.rep.closeAllConnections();
    await new Promise<void>((resolve) => current?.rep.close(() => resolve()));
    await current.under.keys.cleanup();
    current = undefined;
  });
  return () => {
    if (current === undefined) throw new Error('useConvergence() is only available inside a test');
    return current.under;
  };
}
