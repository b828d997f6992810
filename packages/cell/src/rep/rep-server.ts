/**
 * The rep API over HTTP (see @diego/bbs rep-api.ts): GET /state, POST /work, the stop of an LRP instance and
 * the cancel of a task; and ours: GET /v1/logs/:log_guid, the output of an LRP's instances or a task as one JSON
 * line each (`?follow=true` keeps the response open for what comes), and GET /v1/image_config?rootfs=docker://...,
 * an image's config (Entrypoint, Cmd, ExposedPorts, Env, WorkingDir, User) for building a run action from it.
 * Handlers only decode, call the Rep and answer.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { readBodyWithin } from '@diego/server-support';
import { workFromJson, RepDecodeError, type Work } from '@diego/rep-api';
import { convertError } from '@diego/models';
import type { ContainerLogs, LogLine } from '../executor/container-logs';
import type { ImageConfig } from '../executor/images';
import type { Rep } from './rep';

/** What a following log reader may fall behind by before it is disconnected. */
const FOLLOWER_BUFFER_BYTES = 4 * 1024 * 1024;

const STOP_INSTANCE = /^\/v1\/lrps\/([^/]+)\/instances\/([^/]+)\/stop$/;
const CANCEL_TASK = /^\/v1\/tasks\/([^/]+)\/cancel$/;
const IMAGE_CONFIG = /^\/v1\/image_config(?:\?(.*))?$/;
const LOGS = /^\/v1\/logs\/([^/?]+)(?:\?(.*))?$/;

/**
 * @example
 *   const server = repServer({ rep, logs: executor.logs, imageConfig: null }, logger);
 *   await listenOn(server, '0.0.0.0:1800');
 */
/** What the rep API serves. */
export interface RepApi {
  rep: Rep;
  logs: ContainerLogs;
  /** Null when the cell runs no images. */
  imageConfig: ((rootfs: string) => Promise<ImageConfig>) | null;
}

export function repServer(api: RepApi, logger: Logger): Server {
  const log = logger.child({ session: 'rep-api' });
  return createServer((request, response) => {
    handle(api, request, response).catch((err: unknown) => {
      log.error({ method: request.method, url: request.url, err: convertError(err).message }, 'request-failed');
      if (!response.headersSent) response.writeHead(err instanceof RepDecodeError ? 400 : 500);
      response.end();
    });
  });
}

async function handle({ rep, logs, imageConfig }: RepApi, request: IncomingMessage, response: ServerResponse): Promise<void> {
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
  } else if (request.method === 'GET' && (match = IMAGE_CONFIG.exec(path)) !== null) {
    request.resume();
    const rootfs = new URLSearchParams(match[1] ?? '').get('rootfs') ?? '';
    if (imageConfig === null) {
      respondJson(response, { error: 'this cell runs no docker images' }, 404);
    } else if (!rootfs.startsWith('docker://')) {
      respondJson(response, { error: 'rootfs must be a docker:// URL' }, 400);
    } else {
      // An image that cannot be had (no such tag, registry down) is the caller's to fix: 422 with why.
      await imageConfig(rootfs).then((config) => respondJson(response, config), (err: unknown) => respondJson(response, { error: convertError(err).message }, 422));
    }
  } else if (request.method === 'GET' && (match = LOGS.exec(path)) !== null) {
    request.resume();
    serveLogs(logs, decodeURIComponent(match[1] ?? ''), new URLSearchParams(match[2] ?? '').get('follow') === 'true', response);
  } else {
    request.resume();
    response.writeHead(404).end();
  }
}

/** The lines kept for a log, then (following) each new one as it is printed, until the client goes. */
function serveLogs(logs: ContainerLogs, logGuid: string, follow: boolean, response: ServerResponse): void {
  response.writeHead(200, { 'Content-Type': 'application/x-ndjson', 'Cache-Control': 'no-cache' });
  const write = (line: LogLine): boolean => response.write(`${JSON.stringify(line)}\n`);
  for (const line of logs.history(logGuid)) write(line);
  if (!follow) {
    response.end();
    return;
  }
  const stop = logs.follow(logGuid, (line) => {
    // A reader that stopped reading is let go rather than buffered without bound.
    if (!write(line) && response.writableLength > FOLLOWER_BUFFER_BYTES) response.destroy();
  });
  response.once('close', stop);
}

function respondJson(response: ServerResponse, value: unknown, status = 200): void {
  const body = JSON.stringify(value);
  response.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) }).end(body);
}
