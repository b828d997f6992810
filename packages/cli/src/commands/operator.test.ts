import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../cli';
import { parseCommandLine, type CliIo } from '../command';
import { UsageError } from '../flags';
import {
  actualLrpsCommand,
  createDesiredLrpCommand,
  desiredLrpCommand,
  desiredLrpsCommand,
  eventsCommand,
  retireActualLrpCommand,
  setDomainCommand,
  tasksCommand,
  updateDesiredLrpCommand,
} from './operator';

const LOCAL = { url: 'http://127.0.0.1:8887', authorization: null };

function basic(credentials: string): string {
  return `Basic ${Buffer.from(credentials).toString('base64')}`;
}

describe('where operator commands find the receptor', () => {
  it('defaults to http://127.0.0.1:8887 without auth', () => {
    expect(parseCommandLine(desiredLrpsCommand, [], {})?.target).toEqual(LOCAL);
  });

  it('reads RECEPTOR_URL, RECEPTOR_USERNAME and RECEPTOR_PASSWORD; flags win over them', () => {
    const env = { RECEPTOR_URL: 'http://receptor.example:9999', RECEPTOR_USERNAME: 'ops', RECEPTOR_PASSWORD: 'env-pass' };
    expect(parseCommandLine(desiredLrpsCommand, [], env)?.target).toEqual({ url: 'http://receptor.example:9999', authorization: basic('ops:env-pass') });
    const flagged = parseCommandLine(desiredLrpsCommand, ['--receptorURL=http://10.0.0.1:8887', '-password', 'flag-pass'], env);
    expect(flagged?.target).toEqual({ url: 'http://10.0.0.1:8887', authorization: basic('ops:flag-pass') });
  });

  it('takes user:password from the URL, keeps it out of the URL, and lets the flags override it', () => {
    expect(parseCommandLine(desiredLrpsCommand, ['--receptorURL=http://ops:p%40ss@127.0.0.1:8887'], {})?.target).toEqual({
      url: 'http://127.0.0.1:8887',
      authorization: basic('ops:p@ss'),
    });
    const overridden = parseCommandLine(desiredLrpsCommand, ['--receptorURL=http://ops:url-pass@127.0.0.1:8887', '--username=admin'], {});
    expect(overridden?.target.authorization).toBe(basic('admin:url-pass'));
  });

  it('refuses a password without a user name, and a receptor URL with a path', () => {
    expect(() => parseCommandLine(desiredLrpsCommand, ['--password=secret'], {})).toThrow(UsageError);
    expect(() => parseCommandLine(desiredLrpsCommand, ['--receptorURL=http://127.0.0.1:8887/v1'], {})).toThrow(/without a path/);
  });

  it('never repeats the password of a receptor URL it refuses', () => {
    const refuse = (): unknown => parseCommandLine(desiredLrpsCommand, ['--receptorURL=http://ops:hunter2@127.0.0.1:8887/v1'], {});
    expect(refuse).toThrow('invalid value (not shown: it may hold a password) for flag -receptorURL: "http://127.0.0.1:8887/v1" must be');
    expect(refuse).not.toThrow(/hunter2/);
  });
});

