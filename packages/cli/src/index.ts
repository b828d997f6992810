export { runCli, version } from './cli';
export { parseCommandLine, type CliIo, type Command } from './command';
export { UsageError } from './flags';
export { bbsCommand } from './commands/bbs';
export { receptorCommand } from './commands/receptor';
export { cellCommand, type CellConfig } from './commands/cell';
export { upCommand, type UpConfig } from './commands/up';
