/**
 * The completion callback's receiver (the CC, in Diego), stood in for by a real HTTP server that records every
 * request and answers as the test scripts it; and started TaskCompletionWorkers on a test's own key space.
 */
import { createServer, type ServerResponse } from 'node:http';
import type { Namespace } from 'etcd3';
import pino, { type Logger } from 'pino';
import { TaskCompletionWorkers, type TaskCompletionStore, type TaskCompletionWorkersOptions } from '@diego/bbs';
import { eventually } from '@diego/test-support';

export interface ReceivedCallback {
  method: string;
  path: string;
  contentType: string | undefined;
  body: string;
}

/** How the receiver answers one request: with a status, by holding it unanswered, or by closing the connection. */
export type Answer = number | 'hold' | 'close';

export interface CallbackReceiver {
  /** `http://127.0.0.1:<port>/callbacks/<name>` */
  url(name: string): string;
  received: ReceivedCallback[];
  /** Requests of `name` received so far. */
  receivedFor(name: string): ReceivedCallback[];
  /** Answers every held request with `status`. */
  release(status: number): void;
  /** Connections open now. */
  connections(): Promise<number>;
  close(): Promise<void>;
}

/** Starts a receiver; the nth request gets `answers[n]`, and 200 once the script has run out. */
export async function startCallbackReceiver(answers: Answer[] = []): Promise<CallbackReceiver> {
  const received: ReceivedCallback[] = [];
  const held: ServerResponse[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const answer = answers[received.length] ?? 200;
      received.push({
        method: request.method ?? '',
        path: request.url ?? '',
        contentType: request.headers['content-type'],
        body: Buffer.concat(chunks).toString('utf8'),
      });
      if (answer === 'hold') held.push(response);
      else if (answer === 'close') request.socket.destroy();
      else response.writeHead(answer, { 'Content-Type': 'text/plain' }).end('answered');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('not listening on a TCP port');
  const base = `http://127.0.0.1:${address.port}/callbacks/`;
  return {
    url: (name) => `${base}${name}`,
    received,
    receivedFor: (name) => received.filter((callback) => callback.path === `/callbacks/${name}`),
    release(status) {
      for (const response of held.splice(0)) response.writeHead(status).end();
    },
    connections: () =>
      new Promise((resolve, reject) => server.getConnections((err, count) => (err ? reject(err) : resolve(count)))),
    close() {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Every log line written, parsed. */
export class LogLines {
  private readonly lines: string[] = [];
  readonly logger = pino({ level: 'debug' }, { write: (line: string) => this.lines.push(line) });

  entries(): Record<string, unknown>[] {
    return this.lines.map((line) => {
      const value: unknown = JSON.parse(line);
      if (typeof value !== 'object' || value === null) throw new Error(`not a JSON object: ${line}`);
      return Object.fromEntries(Object.entries(value));
    });
  }

  /** The lines with this event (pino's `msg`) for this task. */
  of(msg: string, taskGuid: string): Record<string, unknown>[] {
    return this.entries().filter((entry) => entry.msg === msg && entry.task_guid === taskGuid);
  }

  /** Waits for the first line with this event for this task. */
  async waitFor(msg: string, taskGuid: string): Promise<Record<string, unknown>> {
    const [entry] = await eventually(async () => this.of(msg, taskGuid), (found) => found.length > 0);
    if (entry === undefined) throw new Error(`no ${msg} for ${taskGuid}`);
    return entry;
  }
}

/** Starts workers on the key space; the test stops them (stop() is safe to call twice). */
export async function startWorkers(
  db: TaskCompletionStore,
  etcd: Namespace,
  logger: Logger,
  options: Omit<TaskCompletionWorkersOptions, 'db' | 'etcd' | 'logger'> = {},
): Promise<TaskCompletionWorkers> {
  const workers = new TaskCompletionWorkers({ db, etcd, logger, ...options });
  await workers.start();
  return workers;
}
