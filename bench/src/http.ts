/** Plain HTTP with kept-alive connections, for the receptor and the callbacks. */
import http from 'node:http';
import { JsonArrayCounter } from './json-count';

const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

export interface HttpAnswer {
  status: number;
  body: Buffer;
}

export function httpRequest(url: string, method = 'GET', body?: string, timeoutMs = 300_000): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, agent, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${url}: no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    if (body !== undefined) {
      req.setHeader('Content-Type', 'application/json');
      req.setHeader('Content-Length', Buffer.byteLength(body));
      req.end(body);
    } else {
      req.end();
    }
  });
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
  return new Promise((resolve, reject) => {
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
    req.on('error', reject);
    req.end();
  });
}
