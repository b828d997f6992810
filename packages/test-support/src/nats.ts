import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { freePorts, terminate } from './etcd';

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
  const exited = new Promise<string>((resolve) => {
    child.once('error', (err: NodeJS.ErrnoException) =>
      resolve(err.code === 'ENOENT' ? 'nats-server not found on the PATH nor in /usr/sbin (npm run setup installs it)' : err.message));
    child.once('exit', (code, signal) => resolve(`exited with ${signal ?? `code ${code}`}`));
  });
  const killOnExit = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      await terminate(child, exited);
      process.removeListener('exit', killOnExit);
    })();
    return stopped;
  };

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
