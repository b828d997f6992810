/**
 * The typed BBS client (bbs `client.go`), built from `BbsRoutes`: every method is one `call` of a route by name,
 * protobuf both ways, and an in-band error rejects as that BbsError.
 *
 * Given several BBS URLs it moves to the next one when a BBS cannot be reached, trying each URL at most once per
 * call, and sticks with the one that answered. A request may go to the next BBS after a failure that leaves its
 * outcome unknown (reset, no answer in time) only when repeating it is harmless: a read, an idempotent write, or
 * a create the BBS recognises as a repeat of its own stored record. Any other request moves on only when the
 * first BBS cannot have received it (connection refused); otherwise it fails as `Unavailable`, saying so, rather
 * than being told later that its own write collided with itself.
 */
import http from 'node:http';
import https from 'node:https';
import { PassThrough } from 'node:stream';
import {
  BbsError,
  actualLrpGroupFromProto,
  actualLrpInstanceKeyToProto,
  actualLrpKeyToProto,
  actualLrpNetInfoToProto,
  cellPresenceFromProto,
  cellPresenceToProto,
  desiredLrpFromProto,
  desiredLrpToProto,
  desiredLrpUpdateToProto,
  schedulingInfoFromProto,
  taskDefinitionToProto,
  taskFromProto,
  type ActualLRPGroup,
  type ActualLRPInstanceKey,
  type ActualLRPKey,
  type ActualLRPNetInfo,
  type CellPresence,
  type DesiredLRP,
  type DesiredLRPSchedulingInfo,
  type DesiredLRPUpdate,
  type Task,
  type TaskDefinition,
} from '@diego/models';
import { BbsRoutes, type BbsRoute, type BbsRouteName } from '@diego/routes';
import Long from 'long';
import { closedAfterHandshake, describeTlsFailure, type TlsMaterial } from '@diego/tls';
import type { BbsClient, ListedJSON, StreamedJSON, EventSubscription, SubscribeOptions, TaskConvergenceDurations } from './bbs-client';
import type { BbsEvent } from './bbs-event';
import { decodeEvent } from './event-codec';
import type { ActualLRPFilter, DesiredLRPFilter, Listed, PackageRepository, TaskFilter } from './lists';
import { COMPACTED_EVENT, REVISION_HEADER } from './event-stream';
import {
  decodeMessage,
  encodeMessage,
  requestNameOf,
  responseNameOf,
  type DecodedMessage,
  type MessageProperties,
  type QueryRouteName,
  type RequestName,
  type ResponseName,
  type RpcRouteName,
} from './messages';
import { SseParser, type SseFrame } from './sse-parser';
import type { DesiredLRPSummaryQuery, TaskSummaryQuery } from './summaries';

/** BBS `-communicationTimeout`. */
const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_LIST_TIMEOUT_MS = 300_000;
/** Go time.Duration on the wire is nanoseconds. */
const NS_PER_MS = 1_000_000;

export interface HttpBbsClientOptions {
  /** Per attempt, until the whole response (or an event stream's headers) arrived. Default 10 s. */
  timeoutMs?: number;
  /** The same for the list routes, whose answers grow with the store (200,000 DesiredLRPs take a minute). Default 5 min. */
  listTimeoutMs?: number;
  /**
   * For https URLs: the CA that signed the BBS's certificate, and the client certificate and key a BBS run with
   * `-requireSSL` asks for (read by readMutualTls). What is absent: the system's CAs, no client certificate.
   */
  tls?: Partial<TlsMaterial>;
}

/**
 * Idle kept-alive connections are closed after this long, well before the BBS closes them (its keep-alive timeout
 * is 95 s, listen.ts): a request written into a connection the server is closing would have an unknown outcome.
 */
const IDLE_CONNECTION_TIMEOUT_MS = 30_000;

/** The BBS could not be reached at all (as opposed to answering badly): worth trying the next one. */
class UnreachableError extends Error {}

/** The TLS handshake failed (a certificate refused either way): the BBS received nothing of the request. */
class TlsHandshakeError extends UnreachableError {}

/** Socket-level failures that say "this BBS is not there", not "this BBS said no". */
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE']);
/** Of those, the ones raised before a connection existed: the BBS cannot have received the request. */
const NOT_CONNECTED_CODES = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/**
 * Routes whose request may safely reach a BBS twice: reads, idempotent writes (a domain's TTL, a cell's lease,
 * an update to absolute values, convergence), and the creates whose repeat the BBS answers as success when the
 * stored record is the same definition (task-db.ts, desired-lrp-db.ts).
 */
