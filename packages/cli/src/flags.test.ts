import { envVarName, formatHelp, parseFlags, screamingSnake, UsageError, type FlagDef } from './flags';
import { addressFlag, boolFlag, durationFlag, stringFlag } from './flag-types';

/** A repeatable flag that keeps what was written, to see the occurrences the parser hands over. */
const tagsFlag: FlagDef<string[]> = { usage: 'tags', valueName: 'tag', defaultText: '', isRepeatable: true, parse: (written) => [...written] };

const flags = {
  listenAddress: addressFlag('where to listen', '0.0.0.0:8889'),
  corsEnabled: boolFlag('cors'),
  name: stringFlag('a name', 'anonymous'),
  timeout: durationFlag('a timeout', '30s'),
  tag: tagsFlag,
};

function parse(args: string[], env: Record<string, string> = {}) {
  const parsed = parseFlags('demo', flags, args, env);
  if (parsed.kind !== 'values') throw new Error('expected values, got help');
  return parsed.values;
}

function usageError(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    if (error instanceof UsageError) return error.message;
    throw error;
  }
  throw new Error('expected a UsageError');
}

describe('parseFlags', () => {
  it('uses the defaults when nothing is given', () => {
    expect(parse([])).toEqual({ listenAddress: '0.0.0.0:8889', corsEnabled: false, name: 'anonymous', timeout: 30_000, tag: [] });
  });

  it.each([
    [['--name=x']],
    [['--name', 'x']],
    [['-name=x']],
    [['-name', 'x']],
  ])('accepts Go flag syntax %j', (args) => {
    expect(parse(args).name).toBe('x');
  });

  it('takes the next argument as the value even when it starts with a dash, as Go does', () => {
    expect(parse(['-name', '-x']).name).toBe('-x');
  });

  it('keeps everything after the first "=" as the value', () => {
    expect(parse(['--name=a=b']).name).toBe('a=b');
    expect(parse(['--name=']).name).toBe('');
  });

  it.each([
    [['--corsEnabled'], true],
    [['-corsEnabled'], true],
    [['-corsEnabled=true'], true],
    [['-corsEnabled=false'], false],
    [['--corsEnabled=0'], false],
    [['--corsEnabled=T'], true],
  ])('reads the boolean %j as %s', (args, expected) => {
    expect(parse(args).corsEnabled).toBe(expected);
  });

  it('does not take the next argument as a boolean value (Go does not either)', () => {
    expect(usageError(() => parse(['-corsEnabled', 'false']))).toBe('unexpected argument "false": diego demo takes only flags');
  });

  it('rejects a boolean value that is not one', () => {
    expect(usageError(() => parse(['-corsEnabled=yes']))).toBe('invalid value "yes" for flag -corsEnabled: not a boolean (true or false)');
  });

  it('names an unknown flag the way Go does', () => {
    expect(usageError(() => parse(['--listenAdress=0.0.0.0:1']))).toBe('flag provided but not defined: -listenAdress');
  });

  it('names a flag given without its value', () => {
    expect(usageError(() => parse(['--name']))).toBe('flag needs an argument: -name');
  });

  it.each([['---name=x'], ['-=x'], ['--=x']])('rejects the bad syntax %s', (arg) => {
    expect(usageError(() => parse([arg]))).toBe(`bad flag syntax: ${arg}`);
  });

  it('rejects positional arguments, also after --', () => {
    expect(usageError(() => parse(['extra']))).toMatch(/unexpected argument "extra"/);
    expect(usageError(() => parse(['--', 'extra']))).toMatch(/unexpected argument "extra"/);
    expect(parse(['--name=x', '--']).name).toBe('x');
  });

  it('lets the last occurrence of a single-valued flag win', () => {
    expect(parse(['--name=a', '--name=b']).name).toBe('b');
  });

  it('collects every occurrence of a repeatable flag in order', () => {
    expect(parse(['--tag=a', '-tag', 'b', '--tag=c']).tag).toEqual(['a', 'b', 'c']);
  });

  it('reads a flag from its environment variable', () => {
    expect(parse([], { DIEGO_DEMO_LISTEN_ADDRESS: '127.0.0.1:1', DIEGO_DEMO_CORS_ENABLED: 'true', DIEGO_DEMO_TAG: 'a,b' })).toMatchObject({
      listenAddress: '127.0.0.1:1',
      corsEnabled: true,
      tag: ['a', 'b'],
    });
  });

  it('prefers the command line over the environment', () => {
    expect(parse(['--name=flag'], { DIEGO_DEMO_NAME: 'env' }).name).toBe('flag');
  });

  it('treats an empty variable as unset', () => {
    expect(parse([], { DIEGO_DEMO_NAME: '' }).name).toBe('anonymous');
  });

  it('says which variable holds an invalid value', () => {
    expect(usageError(() => parse([], { DIEGO_DEMO_TIMEOUT: '10' }))).toBe(
      'invalid value "10" for DIEGO_DEMO_TIMEOUT (flag -timeout): missing unit in duration "10" (write a Go duration such as 500ms, 30s, 2m or 1h30m)',
    );
  });

  it.each([['-h'], ['-help'], ['--help'], ['--h']])('reports %s as a request for help', (arg) => {
    expect(parseFlags('demo', flags, ['--name=x', arg, '--unknown'], {})).toEqual({ kind: 'help' });
  });
});

