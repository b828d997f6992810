/** `diego receptor`: the JSON REST API (`/v1/...`) CC-bridge and operators talk to. */
import { resolve } from 'node:path';
import { startReceptor, type ReceptorConfig, type RouterRegistrationConfig } from '@diego/receptor';
import { serveUntilStopped, type Command } from '../command';
import { UsageError } from '../flags';
import {
  addressFlag,
  boolFlag,
  durationFlag,
  hostPortListFlag,
  ignored,
  logLevelFlag,
  nameListFlag,
  optional,
  stringFlag,
  urlFlag,
  urlListFlag,
} from '../flag-types';
import { bbsFrontFlags, compileBbsFront, consulFlags } from './shared-flags';

const ETCD = 'the receptor talks only to the BBS, the one process that touches etcd';

export const receptorFlags = {
  address: addressFlag('where the receptor API listens', '0.0.0.0:8887'),
  ...bbsFrontFlags('basic auth user name; basic auth is on when it is set'),
  registerWithRouter: boolFlag('announce the receptor to the Cloud Foundry router over NATS (router.register with -domainNames)'),
  domainNames: nameListFlag('the routes the router sends to this receptor, comma-separated', 'domain'),
  natsAddresses: hostPortListFlag('the NATS servers, comma-separated', '127.0.0.1:4222'),
  natsUsername: stringFlag('the NATS user name', 'nats', 'name'),
  natsPassword: { ...stringFlag('the NATS password (prefer the environment variable: flags show in ps)', 'nats', 'password'), isSecret: true as const },
  artifactPath: stringFlag('the directory GET /v1/sync/:arch/:artifact serves files from', '', 'dir'),
  versionFilesPath: stringFlag('the directory GET /v1/version reads release version files from', '', 'dir'),
  packagesURL: optional(urlFlag(
    "the package service the dashboard's Packages view calls from the browser (its --dashboardOrigins must name the dashboard's origin); none when empty",
    '',
  )),
  logLevel: logLevelFlag(),
  debugAddr: optional(addressFlag('where the debug endpoints listen; none when empty', '')),
  eventHeartbeatInterval: durationFlag('how often an idle /v1/events stream gets a heartbeat comment', '15s'),
  taskHandlerAddress: ignored(
    optional(addressFlag('where task completion callbacks were received', '')),
    "the BBS calls each task's completion_callback_url itself; there is no receptor task handler",
  ),
  etcdCluster: ignored(optional(urlListFlag('etcd client URLs', '')), ETCD),
  etcdCaFile: ignored(stringFlag("etcd's CA", '', 'file'), ETCD),
  etcdCertFile: ignored(stringFlag('etcd client certificate', '', 'file'), ETCD),
  etcdKeyFile: ignored(stringFlag('etcd client key', '', 'file'), ETCD),
  lockTTL: ignored(durationFlag('consul lock TTL', '10s'), 'the receptor holds no lock'),
  ...consulFlags,
};

function compileRouterRegistration(values: {
  registerWithRouter: boolean;
  domainNames: string[];
  natsAddresses: string[];
  natsUsername: string;
  natsPassword: string;
}): RouterRegistrationConfig | null {
  if (!values.registerWithRouter) return null;
  if (values.domainNames.length === 0) throw new UsageError('-registerWithRouter needs -domainNames: the routes to register');
  if (values.natsAddresses.length === 0) throw new UsageError('-registerWithRouter needs -natsAddresses');
  return {
    natsAddresses: values.natsAddresses,
    natsUsername: values.natsUsername,
    natsPassword: values.natsPassword,
    domainNames: values.domainNames,
  };
}

export const receptorCommand: Command<typeof receptorFlags, ReceptorConfig> = {
  name: 'receptor',
  summary: 'the receptor: the JSON REST API (/v1/tasks, /v1/desired_lrps, ...) in front of the BBS',
  description:
    'Runs the receptor, the stateless JSON API CC-bridge and operators use, until SIGINT or SIGTERM.\n' +
    'It talks only to the BBS. The password is never printed or logged.',
  flags: receptorFlags,
  compile: (values) => {
    return {
      ...compileBbsFront(values),
      address: values.address,
      debugAddress: values.debugAddr,
      eventHeartbeatIntervalMs: values.eventHeartbeatInterval,
      routerRegistration: compileRouterRegistration(values),
      artifactPath: values.artifactPath === '' ? null : resolve(values.artifactPath),
      versionFilesPath: values.versionFilesPath === '' ? null : resolve(values.versionFilesPath),
      packagesUrl: values.packagesURL,
    };
  },
  run: (config, io, notes) => serveUntilStopped('receptor', config.logLevel, () => startReceptor(config), io, notes),
};
