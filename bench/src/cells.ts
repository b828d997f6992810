/**
 * Every simulated cell, served by ONE HTTP server under `/cells/<cell_id>/...`: each presence's rep_address is
 * `http://127.0.0.1:<port>/cells/<cell_id>`, so the BBS's rep client reaches `/state`, `/work`, and the stop
 * and cancel routes of that cell there. A cell takes all work it is sent and then, as that cell, starts each
 * LRP instance (StartActualLRP) and starts and completes each task (StartTask, CompleteTask).
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { workFromJson, type CellState, type RepLRP, type RepTask } from '@diego/rep-api';
import type { HttpBbsClient } from '@diego/bbs-client';
import type { ActualLRPNetInfo, CellPresence } from '@diego/models';
import { messageOf, runPool } from './stats';

/** The cell's presence lease; heartbeats every third of it. Long, so heartbeats are light background. */
export const PRESENCE_TTL_SECONDS = 300;
const HEARTBEAT_EVERY_MS = (PRESENCE_TTL_SECONDS * 1000) / 3;

export interface HeldInstance {
  lrp: RepLRP;
  instanceGuid: string;
  netInfo: ActualLRPNetInfo;
}

/**
 * One cell's work and its `/state` answer. The auctioneer asks every cell for its state each round (1,000 cells in
 * this one process), so the answer is kept as bytes and remade only when work comes or goes, from each piece of
 * work's JSON made once when it came and from totals kept as it comes and goes.
 */
export class SimCell {
  readonly lrps = new Map<string, HeldInstance>();
  readonly tasks = new Map<string, RepTask>();
  leaseId = '';
  alive = true;
  nextHostPort = 61000;
  nextHeartbeatAt = 0;
  private readonly workJson = { lrps: new Map<string, string>(), tasks: new Map<string, string>() };
  /** The LRPs' part of the answer, kept while only tasks come and go (tasks do, by the hundred, in `tasks`). */
  private lrpsPart: string | null = null;
  private memoryMb = 0;
  private diskMb = 0;
  private stateAnswer: Buffer | null = null;

  constructor(
    readonly index: number,
    readonly id: string,
    readonly zone: string,
    /** The RootFSProviders member of every state answer, as JSON. */
    private readonly providersJson: string,
  ) {}

  hold(instance: HeldInstance): void {
    const key = lrpId(instance.lrp.process_guid, instance.lrp.index);
    this.drop(instance.lrp.process_guid, instance.lrp.index);
    this.lrps.set(key, instance);
    this.workJson.lrps.set(key, JSON.stringify(instance.lrp));
    this.memoryMb += instance.lrp.MemoryMB;
    this.diskMb += instance.lrp.DiskMB;
    this.lrpsPart = null;
    this.stateAnswer = null;
  }

  drop(processGuid: string, index: number): HeldInstance | undefined {
    const key = lrpId(processGuid, index);
    const held = this.lrps.get(key);
    if (held === undefined) return undefined;
    this.lrps.delete(key);
    this.workJson.lrps.delete(key);
    this.memoryMb -= held.lrp.MemoryMB;
    this.diskMb -= held.lrp.DiskMB;
    this.lrpsPart = null;
    this.stateAnswer = null;
    return held;
  }

  addTask(task: RepTask): void {
    this.removeTask(task.TaskGuid);
    this.tasks.set(task.TaskGuid, task);
    this.workJson.tasks.set(task.TaskGuid, JSON.stringify(task));
    this.memoryMb += task.MemoryMB;
    this.diskMb += task.DiskMB;
    this.stateAnswer = null;
  }

  removeTask(taskGuid: string): void {
    const task = this.tasks.get(taskGuid);
    if (task === undefined) return;
    this.tasks.delete(taskGuid);
    this.workJson.tasks.delete(taskGuid);
    this.memoryMb -= task.MemoryMB;
    this.diskMb -= task.DiskMB;
    this.stateAnswer = null;
  }

  /** The rep's CellState as JSON bytes (the shape of @diego/rep-api's CellState). */
  state(): Buffer {
    if (this.stateAnswer !== null) return this.stateAnswer;
    const containers = this.lrps.size + this.tasks.size;
    const available: CellState['AvailableResources'] = {
      MemoryMB: CAPACITY.MemoryMB - this.memoryMb,
      DiskMB: CAPACITY.DiskMB - this.diskMb,
      Containers: CAPACITY.Containers - containers,
    };
    this.lrpsPart ??= [...this.workJson.lrps.values()].join(',');
    this.stateAnswer = Buffer.from(
      `{"RootFSProviders":${this.providersJson},"AvailableResources":${JSON.stringify(available)},"TotalResources":${TOTAL_JSON},` +
        `"LRPs":[${this.lrpsPart}],"Tasks":[${[...this.workJson.tasks.values()].join(',')}],` +
        `"StartingContainerCount":0,"Zone":${JSON.stringify(this.zone)},"Evacuating":false}`,
    );
    return this.stateAnswer;
  }

