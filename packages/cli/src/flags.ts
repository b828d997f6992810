/**
 * A command-line parser with Go's `flag` package syntax, so that a Diego operator's command line works
 * unchanged: `-name=value`, `-name value`, `--name=value`, `--name value`, booleans as `-name` or
 * `-name=true|false`, `--` ends the flags. Every flag can also come from an environment variable
 * (`DIEGO_<COMMAND>_<FLAG_IN_SCREAMING_SNAKE>`); a flag on the command line wins over the variable,
 * the variable over the default.
 */

/** A mistake in how the command was invoked: the CLI prints it with a pointer to `--help` and exits 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** One flag: how it is documented and how what was written becomes a typed value. */
export interface FlagDef<T> {
  /** One line for --help. */
  readonly usage: string;
  /** Placeholder for the value in --help, e.g. `host:port`; absent for booleans. */
  readonly valueName?: string;
  /** The default as it would be written on the command line (shown in --help); '' when there is none. */
  readonly defaultText: string;
  /** Booleans take no value: `-corsEnabled` alone means true. */
  readonly isBoolean?: true;
  /** Each occurrence adds a value instead of replacing the previous one (its env var is comma-separated). */
  readonly isRepeatable?: true;
  /**
   * Turns what was written into the value: every occurrence in order for a repeatable flag, otherwise
   * exactly one string (the last occurrence, the env var or the default). Throws an Error saying what is
   * wrong with the text; the parser adds which flag it was.
   */
  parse(written: readonly string[]): T;
}

/** The flags of one command, by their Go name (`listenAddress`, `cellID`, ...). */
export type FlagSet = Readonly<Record<string, FlagDef<unknown>>>;

/** The parsed values of a flag set, each typed by its definition. */
export type FlagValues<F extends FlagSet> = { -readonly [K in keyof F]: F[K] extends FlagDef<infer T> ? T : never };

export type Environment = Readonly<Record<string, string | undefined>>;

/** `corsEnabled` -> `CORS_ENABLED`, `cellID` -> `CELL_ID`, `preloadedRootFS` -> `PRELOADED_ROOT_FS`. */
export function screamingSnake(flagName: string): string {
  return flagName
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z])([A-Z][a-z])/g, '$1_$2')
    .toUpperCase();
}

/** The environment variable that sets a command's flag, e.g. `DIEGO_RECEPTOR_BBS_ADDRESS`. */
export function envVarName(command: string, flagName: string): string {
  return `DIEGO_${screamingSnake(command)}_${screamingSnake(flagName)}`;
}

/** Go's strconv.ParseBool, which is what `-flag=value` accepts for a boolean flag. */
export function parseGoBool(text: string): boolean {
  if (['1', 't', 'T', 'true', 'TRUE', 'True'].includes(text)) return true;
  if (['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(text)) return false;
  throw new Error('not a boolean (true or false)');
}

export type ParsedCommandLine<F extends FlagSet> = { kind: 'values'; values: FlagValues<F> } | { kind: 'help' };

/**
 * Parses a command's arguments (everything after the subcommand) against its flags, falling back to the
 * environment and then to the defaults. Returns `{ kind: 'help' }` for `-h`, `-help`, `--help`.
 *
 * @example
 * parseFlags('bbs', bbsFlags, ['-listenAddress', '127.0.0.1:0'], process.env)
 * @throws UsageError naming the flag (or variable) and the problem.
 */
export function parseFlags<F extends FlagSet>(
  command: string,
  flags: F,
  args: readonly string[],
  env: Environment,
): ParsedCommandLine<F> {
  const written = new Map<string, string[]>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    if (arg === '--') {
      const extra = args[i + 1];
      if (extra !== undefined) throw new UsageError(`unexpected argument "${extra}": diego ${command} takes only flags`);
      break;
    }
    if (!arg.startsWith('-') || arg === '-') {
      throw new UsageError(`unexpected argument "${arg}": diego ${command} takes only flags`);
    }
    const body = arg.startsWith('--') ? arg.slice(2) : arg.slice(1);
    if (body === '' || body.startsWith('-') || body.startsWith('=')) throw new UsageError(`bad flag syntax: ${arg}`);
    const equals = body.indexOf('=');
    const name = equals === -1 ? body : body.slice(0, equals);
    const inlineValue = equals === -1 ? undefined : body.slice(equals + 1);

    if (name === 'help' || name === 'h') return { kind: 'help' };
    const flag = flags[name];
    if (flag === undefined) throw new UsageError(`flag provided but not defined: -${name}`);

    let value: string;
    if (flag.isBoolean) {
      value = inlineValue ?? 'true';
    } else if (inlineValue !== undefined) {
      value = inlineValue;
    } else {
      const next = args[i + 1];
      if (next === undefined) throw new UsageError(`flag needs an argument: -${name}`);
      value = next;
      i++;
    }
    written.set(name, [...(written.get(name) ?? []), value]);
  }

  const values: Record<string, unknown> = {};
  for (const [name, flag] of Object.entries(flags)) {
    const variable = envVarName(command, name);
    const fromCommandLine = written.get(name);
    // An empty variable counts as unset: compose files and shells often leave one defined but blank.
    const fromEnv = env[variable] || undefined;
    let texts: string[];
    let source: string;
    if (fromCommandLine !== undefined) {
      texts = flag.isRepeatable ? fromCommandLine : fromCommandLine.slice(-1);
      source = `flag -${name}`;
    } else if (fromEnv !== undefined) {
      texts = flag.isRepeatable ? fromEnv.split(',') : [fromEnv];
      source = `${variable} (flag -${name})`;
    } else {
      texts = flag.isRepeatable && flag.defaultText === '' ? [] : [flag.defaultText];
      source = `the default of flag -${name}`;
    }
    try {
      values[name] = flag.parse(texts);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      const shown = texts.length === 1 ? `"${texts[0] ?? ''}"` : JSON.stringify(texts);
      throw new UsageError(`invalid value ${shown} for ${source}: ${reason}`);
    }
  }
  // Each entry was produced by its own flag's parse, which is exactly what FlagValues<F> states; the
  // compiler cannot follow a mapped type through Object.entries.
  return { kind: 'values', values: values as FlagValues<F> };
}

/** The --help text of a command: usage line, description, then each flag with its default and variable. */
export function formatHelp(command: string, description: string, flags: FlagSet): string {
  const lines = [`Usage: diego ${command} [flags]`, '', description, '', 'Flags (a flag on the command line wins over its environment variable):'];
  for (const [name, flag] of Object.entries(flags)) {
    lines.push(`  --${name}${flag.valueName === undefined ? '' : ` ${flag.valueName}`}`);
    const details = [flag.usage];
    if (flag.defaultText !== '') details.push(`(default "${flag.defaultText}")`);
    if (flag.isRepeatable) details.push('(repeatable)');
    lines.push(`        ${details.join(' ')}`);
    lines.push(`        env ${envVarName(command, name)}${flag.isRepeatable ? ' (comma-separated)' : ''}`);
  }
  return `${lines.join('\n')}\n`;
}
