/**
 * A cell for tests: a real HTTP server speaking the rep API (see @diego/bbs rep-api.ts) that keeps its
 * containers in memory and reports to a real BBS as a cell does. It registers its presence through the BBS,
 * takes the work that fits, claims and starts each instance (ClaimActualLRP, then StartActualLRP with an
 * address and port mappings) and starts each task (StartTask), stops instances and cancels tasks when asked.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import pino, { type Logger } from 'pino';
import { CellPresenceMaintainer } from '@diego/cell';
import { closeServer, listenOn } from '@diego/server-support';
import {
  rootfsMatches, rootfsProvidersFromPresence, workFromJson, type CellState, type RepLRP, type RepTask, type Resource, type Work,
} from '@diego/rep-api';
import type { BbsClient } from '@diego/bbs-client';
import type { ActualLRPInstanceKey, ActualLRPKey, ActualLRPNetInfo, CellPresence } from '@diego/models';

/** What the test cell asks of the BBS: a cell's calls, made as a cell makes them. */
export type TestCellBbs = Pick<
  BbsClient,
  | 'registerCell' | 'cellHeartbeat' | 'removeCell'
  | 'desiredLRPByProcessGuid' | 'claimActualLRP' | 'startActualLRP' | 'crashActualLRP' | 'removeActualLRP'
  | 'evacuateRunningActualLRP' | 'startTask'
>;

export interface TestCellOptions {
  cellId: string;
  /** The BBS the cell reports to (an HttpBbsClient). */
  bbs: TestCellBbs;
  zone?: string;
  /** Capacity; defaults 1024 MB, 1024 MB and 10 containers. */
  memoryMB?: number;
  diskMB?: number;
  containers?: number;
  /** As on a presence: stacks of a fixed set, or `[]` for arbitrary images. Default `{ preloaded: ['cflinuxfs2'], docker: [] }`. */
  rootfsProviders?: Record<string, string[]>;
  /** Reports `Evacuating` in its state from the start. */
  evacuating?: boolean;
  /** Refuses all work it is sent, whether it fits or not. */
  refuseAll?: boolean;
  /** Answers `/state` only after this long (a slow cell); 0 by default. */
  stateDelayMs?: number;
  /** Takes and starts the work it is sent, then drops the connection instead of answering `/work`. */
  hangUpOnWork?: boolean;
  /** The presence's lease TTL (default 10 s); a dead cell disappears from the cells this long after dying. */
  presenceTtlSeconds?: number;
  /** Silent by default. */
  logger?: Logger;
}

/** An instance the cell holds: starting until StartActualLRP succeeded, then running. */
export interface HeldLRP {
  lrp: RepLRP;
  instanceGuid: string;
  state: 'starting' | 'running';
  netInfo: ActualLRPNetInfo | null;
}

export interface TestCell {
  readonly cellId: string;
  /** `http://127.0.0.1:<port>`, its presence's rep_address. */
  readonly repAddress: string;
  /** Every `/work` body it was sent, in order. */
  readonly workReceived: readonly Work[];
  /** How many times it was asked for its `/state`. */
  readonly stateRequests: number;
  /** The instances it holds. */
  lrps(): HeldLRP[];
  /** The tasks it holds. */
  tasks(): RepTask[];
  /** What `GET /state` answers now. */
  state(): CellState;
  /** From now on the cell refuses all work (or takes what fits again). */
  setRefuseAll(refuse: boolean): void;
  /**
   * Starts draining, as a rep does: reports `Evacuating`, and hands every running instance back to the BBS
   * (EvacuateRunningActualLRP), keeping the containers while their replacements start elsewhere.
   */
  evacuate(): Promise<void>;
  /** The instance's container exits: it is dropped and the BBS is told (CrashActualLRP). */
  crash(processGuid: string, index: number, reason?: string): Promise<void>;
  /** Stops serving and its presence stops heartbeating (as if its machine went away): it expires with its lease. */
  die(): Promise<void>;
  /** Stops serving and removes its presence. Safe to call twice and after die(). */
  stop(): Promise<void>;
}

