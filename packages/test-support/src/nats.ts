import { spawn } from 'node:child_process';
import { connect, StringCodec, type NatsConnection } from 'nats';
import { randomBytes } from 'node:crypto';
import { manageChild } from './child';
import { freePorts } from './etcd';

/** A running nats-server started by {@link startNatsServer}. */
export interface NatsServerProcess {
  /** Where clients connect, `127.0.0.1:<port>` (a `-natsAddresses` entry). */
  address: string;
  port: number;
  username: string;
  password: string;
  /** Kills nats-server and waits for it to exit. Safe to call twice. */
  stop(): Promise<void>;
}

export interface StartNatsServerOptions {
  /** The port to listen on (to start a server where a client already looks for one); a free one by default. */
  port?: number;
  /** Default `nats`. */
  username?: string;
  /** Default: a random one, so that a test can look for it where it must not be. */
  password?: string;
  /** How long to wait for the server to say it is ready. */
  startTimeoutMs?: number;
}

// Debian installs nats-server in /usr/sbin, which is not on a non-root user's PATH.
const SEARCH_PATH = `${process.env.PATH ?? ''}:/usr/sbin`;
const STDERR_TAIL_CHARS = 4096;

/**
 * Starts a real nats-server (Debian's `nats-server`) on a loopback port that requires a user name and password,
 * and resolves once it logs that it is ready. The process is also killed when this Node process exits, so a failing
 * test run leaks no server.
 *
 * @example
 *   const nats = await startNatsServer();
 *   const client = await connect({ servers: `nats://${nats.address}`, user: nats.username, pass: nats.password });
 *   // ...
 *   await nats.stop();
 */
export async function startNatsServer(opts: StartNatsServerOptions = {}): Promise<NatsServerProcess> {
  const port = opts.port ?? (await freePorts(1))[0];
  if (port === undefined) throw new Error('no free port');
  const username = opts.username ?? 'nats';
  const password = opts.password ?? randomBytes(12).toString('hex');
  const child = spawn('nats-server', ['--addr', '127.0.0.1', '--port', String(port), '--user', username, '--pass', password], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, PATH: SEARCH_PATH },
  });
  const { exited, stop } = manageChild(child, { notFound: 'nats-server not found on the PATH nor in /usr/sbin (npm run setup installs it)' });

  let stderrTail = '';
  const ready = new Promise<void>((resolve) => {
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      stderrTail = (stderrTail + chunk).slice(-STDERR_TAIL_CHARS);
      if (stderrTail.includes('Server is ready')) resolve();
    });
  });
  let timer: NodeJS.Timeout | undefined;
  const failure = await Promise.race([
    ready.then(() => null),
    exited,
    new Promise<string>((resolve) => {
      timer = setTimeout(() => resolve('not ready in time'), opts.startTimeoutMs ?? 15000);
    }),
  ]);
  clearTimeout(timer);
  if (failure !== null) {
    await stop();
    throw new Error(`could not start nats-server on 127.0.0.1:${port}: ${failure}\n${stderrTail}`);
  }
  return { address: `127.0.0.1:${port}`, port, username, password, stop };
}

/** What a receptor sends on `router.register` and `router.unregister` (gorouter's registry message). */
export interface RouterRegistryMessage {
  host: string;
  port: number;
  uris: string[];
}

const codec = StringCodec();

/** What a gorouter does on NATS, recorded: it answers greetings and asks for registrations every second. */
export class RecordingRouter {
  readonly registers: RouterRegistryMessage[] = [];
  readonly unregisters: RouterRegistryMessage[] = [];
  greets = 0;

  private constructor(private readonly connection: NatsConnection) {}

  static async start(nats: NatsServerProcess): Promise<RecordingRouter> {
    const connection = await connect({ servers: `nats://${nats.address}`, user: nats.username, pass: nats.password });
    const router = new RecordingRouter(connection);
    connection.subscribe('router.register', { callback: (_err, msg) => router.registers.push(parse(msg.data)) });
    connection.subscribe('router.unregister', { callback: (_err, msg) => router.unregisters.push(parse(msg.data)) });
    connection.subscribe('router.greet', {
      callback: (_err, msg) => {
        router.greets += 1;
        msg.respond(codec.encode(JSON.stringify(router.startMessage())));
      },
    });
    // The server has our subscriptions once it answers a ping after them.
    await connection.flush();
    return router;
  }

  /** Broadcasts `router.start`, as a router does when it starts. */
  announceStart(payload: string = JSON.stringify(this.startMessage())): void {
    this.connection.publish('router.start', codec.encode(payload));
  }

  async close(): Promise<void> {
    await this.connection.close();
  }

  private startMessage(): Record<string, unknown> {
    return { id: 'recording-router', hosts: ['127.0.0.1'], minimumRegisterIntervalInSeconds: 1, prunteThresholdInSeconds: 120 };
  }
}

function parse(data: Uint8Array): RouterRegistryMessage {
  return JSON.parse(codec.decode(data)) as RouterRegistryMessage;
}
