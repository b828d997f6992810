/** `diego bbs`: the only process that touches etcd. */
import { startBbs, type BbsConfig } from '@diego/bbs';
import { serveUntilStopped, type Command } from '../command';
import { addressFlag, logLevelFlag, optional, urlListFlag } from '../flag-types';

export const bbsFlags = {
  listenAddress: addressFlag('where the BBS API listens', '0.0.0.0:8889'),
  etcdCluster: urlListFlag('the etcd client URLs, comma-separated', 'http://127.0.0.1:2379'),
  logLevel: logLevelFlag(),
  debugAddr: optional(addressFlag('where the debug endpoints listen; none when empty', '')),
};

export const bbsCommand: Command<typeof bbsFlags, BbsConfig> = {
  name: 'bbs',
  summary: 'the BBS: the API in front of etcd (DesiredLRPs, ActualLRPs, Tasks, domains, cells)',
  description:
    'Runs the BBS, the only process that reads and writes etcd, serving its protobuf-over-HTTP API until\n' +
    'SIGINT or SIGTERM.',
  flags: bbsFlags,
  compile: (values) => ({
    listenAddress: values.listenAddress,
    etcdCluster: values.etcdCluster,
    logLevel: values.logLevel,
    debugAddress: values.debugAddr,
  }),
  run: (config, io) => serveUntilStopped('bbs', config.logLevel, () => startBbs(config), io),
};
