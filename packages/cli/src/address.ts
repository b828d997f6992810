/** Addresses as operators write them (`host:port`, `http://host:port`) and as clients dial them. */
import { isIPv4, isIPv6 } from 'node:net';

const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/**
 * Validates a `host:port` listen address (`0.0.0.0:8887`, `localhost:0`, `[::1]:8889`, `:8887`) and returns
 * it with an empty host made explicit (`0.0.0.0`), as Go's net.Listen would read it.
 */
export function parseHostPort(text: string): string {
  const match = /^(\[[^\]]*\]|[^:]*):(\d+)$/.exec(text);
  if (match === null) throw new Error('not a host:port address (e.g. 0.0.0.0:8887)');
  const host = match[1] ?? '';
  const port = Number(match[2]);
  if (!Number.isInteger(port) || port > 65535) throw new Error(`port ${match[2] ?? ''} is out of range (0-65535)`);
  if (host.startsWith('[')) {
    if (!isIPv6(host.slice(1, -1))) throw new Error(`"${host}" is not an IPv6 address`);
  } else if (host !== '' && !isIPv4(host) && (!HOSTNAME.test(host) || /^[\d.]+$/.test(host))) {
    throw new Error(`"${host}" is not a host name or IP address`);
  }
  return `${host === '' ? '0.0.0.0' : host}:${port}`;
}

/** Validates an http(s) endpoint URL such as `http://127.0.0.1:2379` and returns it without a trailing slash. */
export function parseEndpointUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new Error(`"${text}" is not a URL (e.g. http://127.0.0.1:2379)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`"${text}" is not an http or https URL`);
  if (url.hostname === '') throw new Error(`"${text}" has no host`);
  if (url.pathname !== '/' || url.search !== '' || url.hash !== '') {
    throw new Error(`"${text}" must be scheme://host[:port] without a path, query or fragment`);
  }
  return `${url.protocol}//${url.host}`;
}

/**
 * The URL a client on this machine dials to reach a server listening on `host:port`: a wildcard listen host
 * (`0.0.0.0`, `[::]`) is reached through loopback.
 *
 * @example dialableUrl('0.0.0.0:8889') // 'http://127.0.0.1:8889'
 */
export function dialableUrl(listenAddress: string, scheme: 'http' | 'https' = 'http'): string {
  const separator = listenAddress.lastIndexOf(':');
  const port = listenAddress.slice(separator + 1);
  let host = listenAddress.slice(0, separator).replace(/^\[(.*)\]$/, '$1');
  if (host === '' || host === '0.0.0.0') host = '127.0.0.1';
  else if (host === '::') host = '::1';
  return `${scheme}://${host.includes(':') ? `[${host}]` : host}:${port}`;
}
