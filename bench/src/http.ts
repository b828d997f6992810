/** Plain HTTP with kept-alive connections, for the receptor and the callbacks. */
import http from 'node:http';
import { JsonArrayCounter } from './json-count';

const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

export interface HttpAnswer {
  status: number;
  body: Buffer;
}

/**
 * A request on a kept-alive socket the server closed in the meantime (Node's 5 s keepAliveTimeout) fails at once
 * with ECONNRESET without having reached the server: it is sent again, once, as Node's documentation advises.
 */
async function retryingStale<T>(send: (onStale: () => void) => Promise<T>): Promise<T> {
  let stale = false;
  try {
    return await send(() => { stale = true; });
  } catch (err) {
    if (!stale) throw err;
    return send(() => undefined);
  }
}

function staleSocketReset(req: http.ClientRequest, err: NodeJS.ErrnoException): boolean {
  return req.reusedSocket && err.code === 'ECONNRESET';
}

export function httpRequest(url: string, method = 'GET', body?: string, timeoutMs = 300_000): Promise<HttpAnswer> {
  return retryingStale((onStale) => new Promise((resolve, reject) => {
    const req = http.request(url, { method, agent, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${url}: no answer within ${timeoutMs} ms`)));
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (staleSocketReset(req, err)) onStale();
      reject(err);
    });
    if (body !== undefined) {
      req.setHeader('Content-Type', 'application/json');
      req.setHeader('Content-Length', Buffer.byteLength(body));
      req.end(body);
    } else {
      req.end();
    }
  }));
}

/** GET and JSON-parse a 200 answer; throws on any other status. */
export async function getJson(url: string): Promise<unknown> {
  const answer = await httpRequest(url);
  if (answer.status !== 200) throw new Error(`GET ${url} answered ${answer.status}: ${answer.body.toString('utf8').slice(0, 300)}`);
  return JSON.parse(answer.body.toString('utf8')) as unknown;
}

export function closeAgents(): void {
  agent.destroy();
}

/** GETs a JSON array and counts its elements as the bytes arrive, keeping none of them. */
export function getAndCountArray(url: string, timeoutMs = 600_000): Promise<{ count: number; bytes: number }> {
  return retryingStale((onStale) => new Promise((resolve, reject) => {
    const req = http.request(url, { agent, timeout: timeoutMs }, (res) => {
      const counter = new JsonArrayCounter();
      let bytes = 0;
      const head: Buffer[] = [];
      res.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        if (res.statusCode === 200) counter.push(chunk);
        else head.push(chunk);
      });
      res.on('end', () => {
        if (res.statusCode !== 200) {
          reject(new Error(`GET ${url} answered ${res.statusCode ?? 0}: ${Buffer.concat(head).toString('utf8').slice(0, 300)}`));
          return;
        }
        try {
          resolve({ count: counter.result(), bytes });
        } catch (err) {
          reject(err instanceof Error ? err : new Error(String(err)));
        }
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url}: no answer within ${timeoutMs} ms`)));
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (staleSocketReset(req, err)) onStale();
      reject(err);
    });
    req.end();
  }));
}
