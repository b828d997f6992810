/**
 * The rep API over HTTP (see @diego/bbs rep-api.ts): GET /state, POST /work, the stop of an LRP instance and
 * the cancel of a task. Handlers only decode, call the Rep and answer.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { readBodyWithin, workFromJson, RepDecodeError, type Work } from '@diego/bbs';
import { convertError } from '@diego/models';
import type { Rep } from './rep';

const STOP_INSTANCE = /^\/v1\/lrps\/([^/]+)\/instances\/([^/]+)\/stop$/;
const CANCEL_TASK = /^\/v1\/tasks\/([^/]+)\/cancel$/;

/**
 * @example
 *   const server = repServer(rep, logger);
 *   await listenOn(server, '0.0.0.0:1800');
 */
export function repServer(rep: Rep, logger: Logger): Server {
  const log = logger.child({ session: 'rep-api' });
  return createServer((request, response) => {
    handle(rep, request, response).catch((err: unknown) => {
      log.error({ method: request.method, url: request.url, err: convertError(err).message }, 'request-failed');
      if (!response.headersSent) response.writeHead(err instanceof RepDecodeError ? 400 : 500);
      response.end();
    });
  });
}

async function handle(rep: Rep, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const path = request.url ?? '';
  let match: RegExpExecArray | null;
  if (request.method === 'GET' && path === '/state') {
    request.resume();
    respondJson(response, rep.state());
  } else if (request.method === 'POST' && path === '/work') {
    const work: Work = workFromJson((await readBodyWithin(request)).toString('utf8'));
    respondJson(response, rep.perform(work));
  } else if (request.method === 'POST' && (match = STOP_INSTANCE.exec(path)) !== null) {
    request.resume();
    rep.stopInstance(decodeURIComponent(match[1] ?? ''), decodeURIComponent(match[2] ?? ''));
    response.writeHead(202).end();
  } else if (request.method === 'POST' && (match = CANCEL_TASK.exec(path)) !== null) {
    request.resume();
    rep.cancelTask(decodeURIComponent(match[1] ?? ''));
    response.writeHead(202).end();
  } else {
    request.resume();
    response.writeHead(404).end();
  }
}

function respondJson(response: ServerResponse, value: unknown): void {
  const body = JSON.stringify(value);
  response.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) }).end(body);
}
