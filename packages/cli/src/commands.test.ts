import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { runCli } from './cli';
import { parseCommandLine, type CliIo } from './command';
import { bbsCommand } from './commands/bbs';
import { cellCommand } from './commands/cell';
import { packagesCommand } from './commands/packages';
import { receptorCommand } from './commands/receptor';
import { upCommand } from './commands/up';
import { UsageError } from './flags';

/** Runs the CLI in this process and keeps what it wrote. */
async function cli(argv: string[], env: Record<string, string> = {}): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    env,
  };
  const exitCode = await runCli(argv, io);
  return { exitCode, stdout, stderr };
}

describe('diego', () => {
  it('prints usage on stderr and exits 2 without a command', async () => {
    const result = await cli([]);
    expect(result.exitCode).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^Usage: diego <command> \[flags\]/);
    for (const command of ['receptor', 'bbs', 'cell', 'up']) expect(result.stderr).toMatch(new RegExp(`^  ${command} +\\S`, 'm'));
  });

  it('names an unknown command and exits 2', async () => {
    const result = await cli(['converger']);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(/^diego: unknown command "converger"\n\nUsage: diego/);
  });

  it('prints its version', async () => {
    expect(await cli(['--version'])).toEqual({ exitCode: 0, stdout: 'diego 0.1.0\n', stderr: '' });
  });

  it.each(['bbs', 'receptor', 'cell', 'up'])('shows the flags of %s with --help and exits 0', async (command) => {
    const result = await cli([command, '--help']);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain(`Usage: diego ${command} [flags]`);
    expect(result.stdout).toContain(`env DIEGO_${command.toUpperCase()}_LOG_LEVEL`);
    expect(result.stdout).toContain('(default "info")');
  });

  it('names an unknown flag, points to --help and exits 2', async () => {
    const result = await cli(['bbs', '--etcdClusters=http://127.0.0.1:2379']);
    expect(result).toEqual({
      exitCode: 2,
      stdout: '',
      stderr: "diego bbs: flag provided but not defined: -etcdClusters\nRun 'diego bbs --help' for its flags.\n",
    });
  });
});

function usageError(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    if (error instanceof UsageError) return error.message;
    throw error;
  }
  throw new Error('expected a UsageError');
}