const DEFAULT_PROVIDERS: Record<string, string[]> = { preloaded: ['cflinuxfs2'], docker: [] };
/** Where the cell's host ports start. */
const FIRST_HOST_PORT = 61000;

/**
 * @example
 *   const cell = await startTestCell({ cellId: 'cell-z1', zone: 'z1', bbs: new HttpBbsClient([bbsUrl]) });
 *   // the auctioneer sees it among the cells and sends it work; the instances it starts become RUNNING
 *   await cell.stop();
 */
export async function startTestCell(options: TestCellOptions): Promise<TestCell> {
  const cell = new RunningTestCell(options);
  await cell.listen();
  try {
    await cell.register();
  } catch (err) {
    await cell.stop();
    throw err;
  }
  return cell;
}

class RunningTestCell implements TestCell {
  readonly cellId: string;
  repAddress = '';
  readonly workReceived: Work[] = [];
  stateRequests = 0;
  private readonly bbs: TestCellBbs;
  private readonly total: CellState['TotalResources'];
  private readonly providers: Record<string, string[]>;
  private readonly zone: string;
  private readonly logger: Logger;
  private readonly presenceTtlSeconds: number | undefined;
  private evacuating: boolean;
  private refuseAll: boolean;
  private readonly stateDelayMs: number;
  private readonly hangUpOnWork: boolean;
  /** Cut when the cell dies: its presence can no longer reach the BBS. */
  private dead = false;
  private nextHostPort = FIRST_HOST_PORT;
  /** By instance guid: a cell may be sent an index it already holds (the claim then settles which one stays). */
  private readonly heldLRPs = new Map<string, HeldLRP>();
  private readonly heldTasks = new Map<string, RepTask>();
  /** Requests being handled and work after a 202 (stop), which stop() waits for. */
  private readonly pending = new Set<Promise<void>>();
  private readonly server = createServer((request, response) => {
    this.track(this.handle(request, response).catch((err: unknown) => {
      this.logger.error({ err: messageOf(err) }, 'test-cell-request-failed');
      if (!response.headersSent) response.writeHead(500);
      response.end();
    }));
  });
  private presence: CellPresenceMaintainer | null = null;
  private stopped: Promise<void> | null = null;
  private serving = true;

  constructor(options: TestCellOptions) {
    this.cellId = options.cellId;
    this.bbs = options.bbs;
    this.total = { MemoryMB: options.memoryMB ?? 1024, DiskMB: options.diskMB ?? 1024, Containers: options.containers ?? 10 };
    this.providers = options.rootfsProviders ?? DEFAULT_PROVIDERS;
    this.zone = options.zone ?? 'z1';
    this.evacuating = options.evacuating ?? false;
    this.refuseAll = options.refuseAll ?? false;
    this.stateDelayMs = options.stateDelayMs ?? 0;
    this.hangUpOnWork = options.hangUpOnWork ?? false;
    this.presenceTtlSeconds = options.presenceTtlSeconds;
    this.logger = (options.logger ?? pino({ level: 'silent' })).child({ component: 'test-cell', cell_id: options.cellId });
  }

  async listen(): Promise<void> {
    this.repAddress = `http://${await listenOn(this.server, '127.0.0.1:0')}`;
  }

  async register(): Promise<void> {
    const presence: CellPresence = {
      cell_id: this.cellId,
      rep_address: this.repAddress,
      zone: this.zone,
      capacity: { memory_mb: this.total.MemoryMB, disk_mb: this.total.DiskMB, containers: this.total.Containers },
      rootfs_providers: this.providers,
    };
    const unreachableWhenDead = <A extends unknown[], R>(call: (...args: A) => Promise<R>) =>
      (...args: A): Promise<R> => (this.dead ? Promise.reject(new Error(`cell ${this.cellId} is dead`)) : call(...args));
    this.presence = new CellPresenceMaintainer({
      bbs: {
        registerCell: unreachableWhenDead((cell: CellPresence, ttl: number) => this.bbs.registerCell(cell, ttl)),
        cellHeartbeat: unreachableWhenDead((cellId: string, lease: string) => this.bbs.cellHeartbeat(cellId, lease)),
        removeCell: unreachableWhenDead((cellId: string) => this.bbs.removeCell(cellId)),
      },
      presence,
      logger: this.logger,
      ...(this.presenceTtlSeconds === undefined ? {} : { ttlSeconds: this.presenceTtlSeconds }),
    });
    await this.presence.start();
  }