describe('operator command lines', () => {
  it('filters lists by domain with -d or --domain, and actual LRPs by cell with -c', () => {
    expect(parseCommandLine(desiredLrpsCommand, ['-d', 'cf-apps'], {})?.path).toBe('/v1/desired_lrps?domain=cf-apps');
    expect(parseCommandLine(tasksCommand, ['--domain=a b&c'], {})?.path).toBe('/v1/tasks?domain=a%20b%26c');
    expect(parseCommandLine(tasksCommand, [], {})?.path).toBe('/v1/tasks');
    const actual = parseCommandLine(actualLrpsCommand, ['-c', 'cell-z1-0', '-d=cf-apps'], {});
    expect(actual).toMatchObject({ method: 'GET', path: '/v1/actual_lrps?domain=cf-apps', output: { kind: 'elements', onlyCellId: 'cell-z1-0' } });
    expect(parseCommandLine(actualLrpsCommand, [], {})?.output).toEqual({ kind: 'elements', onlyCellId: null });
  });

  it('takes exactly the arguments it names, before or after the flags', () => {
    expect(parseCommandLine(desiredLrpCommand, ['my-guid', '--receptorURL=http://127.0.0.1:1'], {})).toMatchObject({
      method: 'GET',
      path: '/v1/desired_lrps/my-guid',
      target: { url: 'http://127.0.0.1:1' },
    });
    expect(() => parseCommandLine(desiredLrpCommand, [], {})).toThrow('expected GUID, got none');
    expect(() => parseCommandLine(desiredLrpCommand, ['a', 'b'], {})).toThrow('expected GUID, got "a" "b"');
    expect(() => parseCommandLine(desiredLrpsCommand, ['extra'], {})).toThrow('unexpected argument "extra": diego desired-lrps takes only flags');
    // After `--`, what looks like a flag is an argument.
    expect(parseCommandLine(desiredLrpCommand, ['--', '-odd-guid'], {})?.path).toBe('/v1/desired_lrps/-odd-guid');
  });

  it('retires an instance by guid and a whole-number index', () => {
    expect(parseCommandLine(retireActualLrpCommand, ['web', '2'], {})).toMatchObject({ method: 'DELETE', path: '/v1/actual_lrps/web/index/2' });
    expect(() => parseCommandLine(retireActualLrpCommand, ['web', '-1'], {})).toThrow(UsageError);
    expect(() => parseCommandLine(retireActualLrpCommand, ['web', 'one'], {})).toThrow('INDEX must be a whole number (0, 1, ...), got "one"');
  });

  it('sends a domain TTL as Cache-Control: max-age in seconds, from a Go duration or plain seconds', () => {
    expect(parseCommandLine(setDomainCommand, ['cf-apps', '-t', '2m'], {})).toMatchObject({
      method: 'PUT',
      path: '/v1/domains/cf-apps',
      headers: { 'cache-control': 'max-age=120' },
      output: { kind: 'nothing' },
    });
    expect(parseCommandLine(setDomainCommand, ['--ttl=45', 'cf-apps'], {})?.headers).toEqual({ 'cache-control': 'max-age=45' });
    expect(parseCommandLine(setDomainCommand, ['cf-apps'], {})?.headers).toEqual({});
    expect(() => parseCommandLine(setDomainCommand, ['cf-apps', '-t', '1.5s'], {})).toThrow(/whole number of seconds/);
    expect(() => parseCommandLine(setDomainCommand, ['cf-apps', '-t', 'soon'], {})).toThrow(UsageError);
  });

  describe('request bodies', () => {
    let dir: string;
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'diego-operator-test-'));
    });
    afterEach(() => {
      rmSync(dir, { recursive: true, force: true });
    });

    it('are sent as written, inline or from @file, once known to be JSON', () => {
      const inline = '{"process_guid":"web", "instances":1}';
      expect(parseCommandLine(createDesiredLrpCommand, [inline], {})).toMatchObject({ method: 'POST', path: '/v1/desired_lrps', body: inline });
      const file = join(dir, 'update.json');
      writeFileSync(file, '{"instances": 3}\n');
      expect(parseCommandLine(updateDesiredLrpCommand, ['web', `@${file}`], {})).toMatchObject({
        method: 'PUT',
        path: '/v1/desired_lrps/web',
        body: '{"instances": 3}\n',
      });
    });

    it('that are not JSON or cannot be read are usage errors', () => {
      expect(() => parseCommandLine(createDesiredLrpCommand, ['{"process_guid":'], {})).toThrow(/^the argument is not JSON/);
      expect(() => parseCommandLine(createDesiredLrpCommand, [`@${join(dir, 'missing.json')}`], {})).toThrow(/^cannot read .*missing\.json/);
    });
  });

  it('follows events after --lastEventID, which must be an event id or a revision', () => {
    expect(parseCommandLine(eventsCommand, ['--lastEventID=42'], {})).toEqual({ target: LOCAL, lastEventId: '42' });
    expect(parseCommandLine(eventsCommand, ['--lastEventID=42.3'], {})).toEqual({ target: LOCAL, lastEventId: '42.3' });
    expect(parseCommandLine(eventsCommand, [], {})).toEqual({ target: LOCAL, lastEventId: null });
    expect(() => parseCommandLine(eventsCommand, ['--lastEventID=latest'], {})).toThrow(UsageError);
  });
});

describe('operator commands on the command line', () => {
  async function cli(argv: string[]): Promise<{ exitCode: number; stdout: string; stderr: string }> {
    let stdout = '';
    let stderr = '';
    const io: CliIo = { stdout: { write: (text: string) => (stdout += text) }, stderr: { write: (text: string) => (stderr += text) }, env: {} };
    const exitCode = await runCli(argv, io);
    return { exitCode, stdout, stderr };
  }

  it('are listed in the usage', async () => {
    const { stdout } = await cli(['--help']);
    for (const name of ['desired-lrps', 'actual-lrps', 'set-domain', 'retire-actual-lrp', 'events']) expect(stdout).toMatch(new RegExp(`^  ${name} +\\S`, 'm'));
  });

  it('show their arguments, short flags and variables in --help', async () => {
    const { exitCode, stdout } = await cli(['actual-lrps', '--help']);
    expect(exitCode).toBe(0);
    expect(stdout).toMatch(/^Usage: diego actual-lrps \[flags\]\n/);
    expect(stdout).toContain('  -c, --cell id\n');
    expect(stdout).toContain('        env RECEPTOR_URL\n');
    expect((await cli(['update-desired-lrp', '-h'])).stdout).toMatch(/^Usage: diego update-desired-lrp \[flags\] GUID \(JSON\|@file\)\n/);
  });

  it('exit 2 on a usage mistake, and 1 when the receptor cannot be reached, saying where without the password', async () => {
    const usage = await cli(['task']);
    expect(usage).toEqual({ exitCode: 2, stdout: '', stderr: "diego task: expected GUID, got none\nRun 'diego task --help' for its flags.\n" });
    // Port 0 is never listened on.
    const unreachable = await cli(['tasks', '--receptorURL=http://ops:hunter2@127.0.0.1:0']);
    expect(unreachable.exitCode).toBe(1);
    expect(unreachable.stderr).toMatch(/^diego tasks: cannot reach the receptor at http:\/\/127\.0\.0\.1:0: /);
    expect(unreachable.stderr).not.toContain('hunter2');
  });
});
