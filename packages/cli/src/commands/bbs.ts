/** `diego bbs`: the only process that touches etcd. */
import { RecordCodec, startBbs, type BbsConfig, type EncryptionKey } from '@diego/bbs';
import type { EtcdTlsFiles, MutualTlsFiles } from '@diego/tls';
import { serveUntilStopped, type Command } from '../command';
import { UsageError, type FlagDef } from '../flags';
import {
  addressFlag,
  boolFlag,
  durationFlag,
  ignored,
  logLevelFlag,
  nonNegativeIntegerFlag,
  optional,
  positiveIntegerFlag,
  stringFlag,
  urlFlag,
  urlListFlag,
} from '../flag-types';
import { consulFlags, DROPSONDE, leaseTtlFlag } from './shared-flags';

/** `label:passphrase`, split at the first colon (a passphrase may hold more); the keys are checked together. */
function parseEncryptionKey(text: string): EncryptionKey {
  const colon = text.indexOf(':');
  if (colon === -1) throw new Error('expected label:passphrase');
  return { label: text.slice(0, colon), passphrase: text.slice(colon + 1) };
}

function encryptionKeyFlag(): FlagDef<EncryptionKey[]> {
  return {
    usage: 'a key record values are encrypted with at rest (AES-256-GCM); repeat it to keep reading values under older keys',
    valueName: 'label:passphrase',
    defaultText: '',
    isRepeatable: true,
    isSecret: true,
    parse: (written) => written.map(parseEncryptionKey),
  };
}

export const bbsFlags = {
  listenAddress: addressFlag('where the BBS API listens', '0.0.0.0:8889'),
  etcdCluster: urlListFlag('the etcd client URLs, comma-separated', 'http://127.0.0.1:2379'),
  etcdCaFile: stringFlag("the CA that signed etcd's certificate, for https -etcdCluster URLs (default: the system's CAs)", '', 'file'),
  etcdCertFile: stringFlag('the client certificate presented to an etcd run with --client-cert-auth', '', 'file'),
  etcdKeyFile: stringFlag('the key of -etcdCertFile', '', 'file'),
  etcdClientSessionCacheSize: ignored(nonNegativeIntegerFlag('TLS session cache capacity towards etcd'), "etcd's gRPC client keeps one TLS connection per member"),
  etcdMaxIdleConnsPerHost: ignored(nonNegativeIntegerFlag('idle connections kept per etcd member'), "etcd's gRPC client multiplexes every call over one connection per member"),
  requireSSL: boolFlag('serve the API over mutual TLS only: clients must present a certificate signed by -caFile'),
  caFile: stringFlag('with -requireSSL: the CA that signs the certificates of clients', '', 'file'),
  certFile: stringFlag("with -requireSSL: the BBS's own certificate", '', 'file'),
  keyFile: stringFlag('with -requireSSL: the key of -certFile', '', 'file'),
  logLevel: logLevelFlag(),
  debugAddr: optional(addressFlag('where the debug endpoints listen; none when empty', '')),
  eventHeartbeatInterval: durationFlag('how often an idle /v1/events stream gets a heartbeat comment', '15s'),
  advertiseURL: optional(urlFlag('the URL other BBSes and operators reach this BBS at, announced in the leader election; http(s)://<listenAddress> when empty', '')),
  convergeRepeatInterval: durationFlag('how often the leader converges tasks and LRPs (and at once when a cell disappears)', '30s'),
  convergeFullRepeatInterval: durationFlag('how often an LRP convergence pass covers every record rather than what changed since the last one', '5m'),
  kickTaskDuration: durationFlag('a task untouched this long is auctioned again (PENDING) or called back again (COMPLETED)', '30s'),
  expirePendingTaskDuration: durationFlag('a task still PENDING this long after its creation fails', '30m'),
  expireCompletedTaskDuration: durationFlag('a completed task is deleted this long after it completed', '120s'),
  apiOnly: boolFlag('serve the API only and never campaign to lead (no converger, auctioneer or task callbacks here): a BBS that only scales out reads and writes'),
  communicationTimeout: durationFlag("how long the BBS waits on a cell's rep or a task's completion callback", '10s'),
  lockTTL: leaseTtlFlag("the leader election's lease TTL: how soon another BBS leads after the leader dies"),
  lockRetryInterval: durationFlag('how long a BBS that did not win the election waits before campaigning again', '5s'),
  convergenceWorkers: positiveIntegerFlag("a convergence pass's writes in flight at once", '20'),
  updateWorkers: positiveIntegerFlag('records rewritten at once when moving them to the active encryption key', '1000'),
  taskCallBackWorkers: positiveIntegerFlag('task completion callbacks in flight at once', '1000'),
  encryptionKey: encryptionKeyFlag(),
  activeKeyLabel: stringFlag('the label of the -encryptionKey new values are written with (required with -encryptionKey)', '', 'label'),
  auctioneerAddress: ignored(optional(urlFlag('the auctioneer', '')), 'the auctioneer runs inside the leading BBS'),
  metricsReportInterval: ignored(durationFlag('how often metrics are sent', '1m'), DROPSONDE),
  dropsondeDestination: ignored(stringFlag('the metron agent', '', 'host:port'), DROPSONDE),
  ...consulFlags,
};