  /** The cell's address in 10.0.0.0/16 and the next two host ports (8080 and 2222). */
  netInfo(): ActualLRPNetInfo {
    const port = this.nextHostPort;
    this.nextHostPort += 2;
    if (this.nextHostPort > 65000) this.nextHostPort = 61000;
    return {
      address: `10.0.${(this.index >> 8) & 255}.${this.index & 255}`,
      ports: [
        { container_port: 8080, host_port: port },
        { container_port: 2222, host_port: port + 1 },
      ],
    };
  }
}

export function lrpId(processGuid: string, index: number): string {
  return `${processGuid}.${index}`;
}

export function cellId(i: number): string {
  return `cell-${String(i).padStart(4, '0')}`;
}

/** Plenty for 200+ instances and the tasks: the auctioneer must never run out of room. */
const CAPACITY: CellState['TotalResources'] = { MemoryMB: 4_000_000, DiskMB: 16_000_000, Containers: 100_000 };
const TOTAL_JSON = JSON.stringify(CAPACITY);

export class CellSimulator {
  readonly cells: SimCell[];
  private readonly byId = new Map<string, SimCell>();
  private readonly server = createServer((req, res) => this.handle(req, res));
  port = 0;
  /** Failures of the calls the cells make on their own (starts after /work, task completion, removals). */
  readonly errors: string[] = [];
  /** Work calls in flight after a /work answer. */
  private inFlight = 0;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  /** Called after a cell started an LRP instance it was sent (StartActualLRP succeeded). */
  onStarted: ((cell: SimCell, held: HeldInstance) => void) | null = null;
  workRequests = 0;
  stateRequests = 0;

  constructor(
    count: number,
    private readonly bbs: HttpBbsClient,
    private readonly rootfsProviders: Record<string, string[]>,
  ) {
    const providers: CellState['RootFSProviders'] = {};
    for (const [scheme, stacks] of Object.entries(rootfsProviders)) {
      providers[scheme] = stacks.length === 0 ? { type: 'arbitrary' } : { type: 'fixed_set', set: Object.fromEntries(stacks.map((s) => [s, {}])) };
    }
    const providersJson = JSON.stringify(providers);
    this.cells = Array.from({ length: count }, (_, i) => new SimCell(i, cellId(i), `z${(i % 4) + 1}`, providersJson));
    for (const cell of this.cells) this.byId.set(cell.id, cell);
  }

  cell(id: string): SimCell | undefined {
    return this.byId.get(id);
  }

  async listen(): Promise<void> {
    this.server.keepAliveTimeout = 120_000;
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  presence(cell: SimCell): CellPresence {
    return {
      cell_id: cell.id,
      rep_address: `http://127.0.0.1:${this.port}/cells/${cell.id}`,
      zone: cell.zone,
      capacity: { memory_mb: CAPACITY.MemoryMB, disk_mb: CAPACITY.DiskMB, containers: CAPACITY.Containers },
      rootfs_providers: this.rootfsProviders,
    };
  }

  /** Registers every cell through the BBS and keeps the presences alive. */
  async register(): Promise<void> {
    const result = await runPool(this.cells.length, 32, async (i) => {
      const cell = this.cells[i] as SimCell;
      cell.leaseId = await this.bbs.registerCell(this.presence(cell), PRESENCE_TTL_SECONDS);
      cell.nextHeartbeatAt = Date.now() + HEARTBEAT_EVERY_MS * (0.5 + (i / this.cells.length) * 0.5);
    });
    if (result.errors > 0) throw new Error(`registering ${result.errors} cells failed: ${result.firstError ?? ''}`);
    this.heartbeatTimer = setInterval(() => this.heartbeats(), 1000);
    this.heartbeatTimer.unref();
  }

  private heartbeats(): void {
    const t = Date.now();
    for (const cell of this.cells) {
      if (!cell.alive || cell.nextHeartbeatAt > t) continue;
      cell.nextHeartbeatAt = t + HEARTBEAT_EVERY_MS;
      this.bbs.cellHeartbeat(cell.id, cell.leaseId).catch((err: unknown) => {
        if (cell.alive) this.errors.push(`${cell.id} heartbeat: ${messageOf(err)}`);
      });
    }
  }

  /** The cell stops answering and heartbeating (its presence is removed by the caller). */
  kill(cell: SimCell): void {
    cell.alive = false;
  }

  /** Resolves once every call the cells started after a /work answer has finished. */
  async settled(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.inFlight > 0) {
      if (Date.now() > deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return true;
  }

  async close(): Promise<void> {
    if (this.heartbeatTimer !== null) clearInterval(this.heartbeatTimer);
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      try {
        this.route(req, res, Buffer.concat(chunks).toString('utf8'));
      } catch (err) {
        this.errors.push(`${req.method ?? ''} ${req.url ?? ''}: ${messageOf(err)}`);
        if (!res.headersSent) res.writeHead(500);
        res.end();
      }
    });
  }