const REPEATABLE_ROUTES: ReadonlySet<string> = new Set<BbsRouteName>([
  'Ping', 'Domains', 'UpsertDomain',
  'ActualLRPGroups', 'ActualLRPGroupsByProcessGuid', 'ActualLRPGroupByProcessGuidAndIndex', 'ActualLRPsReceptorJSON',
  'DesiredLRPs_r1', 'DesiredLRPByProcessGuid_r1', 'DesiredLRPSchedulingInfos', 'DesiredLRPs', 'DesiredLRPByProcessGuid',
  'DesiredLRPsReceptorJSON', 'DesireDesiredLRP', 'UpdateDesireLRP',
  'Tasks_r1', 'TaskByGuid_r1', 'Tasks', 'TaskByGuid', 'DesireTask',
  'Cells_r1', 'RegisterCell', 'CellHeartbeat',
  'ConvergeLRPs', 'ConvergeTasks', 'EventStream_r0',
  'PackageRepositories', 'InitializePackageRepositories',
  'DesiredLRPSummariesReceptorJSON', 'DomainFreshnessReceptorJSON', 'TaskSummariesReceptorJSON',
]);

function errorCode(err: unknown): string | null {
  // Duck-typed: Node's errors may come from another realm (jest's sandbox) and fail `instanceof Error`.
  if (typeof err !== 'object' || err === null || !('code' in err)) return null;
  return typeof err.code === 'string' ? err.code : null;
}

function isUnreachable(err: unknown): boolean {
  if (err instanceof UnreachableError) return true;
  const code = errorCode(err);
  return code !== null && UNREACHABLE_CODES.has(code);
}

/** The request cannot have reached the BBS: no connection was ever made. */
function neverReceived(err: unknown): boolean {
  if (err instanceof TlsHandshakeError) return true;
  const code = errorCode(err);
  return code !== null && NOT_CONNECTED_CODES.has(code) && !(err instanceof StaleConnectionError);
}

function messageOf(err: unknown): string {
  if (typeof err === 'object' && err !== null && 'message' in err && typeof err.message === 'string') return err.message;
  return String(err);
}

/**
 * @example
 *   const bbs = new HttpBbsClient(['http://10.0.0.1:8889', 'http://10.0.0.2:8889']);
 *   await bbs.desireTask('task-1', 'cf-apps', definition);
 *   bbs.close();
 */
export class HttpBbsClient implements BbsClient {
  private readonly urls: readonly string[];
  private readonly timeoutMs: number;
  private readonly listTimeoutMs: number;
  private readonly tls: Partial<TlsMaterial> | undefined;
  private readonly httpAgent = new http.Agent({ keepAlive: true, timeout: IDLE_CONNECTION_TIMEOUT_MS });
  private readonly httpsAgent: https.Agent;
  /** The URL that answered last; calls start there. */
  private current = 0;

  constructor(urls: readonly string[], options: HttpBbsClientOptions = {}) {
    if (urls.length === 0) throw new Error('HttpBbsClient needs at least one BBS URL');
    this.urls = urls.map((url) => url.replace(/\/+$/, ''));
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.listTimeoutMs = options.listTimeoutMs ?? DEFAULT_LIST_TIMEOUT_MS;
    this.tls = options.tls;
    this.httpsAgent = new https.Agent({ keepAlive: true, timeout: IDLE_CONNECTION_TIMEOUT_MS, ...options.tls });
  }

