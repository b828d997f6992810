/** `diego bbs`: the only process that touches etcd. */
import { startBbs, type BbsConfig } from '@diego/bbs';
import { serveUntilStopped, type Command } from '../command';
import { addressFlag, boolFlag, durationFlag, logLevelFlag, optional, urlFlag, urlListFlag } from '../flag-types';

export const bbsFlags = {
  listenAddress: addressFlag('where the BBS API listens', '0.0.0.0:8889'),
  etcdCluster: urlListFlag('the etcd client URLs, comma-separated', 'http://127.0.0.1:2379'),
  logLevel: logLevelFlag(),
  debugAddr: optional(addressFlag('where the debug endpoints listen; none when empty', '')),
  eventHeartbeatInterval: durationFlag('how often an idle /v1/events stream gets a heartbeat comment', '15s'),
  advertiseURL: optional(urlFlag('the URL other BBSes and operators reach this BBS at, announced in the leader election; http://<listenAddress> when empty', '')),
  convergeRepeatInterval: durationFlag('how often the leader converges tasks and LRPs (and at once when a cell disappears)', '30s'),
  kickTaskDuration: durationFlag('a task untouched this long is auctioned again (PENDING) or called back again (COMPLETED)', '30s'),
  expirePendingTaskDuration: durationFlag('a task still PENDING this long after its creation fails', '30m'),
  expireCompletedTaskDuration: durationFlag('a completed task is deleted this long after it completed', '120s'),
  apiOnly: boolFlag('serve the API only and never campaign to lead (no converger, auctioneer or task callbacks here): a BBS that only scales out reads and writes'),
};

export const bbsCommand: Command<typeof bbsFlags, BbsConfig> = {
  name: 'bbs',
  summary: 'the BBS: the API in front of etcd (DesiredLRPs, ActualLRPs, Tasks, domains, cells)',
  description:
    'Runs the BBS, the only process that reads and writes etcd, serving its protobuf-over-HTTP API until\n' +
    'SIGINT or SIGTERM. Every BBS serves the API; the one that wins the etcd election /v1/locks/bbs_lock also\n' +
    'runs the converger, the auctioneer and the task completion callbacks.',
  flags: bbsFlags,
  compile: (values) => ({
    listenAddress: values.listenAddress,
    etcdCluster: values.etcdCluster,
    logLevel: values.logLevel,
    debugAddress: values.debugAddr,
    eventHeartbeatIntervalMs: values.eventHeartbeatInterval,
    advertiseUrl: values.advertiseURL ?? `http://${values.listenAddress}`,
    convergeRepeatIntervalMs: values.convergeRepeatInterval,
    kickTaskDurationMs: values.kickTaskDuration,
    expirePendingTaskDurationMs: values.expirePendingTaskDuration,
    expireCompletedTaskDurationMs: values.expireCompletedTaskDuration,
    apiOnly: values.apiOnly,
  }),
  run: (config, io) => serveUntilStopped('bbs', config.logLevel, () => startBbs(config), io),
};