describe('diego bbs', () => {
  it('builds the BBS configuration from the defaults', () => {
    expect(parseCommandLine(bbsCommand, [], {})).toEqual({
      listenAddress: '0.0.0.0:8889',
      etcdCluster: ['http://127.0.0.1:2379'],
      logLevel: 'info',
      debugAddress: null,
      eventHeartbeatIntervalMs: 15_000,
      advertiseUrl: 'http://0.0.0.0:8889',
      convergeRepeatIntervalMs: 30_000,
      convergeFullRepeatIntervalMs: 300_000,
      kickTaskDurationMs: 30_000,
      expirePendingTaskDurationMs: 1_800_000,
      expireCompletedTaskDurationMs: 120_000,
      apiOnly: false,
      etcdTls: null,
      serverTls: null,
      communicationTimeoutMs: 10_000,
      lockTtlSeconds: 10,
      lockRetryIntervalMs: 5_000,
      convergenceWorkers: 20,
      updateWorkers: 1000,
      taskCallbackWorkers: 1000,
      encryptionKeys: [],
      activeKeyLabel: null,
    });
  });

  it("takes a Diego operator's command line", () => {
    const args = ['-listenAddress=127.0.0.1:0', '-etcdCluster', 'http://etcd-0:2379,http://etcd-1:2379', '-logLevel=debug', '-debugAddr=127.0.0.1:17017'];
    expect(parseCommandLine(bbsCommand, args, {})).toMatchObject({
      listenAddress: '127.0.0.1:0',
      etcdCluster: ['http://etcd-0:2379', 'http://etcd-1:2379'],
      logLevel: 'debug',
      debugAddress: '127.0.0.1:17017',
      eventHeartbeatIntervalMs: 15_000,
      advertiseUrl: 'http://127.0.0.1:0',
      convergeRepeatIntervalMs: 30_000,
      kickTaskDurationMs: 30_000,
      expirePendingTaskDurationMs: 1_800_000,
      expireCompletedTaskDurationMs: 120_000,
      apiOnly: false,
    });
  });

  it('takes the convergence durations and the advertised URL, from flags or their environment variables', () => {
    const args = ['-convergeRepeatInterval=5s', '-convergeFullRepeatInterval=10m', '-kickTaskDuration', '10s', '-expirePendingTaskDuration=1h', '-advertiseURL=http://bbs-0.example:8889'];
    expect(parseCommandLine(bbsCommand, args, { DIEGO_BBS_EXPIRE_COMPLETED_TASK_DURATION: '2m' })).toMatchObject({
      convergeRepeatIntervalMs: 5000,
      convergeFullRepeatIntervalMs: 600_000,
      kickTaskDurationMs: 10_000,
      expirePendingTaskDurationMs: 3_600_000,
      expireCompletedTaskDurationMs: 120_000,
      advertiseUrl: 'http://bbs-0.example:8889',
    });
    expect(parseCommandLine(bbsCommand, [], { DIEGO_BBS_ADVERTISE_URL: 'https://bbs.example' })).toMatchObject({ advertiseUrl: 'https://bbs.example' });
    expect(usageError(() => parseCommandLine(bbsCommand, ['-advertiseURL=bbs:8889'], {}))).toMatch(/-advertiseURL/);
    expect(usageError(() => parseCommandLine(bbsCommand, ['-convergeRepeatInterval=0s'], {}))).toMatch(/-convergeRepeatInterval/);
  });

  it('serves the API only, without campaigning, with -apiOnly or its environment variable', () => {
    expect(parseCommandLine(bbsCommand, ['-apiOnly'], {})).toMatchObject({ apiOnly: true });
    expect(parseCommandLine(bbsCommand, ['--apiOnly=false'], {})).toMatchObject({ apiOnly: false });
    expect(parseCommandLine(bbsCommand, [], { DIEGO_BBS_API_ONLY: 'true' })).toMatchObject({ apiOnly: true });
  });

  it('takes the event heartbeat interval as a Go duration, from the flag or its environment variable', () => {
    expect(parseCommandLine(bbsCommand, ['--eventHeartbeatInterval=500ms'], {})).toMatchObject({ eventHeartbeatIntervalMs: 500 });
    expect(parseCommandLine(bbsCommand, [], { DIEGO_BBS_EVENT_HEARTBEAT_INTERVAL: '1m' })).toMatchObject({ eventHeartbeatIntervalMs: 60_000 });
    expect(usageError(() => parseCommandLine(bbsCommand, ['--eventHeartbeatInterval=15'], {}))).toMatch(/-eventHeartbeatInterval/);
  });

  it('reads its environment variables', () => {
    const env = { DIEGO_BBS_ETCD_CLUSTER: 'http://etcd:2379', DIEGO_BBS_LISTEN_ADDRESS: '127.0.0.1:9999' };
    expect(parseCommandLine(bbsCommand, [], env)).toMatchObject({ etcdCluster: ['http://etcd:2379'], listenAddress: '127.0.0.1:9999' });
  });

  it.each([
    [['--listenAddress=8889'], /-listenAddress: not a host:port/],
    [['--etcdCluster=127.0.0.1:2379'], /-etcdCluster: "127.0.0.1:2379" is not a URL/],
    [['--etcdCluster='], /-etcdCluster: expected comma-separated URLs/],
    [['--logLevel=warn'], /-logLevel: not a log level/],
    [['--debugAddr=nope'], /-debugAddr: not a host:port/],
  ])('rejects %j', (args, message) => {
    expect(usageError(() => parseCommandLine(bbsCommand, args, {}))).toMatch(message);
  });
});