  /** Closes the kept-alive connections. */
  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }

  /** Calls a route that takes a request message; rejects with the in-band error. */
  async call<N extends RpcRouteName>(name: N, request: MessageProperties<RequestName<N>>): Promise<DecodedMessage<ResponseName<N>>> {
    const { body } = await this.exchange(routeNamed(name), encodeMessage(requestNameOf(name), request));
    return decodeResponse(responseNameOf(name), body);
  }

  /** `call` of a list route, with the etcd revision the BBS read the list at (its `X-Diego-Revision` header). */
  async callListing<N extends RpcRouteName>(
    name: N,
    request: MessageProperties<RequestName<N>>,
  ): Promise<{ response: DecodedMessage<ResponseName<N>>; revision: string }> {
    const { body, revision } = await this.exchange(routeNamed(name), encodeMessage(requestNameOf(name), request), this.listTimeoutMs);
    const response = decodeResponse(responseNameOf(name), body);
    if (revision === null) throw new BbsError('InvalidResponse', `the BBS answered ${name} without ${REVISION_HEADER}`);
    return { response, revision };
  }

  /**
   * A list route answering ReceptorJSONResponse, its array relayed as it arrives (see StreamedJSON). Resolves once
   * the array's first bytes are in; rejects with the in-band error of a list that failed before them.
   */
  private callStreamedJson<N extends 'ActualLRPsReceptorJSON' | 'DesiredLRPsReceptorJSON'>(
    name: N,
    request: MessageProperties<RequestName<N>>,
  ): Promise<StreamedJSON> {
    const route = routeNamed(name);
    const body = encodeMessage(requestNameOf(name), request);
    return this.acrossBbses(name, async (url) => {
      try {
        return await this.streamOnce(url, route, body);
      } catch (err) {
        if (err instanceof StaleConnectionError) return this.streamOnce(url, route, body, { fresh: true });
        throw err;
      }
    });
  }

  private streamOnce(url: string, route: BbsRoute, body: Uint8Array, options: { fresh?: boolean } = {}): Promise<StreamedJSON> {
    return new Promise((resolve, reject) => {
      const request = this.requestTo(url, route, options);
      const json = new PassThrough();
      const frames = new ReceptorJsonFrames();
      let settled = false;
      const settle = (err: Error | null, revision = ''): void => {
        if (settled) return;
        settled = true;
        if (err === null) resolve({ json, revision });
        else reject(err);
      };
      const fail = (err: Error): void => {
        clearTimeout(timer);
        settle(err);
        json.destroy(err);
      };
      const timer = setTimeout(() => request.destroy(new UnreachableError(`no whole answer within ${this.listTimeoutMs} ms`)), this.listTimeoutMs);
      request.on('error', (err) => {
        fail(settled || !request.reusedSocket || !isUnreachable(err) || err instanceof UnreachableError ? this.explained(err, request) : new StaleConnectionError(err.message));
      });
      request.on('response', (response) => {
        const failure = responseFailure(response);
        const revision = response.headers[REVISION_HEADER.toLowerCase()];
        if (failure === null && typeof revision !== 'string') {
          response.resume();
          fail(new BbsError('InvalidResponse', `the BBS answered ${route.name} without ${REVISION_HEADER}`));
          return;
        }
        json.on('drain', () => response.resume());
        // A reader that gives up on the list stops the BBS writing it.
        json.on('close', () => {
          if (!response.complete) request.destroy();
        });
        response.on('data', (chunk: Buffer) => {
          if (failure !== null) return;
          try {
            for (const part of frames.push(chunk)) {
              settle(null, String(revision));
              if (!json.write(part)) response.pause();
            }
          } catch (err) {
            response.destroy();
            fail(err instanceof Error ? err : new Error(String(err)));
          }
        });
        response.on('close', () => {
          clearTimeout(timer);
          if (failure !== null) return fail(failure);
          // A chunked answer the BBS ended early (its list failed after the first part) is incomplete.
          if (!response.complete) return fail(new BbsError('Unavailable', `the BBS ended its ${route.name} answer unfinished`));
          try {
            frames.end();
          } catch (err) {
            return fail(err instanceof Error ? err : new Error(String(err)));
          }
          settle(null, String(revision));
          json.end();
        });
      });
      request.setHeader('Content-Type', 'application/x-protobuf');
      request.setHeader('Content-Length', body.byteLength);
      request.end(body);
    });
  }

  /** Calls a route that takes no request message. */
  async query<N extends QueryRouteName>(name: N): Promise<DecodedMessage<ResponseName<N>>> {
    const { body } = await this.exchange(routeNamed(name), new Uint8Array());
    return decodeResponse(responseNameOf(name), body);
  }

  async ping(): Promise<boolean> {
    return (await this.query('Ping')).available;
  }

  async domains(): Promise<string[]> {
    return (await this.query('Domains')).domains;
  }

  async upsertDomain(domain: string, ttlSeconds: number): Promise<void> {
    await this.call('UpsertDomain', { domain, ttl: ttlSeconds });
  }

  /** The package service's ordered repository list (README "Packages"). */
  async packageRepositories(): Promise<PackageRepository[]> {
    return (await this.query('PackageRepositories')).repositories.map(packageRepositoryFromProto);
  }

  /** At `index` (the end when undefined); answers the list after. ResourceExists, InvalidRequest (the index). */
  async addPackageRepository(repository: PackageRepository, index?: number): Promise<PackageRepository[]> {
    const response = await this.call('AddPackageRepository', { ...repository, ...(index === undefined ? {} : { index }) });
    return response.repositories.map(packageRepositoryFromProto);
  }

  /** By name, by URI (the other ''), or both; answers the list after. ResourceNotFound when none matches. */
  async deletePackageRepository(selector: PackageRepository): Promise<PackageRepository[]> {
    return (await this.call('DeletePackageRepository', selector)).repositories.map(packageRepositoryFromProto);
  }

  /** Writes `defaults` when no list exists yet; answers the list as it is. */
  async initializePackageRepositories(defaults: readonly PackageRepository[]): Promise<PackageRepository[]> {
    return (await this.call('InitializePackageRepositories', { repositories: [...defaults] })).repositories.map(packageRepositoryFromProto);
  }

  async actualLRPGroups(filter: ActualLRPFilter = {}): Promise<ActualLRPGroup[]> {
    return (await this.listActualLRPGroups(filter)).items;
  }

  async actualLRPGroupsByProcessGuid(processGuid: string): Promise<ActualLRPGroup[]> {
    return (await this.listActualLRPGroupsByProcessGuid(processGuid)).items;
  }

  async listActualLRPGroups(filter: ActualLRPFilter = {}): Promise<Listed<ActualLRPGroup>> {
    const { response, revision } = await this.callListing('ActualLRPGroups', { domain: filter.domain ?? '', cell_id: filter.cell_id ?? '' });
    return { items: response.actual_lrp_groups.map(actualLrpGroupFromProto), revision };
  }

  async actualLRPsReceptorJSON(filter: ActualLRPFilter = {}): Promise<ListedJSON> {
    const { response, revision } = await this.callListing('ActualLRPsReceptorJSON', { domain: filter.domain ?? '', cell_id: filter.cell_id ?? '' });
    return { json: jsonOf(response), revision };
  }

  async actualLRPsReceptorJSONStream(filter: ActualLRPFilter = {}): Promise<StreamedJSON> {
    return this.callStreamedJson('ActualLRPsReceptorJSON', { domain: filter.domain ?? '', cell_id: filter.cell_id ?? '' });
  }

  async listActualLRPGroupsByProcessGuid(processGuid: string): Promise<Listed<ActualLRPGroup>> {
    const { response, revision } = await this.callListing('ActualLRPGroupsByProcessGuid', { process_guid: processGuid });
    return { items: response.actual_lrp_groups.map(actualLrpGroupFromProto), revision };
  }

  async actualLRPGroupByProcessGuidAndIndex(processGuid: string, index: number): Promise<ActualLRPGroup> {
    const response = await this.call('ActualLRPGroupByProcessGuidAndIndex', { process_guid: processGuid, index });
    return actualLrpGroupFromProto(response.actual_lrp_group ?? {});
  }

  async claimActualLRP(processGuid: string, index: number, instanceKey: ActualLRPInstanceKey): Promise<void> {
    await this.call('ClaimActualLRP', {
      process_guid: processGuid,
      index,
      actual_lrp_instance_key: actualLrpInstanceKeyToProto(instanceKey),
    });
  }

  async startActualLRP(key: ActualLRPKey, instanceKey: ActualLRPInstanceKey, netInfo: ActualLRPNetInfo): Promise<void> {
    await this.call('StartActualLRP', {
      actual_lrp_key: actualLrpKeyToProto(key),
      actual_lrp_instance_key: actualLrpInstanceKeyToProto(instanceKey),
      actual_lrp_net_info: actualLrpNetInfoToProto(netInfo),
    });
  }

  async crashActualLRP(key: ActualLRPKey, instanceKey: ActualLRPInstanceKey, errorMessage: string): Promise<void> {
    await this.call('CrashActualLRP', {
      actual_lrp_key: actualLrpKeyToProto(key),
      actual_lrp_instance_key: actualLrpInstanceKeyToProto(instanceKey),
      error_message: errorMessage,
    });
  }

  async failActualLRP(key: ActualLRPKey, errorMessage: string): Promise<void> {
    await this.call('FailActualLRP', { actual_lrp_key: actualLrpKeyToProto(key), error_message: errorMessage });
  }

  async removeActualLRP(processGuid: string, index: number, instanceKey?: ActualLRPInstanceKey): Promise<void> {
    await this.call('RemoveActualLRP', {
      process_guid: processGuid,
      index,
      actual_lrp_instance_key: instanceKey === undefined ? null : actualLrpInstanceKeyToProto(instanceKey),
    });
  }

  async retireActualLRP(key: ActualLRPKey): Promise<void> {
    await this.call('RetireActualLRP', { actual_lrp_key: actualLrpKeyToProto(key) });
  }

  async removeEvacuatingActualLRP(key: ActualLRPKey, instanceKey: ActualLRPInstanceKey): Promise<void> {
    await this.call('RemoveEvacuatingActualLRP', {
      actual_lrp_key: actualLrpKeyToProto(key),
      actual_lrp_instance_key: actualLrpInstanceKeyToProto(instanceKey),
    });
  }

  // Evacuation answers keep_container; when the call fails, Diego's default for the route (bbs client.go).

  async evacuateClaimedActualLRP(key: ActualLRPKey, instanceKey: ActualLRPInstanceKey): Promise<boolean> {
    return keepContainer(true, () => this.call('EvacuateClaimedActualLRP', {
      actual_lrp_key: actualLrpKeyToProto(key),
      actual_lrp_instance_key: actualLrpInstanceKeyToProto(instanceKey),
    }));
  }

  async evacuateCrashedActualLRP(key: ActualLRPKey, instanceKey: ActualLRPInstanceKey, errorMessage: string): Promise<boolean> {
    return keepContainer(false, () => this.call('EvacuateCrashedActualLRP', {
      actual_lrp_key: actualLrpKeyToProto(key),
      actual_lrp_instance_key: actualLrpInstanceKeyToProto(instanceKey),
      error_message: errorMessage,
    }));
  }

  async evacuateStoppedActualLRP(key: ActualLRPKey, instanceKey: ActualLRPInstanceKey): Promise<boolean> {
    return keepContainer(false, () => this.call('EvacuateStoppedActualLRP', {
      actual_lrp_key: actualLrpKeyToProto(key),
      actual_lrp_instance_key: actualLrpInstanceKeyToProto(instanceKey),
    }));
  }

  async evacuateRunningActualLRP(
    key: ActualLRPKey,
    instanceKey: ActualLRPInstanceKey,
    netInfo: ActualLRPNetInfo,
    ttlSeconds: number,
  ): Promise<boolean> {
    return keepContainer(true, () => this.call('EvacuateRunningActualLRP', {
      actual_lrp_key: actualLrpKeyToProto(key),
      actual_lrp_instance_key: actualLrpInstanceKeyToProto(instanceKey),
      actual_lrp_net_info: actualLrpNetInfoToProto(netInfo),
      ttl: Long.fromNumber(ttlSeconds, true),
    }));
  }

  async desiredLRPs(filter: DesiredLRPFilter = {}): Promise<DesiredLRP[]> {
    return (await this.listDesiredLRPs(filter)).items;
  }

  async listDesiredLRPs(filter: DesiredLRPFilter = {}): Promise<Listed<DesiredLRP>> {
    const { response, revision } = await this.callListing('DesiredLRPs_r1', { domain: filter.domain ?? '' });
    return { items: response.desired_lrps.map(desiredLrpFromProto), revision };
  }

  async desiredLRPsReceptorJSON(filter: DesiredLRPFilter = {}): Promise<ListedJSON> {
    const { response, revision } = await this.callListing('DesiredLRPsReceptorJSON', { domain: filter.domain ?? '' });
    return { json: jsonOf(response), revision };
  }

  async desiredLRPsReceptorJSONStream(filter: DesiredLRPFilter = {}): Promise<StreamedJSON> {
    return this.callStreamedJson('DesiredLRPsReceptorJSON', { domain: filter.domain ?? '' });
  }

  async desiredLRPSummariesReceptorJSON(query: DesiredLRPSummaryQuery): Promise<ListedJSON> {
    const { response, revision } = await this.callListing('DesiredLRPSummariesReceptorJSON', query);
    return { json: response.json, revision };
  }

  async taskSummariesReceptorJSON(query: TaskSummaryQuery): Promise<ListedJSON> {
    const { response, revision } = await this.callListing('TaskSummariesReceptorJSON', query);
    return { json: response.json, revision };
  }

  async domainFreshnessReceptorJSON(): Promise<Uint8Array> {
    return (await this.query('DomainFreshnessReceptorJSON')).json;
  }

  async desiredLRPByProcessGuid(processGuid: string): Promise<DesiredLRP> {
    const response = await this.call('DesiredLRPByProcessGuid_r1', { process_guid: processGuid });
    return desiredLrpFromProto(response.desired_lrp ?? {});
  }

  async desiredLRPSchedulingInfos(filter: DesiredLRPFilter = {}): Promise<DesiredLRPSchedulingInfo[]> {
    const response = await this.call('DesiredLRPSchedulingInfos', { domain: filter.domain ?? '' });
    return response.desired_lrp_scheduling_infos.map(schedulingInfoFromProto);
  }

  async desireLRP(lrp: DesiredLRP): Promise<void> {
    await this.call('DesireDesiredLRP', { desired_lrp: desiredLrpToProto(lrp) });
  }

  async updateDesiredLRP(processGuid: string, update: DesiredLRPUpdate): Promise<void> {
    await this.call('UpdateDesireLRP', { process_guid: processGuid, update: desiredLrpUpdateToProto(update) });
  }

  async removeDesiredLRP(processGuid: string): Promise<void> {
    await this.call('RemoveDesiredLRP', { process_guid: processGuid });
  }

  async tasks(filter: TaskFilter = {}): Promise<Task[]> {
    return (await this.listTasks(filter)).items;
  }

  async listTasks(filter: TaskFilter = {}): Promise<Listed<Task>> {
    const { response, revision } = await this.callListing('Tasks_r1', { domain: filter.domain ?? '', cell_id: filter.cell_id ?? '' });
    return { items: response.tasks.map(taskFromProto), revision };
  }

  async taskByGuid(taskGuid: string): Promise<Task> {
    const response = await this.call('TaskByGuid_r1', { task_guid: taskGuid });
    return taskFromProto(response.task ?? {});
  }

  async desireTask(taskGuid: string, domain: string, definition: TaskDefinition): Promise<void> {
    await this.call('DesireTask', { task_guid: taskGuid, domain, task_definition: taskDefinitionToProto(definition) });
  }

  async startTask(taskGuid: string, cellId: string): Promise<boolean> {
    return (await this.call('StartTask', { task_guid: taskGuid, cell_id: cellId })).should_start;
  }

  async cancelTask(taskGuid: string): Promise<void> {
    await this.call('CancelTask', { task_guid: taskGuid });
  }

  async failTask(taskGuid: string, failureReason: string): Promise<void> {
    await this.call('FailTask', { task_guid: taskGuid, failure_reason: failureReason });
  }

  async completeTask(taskGuid: string, cellId: string, failed: boolean, failureReason: string, result: string): Promise<void> {
    await this.call('CompleteTask', { task_guid: taskGuid, cell_id: cellId, failed, failure_reason: failureReason, result });
  }

  async resolvingTask(taskGuid: string): Promise<void> {
    await this.call('ResolvingTask', { task_guid: taskGuid });
  }

  async deleteTask(taskGuid: string): Promise<void> {
    await this.call('DeleteTask', { task_guid: taskGuid });
  }

  async cells(): Promise<CellPresence[]> {
    return (await this.query('Cells_r1')).cells.map(cellPresenceFromProto);
  }

  async registerCell(cell: CellPresence, ttlSeconds: number): Promise<string> {
    return (await this.call('RegisterCell', { cell_presence: cellPresenceToProto(cell), ttl: ttlSeconds })).lease_id;
  }

  async cellHeartbeat(cellId: string, leaseId: string): Promise<void> {
    await this.call('CellHeartbeat', { cell_id: cellId, lease_id: leaseId });
  }

  async removeCell(cellId: string): Promise<void> {
    await this.call('RemoveCell', { cell_id: cellId });
  }

  async convergeLRPs(): Promise<void> {
    await this.query('ConvergeLRPs');
  }

  async convergeTasks(durations: TaskConvergenceDurations): Promise<void> {
    const nanoseconds = (ms: number): Long => Long.fromNumber(ms).multiply(NS_PER_MS);
    await this.call('ConvergeTasks', {
      kick_task_duration: nanoseconds(durations.kickTaskDurationMs),
      expire_pending_task_duration: nanoseconds(durations.expirePendingTaskDurationMs),
      expire_completed_task_duration: nanoseconds(durations.expireCompletedTaskDurationMs),
    });
  }

  async subscribeToEvents(options: SubscribeOptions = {}): Promise<EventSubscription> {
    const { afterRevision } = options;
    return this.acrossBbses('EventStream_r0', (url) => {
      const request = this.requestTo(url, routeNamed('EventStream_r0'));
      if (afterRevision !== undefined) request.setHeader('Last-Event-ID', afterRevision);
      return openEventStream(request, this.timeoutMs, (err) => this.explained(err, request));
    });
  }

  /** Sends a request body and resolves with the protobuf response body and the list revision header. */
  private exchange(route: BbsRoute, body: Uint8Array, timeoutMs = this.timeoutMs): Promise<Answer> {
    return this.acrossBbses(route.name, async (url) => {
      try {
        return await this.exchangeOnce(url, route, body, timeoutMs);
      } catch (err) {
        // Most likely a kept-alive connection the server had already closed, which never took the request; but a
        // BBS that died with it may have, so only a request that may be repeated is sent again.
        if (err instanceof StaleConnectionError && REPEATABLE_ROUTES.has(route.name)) {
          return this.exchangeOnce(url, route, body, timeoutMs, { fresh: true });
        }
        throw err;
      }
    });
  }

  /**
   * Tries `attempt` on each BBS once, from the one that answered last, while they cannot be reached; a request
   * that must not reach a BBS twice moves on only when the last one cannot have received it.
   */
  private async acrossBbses<T>(routeName: string, attempt: (url: string) => Promise<T>): Promise<T> {
    const repeatable = REPEATABLE_ROUTES.has(routeName);
    const failures: string[] = [];
    for (let i = 0; i < this.urls.length; i++) {
      const index = (this.current + i) % this.urls.length;
      const url = this.urls[index] ?? '';
      try {
        const result = await attempt(url);
        this.current = index;
        return result;
      } catch (err) {
        if (!isUnreachable(err) && !(err instanceof StaleConnectionError)) throw err;
        if (!repeatable && !neverReceived(err)) {
          throw new BbsError('Unavailable', `${url} failed during ${routeName}, which may have been carried out: ${messageOf(err)}`);
        }
        failures.push(`${url}: ${messageOf(err)}`);
      }
    }
    throw new BbsError('Unavailable', `no BBS could be reached (${failures.join('; ')})`);
  }

  /** `fresh`: on a new connection rather than a kept-alive one (another idle one may be just as stale). */
  private requestTo(url: string, route: BbsRoute, { fresh = false } = {}): http.ClientRequest {
    const target = new URL(`${url}${route.path}`);
    if (target.protocol !== 'https:') return http.request(target, { method: route.method, agent: fresh ? false : this.httpAgent });
    // A fresh connection has no agent to carry the certificates: they go with the request.
    return https.request(target, { method: route.method, ...(fresh ? { agent: false, ...this.tls } : { agent: this.httpsAgent }) });
  }

  /**
   * A TLS failure as what it means for this client (the BBS cannot have received a request whose handshake
   * failed); any other error as it is.
   */
  private explained(err: Error, request: http.ClientRequest): Error {
    const tlsFailure = describeTlsFailure(err, 'the BBS', this.tls?.cert !== undefined);
    if (tlsFailure !== null) return new TlsHandshakeError(tlsFailure);
    // A Node BBS turns away another CA's certificate by closing the connection its handshake just opened.
    const code = errorCode(err);
    if (this.tls?.cert !== undefined && !request.reusedSocket && (code === 'ECONNRESET' || code === 'EPIPE') && isTlsSocket(request.socket)) {
      return new UnreachableError(closedAfterHandshake('the BBS'));
    }
    return err;
  }

  private exchangeOnce(url: string, route: BbsRoute, body: Uint8Array, timeoutMs: number, options: { fresh?: boolean } = {}): Promise<Answer> {
    return new Promise((resolve, reject) => {
      const request = this.requestTo(url, route, options);
      const timer = setTimeout(() => request.destroy(new UnreachableError(`no answer within ${timeoutMs} ms`)), timeoutMs);
      request.on('error', (err) => {
        clearTimeout(timer);
        reject(request.reusedSocket && isUnreachable(err) && !(err instanceof UnreachableError) ? new StaleConnectionError(err.message) : this.explained(err, request));
      });
      request.on('response', (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', (err) => {
          clearTimeout(timer);
          reject(err);
        });
        response.on('end', () => {
          clearTimeout(timer);
          const failure = responseFailure(response);
          const revision = response.headers[REVISION_HEADER.toLowerCase()];
          if (failure === null) resolve({ body: Buffer.concat(chunks), revision: typeof revision === 'string' ? revision : null });
          else reject(failure);
        });
      });
      request.setHeader('Content-Type', 'application/x-protobuf');
      request.setHeader('Content-Length', body.byteLength);
      request.end(body);
    });
  }
}

