/** `diego <command> [flags]`: dispatch to a subcommand, or usage, help and version. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCommand, type CliIo, type Command } from './command';
import type { FlagSet } from './flags';
import { bbsCommand } from './commands/bbs';
import { cellCommand } from './commands/cell';
import { receptorCommand } from './commands/receptor';
import { upCommand } from './commands/up';

interface Subcommand {
  name: string;
  summary: string;
  run(args: readonly string[], io: CliIo): Promise<number>;
}

function subcommand<F extends FlagSet, C>(command: Command<F, C>): Subcommand {
  return { name: command.name, summary: command.summary, run: (args, io) => runCommand(command, args, io) };
}

const SUBCOMMANDS: readonly Subcommand[] = [subcommand(receptorCommand), subcommand(bbsCommand), subcommand(cellCommand), subcommand(upCommand)];

function usage(): string {
  const width = Math.max(...SUBCOMMANDS.map((command) => command.name.length));
  return [
    'Usage: diego <command> [flags]',
    '',
    "Cloud Foundry Diego's control plane.",
    '',
    'Commands:',
    ...SUBCOMMANDS.map((command) => `  ${command.name.padEnd(width)}  ${command.summary}`),
    '',
    "Run 'diego <command> --help' for a command's flags and their environment variables.",
    'diego --version prints the version.',
    '',
  ].join('\n');
}

/** This package's version, read from its package.json (one directory above both src/ and dist/). */
export function version(): string {
  const manifest: unknown = JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8'));
  if (typeof manifest === 'object' && manifest !== null && 'version' in manifest && typeof manifest.version === 'string') {
    return manifest.version;
  }
  throw new Error('packages/cli/package.json has no version');
}

/** Runs the CLI with the arguments after `diego`; resolves to the exit code. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const [name, ...args] = argv;
  if (name === '--version' || name === '-version') {
    io.stdout.write(`diego ${version()}\n`);
    return 0;
  }
  if (name === '--help' || name === '-help' || name === '-h' || name === 'help') {
    io.stdout.write(usage());
    return 0;
  }
  const command = SUBCOMMANDS.find((candidate) => candidate.name === name);
  if (command === undefined) {
    io.stderr.write(`${name === undefined ? '' : `diego: unknown command "${name}"\n\n`}${usage()}`);
    return 2;
  }
  return command.run(args, io);
}