describe('diego receptor', () => {
  it('builds the receptor configuration from the defaults', () => {
    expect(parseCommandLine(receptorCommand, [], {})).toEqual({
      address: '0.0.0.0:8887',
      bbsAddress: ['http://127.0.0.1:8889'],
      username: '',
      password: '',
      corsEnabled: false,
      logLevel: 'info',
      debugAddress: null,
      eventHeartbeatIntervalMs: 15_000,
      bbsTls: null,
      communicationTimeoutMs: 10_000,
      routerRegistration: null,
      artifactPath: null,
      versionFilesPath: null,
      packagesUrl: null,
    });
  });

  it("takes the package service the dashboard's Packages view calls", () => {
    expect(parseCommandLine(receptorCommand, ['-packagesURL=http://127.0.0.1:7070/'], {})).toMatchObject({ packagesUrl: 'http://127.0.0.1:7070' });
    expect(usageError(() => parseCommandLine(receptorCommand, ['-packagesURL=http://127.0.0.1:7070/package'], {}))).toMatch(/without a path/);
  });

  it('takes the event heartbeat interval as a Go duration', () => {
    expect(parseCommandLine(receptorCommand, ['-eventHeartbeatInterval', '2s'], {})).toMatchObject({ eventHeartbeatIntervalMs: 2000 });
    expect(parseCommandLine(receptorCommand, [], { DIEGO_RECEPTOR_EVENT_HEARTBEAT_INTERVAL: '30s' })).toMatchObject({
      eventHeartbeatIntervalMs: 30_000,
    });
  });

  it('takes basic auth and CORS, the password from the environment', () => {
    const config = parseCommandLine(receptorCommand, ['-username=admin', '-corsEnabled', '-bbsAddress=http://bbs:8889'], {
      DIEGO_RECEPTOR_PASSWORD: 's3cret',
    });
    expect(config).toMatchObject({ username: 'admin', password: 's3cret', corsEnabled: true, bbsAddress: ['http://bbs:8889'] });
  });

  it('refuses a password without a username, which would leave the API open', () => {
    expect(usageError(() => parseCommandLine(receptorCommand, ['--password=s3cret'], {}))).toMatch(/no username/);
  });

  it('never prints the password, in help or in errors', async () => {
    const env = { DIEGO_RECEPTOR_PASSWORD: 's3cret-env' };
    const outputs = [
      await cli(['receptor', '--help'], env),
      await cli(['receptor', '--password=s3cret-flag', '--address=bad'], env),
      await cli(['receptor', '--password', 's3cret-flag', '--corsEnabled=maybe'], env),
      await cli(['receptor', '--password=s3cret-flag'], env),
    ];
    for (const { exitCode, stdout, stderr } of outputs.slice(1)) {
      expect(exitCode).toBe(2);
      expect(stderr).toMatch(/^diego receptor: /);
      expect(stdout + stderr).not.toContain('s3cret');
    }
    expect(outputs[0]?.stdout).not.toContain('s3cret');
  });
});

