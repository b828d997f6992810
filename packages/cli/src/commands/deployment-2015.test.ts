/**
 * The command lines of a 2015 Diego deployment (the seed's, and every flag of the 2015 receptor, BBS, rep and
 * executor) are taken unchanged: a flag that means something here is compiled into the configuration, one that
 * does not is accepted and reported, and a malformed value of either is refused with exit status 2.
 */
import { runCli } from '../cli';
import { parseWithNotes, type CliIo } from '../command';
import { bbsCommand } from './bbs';
import { cellCommand } from './cell';
import { receptorCommand } from './receptor';

/** The seed deployment's receptor command line, as its job ran it. */
const SEED_RECEPTOR_ARGS = [
  '-address=0.0.0.0:8887', '-bbsAddress=http://bbs.service.cf.internal:8889', '-taskHandlerAddress=10.244.16.6:1169',
  '-debugAddr=0.0.0.0:17014', '-etcdCluster="https://etcd.service.cf.internal:4001"', '-consulCluster=http://127.0.0.1:8500',
  '-username=', '-password=', '-registerWithRouter=true', '-domainNames=receptor.10.244.0.34.xip.io',
  '-natsAddresses=10.244.0.6:4222', '-natsUsername=nats', '-natsPassword=nats', '-corsEnabled=false', '-logLevel=debug',
];

async function cli(argv: string[]): Promise<{ exitCode: number; stderr: string }> {
  let stderr = '';
  const io: CliIo = { stdout: { write: () => true }, stderr: { write: (text: string) => (stderr += text) }, env: {} };
  return { exitCode: await runCli(argv, io), stderr };
}

describe('the seed deployment receptor command line', () => {
  it('compiles, with router registration on and the flags that mean nothing here reported', () => {
    // The shell that ran the job's script took the quotes off -etcdCluster's value.
    const args = SEED_RECEPTOR_ARGS.map((arg) => arg.replaceAll('"', ''));
    const parsed = parseWithNotes(receptorCommand, args, {});
    expect(parsed?.config).toMatchObject({
      address: '0.0.0.0:8887',
      bbsAddress: ['http://bbs.service.cf.internal:8889'],
      debugAddress: '0.0.0.0:17014',
      username: '',
      password: '',
      corsEnabled: false,
      logLevel: 'debug',
      bbsTls: null,
      routerRegistration: {
        natsAddresses: ['10.244.0.6:4222'],
        natsUsername: 'nats',
        natsPassword: 'nats',
        domainNames: ['receptor.10.244.0.34.xip.io'],
      },
    });
    expect(parsed?.notes.ignoredFlags.map((ignored) => ignored.flag)).toEqual(['taskHandlerAddress', 'etcdCluster', 'consulCluster']);
    for (const { reason } of parsed?.notes.ignoredFlags ?? []) expect(reason).not.toBe('');
  });

  it('refuses router registration without the routes to register', async () => {
    const result = await cli(['receptor', '-registerWithRouter']);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('-registerWithRouter needs -domainNames');
  });

  it('takes the BBS client certificates all together, and the Lattice paths', () => {
    const args = ['-bbsAddress=https://bbs:8889', '-bbsCACert=/certs/ca.crt', '-bbsClientCert=/certs/client.crt', '-bbsClientKey=/certs/client.key',
      '-artifactPath=/var/lattice/artifacts', '-versionFilesPath=/var/lattice/versions', '-communicationTimeout=30s'];
    expect(parseWithNotes(receptorCommand, args, {})?.config).toMatchObject({
      bbsTls: { caFile: '/certs/ca.crt', certFile: '/certs/client.crt', keyFile: '/certs/client.key' },
      artifactPath: '/var/lattice/artifacts',
      versionFilesPath: '/var/lattice/versions',
      communicationTimeoutMs: 30_000,
    });
  });
});

