/** `diego <command> [flags]`: dispatch to a subcommand, or usage, help and version. */
import { packageVersion } from '@diego/server-support';
import { runCommand, type CliIo, type Command } from './command';
import type { FlagSet } from './flags';
import { bbsCommand } from './commands/bbs';
import { cellCommand } from './commands/cell';
import { logsCommand } from './commands/logs';
import { PACKAGE_CLIENT_SUMMARY, PACKAGE_SERVICE_URL_HELP, packagesCommand, runPackageCommand } from './commands/packages';
import * as operator from './commands/operator';
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

const SERVER_SUBCOMMANDS: readonly Subcommand[] = [subcommand(receptorCommand), subcommand(bbsCommand), subcommand(cellCommand), subcommand(packagesCommand), subcommand(upCommand)];

/** cfdot's role, through the receptor (--receptorURL or RECEPTOR_URL). */
const OPERATOR_SUBCOMMANDS: readonly Subcommand[] = [
  subcommand(operator.desiredLrpsCommand),
  subcommand(operator.desiredLrpCommand),
  subcommand(operator.actualLrpsCommand),
  subcommand(operator.tasksCommand),
  subcommand(operator.taskCommand),
  subcommand(operator.cellsCommand),
  subcommand(operator.domainsCommand),
  subcommand(operator.setDomainCommand),
  subcommand(operator.createDesiredLrpCommand),
  subcommand(operator.updateDesiredLrpCommand),
  subcommand(operator.deleteDesiredLrpCommand),
  subcommand(operator.createTaskCommand),
  subcommand(operator.cancelTaskCommand),
  subcommand(operator.deleteTaskCommand),
  subcommand(operator.retireActualLrpCommand),
  subcommand(operator.eventsCommand),
  subcommand(logsCommand),
];

/** Cosmos's CLI role, through the package service rather than the receptor. */
const PACKAGE_SUBCOMMANDS: readonly Subcommand[] = [{ name: 'package', summary: PACKAGE_CLIENT_SUMMARY, run: runPackageCommand }];

const SUBCOMMANDS: readonly Subcommand[] = [...SERVER_SUBCOMMANDS, ...OPERATOR_SUBCOMMANDS, ...PACKAGE_SUBCOMMANDS];

function usage(): string {
  const width = Math.max(...SUBCOMMANDS.map((command) => command.name.length));
  return [
    'Usage: diego <command> [flags]',
    '',
    "Cloud Foundry Diego's control plane.",
    '',
    'Commands:',
    ...SERVER_SUBCOMMANDS.map((command) => `  ${command.name.padEnd(width)}  ${command.summary}`),
    '',
    'Operator commands (through the receptor: --receptorURL or RECEPTOR_URL, default http://127.0.0.1:8887):',
    ...OPERATOR_SUBCOMMANDS.map((command) => `  ${command.name.padEnd(width)}  ${command.summary}`),
    '',
    `Package commands (through the package service: ${PACKAGE_SERVICE_URL_HELP}):`,
    ...PACKAGE_SUBCOMMANDS.map((command) => `  ${command.name.padEnd(width)}  ${command.summary}`),
    '',
    "Run 'diego <command> --help' for a command's flags and their environment variables.",
    'diego --version prints the version.',
    '',
  ].join('\n');
}

/** This package's version, from its package.json. */
export function version(): string {
  return packageVersion(__dirname);
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