describe('diego cell', () => {
  let workDir: string;
  beforeEach(() => {
    workDir = mkdtempSync(join(tmpdir(), 'diego-cell-test-'));
  });
  afterEach(() => {
    rmSync(workDir, { recursive: true, force: true });
  });

  it('fills memory, disk and cell ID from the machine', () => {
    const config = parseCommandLine(cellCommand, ['--zone=z1', `--workDir=${join(workDir, 'not-yet-created')}`], {});
    expect(config).toMatchObject({
      cellId: hostname(),
      zone: 'z1',
      listenAddress: '0.0.0.0:1800',
      bbsAddress: ['http://127.0.0.1:8889'],
      memoryMb: Math.floor(totalmem() / 1024 / 1024),
      containers: 256,
      preloadedRootFses: [],
      evacuationTimeoutMs: 600_000,
      bulkSyncIntervalMs: 30_000,
      workDir: join(workDir, 'not-yet-created'),
    });
    expect(config?.diskMb).toBeGreaterThan(0);
  });

  it("takes a Diego operator's command line", () => {
    const args = [
      '-cellID=cell_z1-0', '-zone=z1', '-listenAddr=0.0.0.0:1801', '-bbsAddress=http://bbs:8889',
      '-memoryMB=4096', '-diskMB', '20480', '-containers=100',
      '-preloadedRootFS=cflinuxfs2:/var/vcap/packages/cflinuxfs2/rootfs', '-preloadedRootFS', 'windows2012R2',
      '-evacuationTimeout=2m30s', '-bulkSyncInterval=45s', `-workDir=${workDir}`,
    ];
    expect(parseCommandLine(cellCommand, args, {})).toMatchObject({
      cellId: 'cell_z1-0',
      zone: 'z1',
      listenAddress: '0.0.0.0:1801',
      bbsAddress: ['http://bbs:8889'],
      memoryMb: 4096,
      diskMb: 20480,
      containers: 100,
      preloadedRootFses: [
        { name: 'cflinuxfs2', path: '/var/vcap/packages/cflinuxfs2/rootfs' },
        { name: 'windows2012R2', path: null },
      ],
      evacuationTimeoutMs: 150_000,
      bulkSyncIntervalMs: 45_000,
      workDir,
      dockerRegistryURL: 'https://registry-1.docker.io',
      insecureDockerRegistries: [],
      dockerImageDir: null,
      networkPool: '10.254.0.0/22',
      logLevel: 'info',
    });
  });

  it("takes Diego's docker flags, a local image directory and Garden's network pool", () => {
    const args = [
      '--zone=z1', '-dockerRegistryURL=http://127.0.0.1:5000', '-insecureDockerRegistryList=127.0.0.1:5000,registry.internal:443',
      '-dockerImageDir=/var/vcap/images', '-networkPool=10.250.0.0/24',
    ];
    expect(parseCommandLine(cellCommand, args, {})).toMatchObject({
      dockerRegistryURL: 'http://127.0.0.1:5000',
      insecureDockerRegistries: ['127.0.0.1:5000', 'registry.internal:443'],
      dockerImageDir: '/var/vcap/images',
      networkPool: '10.250.0.0/24',
    });
  });

  it("reads the rep's bulk sync interval from its variable and refuses one that is not a positive duration", () => {
    expect(parseCommandLine(cellCommand, ['--zone=z1'], { DIEGO_CELL_BULK_SYNC_INTERVAL: '2s' })?.bulkSyncIntervalMs).toBe(2_000);
    expect(usageError(() => parseCommandLine(cellCommand, ['--zone=z1', '--bulkSyncInterval=0s'], {}))).toMatch(/-bulkSyncInterval: the duration must be positive/);
  });

  it('reads repeated rootfses from one comma-separated variable', () => {
    const config = parseCommandLine(cellCommand, ['--zone=z1'], { DIEGO_CELL_PRELOADED_ROOT_FS: 'a:/a,b' });
    expect(config?.preloadedRootFses).toEqual([{ name: 'a', path: '/a' }, { name: 'b', path: null }]);
  });

  it.each([
    [[], /-zone must be specified/],
    [['--zone=z1', '--cellID=cell/0'], /-cellID: a cell ID is/],
    [['--zone=z1', '--memoryMB=lots'], /-memoryMB: not a positive integer/],
    [['--zone=z1', '--diskMB=0'], /-diskMB: not a positive integer/],
    [['--zone=z1', '--containers=-1'], /-containers: not a positive integer/],
    [['--zone=z1', '--evacuationTimeout=10'], /-evacuationTimeout: missing unit/],
    [['--zone=z1', '--preloadedRootFS=a:relative/path'], /-preloadedRootFS: the path of rootfs "a" must be absolute/],
    [['--zone=z1', '--preloadedRootFS=a:/x', '--preloadedRootFS=a:/y'], /rootfs "a" is given twice/],
    [['--zone=z1', '--listenAddr=1800'], /-listenAddr: not a host:port/],
    [['--zone=z1', '--networkPool=10.250.0.0/31'], /-networkPool: expected an IPv4 range/],
    [['--zone=z1', '--networkPool=fd00::/64'], /-networkPool: expected an IPv4 range/],
    [['--zone=z1', '--insecureDockerRegistryList=registry'], /-insecureDockerRegistryList: not a host:port/],
    [['--zone=z1', '--dockerRegistryURL=registry:5000'], /-dockerRegistryURL/],
  ])('rejects %j', (args, message) => {
    expect(usageError(() => parseCommandLine(cellCommand, args, {}))).toMatch(message);
  });

  it('validates its flags before starting: invalid ones exit 2', async () => {
    const invalid = await cli(['cell', '--zone=z1', '--containers=0']);
    expect(invalid.exitCode).toBe(2);
    expect(invalid.stderr).toMatch(/-containers: not a positive integer/);
  });
});