describe('environment variable names', () => {
  it.each([
    ['listenAddress', 'LISTEN_ADDRESS'],
    ['corsEnabled', 'CORS_ENABLED'],
    ['cellID', 'CELL_ID'],
    ['memoryMB', 'MEMORY_MB'],
    ['preloadedRootFS', 'PRELOADED_ROOT_FS'],
    ['debugAddr', 'DEBUG_ADDR'],
    ['bbsAddress', 'BBS_ADDRESS'],
  ])('turns %s into %s', (flag, snake) => {
    expect(screamingSnake(flag)).toBe(snake);
  });

  it('prefixes DIEGO_ and the command', () => {
    expect(envVarName('receptor', 'bbsAddress')).toBe('DIEGO_RECEPTOR_BBS_ADDRESS');
  });
});

describe('formatHelp', () => {
  it('lists every flag with its value, default and environment variable', () => {
    const help = formatHelp('demo', 'A demo.', flags);
    expect(help).toContain('Usage: diego demo [flags]');
    expect(help).toContain('A demo.');
    expect(help).toMatch(/--listenAddress host:port\n\s+where to listen \(default "0.0.0.0:8889"\)\n\s+env DIEGO_DEMO_LISTEN_ADDRESS\n/);
    expect(help).toMatch(/--corsEnabled\n\s+cors \(default "false"\)\n\s+env DIEGO_DEMO_CORS_ENABLED\n/);
    expect(help).toMatch(/--tag tag\n\s+tags \(repeatable\)\n\s+env DIEGO_DEMO_TAG \(comma-separated\)\n/);
  });
});

describe('commands that take arguments, short names and own variables', () => {
  const operatorFlags = {
    domain: { ...stringFlag('a domain', '', 'domain'), shortName: 'd' },
    receptorURL: { ...stringFlag('the receptor', 'http://127.0.0.1:8887', 'url'), envVar: 'RECEPTOR_URL' },
  };

  function parseWithArguments(args: string[], env: Record<string, string> = {}) {
    const parsed = parseFlags('demo', operatorFlags, args, env, true);
    if (parsed.kind !== 'values') throw new Error('expected values, got help');
    return parsed;
  }

  it('collects what is not a flag, in order, wherever it is, and everything after --', () => {
    expect(parseWithArguments(['guid', '-d', 'cf-apps', '0'])).toEqual({ values: { domain: 'cf-apps', receptorURL: 'http://127.0.0.1:8887' }, args: ['guid', '0'], given: ['domain'], kind: 'values' });
    expect(parseWithArguments(['--', '-1', '--domain=x']).args).toEqual(['-1', '--domain=x']);
    expect(parseWithArguments(['-']).args).toEqual(['-']);
  });

  it('accepts the short name as the flag itself, in every syntax', () => {
    for (const args of [['-d', 'x'], ['-d=x'], ['--d', 'x'], ['--domain=x']]) expect(parseWithArguments(args).values.domain).toBe('x');
    expect(usageError(() => parseWithArguments(['-x']))).toBe('flag provided but not defined: -x');
  });

  it('reads a flag from its own variable instead of DIEGO_<COMMAND>_<FLAG>, and says so in the help', () => {
    expect(parseWithArguments([], { RECEPTOR_URL: 'http://10.0.0.1:8887', DIEGO_DEMO_RECEPTOR_URL: 'http://ignored' }).values.receptorURL).toBe('http://10.0.0.1:8887');
    const help = formatHelp('demo', 'A demo.', operatorFlags, 'GUID INDEX');
    expect(help).toMatch(/^Usage: diego demo \[flags\] GUID INDEX\n/);
    expect(help).toMatch(/ {2}-d, --domain domain\n\s+a domain\n\s+env DIEGO_DEMO_DOMAIN\n/);
    expect(help).toMatch(/ {2}--receptorURL url\n.*\n\s+env RECEPTOR_URL\n/);
  });

  it('still refuses arguments to a command that takes only flags', () => {
    expect(usageError(() => parseFlags('demo', operatorFlags, ['guid'], {}))).toBe('unexpected argument "guid": diego demo takes only flags');
  });
});
