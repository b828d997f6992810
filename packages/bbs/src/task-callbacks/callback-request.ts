/**
 * One POST of a task to its completion_callback_url (spec/bbs.md §7), and what came of it, classified the way
 * the completion worker decides: an answer (whatever its status), a timeout or a closed connection (worth
 * another attempt), another transport failure (give up for now), or an abort because the workers stopped.
 */
import http from 'node:http';
import https from 'node:https';

export type CallbackOutcome =
  | { kind: 'answered'; status: number }
  | { kind: 'timed-out' }
  | { kind: 'connection-closed'; error: string }
  | { kind: 'failed'; error: string }
  | { kind: 'aborted' };

/**
 * The keep-alive connections of one run of the workers (a callback receiver such as the CC gets many callbacks).
 * `destroy()` closes every socket, idle or in use, so nothing is left open once the workers stop.
 *
 * @example
 *   const agents = new CallbackAgents();
 *   await postCallback('http://cc/internal/tasks/t1', body, { agents, timeoutMs: 10_000, signal });
 *   agents.destroy();
 */
export class CallbackAgents {
  readonly http = new http.Agent({ keepAlive: true });
  readonly https = new https.Agent({ keepAlive: true });

  destroy(): void {
    this.http.destroy();
    this.https.destroy();
  }
}

export interface PostCallbackOptions {
  agents: CallbackAgents;
  /** The whole exchange, response body included (Go's http.Client.Timeout). */
  timeoutMs: number;
  /** Aborts the request when the workers stop. */
  signal: AbortSignal;
}

/** Codes of a connection the other side (or a stale keep-alive socket) closed under the request. */
const CONNECTION_CLOSED_CODES = new Set(['ECONNRESET', 'EPIPE']);

/** POSTs `body` as JSON to `url`. Never rejects: every way it can end is a CallbackOutcome. */
export function postCallback(url: string, body: string, { agents, timeoutMs, signal }: PostCallbackOptions): Promise<CallbackOutcome> {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    return Promise.resolve({ kind: 'failed', error: 'the completion_callback_url is not a URL' });
  }
  if (target.protocol !== 'http:' && target.protocol !== 'https:') {
    return Promise.resolve({ kind: 'failed', error: `unsupported protocol ${target.protocol}` });
  }
  if (signal.aborted) return Promise.resolve({ kind: 'aborted' });

  return new Promise((resolve) => {
    // Once the status line has arrived the callback has been answered, whatever happens to the body.
    let status: number | null = null;
    let settled = false;
    const settle = (outcome: CallbackOutcome): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      resolve(outcome);
    };
    const endWith = (outcome: CallbackOutcome): void => {
      settle(status === null ? outcome : { kind: 'answered', status });
      request.destroy();
    };
    const onAbort = (): void => endWith({ kind: 'aborted' });

    const options = {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body, 'utf8') },
    };
    const request =
      target.protocol === 'https:'
        ? https.request(target, { ...options, agent: agents.https })
        : http.request(target, { ...options, agent: agents.http });
    const timer = setTimeout(() => endWith({ kind: 'timed-out' }), timeoutMs);
    signal.addEventListener('abort', onAbort);

    request.on('response', (response) => {
      status = response.statusCode ?? 0;
      const answered: CallbackOutcome = { kind: 'answered', status };
      // The body is read to its end so that the connection can carry the next callback.
      response.on('error', () => settle(answered));
      response.on('close', () => settle(answered));
      response.on('end', () => settle(answered));
      response.resume();
    });
    request.on('error', (err) => {
      const code = 'code' in err && typeof err.code === 'string' ? err.code : '';
      const outcome: CallbackOutcome = CONNECTION_CLOSED_CODES.has(code)
        ? { kind: 'connection-closed', error: err.message }
        : { kind: 'failed', error: err.message };
      settle(status === null ? outcome : { kind: 'answered', status });
    });
    request.end(body);
  });
}