/** Whether a request went over TLS (duck-typed, as sockets may come from another realm in jest's sandbox). */
function isTlsSocket(socket: unknown): boolean {
  return typeof socket === 'object' && socket !== null && 'encrypted' in socket && socket.encrypted === true;
}

/** A kept-alive connection that turned out closed: worth one retry on the same BBS, for a repeatable request. */
class StaleConnectionError extends Error {}

/** A BBS's protobuf answer, and the etcd revision a list was read at (null for other routes). */
interface Answer {
  body: Buffer;
  revision: string | null;
}

/** The array of a ReceptorJSONResponse: its `json`, or its `json_parts` joined. */
function jsonOf(response: { json: Uint8Array; json_parts: Uint8Array[] }): Uint8Array {
  return response.json_parts.length === 0 ? response.json : Buffer.concat(response.json_parts);
}

/**
 * Reads a ReceptorJSONResponse as its bytes arrive: `push` returns the array's bytes found in a chunk (`json`'s
 * or `json_parts`' payloads, as they come), and `end` checks that the message ended whole, throwing its in-band
 * error when it carried one. Hand-written because protobufjs decodes only whole messages.
 */
class ReceptorJsonFrames {
  /** The field being read, and how much of its payload is left; null between fields. */
  private field: { number: number; left: number } | null = null;
  /** The bytes of a field's tag and length varints read so far (they may be split between chunks). */
  private pending: number[] = [];
  /** How many of those varints are whole. */
  private wholeVarints = 0;
  private readonly errorBytes: Buffer[] = [];

