/**
 * `dashboard-first-screen`: what the dashboard's first screen costs at the seeded size (issue 16: within 2 s at
 * 200,000 LRPs and 1,000 cells). A receptor with basic auth, as `diego up --username` runs it, in front of the
 * measured BBS; a browser that signed in earlier (it holds the `receptor_authorization` cookie) opens the page.
 *
 * The requests are the page's (packages/receptor/dashboard/src/main.ts), in its order and with a browser's six
 * connections per origin: the page, then its stylesheet and script, then the script's modules; GET /v1/session;
 * then its three event streams (until their headers arrive: EventSource's `open`), which hold their connections,
 * alongside the first page of every view (the page reads only the view shown; all four are read here, so that
 * whichever one a user opens first is within the figure). Each round is a fresh page load on new connections.
 */
import http from 'node:http';
import { REVISION_HEADER } from '@diego/bbs-client';
import { DOMAIN, VIA_RECEPTOR, cpuSpan, expectedPerCell, rowCpu, type Context } from './context';
import { startReceptorProcess } from './processes';
import type { Row } from './report';
import { median, now, percentile } from './stats';

const USERNAME = 'bench';
const PASSWORD = 'bench-dashboard-password';
const AUTHORIZATION = `Basic ${Buffer.from(`${USERNAME}:${PASSWORD}`).toString('base64')}`;
/** The page's page size (main.ts PAGE_SIZE). */
const PAGE_SIZE = 50;
/** Chromium's and Firefox's connections per origin over HTTP/1.1. */
const BROWSER_CONNECTIONS = 6;
const ROUNDS = 5;
const TARGET_MS = 2000;
const TIMEOUT_MS = 60_000;

/** One request of the first screen: its path, and whether it is an event stream (timed to its headers). */
interface ScreenRequest {
  label: string;
  path: string;
  stream?: boolean;
}

const STATIC_FILES: readonly ScreenRequest[][] = [
  [{ label: 'static', path: '/dashboard/' }],
  [{ label: 'static', path: '/dashboard/style.css' }, { label: 'static', path: '/dashboard/main.js' }],
  [{ label: 'static', path: '/dashboard/api.js' }, { label: 'static', path: '/dashboard/dom.js' }, { label: 'static', path: '/dashboard/forms.js' }],
];
const SESSION: ScreenRequest = { label: 'GET /v1/session', path: '/v1/session' };
const STREAMS: readonly ScreenRequest[] = ['/v1/events', '/v1/task_events', '/v1/cluster_events']
  .map((path) => ({ label: `open ${path}`, path, stream: true }));
const FIRST_PAGES: readonly ScreenRequest[] = [
  { label: 'GET /v1/desired_lrp_summaries', path: `/v1/desired_lrp_summaries?offset=0&limit=${PAGE_SIZE}` },
  { label: 'GET /v1/task_summaries', path: `/v1/task_summaries?offset=0&limit=${PAGE_SIZE}` },
  { label: 'GET /v1/cell_summaries', path: `/v1/cell_summaries?offset=0&limit=${PAGE_SIZE}` },
  { label: 'GET /v1/domain_freshness', path: '/v1/domain_freshness' },
];

interface Answered {
  request: ScreenRequest;
  status: number;
  contentType: string;
  revision: string | null;
  body: Buffer;
  ms: number;
}

