/** `diego receptor`: the JSON REST API (`/v1/...`) CC-bridge and operators talk to. */
import { startReceptor, type ReceptorConfig } from '@diego/receptor';
import { serveUntilStopped, type Command } from '../command';
import { UsageError } from '../flags';
import { addressFlag, boolFlag, durationFlag, logLevelFlag, optional, stringFlag, urlListFlag } from '../flag-types';

export const receptorFlags = {
  address: addressFlag('where the receptor API listens', '0.0.0.0:8887'),
  bbsAddress: urlListFlag('the BBS URLs, comma-separated, tried in order', 'http://127.0.0.1:8889'),
  username: stringFlag('basic auth user name; basic auth is on when it is set', '', 'name'),
  password: stringFlag('basic auth password (prefer the environment variable: flags show in ps)', '', 'password'),
  corsEnabled: boolFlag('allow cross-origin requests and answer CORS preflights'),
  logLevel: logLevelFlag(),
  debugAddr: optional(addressFlag('where the debug endpoints listen; none when empty', '')),
  eventHeartbeatInterval: durationFlag('how often an idle /v1/events stream gets a heartbeat comment', '15s'),
};

/** A password without a user name would silently leave the API open: refuse it. */
export function checkBasicAuth(username: string, password: string): void {
  if (password !== '' && username === '') {
    throw new UsageError('a password is set but no username: basic auth is only on when -username is set too');
  }
}

export const receptorCommand: Command<typeof receptorFlags, ReceptorConfig> = {
  name: 'receptor',
  summary: 'the receptor: the JSON REST API (/v1/tasks, /v1/desired_lrps, ...) in front of the BBS',
  description:
    'Runs the receptor, the stateless JSON API CC-bridge and operators use, until SIGINT or SIGTERM.\n' +
    'It talks only to the BBS. The password is never printed or logged.',
  flags: receptorFlags,
  compile: (values) => {
    checkBasicAuth(values.username, values.password);
    return {
      address: values.address,
      bbsAddress: values.bbsAddress,
      username: values.username,
      password: values.password,
      corsEnabled: values.corsEnabled,
      logLevel: values.logLevel,
      debugAddress: values.debugAddr,
      eventHeartbeatIntervalMs: values.eventHeartbeatInterval,
    };
  },
  run: (config, io) => serveUntilStopped('receptor', config.logLevel, () => startReceptor(config), io),
};