  private route(req: IncomingMessage, res: ServerResponse, body: string): void {
    const match = /^\/cells\/([^/]+)(\/.*)$/.exec(req.url ?? '');
    const cell = match === null ? undefined : this.byId.get(match[1] ?? '');
    const path = match?.[2] ?? '';
    if (cell === undefined) {
      res.writeHead(404).end();
      return;
    }
    if (!cell.alive) {
      // Gone: the connection drops as a dead machine's would.
      req.socket.destroy();
      return;
    }
    let m: RegExpExecArray | null;
    if (req.method === 'GET' && path === '/state') {
      this.stateRequests++;
      const answer = cell.state();
      res.writeHead(200, ['Content-Type', 'application/json', 'Content-Length', String(answer.length)]).end(answer);
    } else if (req.method === 'POST' && path === '/work') {
      this.workRequests++;
      const work = workFromJson(body);
      // Take everything: nothing refused.
      const none = '{"LRPs":[],"Tasks":[]}';
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': none.length }).end(none);
      for (const lrp of work.LRPs) this.track(this.startLrp(cell, lrp));
      for (const task of work.Tasks) this.track(this.runTask(cell, task));
    } else if (req.method === 'POST' && (m = /^\/v1\/lrps\/([^/]+)\/instances\/([^/]+)\/stop$/.exec(path)) !== null) {
      res.writeHead(202).end();
      this.track(this.stopInstance(cell, decodeURIComponent(m[1] ?? ''), decodeURIComponent(m[2] ?? '')));
    } else if (req.method === 'POST' && (m = /^\/v1\/tasks\/([^/]+)\/cancel$/.exec(path)) !== null) {
      cell.removeTask(decodeURIComponent(m[1] ?? ''));
      res.writeHead(202).end();
    } else {
      res.writeHead(404).end();
    }
  }

  private track(work: Promise<void>): void {
    this.inFlight++;
    void work.finally(() => this.inFlight--);
  }

  private async startLrp(cell: SimCell, lrp: RepLRP): Promise<void> {
    const held: HeldInstance = { lrp, instanceGuid: randomUUID(), netInfo: cell.netInfo() };
    cell.hold(held);
    try {
      await this.bbs.startActualLRP(
        { process_guid: lrp.process_guid, index: lrp.index, domain: lrp.domain },
        { instance_guid: held.instanceGuid, cell_id: cell.id },
        held.netInfo,
      );
      this.onStarted?.(cell, held);
    } catch (err) {
      cell.drop(lrp.process_guid, lrp.index);
      this.errors.push(`${cell.id} start ${lrp.process_guid}.${lrp.index}: ${messageOf(err)}`);
    }
  }

  private async runTask(cell: SimCell, task: RepTask): Promise<void> {
    cell.addTask(task);
    try {
      const shouldStart = await this.bbs.startTask(task.TaskGuid, cell.id);
      if (shouldStart) await this.bbs.completeTask(task.TaskGuid, cell.id, false, '', 'ok');
    } catch (err) {
      this.errors.push(`${cell.id} task ${task.TaskGuid}: ${messageOf(err)}`);
    } finally {
      cell.removeTask(task.TaskGuid);
    }
  }

  private async stopInstance(cell: SimCell, processGuid: string, instanceGuid: string): Promise<void> {
    const held = [...cell.lrps.values()].find((h) => h.lrp.process_guid === processGuid && h.instanceGuid === instanceGuid);
    if (held === undefined) return;
    cell.drop(processGuid, held.lrp.index);
    try {
      await this.bbs.removeActualLRP(processGuid, held.lrp.index, { instance_guid: instanceGuid, cell_id: cell.id });
    } catch (err) {
      this.errors.push(`${cell.id} remove ${processGuid}: ${messageOf(err)}`);
    }
  }
}
