/**
 * GET over node:http/https for the registry client. Not fetch: undici copies every body chunk through its wasm
 * HTTP parser and a web stream, which cost about a third of a pull's CPU for a large layer; node's native parser
 * hands the socket's buffers over as they are. Redirects are followed as fetch does (registries send blob GETs
 * to a storage backend), with the Authorization header dropped when the redirect leaves the origin.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Readable } from 'node:stream';

/** An answer whose body has not been read yet. */
export interface HttpAnswer {
  status: number;
  ok: boolean;
  /** A response header (lower-case name), the first when repeated; null when absent. */
  header(name: string): string | null;
  /** The body as it arrives; read it (or call bytes()) once. */
  body: Readable;
  bytes(): Promise<Buffer>;
}

const MAX_REDIRECTS = 20;
/** What undici allows for a silent server (its headers and body timeouts), so that a stalled registry fails a pull. */
const IDLE_TIMEOUT_MS = 300_000;

/** GETs `url`, following redirects. Rejects when the server cannot be reached or goes silent. */
export async function httpGet(url: URL, headers: Record<string, string>, signal?: AbortSignal): Promise<HttpAnswer> {
  let current = url;
  let sent = headers;
  for (let redirects = 0; ; redirects++) {
    const response = await getOnce(current, sent, signal);
    const status = response.statusCode ?? 0;
    const location = response.headers.location;
    if (![301, 302, 303, 307, 308].includes(status) || location === undefined) return answer(response);
    response.resume();
    if (redirects >= MAX_REDIRECTS) throw new Error(`more than ${MAX_REDIRECTS} redirects from ${url.host}`);
    const next = new URL(location, current);
    if (next.origin !== current.origin) sent = withoutAuthorization(sent);
    current = next;
  }
}

function getOnce(url: URL, headers: Record<string, string>, signal?: AbortSignal): Promise<IncomingMessage> {
  const request = url.protocol === 'https:' ? httpsRequest : url.protocol === 'http:' ? httpRequest : null;
  if (request === null) return Promise.reject(new Error(`unsupported URL scheme ${url.protocol}`));
  return new Promise((resolve, reject) => {
    const req = request(url, { headers, signal, timeout: IDLE_TIMEOUT_MS }, resolve);
    req.once('error', reject);
    // The socket's idle timeout covers the wait for headers and every pause of the body alike.
    req.once('timeout', () => req.destroy(new Error(`no answer for ${IDLE_TIMEOUT_MS / 1000} s`)));
    req.end();
  });
}

function answer(response: IncomingMessage): HttpAnswer {
  const status = response.statusCode ?? 0;
  return {
    status,
    ok: status >= 200 && status < 300,
    header: (name) => {
      const value = response.headers[name];
      return Array.isArray(value) ? (value[0] ?? null) : (value ?? null);
    },
    body: response,
    bytes: async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of response) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks);
    },
  };
}

function withoutAuthorization(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => name.toLowerCase() !== 'authorization'));
}