  push(chunk: Buffer): Buffer[] {
    const parts: Buffer[] = [];
    let at = 0;
    while (at < chunk.length) {
      if (this.field === null) {
        at = this.readHeader(chunk, at);
        continue;
      }
      const take = Math.min(this.field.left, chunk.length - at);
      const payload = chunk.subarray(at, at + take);
      if (this.field.number === 1) this.errorBytes.push(payload);
      else if (this.field.number === 2 || this.field.number === 3) parts.push(payload);
      at += take;
      this.field.left -= take;
      if (this.field.left === 0) this.field = null;
    }
    return parts;
  }

  end(): void {
    if (this.field !== null || this.pending.length > 0) throw new BbsError('InvalidResponse', 'the BBS answer ended inside a field');
    if (this.errorBytes.length === 0) return;
    let error: DecodedMessage<'Error'>;
    try {
      error = decodeMessage('Error', Buffer.concat(this.errorBytes));
    } catch (err) {
      throw new BbsError('InvalidResponse', `could not decode ReceptorJSONResponse: ${messageOf(err)}`);
    }
    throw BbsError.fromProto(error);
  }

  /** Reads (part of) a field's tag and length; sets `field` once both are whole. Returns where reading stopped. */
  private readHeader(chunk: Buffer, from: number): number {
    let at = from;
    while (at < chunk.length) {
      const byte = chunk[at++] ?? 0;
      this.pending.push(byte);
      if (byte >= 0x80 || ++this.wholeVarints < 2) continue;
      const [tag, length] = this.decodedVarints();
      this.pending = [];
      this.wholeVarints = 0;
      if ((tag & 7) !== 2) throw new BbsError('InvalidResponse', `unexpected wire type ${tag & 7} in ReceptorJSONResponse`);
      this.field = { number: tag >>> 3, left: length };
      if (length === 0) this.field = null;
      return at;
    }
    return at;
  }