  lrps(): HeldLRP[] {
    return [...this.heldLRPs.values()];
  }

  tasks(): RepTask[] {
    return [...this.heldTasks.values()];
  }

  state(): CellState {
    const held: Resource[] = [...this.lrps().map(({ lrp }) => lrp), ...this.tasks()];
    return {
      RootFSProviders: rootfsProvidersFromPresence(this.providers),
      AvailableResources: {
        MemoryMB: this.total.MemoryMB - sum(held.map((r) => r.MemoryMB)),
        DiskMB: this.total.DiskMB - sum(held.map((r) => r.DiskMB)),
        Containers: this.total.Containers - held.length,
      },
      TotalResources: { ...this.total },
      LRPs: this.lrps().map(({ lrp }) => lrp),
      Tasks: this.tasks(),
      StartingContainerCount: this.lrps().filter((held) => held.state === 'starting').length,
      Zone: this.zone,
      Evacuating: this.evacuating,
    };
  }

  setRefuseAll(refuse: boolean): void {
    this.refuseAll = refuse;
  }

  async evacuate(): Promise<void> {
    this.evacuating = true;
    await Promise.all(this.lrps().filter((held) => held.state === 'running').map(async (held) => {
      await this.bbs.evacuateRunningActualLRP(keyOf(held.lrp), this.instanceKey(held), held.netInfo ?? { address: '', ports: [] }, 600);
    }));
  }

  async crash(processGuid: string, index: number, reason = 'the container exited'): Promise<void> {
    const held = this.lrps().find(({ lrp }) => lrp.process_guid === processGuid && lrp.index === index);
    if (held === undefined) throw new Error(`cell ${this.cellId} holds no instance ${processGuid}.${index}`);
    this.heldLRPs.delete(held.instanceGuid);
    await this.bbs.crashActualLRP(keyOf(held.lrp), this.instanceKey(held), reason);
  }

  async die(): Promise<void> {
    this.dead = true;
    await this.stopServing();
  }

  stop(): Promise<void> {
    this.stopped ??= (async () => {
      await this.stopServing();
      await this.presence?.stop();
    })();
    return this.stopped;
  }

  private async stopServing(): Promise<void> {
    if (this.serving) {
      this.serving = false;
      await closeServer(this.server);
    }
    while (this.pending.size > 0) await Promise.all(this.pending);
  }