/** A request as the page's fetch or EventSource sends it: the cookie, on one of the page's connections. */
function get(agent: http.Agent, base: string, cookie: string, request: ScreenRequest): Promise<Answered> {
  const t0 = now();
  return new Promise((resolve, reject) => {
    const req = http.get(`${base}${request.path}`, {
      agent,
      timeout: TIMEOUT_MS,
      headers: { Cookie: cookie, ...(request.stream === true ? { Accept: 'text/event-stream' } : {}) },
    }, (res) => {
      const answered = (body: Buffer): Answered => ({
        request,
        status: res.statusCode ?? 0,
        contentType: String(res.headers['content-type'] ?? ''),
        revision: typeof res.headers[REVISION_HEADER.toLowerCase()] === 'string' ? String(res.headers[REVISION_HEADER.toLowerCase()]) : null,
        body,
        ms: now() - t0,
      });
      if (request.stream === true && res.statusCode === 200) {
        // EventSource is open once the headers are in; the stream holds its connection until the page is done.
        resolve(answered(Buffer.alloc(0)));
        res.resume();
        return;
      }
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve(answered(Buffer.concat(chunks))));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${request.path}: no answer within ${TIMEOUT_MS} ms`)));
    req.on('error', reject);
  });
}

/** POST /v1/auth_cookie as the page's sign-in does; the `receptor_authorization` cookie it sets. */
function signIn(base: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${base}/v1/auth_cookie`, { method: 'POST', headers: { Authorization: AUTHORIZATION }, timeout: TIMEOUT_MS }, (res) => {
      res.resume();
      const cookie = (res.headers['set-cookie'] ?? []).map((line) => line.split(';')[0] ?? '').find((pair) => pair.startsWith('receptor_authorization='));
      if (res.statusCode !== 204 && res.statusCode !== 200) reject(new Error(`POST /v1/auth_cookie answered ${res.statusCode ?? 0}`));
      else if (cookie === undefined) reject(new Error('POST /v1/auth_cookie set no receptor_authorization cookie'));
      else resolve(cookie);
    });
    req.on('timeout', () => req.destroy(new Error(`POST /v1/auth_cookie: no answer within ${TIMEOUT_MS} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/** One page load: its wall time, the time until the page's files were in, and every request's answer. */
async function loadFirstScreen(base: string, cookie: string): Promise<{ wallMs: number; staticMs: number; answers: Answered[] }> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: BROWSER_CONNECTIONS });
  const answers: Answered[] = [];
  const t0 = now();
  try {
    for (const stage of STATIC_FILES) answers.push(...(await Promise.all(stage.map((request) => get(agent, base, cookie, request)))));
    const staticMs = now() - t0;
    answers.push(await get(agent, base, cookie, SESSION));
    // main.ts start(): the streams first, then the view's read.
    answers.push(...(await Promise.all([...STREAMS, ...FIRST_PAGES].map((request) => get(agent, base, cookie, request)))));
    return { wallMs: now() - t0, staticMs, answers };
  } finally {
    agent.destroy();
  }
}

function parsed(answer: Answered): Record<string, unknown> {
  return JSON.parse(answer.body.toString('utf8')) as Record<string, unknown>;
}

interface Expected {
  lrps: number;
  cells: number;
  tasks: number;
  /** The first page of process guids when every DesiredLRP is a seeded one. */
  firstGuids: string[];
  /** Instances held by each cell, by cell id. */
  perCell: Map<string, number>;
}

/** Checks that the screen shows what was seeded; the first problem, or null. */
function problemWith(answers: readonly Answered[], expected: Expected): string | null {
  for (const answer of answers) {
    if (answer.status !== 200) return `${answer.request.path} answered ${answer.status}: ${answer.body.toString('utf8').slice(0, 200)}`;
    if (answer.request.stream === true && !answer.contentType.startsWith('text/event-stream')) return `${answer.request.path} is ${answer.contentType}, not an event stream`;
  }
  const byLabel = (label: string): Answered => answers.find((answer) => answer.request.label === label) as Answered;
  const session = parsed(byLabel(SESSION.label));
  if (session['basic_auth'] !== true || session['signed_in'] !== true) return `GET /v1/session answered ${JSON.stringify(session)} with the cookie`;

  const apps = byLabel('GET /v1/desired_lrp_summaries');
  const appPage = parsed(apps);
  if (apps.revision === null) return 'GET /v1/desired_lrp_summaries sent no revision';
  if (appPage['total'] !== expected.lrps) return `the apps page counts ${String(appPage['total'])} DesiredLRPs, ${expected.lrps} were seeded`;
  if (!Array.isArray(appPage['domains']) || !appPage['domains'].includes(DOMAIN)) return `the apps page's domains lack ${DOMAIN}`;
  const rows = appPage['desired_lrps'] as Array<{ process_guid: string; instances: number; actual_lrps: Record<string, number> }>;
  const guids = rows.map((row) => row.process_guid);
  if (guids.join() !== expected.firstGuids.join()) return `the apps page shows ${guids.slice(0, 3).join(', ')}..., not the first ${PAGE_SIZE} seeded guids`;
  const notRunning = rows.find((row) => row.instances !== 1 || row.actual_lrps['RUNNING'] !== 1);
  if (notRunning !== undefined) return `${notRunning.process_guid} shows ${JSON.stringify(notRunning.actual_lrps)} of ${notRunning.instances}, not 1 RUNNING`;

  const taskPage = parsed(byLabel('GET /v1/task_summaries'));
  if (taskPage['total'] !== expected.tasks) return `the tasks page counts ${String(taskPage['total'])} tasks, the BBS holds ${expected.tasks}`;

  const cellPage = parsed(byLabel('GET /v1/cell_summaries'));
  if (cellPage['total'] !== expected.cells) return `the cells page counts ${String(cellPage['total'])} cells, ${expected.cells} were registered`;
  const cells = cellPage['cells'] as Array<{ cell_id: string; lrps: number | null; state_error: string | null }>;
  if (cells.length !== Math.min(PAGE_SIZE, expected.cells)) return `the cells page shows ${cells.length} cells`;
  const wrongCell = cells.find((cell) => cell.state_error !== null || cell.lrps !== expected.perCell.get(cell.cell_id));
  if (wrongCell !== undefined) return `cell ${wrongCell.cell_id} shows ${String(wrongCell.lrps)} instances (${wrongCell.state_error ?? 'answered'}), it holds ${String(expected.perCell.get(wrongCell.cell_id))}`;

  const domains = JSON.parse(byLabel('GET /v1/domain_freshness').body.toString('utf8')) as Array<{ domain: string; ttl_seconds: number | null }>;
  if (!domains.some((fresh) => fresh.domain === DOMAIN && fresh.ttl_seconds === null)) return `the domains page lacks ${DOMAIN} fresh for ever: ${JSON.stringify(domains)}`;
  return null;
}

function size(bytes: number): string {
  return bytes < 1024 ? `${bytes} B` : `${(bytes / 1024).toFixed(1)} KB`;
}

export async function dashboardFirstScreen(ctx: Context): Promise<{ rows: Row[]; details: Record<string, unknown> }> {
  const receptor = await startReceptorProcess(ctx.bbs.url, 'dashboard receptor', [`-username=${USERNAME}`, `-password=${PASSWORD}`]);
  try {
    const cookie = await signIn(receptor.url);
    const perCellCounts = expectedPerCell(ctx);
    const expected: Expected = {
      lrps: ctx.n,
      cells: ctx.cellCount,
      tasks: (await ctx.bbs.client.tasks()).length,
      firstGuids: ctx.lrps.map((record) => record.guid).sort().slice(0, PAGE_SIZE),
      perCell: new Map(ctx.sim.cells.map((cell) => [cell.id, perCellCounts[cell.index] ?? 0])),
    };
    const walls: number[] = [];
    const perRequest = new Map<string, { ms: number[]; bytes: number }>();
    const cpu = cpuSpan(ctx, VIA_RECEPTOR, receptor.child.pid);
    for (let round = 0; round < ROUNDS; round++) {
      const { wallMs, staticMs, answers } = await cpu.around(() => loadFirstScreen(receptor.url, cookie));
      const problem = problemWith(answers, expected);
      if (problem !== null) throw new Error(`first screen, round ${round + 1}: ${problem}`);
      walls.push(wallMs);
      const byLabel = new Map<string, { ms: number; bytes: number }>();
      for (const answer of answers) {
        const sum = byLabel.get(answer.request.label) ?? { ms: answer.request.label === 'static' ? staticMs : answer.ms, bytes: 0 };
        byLabel.set(answer.request.label, { ms: sum.ms, bytes: sum.bytes + answer.body.length });
      }
      for (const [label, { ms, bytes }] of byLabel) {
        const entry = perRequest.get(label) ?? { ms: [], bytes };
        entry.ms.push(ms);
        perRequest.set(label, entry);
      }
    }
    const wall = median(walls);
    const rows: Row[] = [{
      scenario: 'dashboard first screen',
      what: `page load, signed in, ${STATIC_FILES.flat().length} files + ${1 + STREAMS.length + FIRST_PAGES.length} API; median of ${ROUNDS} (p99: slowest)`,
      unit: 'ms',
      ours: wall,
      raw: null,
      p50Ms: wall,
      p99Ms: percentile(walls, 100),
      target: { text: `<= ${TARGET_MS} ms`, met: wall !== null && wall <= TARGET_MS },
      cpu: rowCpu('load', ROUNDS, cpu),
    }];
    for (const [label, { ms, bytes }] of perRequest) {
      rows.push({
        scenario: `  ${label === 'static' ? 'static files' : label}`,
        what: label === 'static' ? `${STATIC_FILES.flat().length} files in ${STATIC_FILES.length} steps, ${size(bytes)}` : label.startsWith('open ') ? 'until its headers (EventSource open)' : size(bytes),
        unit: 'ms',
        ours: median(ms),
        raw: null,
        p50Ms: median(ms),
        p99Ms: percentile(ms, 100),
      });
    }
    return { rows, details: { wallMs: walls, requests: Object.fromEntries(perRequest) } };
  } finally {
    await receptor.child.stop();
  }
}