/** -requireSSL's three files; they mean nothing without it. */
function compileServerTls(values: { requireSSL: boolean; caFile: string; certFile: string; keyFile: string }): MutualTlsFiles | null {
  const { caFile, certFile, keyFile } = values;
  if (!values.requireSSL) {
    if ([caFile, certFile, keyFile].some((file) => file !== '')) throw new UsageError('-caFile, -certFile and -keyFile take effect only with -requireSSL');
    return null;
  }
  if (caFile === '' || certFile === '' || keyFile === '') throw new UsageError('-requireSSL needs -caFile, -certFile and -keyFile');
  return { caFile, certFile, keyFile };
}

function compileEtcdTls(values: { etcdCaFile: string; etcdCertFile: string; etcdKeyFile: string }): EtcdTlsFiles | null {
  const file = (path: string): string | null => (path === '' ? null : path);
  const tls = { caFile: file(values.etcdCaFile), certFile: file(values.etcdCertFile), keyFile: file(values.etcdKeyFile) };
  if ((tls.certFile === null) !== (tls.keyFile === null)) throw new UsageError('-etcdCertFile and -etcdKeyFile go together');
  return tls.caFile === null && tls.certFile === null ? null : tls;
}

/** The keys as the store will take them: the store's own check (labels, passphrases, the active label) decides. */
function compileEncryption(keys: EncryptionKey[], activeKeyLabel: string): Pick<BbsConfig, 'encryptionKeys' | 'activeKeyLabel'> {
  const encryption = { keys, activeKeyLabel: activeKeyLabel === '' ? null : activeKeyLabel };
  try {
    RecordCodec.create(encryption);
  } catch (error) {
    throw new UsageError(`-encryptionKey, -activeKeyLabel: ${error instanceof Error ? error.message : String(error)}`);
  }
  return { encryptionKeys: encryption.keys, activeKeyLabel: encryption.activeKeyLabel };
}

export const bbsCommand: Command<typeof bbsFlags, BbsConfig> = {
  name: 'bbs',
  summary: 'the BBS: the API in front of etcd (DesiredLRPs, ActualLRPs, Tasks, domains, cells)',
  description:
    'Runs the BBS, the only process that reads and writes etcd, serving its protobuf-over-HTTP API until\n' +
    'SIGINT or SIGTERM. Every BBS serves the API; the one that wins the etcd election /v1/locks/bbs_lock also\n' +
    'runs the converger, the auctioneer and the task completion callbacks.',
  flags: bbsFlags,
  compile: (values) => {
    const serverTls = compileServerTls(values);
    return {
      listenAddress: values.listenAddress,
      etcdCluster: values.etcdCluster,
      etcdTls: compileEtcdTls(values),
      serverTls,
      logLevel: values.logLevel,
      debugAddress: values.debugAddr,
      eventHeartbeatIntervalMs: values.eventHeartbeatInterval,
      advertiseUrl: values.advertiseURL ?? `${serverTls === null ? 'http' : 'https'}://${values.listenAddress}`,
      convergeRepeatIntervalMs: values.convergeRepeatInterval,
      convergeFullRepeatIntervalMs: values.convergeFullRepeatInterval,
      kickTaskDurationMs: values.kickTaskDuration,
      expirePendingTaskDurationMs: values.expirePendingTaskDuration,
      expireCompletedTaskDurationMs: values.expireCompletedTaskDuration,
      apiOnly: values.apiOnly,
      communicationTimeoutMs: values.communicationTimeout,
      lockTtlSeconds: values.lockTTL,
      lockRetryIntervalMs: values.lockRetryInterval,
      convergenceWorkers: values.convergenceWorkers,
      updateWorkers: values.updateWorkers,
      taskCallbackWorkers: values.taskCallBackWorkers,
      ...compileEncryption(values.encryptionKey, values.activeKeyLabel),
    };
  },
  run: (config, io, notes) => serveUntilStopped('bbs', config.logLevel, () => startBbs(config), io, notes),
};
