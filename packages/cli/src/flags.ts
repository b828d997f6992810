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
  /** A one-letter spelling accepted on the command line too (`-d` for `-domain`), as cfdot's short flags. */
  readonly shortName?: string;
  /** The environment variable that sets it, when it is not `DIEGO_<COMMAND>_<FLAG>` (e.g. `RECEPTOR_URL`). */
  readonly envVar?: string;
  /** What was written may hold a password (`http://user:pass@host`): an error about it does not repeat it. */
  readonly isSecret?: true;
  /**
   * Why a flag of Diego's has no effect in this design (consul, dropsonde, Garden tuning). It is still parsed, so a
   * malformed value is refused; when it is given, the command logs once at start that it is ignored and why.
   */
  readonly ignoredBecause?: string;
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

/** The variable that sets `flagName` of `command`: its own `envVar`, or `DIEGO_<COMMAND>_<FLAG>`. */
function flagEnvVar(command: string, flagName: string, flag: FlagDef<unknown>): string {
  return flag.envVar ?? envVarName(command, flagName);
}

/**
 * `args`: what was not a flag, in order, for a command that takes arguments (always empty otherwise). `given`: the
 * flags set on the command line or by their environment variable, in the order of the flag set.
 */
export type ParsedCommandLine<F extends FlagSet> =
  | { kind: 'values'; values: FlagValues<F>; args: string[]; given: string[] }
  | { kind: 'help' };

/**
 * Parses a command's arguments (everything after the subcommand) against its flags, falling back to the
 * environment and then to the defaults. Returns `{ kind: 'help' }` for `-h`, `-help`, `--help`. A command
 * that `takesArguments` gets what is not a flag in `args` (flags and arguments may be mixed, as with cfdot;
 * everything after `--` is an argument); any other command takes only flags.
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
  takesArguments = false,
): ParsedCommandLine<F> {
  const written = new Map<string, string[]>();
  const positional: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    if (arg === '--') {
      const rest = args.slice(i + 1);
      if (!takesArguments && rest[0] !== undefined) throw new UsageError(`unexpected argument "${rest[0]}": diego ${command} takes only flags`);
      positional.push(...rest);
      break;
    }
    if (!arg.startsWith('-') || arg === '-') {
      if (!takesArguments) throw new UsageError(`unexpected argument "${arg}": diego ${command} takes only flags`);
      positional.push(arg);
      continue;
    }
    const body = arg.startsWith('--') ? arg.slice(2) : arg.slice(1);
    if (body === '' || body.startsWith('-') || body.startsWith('=')) throw new UsageError(`bad flag syntax: ${arg}`);
    const equals = body.indexOf('=');
    const writtenName = equals === -1 ? body : body.slice(0, equals);
    const inlineValue = equals === -1 ? undefined : body.slice(equals + 1);

    if (writtenName === 'help' || writtenName === 'h') return { kind: 'help' };
    const name = flags[writtenName] === undefined ? Object.keys(flags).find((key) => flags[key]?.shortName === writtenName) : writtenName;
    const flag = name === undefined ? undefined : flags[name];
    if (name === undefined || flag === undefined) throw new UsageError(`flag provided but not defined: -${writtenName}`);

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
  const given: string[] = [];
  for (const [name, flag] of Object.entries(flags)) {
    const variable = flagEnvVar(command, name, flag);
    const fromCommandLine = written.get(name);
    // An empty variable counts as unset: compose files and shells often leave one defined but blank.
    const fromEnv = env[variable] || undefined;
    let texts: string[];
    let source: string;
    if (fromCommandLine !== undefined) {
      texts = flag.isRepeatable ? fromCommandLine : fromCommandLine.slice(-1);
      source = `flag -${name}`;
      given.push(name);
    } else if (fromEnv !== undefined) {
      texts = flag.isRepeatable ? fromEnv.split(',') : [fromEnv];
      source = `${variable} (flag -${name})`;
      given.push(name);
    } else {
      texts = flag.isRepeatable && flag.defaultText === '' ? [] : [flag.defaultText];
      source = `the default of flag -${name}`;
    }
    try {
      values[name] = flag.parse(texts);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      const written = texts.length === 1 ? `"${texts[0] ?? ''}"` : JSON.stringify(texts);
      const shown = flag.isSecret ? '(not shown: it may hold a password)' : written;
      throw new UsageError(`invalid value ${shown} for ${source}: ${reason}`);
    }
  }
  // Each entry was produced by its own flag's parse, which is exactly what FlagValues<F> states; the
  // compiler cannot follow a mapped type through Object.entries.
  return { kind: 'values', values: values as FlagValues<F>, args: positional, given };
}

/** Every flag at its default: what a command started with no flags and an empty environment has. */
export function defaultValues<F extends FlagSet>(command: string, flags: F): FlagValues<F> {
  const parsed = parseFlags(command, flags, [], {});
  if (parsed.kind === 'help') throw new Error('no arguments cannot ask for help');
  return parsed.values;
}

/**
 * The --help text of a command: usage line (with `argumentsUsage`, e.g. `GUID INDEX`, for a command that
 * takes arguments), description, then each flag with its default and variable.
 */
export function formatHelp(command: string, description: string, flags: FlagSet, argumentsUsage?: string): string {
  const usageLine = `Usage: diego ${command} [flags]${argumentsUsage === undefined ? '' : ` ${argumentsUsage}`}`;
  const lines = [usageLine, '', description, '', 'Flags (a flag on the command line wins over its environment variable):'];
  for (const [name, flag] of Object.entries(flags)) {
    const spelling = `${flag.shortName === undefined ? '' : `-${flag.shortName}, `}--${name}`;
    lines.push(`  ${spelling}${flag.valueName === undefined ? '' : ` ${flag.valueName}`}`);
    const details = [flag.ignoredBecause === undefined ? flag.usage : `accepted and ignored: ${flag.ignoredBecause}`];
    if (flag.defaultText !== '') details.push(`(default "${flag.defaultText}")`);
    if (flag.isRepeatable) details.push('(repeatable)');
    lines.push(`        ${details.join(' ')}`);
    lines.push(`        env ${flagEnvVar(command, name, flag)}${flag.isRepeatable ? ' (comma-separated)' : ''}`);
  }
  return `${lines.join('\n')}\n`;
}