describe('malformed values of 2015 flags', () => {
  it.each([
    ['receptor', '-taskHandlerAddress=10.244.16.6', '-taskHandlerAddress'],
    ['receptor', '-etcdCluster=etcd:4001', '-etcdCluster'],
    ['receptor', '-lockTTL=ten', '-lockTTL'],
    ['receptor', '-natsAddresses=10.244.0.6', '-natsAddresses'],
    ['receptor', '-domainNames=a,,b', '-domainNames'],
    ['receptor', '-bbsCACert=/ca.crt', '-bbsCACert, -bbsClientCert and -bbsClientKey go together'],
    ['bbs', '-requireSSL', '-requireSSL needs -caFile, -certFile and -keyFile'],
    ['bbs', '-certFile=/bbs.crt', 'take effect only with -requireSSL'],
    ['bbs', '-etcdCertFile=/client.crt', '-etcdCertFile and -etcdKeyFile go together'],
    ['bbs', '-convergenceWorkers=0', '-convergenceWorkers'],
    ['bbs', '-etcdMaxIdleConnsPerHost=-1', '-etcdMaxIdleConnsPerHost'],
    ['bbs', '-metricsReportInterval=often', '-metricsReportInterval'],
    ['bbs', '-auctioneerAddress=auctioneer:9016', '-auctioneerAddress'],
    ['bbs', '-activeKeyLabel=key1', 'the active encryption key label "key1" names no encryption key'],
    ['bbs', '-encryptionKey=key1:secret', 'encryption keys are configured without the label of the active one'],
    ['cell', '-zone=z1 -containerMaxCpuShares=0', '-containerMaxCpuShares'],
    ['cell', '-exportNetworkEnvVars=maybe', '-exportNetworkEnvVars'],
    ['cell', '-dropsondePort=port', '-dropsondePort'],
  ])('diego %s %s exits 2 naming the problem', async (command, arg, named) => {
    const result = await cli([command, ...arg.split(' ')]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain(named);
  });

  it('never repeats an encryption passphrase in an error', async () => {
    for (const argv of [
      ['bbs', '-encryptionKey=key1:correct-horse', '-encryptionKey=key1:battery-staple', '-activeKeyLabel=key1'],
      ['bbs', '-encryptionKey=:correct-horse'],
    ]) {
      const result = await cli(argv);
      expect(result.exitCode).toBe(2);
      expect(result.stderr).toContain('-encryptionKey');
      expect(result.stderr).not.toMatch(/correct-horse|battery-staple/);
    }
  });
});

describe('the 2015 BBS command line', () => {
  const args = [
    '-listenAddress=0.0.0.0:8889', '-advertiseURL=https://bbs.service.cf.internal:8889',
    '-requireSSL=true', '-caFile=/var/vcap/jobs/bbs/config/certs/ca.crt', '-certFile=/var/vcap/jobs/bbs/config/certs/server.crt',
    '-keyFile=/var/vcap/jobs/bbs/config/certs/server.key',
    '-etcdCluster=https://etcd.service.cf.internal:4001', '-etcdCertFile=/certs/etcd-client.crt', '-etcdKeyFile=/certs/etcd-client.key',
    '-etcdCaFile=/certs/etcd-ca.crt', '-etcdClientSessionCacheSize=0', '-etcdMaxIdleConnsPerHost=0',
    '-communicationTimeout=30s', '-auctioneerAddress=http://auctioneer.service.cf.internal:9016', '-sessionName=bbs',
    '-consulCluster=http://127.0.0.1:8500', '-lockTTL=15s', '-lockRetryInterval=5s', '-metricsReportInterval=1m',
    '-dropsondeDestination=localhost:3457', '-convergenceWorkers=20', '-updateWorkers=1000', '-taskCallBackWorkers=1000',
    '-encryptionKey=key1:a passphrase', '-encryptionKey=key2:another:with:colons', '-activeKeyLabel=key2',
    '-debugAddr=0.0.0.0:17017', '-logLevel=debug',
  ];

  it('compiles every flag that means something here', () => {
    expect(parseWithNotes(bbsCommand, args, {})?.config).toMatchObject({
      serverTls: {
        caFile: '/var/vcap/jobs/bbs/config/certs/ca.crt',
        certFile: '/var/vcap/jobs/bbs/config/certs/server.crt',
        keyFile: '/var/vcap/jobs/bbs/config/certs/server.key',
      },
      etcdTls: { caFile: '/certs/etcd-ca.crt', certFile: '/certs/etcd-client.crt', keyFile: '/certs/etcd-client.key' },
      advertiseUrl: 'https://bbs.service.cf.internal:8889',
      communicationTimeoutMs: 30_000,
      lockTtlSeconds: 15,
      lockRetryIntervalMs: 5_000,
      convergenceWorkers: 20,
      updateWorkers: 1000,
      taskCallbackWorkers: 1000,
      encryptionKeys: [
        { label: 'key1', passphrase: 'a passphrase' },
        { label: 'key2', passphrase: 'another:with:colons' },
      ],
      activeKeyLabel: 'key2',
    });
  });

  it('reports the flags consul, dropsonde and Go connection tuning had', () => {
    expect(parseWithNotes(bbsCommand, args, {})?.notes.ignoredFlags.map((ignored) => ignored.flag)).toEqual([
      'etcdClientSessionCacheSize', 'etcdMaxIdleConnsPerHost', 'auctioneerAddress', 'metricsReportInterval', 'dropsondeDestination',
      'consulCluster', 'sessionName',
    ]);
  });

  it('advertises https when it serves TLS and no -advertiseURL is given', () => {
    const tlsArgs = ['-listenAddress=10.0.0.5:8889', '-requireSSL', '-caFile=/ca.crt', '-certFile=/bbs.crt', '-keyFile=/bbs.key'];
    expect(parseWithNotes(bbsCommand, tlsArgs, {})?.config.advertiseUrl).toBe('https://10.0.0.5:8889');
  });

  it('refuses an active key label no key has', async () => {
    const result = await cli(['bbs', '-encryptionKey=key1:secret-one', '-activeKeyLabel=key2']);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('the active encryption key label "key2" is not the label of any configured key');
    expect(result.stderr).not.toContain('secret-one');
  });
});

describe('the 2015 rep and executor flags on diego cell', () => {
  it('compiles those that mean something here and reports Garden, consul and dropsonde ones', () => {
    const args = [
      '-cellID=cell_z1-0', '-zone=z1', '-listenAddr=0.0.0.0:1800', '-bbsAddress=https://bbs.service.cf.internal:8889',
      '-bbsCACert=/certs/ca.crt', '-bbsClientCert=/certs/client.crt', '-bbsClientKey=/certs/client.key',
      '-bbsClientSessionCacheSize=0', '-bbsMaxIdleConnsPerHost=0', '-communicationTimeout=10s',
      '-pollingInterval=30s', '-evacuationTimeout=10m', '-evacuationPollingInterval=10s', '-sessionName=rep',
      '-consulCluster=http://127.0.0.1:8500', '-lockTTL=10s', '-lockRetryInterval=5s',
      '-preloadedRootFS=cflinuxfs2:/var/vcap/packages/rootfs_cflinuxfs2/rootfs', '-rootFSProvider=docker',
      '-gardenNetwork=tcp', '-gardenAddr=127.0.0.1:7777', '-memoryMB=auto', '-diskMB=auto', '-containerMaxCpuShares=1024',
      '-cachePath=/var/vcap/data/executor_cache', '-maxCacheSizeInBytes=10000000000', '-allowPrivileged=false',
      '-skipCertVerify=false', '-exportNetworkEnvVars=false', '-healthyMonitoringInterval=30s',
      '-unhealthyMonitoringInterval=500ms', '-containerInodeLimit=200000', '-tempDir=/var/vcap/data/tmp',
      '-dropsondePort=3457', '-debugAddr=0.0.0.0:17008', '-logLevel=debug',
    ];
    const parsed = parseWithNotes(cellCommand, args, {});
    expect(parsed?.config).toMatchObject({
      bbsTls: { caFile: '/certs/ca.crt', certFile: '/certs/client.crt', keyFile: '/certs/client.key' },
      communicationTimeoutMs: 10_000,
      bulkSyncIntervalMs: 30_000,
      evacuationPollingIntervalMs: 10_000,
      exportNetworkEnvVars: false,
      healthyMonitoringIntervalMs: 30_000,
      unhealthyMonitoringIntervalMs: 500,
      containerMaxCpuShares: 1024,
      presenceTtlSeconds: 10,
      debugAddress: '0.0.0.0:17008',
    });
    expect(parsed?.notes.ignoredFlags.map((ignored) => ignored.flag)).toEqual([
      'bbsClientSessionCacheSize', 'bbsMaxIdleConnsPerHost', 'lockRetryInterval', 'rootFSProvider', 'gardenNetwork', 'gardenAddr',
      'tempDir', 'cachePath', 'maxCacheSizeInBytes', 'allowPrivileged', 'skipCertVerify', 'containerInodeLimit', 'dropsondePort',
      'consulCluster', 'sessionName',
    ]);
  });

  it('exports the network variables unless told not to, and takes the rep name of the bulk sync interval', () => {
    expect(parseWithNotes(cellCommand, ['-zone=z1'], {})?.config.exportNetworkEnvVars).toBe(true);
    expect(parseWithNotes(cellCommand, ['-zone=z1', '-exportNetworkEnvVars'], {})?.config.exportNetworkEnvVars).toBe(true);
    expect(parseWithNotes(cellCommand, ['-zone=z1', '-bulkSyncInterval=45s'], {})?.config.bulkSyncIntervalMs).toBe(45_000);
    expect(parseWithNotes(cellCommand, ['-zone=z1', '-pollingInterval=1m'], {})?.config.bulkSyncIntervalMs).toBe(60_000);
  });
});

describe('--help', () => {
  it('says which flags are accepted and ignored, and why', async () => {
    let stdout = '';
    const io: CliIo = { stdout: { write: (text: string) => (stdout += text) }, stderr: { write: () => true }, env: {} };
    expect(await runCli(['receptor', '--help'], io)).toBe(0);
    expect(stdout).toMatch(/--taskHandlerAddress host:port\n {8}accepted and ignored: the BBS calls each task's completion_callback_url itself/);
  });
});