  // ---- the rep API ----

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const body = await readBody(request);
    const path = request.url ?? '';
    let match: RegExpExecArray | null;
    if (request.method === 'GET' && path === '/state') {
      this.stateRequests++;
      if (this.stateDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.stateDelayMs));
      respondJson(response, this.state());
    } else if (request.method === 'POST' && path === '/work') {
      let work: Work;
      try {
        work = workFromJson(body);
      } catch {
        response.writeHead(400).end();
        return;
      }
      const refused = await this.perform(work);
      if (this.hangUpOnWork) request.socket.destroy();
      else respondJson(response, refused);
    } else if (request.method === 'POST' && (match = /^\/v1\/lrps\/([^/]+)\/instances\/([^/]+)\/stop$/.exec(path)) !== null) {
      response.writeHead(202).end();
      this.track(this.stopInstance(decodeURIComponent(match[2] ?? '')));
    } else if (request.method === 'POST' && (match = /^\/v1\/tasks\/([^/]+)\/cancel$/.exec(path)) !== null) {
      this.heldTasks.delete(decodeURIComponent(match[1] ?? ''));
      response.writeHead(202).end();
    } else {
      response.writeHead(404).end();
    }
  }

  /** Reserves what fits, then claims and starts it through the BBS; answers with what it refused. */
  private async perform(work: Work): Promise<Work> {
    this.workReceived.push(work);
    const refused: Work = { LRPs: [], Tasks: [] };
    const starts: Promise<void>[] = [];
    for (const lrp of work.LRPs) {
      if (!this.takes(lrp)) {
        refused.LRPs.push(lrp);
        continue;
      }
      const held: HeldLRP = { lrp, instanceGuid: randomUUID(), state: 'starting', netInfo: null };
      this.heldLRPs.set(held.instanceGuid, held);
      starts.push(this.startInstance(held));
    }
    for (const task of work.Tasks) {
      if (!this.takes(task)) {
        refused.Tasks.push(task);
        continue;
      }
      this.heldTasks.set(task.TaskGuid, task);
      starts.push(this.startTask(task));
    }
    await Promise.all(starts);
    return refused;
  }

  private takes(resource: Resource): boolean {
    const available = this.state().AvailableResources;
    return !this.refuseAll && rootfsMatches(rootfsProvidersFromPresence(this.providers), resource.RootFs)
      && available.MemoryMB >= resource.MemoryMB && available.DiskMB >= resource.DiskMB && available.Containers >= 1;
  }

  /** As a rep: claim (losing the claim drops the container), read the desired LRP (gone: remove), start. */
  private async startInstance(held: HeldLRP): Promise<void> {
    const { lrp } = held;
    const fields = { process_guid: lrp.process_guid, index: lrp.index, instance_guid: held.instanceGuid };
    try {
      await this.bbs.claimActualLRP(lrp.process_guid, lrp.index, this.instanceKey(held));
    } catch (err) {
      this.heldLRPs.delete(held.instanceGuid);
      this.logger.info({ ...fields, err: messageOf(err) }, 'claim-failed-dropping-container');
      return;
    }
    let ports: number[];
    try {
      ports = (await this.bbs.desiredLRPByProcessGuid(lrp.process_guid)).ports;
    } catch (err) {
      this.heldLRPs.delete(held.instanceGuid);
      this.logger.info({ ...fields, err: messageOf(err) }, 'desired-lrp-gone-removing-instance');
      await this.bbs.removeActualLRP(lrp.process_guid, lrp.index, this.instanceKey(held)).catch(() => undefined);
      return;
    }
    const netInfo: ActualLRPNetInfo = {
      address: '127.0.0.1',
      ports: ports.map((containerPort) => ({ container_port: containerPort, host_port: this.nextHostPort++ })),
    };
    try {
      await this.bbs.startActualLRP(keyOf(lrp), this.instanceKey(held), netInfo);
      held.state = 'running';
      held.netInfo = netInfo;
    } catch (err) {
      this.heldLRPs.delete(held.instanceGuid);
      this.logger.info({ ...fields, err: messageOf(err) }, 'start-failed-dropping-container');
    }
  }

  private async startTask(task: RepTask): Promise<void> {
    try {
      await this.bbs.startTask(task.TaskGuid, this.cellId);
    } catch (err) {
      this.heldTasks.delete(task.TaskGuid);
      this.logger.info({ task_guid: task.TaskGuid, err: messageOf(err) }, 'start-task-failed-dropping-container');
    }
  }

  /** The container is stopped; the instance record goes (RemoveActualLRP with this cell's instance key). */
  private async stopInstance(instanceGuid: string): Promise<void> {
    const held = this.heldLRPs.get(instanceGuid);
    if (held === undefined) return;
    this.heldLRPs.delete(instanceGuid);
    try {
      await this.bbs.removeActualLRP(held.lrp.process_guid, held.lrp.index, this.instanceKey(held));
    } catch (err) {
      this.logger.info({ process_guid: held.lrp.process_guid, index: held.lrp.index, err: messageOf(err) }, 'remove-actual-lrp-failed');
    }
  }

  private instanceKey(held: HeldLRP): ActualLRPInstanceKey {
    return { instance_guid: held.instanceGuid, cell_id: this.cellId };
  }

  private track(work: Promise<void>): void {
    this.pending.add(work);
    void work.finally(() => this.pending.delete(work));
  }
}

function keyOf(lrp: RepLRP): ActualLRPKey {
  return { process_guid: lrp.process_guid, index: lrp.index, domain: lrp.domain };
}

function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function respondJson(response: ServerResponse, value: unknown): void {
  const body = JSON.stringify(value);
  response.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) }).end(body);
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks).toString('utf8');
}
