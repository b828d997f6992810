/** What every `diego <command>` shares: its shape, how it is parsed and run, and how it is stopped. */
import pino, { type Logger } from 'pino';
import type { LogLevel, RunningServer } from '@diego/server-support';
import { formatHelp, parseFlags, UsageError, type Environment, type FlagSet, type FlagValues } from './flags';

/** Where a command writes, and the environment its flags fall back to. Tests pass their own. */
export interface CliIo {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
  readonly env: Environment;
}

/** A flag that was given but has no effect in this design, and why (FlagDef.ignoredBecause). */
export interface IgnoredFlag {
  flag: string;
  reason: string;
}

/** What parsing learned that the running command reports once it has a logger. */
export interface StartNotes {
  ignoredFlags: IgnoredFlag[];
}

/** Logs each ignored flag once, by name and reason (never its value: it may be a password or a key). */
export function logIgnoredFlags(logger: Logger, notes: StartNotes): void {
  for (const { flag, reason } of notes.ignoredFlags) logger.info({ flag, reason }, 'flag-ignored');
}

/**
 * A subcommand: its flags, the checks that span several of them (compile), and what it does (run).
 *
 * @example
 * const config = parseCommandLine(bbsCommand, ['--listenAddress=127.0.0.1:8889'], {});
 */
export interface Command<F extends FlagSet, C> {
  readonly name: string;
  /** One line for `diego` without a command. */
  readonly summary: string;
  /** The paragraph under the usage line of `--help`. */
  readonly description: string;
  readonly flags: F;
  /** What follows the flags in the usage line (`GUID INDEX`) for a command that takes arguments; absent: flags only. */
  readonly argumentsUsage?: string;
  /**
   * Turns valid flag values (and the arguments, for a command that takes them) into the command's configuration;
   * throws UsageError for combinations that make no sense.
   */
  compile(values: FlagValues<F>, args: readonly string[]): C;
  /** Runs until done or stopped; resolves to the process exit code. */
  run(config: C, io: CliIo, notes: StartNotes): Promise<number>;
}

/**
 * Parses and validates a command's arguments (and its environment variables) into its configuration,
 * or `null` when help was asked for.
 *
 * @throws UsageError
 */
export function parseCommandLine<F extends FlagSet, C>(
  command: Command<F, C>,
  args: readonly string[],
  env: Environment,
): C | null {
  return parseWithNotes(command, args, env)?.config ?? null;
}

/** `parseCommandLine`, with the flags given that this design ignores. */
export function parseWithNotes<F extends FlagSet, C>(
  command: Command<F, C>,
  args: readonly string[],
  env: Environment,
): { config: C; notes: StartNotes } | null {
  const parsed = parseFlags(command.name, command.flags, args, env, command.argumentsUsage !== undefined);
  if (parsed.kind === 'help') return null;
  const config = command.compile(parsed.values, parsed.args);
  const ignoredFlags = parsed.given.flatMap((flag) => {
    const reason = command.flags[flag]?.ignoredBecause;
    return reason === undefined ? [] : [{ flag, reason }];
  });
  return { config, notes: { ignoredFlags } };
}

/** Parses, then runs; a usage error is printed with a pointer to --help and is exit code 2, as with Go's flag. */
export async function runCommand<F extends FlagSet, C>(command: Command<F, C>, args: readonly string[], io: CliIo): Promise<number> {
  let parsed: { config: C; notes: StartNotes } | null;
  try {
    parsed = parseWithNotes(command, args, io.env);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.stderr.write(`diego ${command.name}: ${error.message}\nRun 'diego ${command.name} --help' for its flags.\n`);
    return 2;
  }
  if (parsed === null) {
    io.stdout.write(formatHelp(command.name, command.description, command.flags, command.argumentsUsage));
    return 0;
  }
  return command.run(parsed.config, io, parsed.notes);
}

/**
 * SIGINT/SIGTERM as a promise. A second signal while stopping exits at once (exit handlers still run), unless
 * it comes within a second of the first: that is one Ctrl-C delivered twice, by the terminal to our whole
 * process group and again by `npm start`, which forwards the signals it gets to its script.
 */
export interface StopSignals {
  /** Resolves with the first signal received. */
  readonly received: Promise<NodeJS.Signals>;
  /** Aborted at the first signal, for start-up steps that should give up early. */
  readonly aborted: AbortSignal;
  /** Removes the handlers (Node's default handling comes back). */
  dispose(): void;
}

const SAME_SIGNAL_WINDOW_MS = 1000;

export function listenForStopSignals(io: CliIo): StopSignals {
  const controller = new AbortController();
  let resolveReceived: (signal: NodeJS.Signals) => void = () => undefined;
  const received = new Promise<NodeJS.Signals>((resolve) => {
    resolveReceived = resolve;
  });
  let firstAt = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (controller.signal.aborted) {
      if (Date.now() - firstAt < SAME_SIGNAL_WINDOW_MS) return;
      io.stderr.write(`diego: ${signal} again, exiting without waiting\n`);
      process.exit(1);
    }
    firstAt = Date.now();
    controller.abort();
    resolveReceived(signal);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    received,
    aborted: controller.signal,
    dispose: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

/**
 * Runs one server until SIGINT or SIGTERM, then stops it: the whole life of `diego bbs` and `diego receptor`.
 * Exit code 0 after a clean stop, 1 when it could not start.
 */
export async function serveUntilStopped(
  command: string,
  logLevel: LogLevel,
  start: () => Promise<RunningServer>,
  io: CliIo,
  notes: StartNotes,
): Promise<number> {
  // The command's own lifecycle events; the server logs for itself.
  const logger = pino({ name: `diego-${command}`, level: logLevel });
  logIgnoredFlags(logger, notes);
  const signals = listenForStopSignals(io);
  try {
    let server: RunningServer;
    try {
      server = await start();
    } catch (err) {
      logger.fatal({ err }, 'failed-to-start');
      return 1;
    }
    const signal = await signals.received;
    logger.info({ signal, address: server.address }, 'stopping');
    await server.stop();
    logger.info('stopped');
    return 0;
  } finally {
    signals.dispose();
  }
}
