/**
 * The `--debugAddr` server of `diego bbs` and `diego receptor` (Diego's debugserver): process figures an
 * operator can curl, and the log level changed at run time without a restart.
 *
 *   curl <debugAddr>/debug/vars
 *   curl -X PUT <debugAddr>/log-level -d debug
 *   curl <debugAddr>/metrics     (when the process has metrics: Prometheus text format)
 *   curl <debugAddr>/healthz     (when the process has a health check: 200 ok, or 503)
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { LogLevel, RunningServer } from './running-server';
import { closeServer, listenOn } from './listen';

const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'error', 'fatal'];
const MAX_LEVEL_BODY_BYTES = 64;

function isLogLevel(value: string): value is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(value);
}

function send(res: ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

function readSmallBody(req: IncomingMessage): Promise<string | null> {
  return new Promise((resolve, reject) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      body += chunk;
      if (body.length > MAX_LEVEL_BODY_BYTES) {
        resolve(null);
        req.destroy();
      }
    });
    req.on('end', () => resolve(body));
    req.on('error', reject);
  });
}

/** What a process adds to the debug endpoints beyond the log level. */
export interface DebugServerOptions {
  /** Served at /metrics. */
  metrics?: Registry;
  /** Answered at /healthz: 200 when it resolves true, 503 when false or rejected. */
  healthy?: () => Promise<boolean>;
  /** Merged into /debug/vars (the BBS says whether it leads). */
  vars?: () => Record<string, unknown>;
}

function processVars(logger: Logger, options: DebugServerOptions): Record<string, unknown> {
  return {
    ...options.vars?.(),
    pid: process.pid,
    node_version: process.version,
    uptime_seconds: Math.round(process.uptime()),
    log_level: logger.level,
    memory: process.memoryUsage(),
    resource_usage: process.resourceUsage(),
  };
}

async function handle(req: IncomingMessage, res: ServerResponse, logger: Logger, options: DebugServerOptions): Promise<void> {
  const path = new URL(req.url ?? '/', 'http://debug').pathname;
  const isRead = req.method === 'GET' || req.method === 'HEAD';
  if (path === '/debug/vars') {
    if (!isRead) return send(res, 405, 'text/plain; charset=utf-8', 'Method Not Allowed\n');
    return send(res, 200, 'application/json', JSON.stringify(processVars(logger, options)));
  }
  if (path === '/metrics' && options.metrics !== undefined) {
    if (!isRead) return send(res, 405, 'text/plain; charset=utf-8', 'Method Not Allowed\n');
    return send(res, 200, options.metrics.contentType, await options.metrics.metrics());
  }
  if (path === '/healthz' && options.healthy !== undefined) {
    if (!isRead) return send(res, 405, 'text/plain; charset=utf-8', 'Method Not Allowed\n');
    const healthy = await options.healthy().catch(() => false);
    return send(res, healthy ? 200 : 503, 'text/plain; charset=utf-8', healthy ? 'ok\n' : 'unhealthy\n');
  }
  if (path === '/log-level') {
    if (req.method !== 'PUT' && req.method !== 'POST') return send(res, 405, 'text/plain; charset=utf-8', 'Method Not Allowed\n');
    const level = (await readSmallBody(req))?.trim() ?? '';
    if (!isLogLevel(level)) {
      return send(res, 400, 'text/plain; charset=utf-8', `invalid log level (want one of ${LOG_LEVELS.join(', ')})\n`);
    }
    logger.level = level;
    logger.info({ log_level: level }, 'log-level-changed');
    res.writeHead(204).end();
    return;
  }
  send(res, 404, 'text/plain; charset=utf-8', '404 page not found\n');
}

/** Serves the debug endpoints on `address` for the process whose root logger is `logger`. */
export async function startDebugServer(address: string, logger: Logger, options: DebugServerOptions = {}): Promise<RunningServer> {
  const server = createServer((req, res) => {
    handle(req, res, logger, options).catch((err: unknown) => {
      logger.error({ err }, 'debug-request-failed');
      if (!res.headersSent) send(res, 500, 'text/plain; charset=utf-8', 'internal error\n');
    });
  });
  const bound = await listenOn(server, address);
  logger.info({ debug_address: bound }, 'debug-server-started');
  let stopped: Promise<void> | undefined;
  return {
    address: bound,
    stop: () => (stopped ??= closeServer(server)),
  };
}
