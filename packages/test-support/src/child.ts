/** The life of a server process a test starts (etcd, docker-registry, nats-server): how it ended, and its stop. */
import type { ChildProcess } from 'node:child_process';

/** How long a stopped process has after SIGTERM before it gets SIGKILL. */
const STOP_GRACE_MS = 5000;

/** Resolves, once the process is gone, with why: `exited with code 1`, `exited with SIGKILL`, or why it never ran. */
export function exitOf(child: ChildProcess, notFound = 'not found on PATH'): Promise<string> {
  return new Promise<string>((resolve) => {
    child.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ENOENT' ? notFound : err.message));
    child.once('exit', (code, signal) => resolve(`exited with ${signal ?? `code ${code}`}`));
  });
}

/** SIGTERM, then SIGKILL if it is still there after a grace period; resolves once it has exited. */
export async function terminate(child: ChildProcess, exited: Promise<string>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
  await exited;
  clearTimeout(timer);
}

export interface ManagedChild {
  /** See `exitOf`. */
  exited: Promise<string>;
  /** Terminates the process, then runs `cleanUp` (its data directory...). Safe to call twice. */
  stop(): Promise<void>;
}

/**
 * Watches `child` for its exit, kills it if this Node process exits first (a failing test run leaks no server),
 * and gives it a stop.
 *
 * @example
 *   const { exited, stop } = manageChild(spawn('nats-server', args), { notFound: 'nats-server not found' });
 */
export function manageChild(child: ChildProcess, options: { notFound?: string; cleanUp?: () => unknown } = {}): ManagedChild {
  const exited = exitOf(child, options.notFound);
  const killOnExit = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);
  let stopped: Promise<void> | undefined;
  return {
    exited,
    stop: () => {
      stopped ??= (async () => {
        await terminate(child, exited);
        process.removeListener('exit', killOnExit);
        await options.cleanUp?.();
      })();
      return stopped;
    },
  };
}
