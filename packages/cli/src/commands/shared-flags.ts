/**
 * Flags that several of Diego's 2015 processes took with the same meaning: the client certificates for a BBS
 * over mutual TLS, and those of Diego's machinery that this design has no use for (consul, dropsonde).
 */
import type { LogLevel } from '@diego/server-support';
import type { MutualTlsFiles } from '@diego/tls';
import type { BbsFrontConfig } from '@diego/receptor';
import { UsageError, type FlagDef } from '../flags';
import { boolFlag, durationFlag, ignored, nonNegativeIntegerFlag, optional, stringFlag, urlListFlag } from '../flag-types';

export const bbsClientTlsFlags = {
  bbsCACert: stringFlag('the CA that signed the BBS certificate, for https -bbsAddress URLs', '', 'file'),
  bbsClientCert: stringFlag('the client certificate presented to a BBS run with -requireSSL', '', 'file'),
  bbsClientKey: stringFlag('the key of -bbsClientCert', '', 'file'),
  bbsClientSessionCacheSize: ignored(
    nonNegativeIntegerFlag('TLS session cache capacity towards the BBS'),
    "Node's TLS client keeps its own session cache",
  ),
  bbsMaxIdleConnsPerHost: ignored(
    nonNegativeIntegerFlag('idle keep-alive connections kept per BBS'),
    'connections to the BBS are kept alive and reused as needed',
  ),
};

/** The three files, or null when none is given; some but not all is a mistake the process could not act on. */
export function compileBbsClientTls(values: { bbsCACert: string; bbsClientCert: string; bbsClientKey: string }): MutualTlsFiles | null {
  const { bbsCACert: caFile, bbsClientCert: certFile, bbsClientKey: keyFile } = values;
  const given = [caFile, certFile, keyFile].filter((file) => file !== '').length;
  if (given === 0) return null;
  if (given !== 3) throw new UsageError('-bbsCACert, -bbsClientCert and -bbsClientKey go together: give all three or none');
  return { caFile, certFile, keyFile };
}

/** The three files as the flags that name them (what `diego up` hands the commands it compiles). */
export function bbsClientTlsValues(tls: MutualTlsFiles | null): { bbsCACert: string; bbsClientCert: string; bbsClientKey: string } {
  return { bbsCACert: tls?.caFile ?? '', bbsClientCert: tls?.certFile ?? '', bbsClientKey: tls?.keyFile ?? '' };
}

/** A password without a user name would silently leave the API open: refuse it. */
export function checkBasicAuth(username: string, password: string): void {
  if (password !== '' && username === '') {
    throw new UsageError('a password is set but no username: basic auth is only on when -username is set too');
  }
}

/** The flags of an HTTP API in front of the BBS (the receptor, the package service), after its `-address`. */
export function bbsFrontFlags(usernameUsage: string) {
  return {
    bbsAddress: urlListFlag('the BBS URLs, comma-separated, tried in order', 'http://127.0.0.1:8889'),
    ...bbsClientTlsFlags,
    communicationTimeout: durationFlag('how long a call to the BBS may take', '10s'),
    username: stringFlag(usernameUsage, '', 'name'),
    password: stringFlag('basic auth password (prefer the environment variable: flags show in ps)', '', 'password'),
    corsEnabled: boolFlag('allow cross-origin requests and answer CORS preflights'),
  };
}

export function compileBbsFront(values: {
  bbsAddress: string[];
  bbsCACert: string;
  bbsClientCert: string;
  bbsClientKey: string;
  communicationTimeout: number;
  username: string;
  password: string;
  corsEnabled: boolean;
  logLevel: LogLevel;
}): BbsFrontConfig {
  checkBasicAuth(values.username, values.password);
  return {
    bbsAddress: values.bbsAddress,
    bbsTls: compileBbsClientTls(values),
    communicationTimeoutMs: values.communicationTimeout,
    username: values.username,
    password: values.password,
    corsEnabled: values.corsEnabled,
    logLevel: values.logLevel,
  };
}

const CONSUL = 'presence and locks live in etcd, kept by the BBS; there is no consul';

/** consul's flags, which every 2015 process took. */
export const consulFlags = {
  consulCluster: ignored(optional(urlListFlag('consul agent URLs', '')), CONSUL),
  sessionName: ignored(stringFlag('consul session name', ''), CONSUL),
};

/** Diego's -lockTTL, in whole seconds as an etcd lease's TTL is: a fraction rounds up, never shorter than asked. */
export function leaseTtlFlag(usage: string): FlagDef<number> {
  const duration = durationFlag(usage, '10s');
  return { ...duration, parse: (written) => Math.ceil(duration.parse(written) / 1000) };
}

export const DROPSONDE = 'metrics are served on -debugAddr (/debug/vars), not sent to a metron agent';