  private decodedVarints(): [number, number] {
    const values: number[] = [];
    let value = 0;
    let scale = 1;
    for (const byte of this.pending) {
      value += (byte & 0x7f) * scale;
      scale *= 0x80;
      if (byte < 0x80) {
        values.push(value);
        value = 0;
        scale = 1;
      }
    }
    return [values[0] ?? 0, values[1] ?? 0];
  }
}

function packageRepositoryFromProto(repository: { name?: string | null; uri?: string | null }): PackageRepository {
  return { name: repository.name ?? '', uri: repository.uri ?? '' };
}

function routeNamed(name: BbsRouteName): BbsRoute {
  const route = BbsRoutes.find((candidate) => candidate.name === name);
  if (route === undefined) throw new Error(`no BBS route ${name}`);
  return route;
}

/** A BBS answers 200 protobuf, errors in band; anything else is a router's or a proxy's answer. */
function responseFailure(response: http.IncomingMessage): BbsError | null {
  const routerError = response.headers['x-cf-routererror'];
  if (typeof routerError === 'string') return new BbsError('RouterError', routerError);
  const contentType = response.headers['content-type'] ?? '';
  if (response.statusCode === 200 && contentType.startsWith('application/x-protobuf')) return null;
  return new BbsError('InvalidResponse', `the BBS answered ${response.statusCode ?? 'nothing'} (${contentType || 'no content type'})`);
}