describe('diego up', () => {
  it('starts a local etcd under .diego by default', () => {
    expect(parseCommandLine(upCommand, [], {})).toEqual({
      etcdCluster: null,
      etcdListenAddress: '127.0.0.1:2379',
      etcdPeerAddress: '127.0.0.1:2380',
      dataDir: join(process.cwd(), '.diego'),
      bbsListenAddress: '127.0.0.1:8889',
      cellListenAddress: '127.0.0.1:1800',
      cellId: 'cell-z1-0',
      dockerRegistryURL: 'https://registry-1.docker.io',
      insecureDockerRegistryList: [],
      dockerImageDir: '',
      networkPool: '10.254.0.0/22',
      receptorAddress: '0.0.0.0:8887',
      packagesAddress: '0.0.0.0:7070',
      username: '',
      password: '',
      corsEnabled: false,
      tls: false,
      logLevel: 'info',
    });
  });

  it('--tls: certificates for loopback and the etcd it starts only', () => {
    expect(parseCommandLine(upCommand, ['--tls', '--bbsListenAddress=0.0.0.0:8889'], {})?.tls).toBe(true);
    expect(usageError(() => parseCommandLine(upCommand, ['--tls', '--bbsListenAddress=10.0.0.5:8889'], {}))).toBe(
      '--tls makes certificates for loopback only: -bbsListenAddress must be on 127.0.0.1, [::1], localhost or every interface',
    );
    expect(usageError(() => parseCommandLine(upCommand, ['--tls', '--etcdCluster=http://10.0.0.5:2379'], {}))).toBe(
      '--tls makes certificates for the etcd diego up starts: it cannot be used with --etcdCluster',
    );
  });

  it('uses a given etcd instead', () => {
    expect(parseCommandLine(upCommand, ['--etcdCluster=http://10.0.0.5:2379'], {})?.etcdCluster).toEqual(['http://10.0.0.5:2379']);
  });

  it.each([
    [['--etcdListenAddress=127.0.0.1:0'], /fixed ports/],
    [['--etcdPeerAddress=127.0.0.1:2379'], /must differ/],
    [['--password=x'], /no username/],
    [['--address=8887'], /-address: not a host:port/],
  ])('rejects %j', (args, message) => {
    expect(usageError(() => parseCommandLine(upCommand, args, {}))).toMatch(message);
  });

  it('lets a given etcd make the local etcd ports irrelevant', () => {
    expect(parseCommandLine(upCommand, ['--etcdCluster=http://127.0.0.1:2379', '--etcdListenAddress=127.0.0.1:0'], {})).not.toBeNull();
  });
});

describe('diego packages --defaultRepositories', () => {
  const defaults = (value: string) => parseCommandLine(packagesCommand, [`--defaultRepositories=${value}`], {})?.defaultRepositories;

  it('takes name=uri pairs, or a file holding a JSON array of {name, uri} (other members dropped)', () => {
    expect(defaults('')).toEqual([]);
    expect(defaults('a=http://x/a.json,b=http://x/b.zip')).toEqual([{ name: 'a', uri: 'http://x/a.json' }, { name: 'b', uri: 'http://x/b.zip' }]);
    const dir = mkdtempSync(join(tmpdir(), 'diego-default-repositories-'));
    try {
      const file = join(dir, 'default-repositories.json');
      writeFileSync(file, JSON.stringify([{ name: 'u', uri: 'https://universe/repo', extra: 1 }]));
      expect(defaults(`@${file}`)).toEqual([{ name: 'u', uri: 'https://universe/repo' }]);
      writeFileSync(file, JSON.stringify([{ name: 'u' }]));
      expect(usageError(() => defaults(`@${file}`))).toMatch(/is not a JSON array of \{"name", "uri"\}/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('rejects a pair without a name or a URI', () => {
    expect(usageError(() => defaults('a='))).toMatch(/expected name=uri, got "a="/);
    expect(usageError(() => defaults('=http://x/'))).toMatch(/expected name=uri/);
  });
});