function decodeResponse<M extends ResponseName<RpcRouteName | QueryRouteName>>(name: M, body: Uint8Array): DecodedMessage<M> {
  let message: DecodedMessage<M>;
  try {
    message = decodeMessage(name, body);
  } catch (err) {
    throw new BbsError('InvalidResponse', `could not decode ${name}: ${messageOf(err)}`);
  }
  const error = inBandError(message);
  if (error !== null) throw error;
  return message;
}

function inBandError(message: unknown): BbsError | null {
  if (typeof message !== 'object' || message === null || !('error' in message)) return null;
  const { error } = message;
  if (typeof error !== 'object' || error === null) return null;
  const type: unknown = Reflect.get(error, 'type');
  const text: unknown = Reflect.get(error, 'message');
  return BbsError.fromProto({ type: typeof type === 'number' ? type : 0, message: typeof text === 'string' ? text : '' });
}

async function keepContainer(whenFailed: boolean, call: () => Promise<{ keep_container: boolean }>): Promise<boolean> {
  try {
    return (await call()).keep_container;
  } catch {
    return whenFailed;
  }
}

/** Opens the SSE stream; resolves once the BBS answered 200 with the stream's headers. */
function openEventStream(request: http.ClientRequest, timeoutMs: number, explained: (err: Error) => Error): Promise<EventSubscription> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => request.destroy(new UnreachableError(`no answer within ${timeoutMs} ms`)), timeoutMs);
    request.once('error', (err) => {
      clearTimeout(timer);
      reject(explained(err));
    });
    request.once('response', (response) => {
      clearTimeout(timer);
      const contentType = response.headers['content-type'] ?? '';
      if (response.statusCode !== 200 || !contentType.startsWith('text/event-stream')) {
        response.resume();
        request.destroy();
        reject(
          response.statusCode === 400
            ? new BbsError('InvalidRequest', 'the BBS refused the event id to resume after')
            : new BbsError('InvalidResponse', `the BBS answered ${response.statusCode ?? 'nothing'} to the event subscription`),
        );
        return;
      }
      resolve(new SseSubscription(request, response));
    });
    request.end();
  });
}

/** Parses `id:`/`event:`/`data:` frames (spec §9.4) into events, queued until `next()` takes them. */
class SseSubscription implements EventSubscription {
  compactRevision: string | null = null;
  private readonly queue: BbsEvent[] = [];
  private readonly waiting: { resolve: (event: BbsEvent | null) => void; reject: (err: Error) => void }[] = [];
  private failure: Error | null = null;
  private ended = false;
  private readonly parser = new SseParser();

  constructor(
    private readonly request: http.ClientRequest,
    response: http.IncomingMessage,
  ) {
    response.setEncoding('utf8');
    response.on('data', (chunk: string) => this.receive(chunk));
    response.on('end', () => this.finish(null));
    response.on('error', (err) => this.finish(err));
    request.on('error', (err) => this.finish(err));
  }

  next(): Promise<BbsEvent | null> {
    const event = this.queue.shift();
    if (event !== undefined) return Promise.resolve(event);
    if (this.failure !== null) {
      const failure = this.failure;
      this.failure = null;
      return Promise.reject(failure);
    }
    if (this.ended) return Promise.resolve(null);
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  close(): void {
    this.finish(null);
    this.request.destroy();
  }

  private receive(chunk: string): void {
    for (const frame of this.parser.push(chunk)) this.dispatch(frame);
  }

  private dispatch({ event, id, data }: SseFrame): void {
    if (event === null || event === '') return;
    if (event === COMPACTED_EVENT) {
      this.compactRevision = data ?? '';
      this.finish(null);
      this.request.destroy();
      return;
    }
    let decoded: BbsEvent;
    try {
      decoded = decodeEvent(event, Buffer.from(data ?? '', 'base64'), id ?? '');
    } catch (err) {
      this.finish(err instanceof Error ? err : new Error(String(err)));
      this.request.destroy();
      return;
    }
    const waiter = this.waiting.shift();
    if (waiter === undefined) this.queue.push(decoded);
    else waiter.resolve(decoded);
  }

  /** Ends the subscription; a failure goes to the next `next()` (or to one waiting), once. */
  private finish(err: Error | null): void {
    if (this.ended) return;
    this.ended = true;
    if (err === null) {
      for (const waiter of this.waiting.splice(0)) waiter.resolve(null);
      return;
    }
    const waiter = this.waiting.shift();
    if (waiter === undefined) this.failure = err;
    else waiter.reject(err);
    for (const rest of this.waiting.splice(0)) rest.resolve(null);
  }
}
