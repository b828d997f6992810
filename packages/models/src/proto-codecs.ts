/**
 * Model <-> proto message (package `models`), both directions.
 *
 * Encoders write every field, as gogoproto's non-nullable fields did; nested messages that are nil in Go
 * (actions, routes, port ranges, ...) are left out. Decoders accept decoded messages and plain objects alike,
 * and fill Go zero values for absent fields. Int64s go between `bigint` and `Long` through their decimal
 * digits, so no value is ever rounded.
 */
import Long from 'long';
import { models } from '../gen/proto';
import { BbsError } from './errors';
import { parseJson, stringifyJson } from './json';
import {
  ACTUAL_LRP_STATES,
  TASK_STATES,
  type Action,
  type ActionList,
  type ActualLRP,
  type ActualLRPGroup,
  type ActualLRPInstanceKey,
  type ActualLRPKey,
  type ActualLRPNetInfo,
  type ActualLRPState,
  type CachedDependency,
  type CellPresence,
  type DesiredLRP,
  type DesiredLRPSchedulingInfo,
  type DesiredLRPUpdate,
  type EnvironmentVariable,
  type ModificationTag,
  type PortMapping,
  type Routes,
  type SecurityGroupRule,
  type Task,
  type TaskDefinition,
  type TaskState,
} from './types';

/** A proto field as protobufjs types it: absent, null, or set. */
type Maybe<T> = T | null | undefined;

function invalidMessage(message: string): BbsError {
  return new BbsError('InvalidProtobufMessage', message);
}

// ---- int64 ----

function int64ToLong(value: bigint): Long {
  return Long.fromString(value.toString(), false);
}

function longToInt64(value: Maybe<Long | number>): bigint {
  if (value === null || value === undefined) return 0n;
  return typeof value === 'number' ? BigInt(value) : BigInt(value.toString());
}

/** ResourceLimits.nofile: uint64 on the wire, a number in the model. */
function uint64ToLong(value: number): Long {
  return Long.fromNumber(value, true);
}

function longToUint53(value: Maybe<Long | number>): number {
  if (value === null || value === undefined) return 0;
  const n = typeof value === 'number' ? value : value.toNumber();
  if (!Number.isSafeInteger(n)) throw invalidMessage(`uint64 ${value.toString()} is beyond 2^53`);
  return n;
}

// ---- small messages ----

function environmentVariablesToProto(env: readonly EnvironmentVariable[]): models.IEnvironmentVariable[] {
  return env.map((e) => ({ name: e.name, value: e.value }));
}

function environmentVariablesFromProto(env: Maybe<models.IEnvironmentVariable[]>): EnvironmentVariable[] {
  return (env ?? []).map((e) => ({ name: e.name ?? '', value: e.value ?? '' }));
}

function modificationTagToProto(tag: ModificationTag): models.IModificationTag {
  return { epoch: tag.epoch, index: tag.index };
}

function modificationTagFromProto(tag: Maybe<models.IModificationTag>): ModificationTag {
  return { epoch: tag?.epoch ?? '', index: tag?.index ?? 0 };
}

function securityGroupRuleToProto(rule: SecurityGroupRule): models.ISecurityGroupRule {
  return {
    protocol: rule.protocol,
    destinations: [...rule.destinations],
    ports: [...rule.ports],
    port_range: rule.port_range && { start: rule.port_range.start, end: rule.port_range.end },
    icmp_info: rule.icmp_info && { type: rule.icmp_info.type, code: rule.icmp_info.code },
    log: rule.log,
  };
}

function securityGroupRuleFromProto(rule: models.ISecurityGroupRule): SecurityGroupRule {
  return {
    protocol: rule.protocol ?? '',
    destinations: [...(rule.destinations ?? [])],
    ports: [...(rule.ports ?? [])],
    port_range: rule.port_range ? { start: rule.port_range.start ?? 0, end: rule.port_range.end ?? 0 } : null,
    icmp_info: rule.icmp_info ? { type: rule.icmp_info.type ?? 0, code: rule.icmp_info.code ?? 0 } : null,
    log: rule.log ?? false,
  };
}

function cachedDependencyToProto(dep: CachedDependency): models.ICachedDependency {
  return { name: dep.name, from: dep.from, to: dep.to, cache_key: dep.cache_key, log_source: dep.log_source };
}

function cachedDependencyFromProto(dep: models.ICachedDependency): CachedDependency {
  return {
    name: dep.name ?? '',
    from: dep.from ?? '',
    to: dep.to ?? '',
    cache_key: dep.cache_key ?? '',
    log_source: dep.log_source ?? '',
  };
}

// ---- routes: each value is JSON text, carried as its UTF-8 bytes ----

const utf8 = new TextDecoder('utf-8', { fatal: true });

function routesToProto(routes: Routes): models.IProtoRoutes {
  const out: Record<string, Uint8Array> = {};
  for (const [key, json] of Object.entries(routes)) out[key] = Buffer.from(json, 'utf8');
  return { routes: out };
}

/** Re-serialised compactly, so a value from any client is valid JSON text before it is spliced into a response. */
function routesFromProto(routes: Maybe<models.IProtoRoutes>): Routes {
  const out: Routes = {};
  for (const [key, bytes] of Object.entries(routes?.routes ?? {})) {
    try {
      out[key] = stringifyJson(parseJson(utf8.decode(bytes)));
    } catch (err) {
      throw invalidMessage(`routes[${JSON.stringify(key)}] is not JSON: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return out;
}

// ---- actions ----

function actionListToProto(list: ActionList): { actions: models.IAction[]; log_source: string } {
  // A repeated message field cannot hold a nil: a missing action goes as an empty one (both are invalid).
  return { actions: list.actions.map((a) => (a === null ? {} : actionToProto(a))), log_source: list.log_source };
}

function actionListFromProto(list: { actions?: Maybe<models.IAction[]>; log_source?: Maybe<string> }): ActionList {
  return { actions: (list.actions ?? []).map(actionFromProto), log_source: list.log_source ?? '' };
}

function nestedActionToProto(action: Action | null): models.IAction | null {
  return action === null ? null : actionToProto(action);
}

function nestedActionFromProto(action: Maybe<models.IAction>): Action | null {
  return action ? actionFromProto(action) : null;
}

export function actionToProto(action: Action): models.IAction {
  const out: models.IAction = {};
  const { download, upload, run, timeout, emit_progress, try: tryAction, parallel, serial, codependent } = action;
  if (download) out.download_action = { ...download };
  if (upload) out.upload_action = { ...upload };
  if (run) {
    out.run_action = {
      path: run.path,
      args: [...run.args],
      dir: run.dir,
      env: environmentVariablesToProto(run.env),
      resource_limits: run.resource_limits && { nofile: uint64ToLong(run.resource_limits.nofile) },
      user: run.user,
      log_source: run.log_source,
      suppress_log_output: run.suppress_log_output,
    };
  }
  if (timeout) {
    out.timeout_action = {
      action: nestedActionToProto(timeout.action),
      timeout: int64ToLong(timeout.timeout),
      log_source: timeout.log_source,
    };
  }
  if (emit_progress) out.emit_progress_action = { ...emit_progress, action: nestedActionToProto(emit_progress.action) };
  if (tryAction) out.try_action = { action: nestedActionToProto(tryAction.action), log_source: tryAction.log_source };
  if (parallel) out.parallel_action = actionListToProto(parallel);
  if (serial) out.serial_action = actionListToProto(serial);
  if (codependent) out.codependent_action = actionListToProto(codependent);
  return out;
}

export function actionFromProto(action: models.IAction): Action {
  const out: Action = {};
  const d = action.download_action;
  if (d) {
    out.download = {
      artifact: d.artifact ?? '',
      from: d.from ?? '',
      to: d.to ?? '',
      cache_key: d.cache_key ?? '',
      log_source: d.log_source ?? '',
      user: d.user ?? '',
    };
  }
  const u = action.upload_action;
  if (u) out.upload = { artifact: u.artifact ?? '', from: u.from ?? '', to: u.to ?? '', log_source: u.log_source ?? '', user: u.user ?? '' };
  const r = action.run_action;
  if (r) {
    out.run = {
      path: r.path ?? '',
      args: [...(r.args ?? [])],
      dir: r.dir ?? '',
      env: environmentVariablesFromProto(r.env),
      resource_limits: r.resource_limits ? { nofile: longToUint53(r.resource_limits.nofile) } : null,
      user: r.user ?? '',
      log_source: r.log_source ?? '',
      suppress_log_output: r.suppress_log_output ?? false,
    };
  }
  const t = action.timeout_action;
  if (t) out.timeout = { action: nestedActionFromProto(t.action), timeout: longToInt64(t.timeout), log_source: t.log_source ?? '' };
  const e = action.emit_progress_action;
  if (e) {
    out.emit_progress = {
      action: nestedActionFromProto(e.action),
      start_message: e.start_message ?? '',
      success_message: e.success_message ?? '',
      failure_message_prefix: e.failure_message_prefix ?? '',
      log_source: e.log_source ?? '',
    };
  }
  const y = action.try_action;
  if (y) out.try = { action: nestedActionFromProto(y.action), log_source: y.log_source ?? '' };
  if (action.parallel_action) out.parallel = actionListFromProto(action.parallel_action);
  if (action.serial_action) out.serial = actionListFromProto(action.serial_action);
  if (action.codependent_action) out.codependent = actionListFromProto(action.codependent_action);
  return out;
}

// ---- actual LRPs ----

export function actualLrpKeyToProto(key: ActualLRPKey): models.IActualLRPKey {
  return { process_guid: key.process_guid, index: key.index, domain: key.domain };
}

export function actualLrpKeyFromProto(key: models.IActualLRPKey | null | undefined): ActualLRPKey {
  return { process_guid: key?.process_guid ?? '', index: key?.index ?? 0, domain: key?.domain ?? '' };
}

export function actualLrpInstanceKeyToProto(key: ActualLRPInstanceKey): models.IActualLRPInstanceKey {
  return { instance_guid: key.instance_guid, cell_id: key.cell_id };
}

export function actualLrpInstanceKeyFromProto(key: models.IActualLRPInstanceKey | null | undefined): ActualLRPInstanceKey {
  return { instance_guid: key?.instance_guid ?? '', cell_id: key?.cell_id ?? '' };
}

export function actualLrpNetInfoToProto(info: ActualLRPNetInfo): models.IActualLRPNetInfo {
  return {
    address: info.address,
    ports: info.ports.map((p) => ({ container_port: p.container_port, host_port: p.host_port })),
  };
}

export function actualLrpNetInfoFromProto(info: models.IActualLRPNetInfo | null | undefined): ActualLRPNetInfo {
  return {
    address: info?.address ?? '',
    ports: (info?.ports ?? []).map((p): PortMapping => ({ container_port: p.container_port ?? 0, host_port: p.host_port ?? 0 })),
  };
}

function actualLrpStateFromProto(state: Maybe<string>): ActualLRPState {
  const known = ACTUAL_LRP_STATES.find((s) => s === state);
  if (known === undefined) throw invalidMessage(`unknown actual LRP state ${JSON.stringify(state ?? '')}`);
  return known;
}

export function actualLrpToProto(lrp: ActualLRP): models.IActualLRP {
  return {
    actual_lrp_key: actualLrpKeyToProto(lrp),
    actual_lrp_instance_key: actualLrpInstanceKeyToProto(lrp),
    actual_lrp_net_info: actualLrpNetInfoToProto(lrp),
    crash_count: lrp.crash_count,
    crash_reason: lrp.crash_reason,
    state: lrp.state,
    placement_error: lrp.placement_error,
    since: int64ToLong(lrp.since),
    modification_tag: modificationTagToProto(lrp.modification_tag),
  };
}

/** @throws BbsError('InvalidProtobufMessage') when the state is not one of the four ActualLRP states. */
export function actualLrpFromProto(lrp: models.IActualLRP): ActualLRP {
  return {
    ...actualLrpKeyFromProto(lrp.actual_lrp_key),
    ...actualLrpInstanceKeyFromProto(lrp.actual_lrp_instance_key),
    ...actualLrpNetInfoFromProto(lrp.actual_lrp_net_info),
    crash_count: lrp.crash_count ?? 0,
    crash_reason: lrp.crash_reason ?? '',
    state: actualLrpStateFromProto(lrp.state),
    placement_error: lrp.placement_error ?? '',
    since: longToInt64(lrp.since),
    modification_tag: modificationTagFromProto(lrp.modification_tag),
  };
}

export function actualLrpGroupToProto(group: ActualLRPGroup): models.IActualLRPGroup {
  return {
    instance: group.instance && actualLrpToProto(group.instance),
    evacuating: group.evacuating && actualLrpToProto(group.evacuating),
  };
}

export function actualLrpGroupFromProto(group: models.IActualLRPGroup): ActualLRPGroup {
  return {
    instance: group.instance ? actualLrpFromProto(group.instance) : null,
    evacuating: group.evacuating ? actualLrpFromProto(group.evacuating) : null,
  };
}

// ---- desired LRPs ----

export function desiredLrpToProto(lrp: DesiredLRP): models.IDesiredLRP {
  return {
    process_guid: lrp.process_guid,
    domain: lrp.domain,
    root_fs: lrp.rootfs,
    instances: lrp.instances,
    environment_variables: environmentVariablesToProto(lrp.env),
    setup: nestedActionToProto(lrp.setup),
    action: nestedActionToProto(lrp.action),
    start_timeout: lrp.start_timeout,
    monitor: nestedActionToProto(lrp.monitor),
    disk_mb: lrp.disk_mb,
    memory_mb: lrp.memory_mb,
    cpu_weight: lrp.cpu_weight,
    privileged: lrp.privileged,
    ports: [...lrp.ports],
    // Go's *Routes is nil when there are none; an empty map and no routes are the same to every reader.
    routes: Object.keys(lrp.routes).length > 0 ? routesToProto(lrp.routes) : null,
    log_source: lrp.log_source,
    log_guid: lrp.log_guid,
    metrics_guid: lrp.metrics_guid,
    annotation: lrp.annotation,
    egress_rules: lrp.egress_rules.map(securityGroupRuleToProto),
    modification_tag: modificationTagToProto(lrp.modification_tag),
    cached_dependencies: lrp.cached_dependencies.map(cachedDependencyToProto),
    legacy_download_user: lrp.legacy_download_user,
    trusted_system_certificates_path: lrp.trusted_system_certificates_path,
  };
}

export function desiredLrpFromProto(lrp: models.IDesiredLRP): DesiredLRP {
  return {
    process_guid: lrp.process_guid ?? '',
    domain: lrp.domain ?? '',
    rootfs: lrp.root_fs ?? '',
    instances: lrp.instances ?? 0,
    env: environmentVariablesFromProto(lrp.environment_variables),
    setup: nestedActionFromProto(lrp.setup),
    action: nestedActionFromProto(lrp.action),
    monitor: nestedActionFromProto(lrp.monitor),
    start_timeout: lrp.start_timeout ?? 0,
    disk_mb: lrp.disk_mb ?? 0,
    memory_mb: lrp.memory_mb ?? 0,
    cpu_weight: lrp.cpu_weight ?? 0,
    privileged: lrp.privileged ?? false,
    ports: [...(lrp.ports ?? [])],
    routes: routesFromProto(lrp.routes),
    log_guid: lrp.log_guid ?? '',
    log_source: lrp.log_source ?? '',
    metrics_guid: lrp.metrics_guid ?? '',
    annotation: lrp.annotation ?? '',
    egress_rules: (lrp.egress_rules ?? []).map(securityGroupRuleFromProto),
    modification_tag: modificationTagFromProto(lrp.modification_tag),
    cached_dependencies: (lrp.cached_dependencies ?? []).map(cachedDependencyFromProto),
    legacy_download_user: lrp.legacy_download_user ?? '',
    trusted_system_certificates_path: lrp.trusted_system_certificates_path ?? '',
  };
}

export function desiredLrpUpdateToProto(update: DesiredLRPUpdate): models.IDesiredLRPUpdate {
  const out: models.IDesiredLRPUpdate = {};
  if (update.instances !== null) out.instances = update.instances;
  if (update.routes !== null) out.routes = routesToProto(update.routes);
  if (update.annotation !== null) out.annotation = update.annotation;
  return out;
}

/** A field is set when it was on the wire: a decoded message owns it, its prototype only holds the default. */
function isSet<K extends string>(message: Partial<Record<K, unknown>>, key: K): boolean {
  return Object.prototype.hasOwnProperty.call(message, key) && message[key] !== null && message[key] !== undefined;
}

export function desiredLrpUpdateFromProto(update: models.IDesiredLRPUpdate | null | undefined): DesiredLRPUpdate {
  if (!update) return { instances: null, routes: null, annotation: null };
  return {
    instances: isSet(update, 'instances') ? (update.instances ?? 0) : null,
    routes: isSet(update, 'routes') ? routesFromProto(update.routes) : null,
    annotation: isSet(update, 'annotation') ? (update.annotation ?? '') : null,
  };
}

export function schedulingInfoToProto(info: DesiredLRPSchedulingInfo): models.IDesiredLRPSchedulingInfo {
  return {
    desired_lrp_key: { process_guid: info.process_guid, domain: info.domain, log_guid: info.log_guid },
    annotation: info.annotation,
    instances: info.instances,
    desired_lrp_resource: { memory_mb: info.memory_mb, disk_mb: info.disk_mb, root_fs: info.rootfs },
    routes: routesToProto(info.routes),
    modification_tag: modificationTagToProto(info.modification_tag),
  };
}

export function schedulingInfoFromProto(info: models.IDesiredLRPSchedulingInfo): DesiredLRPSchedulingInfo {
  const key = info.desired_lrp_key;
  const resource = info.desired_lrp_resource;
  return {
    process_guid: key?.process_guid ?? '',
    domain: key?.domain ?? '',
    log_guid: key?.log_guid ?? '',
    annotation: info.annotation ?? '',
    instances: info.instances ?? 0,
    rootfs: resource?.root_fs ?? '',
    memory_mb: resource?.memory_mb ?? 0,
    disk_mb: resource?.disk_mb ?? 0,
    routes: routesFromProto(info.routes),
    modification_tag: modificationTagFromProto(info.modification_tag),
  };
}

// ---- tasks ----

export function taskDefinitionToProto(def: TaskDefinition): models.ITaskDefinition {
  return {
    root_fs: def.rootfs,
    environment_variables: environmentVariablesToProto(def.env),
    action: nestedActionToProto(def.action),
    disk_mb: def.disk_mb,
    memory_mb: def.memory_mb,
    cpu_weight: def.cpu_weight,
    privileged: def.privileged,
    log_source: def.log_source,
    log_guid: def.log_guid,
    metrics_guid: def.metrics_guid,
    result_file: def.result_file,
    completion_callback_url: def.completion_callback_url,
    annotation: def.annotation,
    egress_rules: def.egress_rules.map(securityGroupRuleToProto),
    cached_dependencies: def.cached_dependencies.map(cachedDependencyToProto),
    legacy_download_user: def.legacy_download_user,
    trusted_system_certificates_path: def.trusted_system_certificates_path,
  };
}

export function taskDefinitionFromProto(def: models.ITaskDefinition | null | undefined): TaskDefinition {
  return {
    rootfs: def?.root_fs ?? '',
    env: environmentVariablesFromProto(def?.environment_variables),
    action: nestedActionFromProto(def?.action),
    disk_mb: def?.disk_mb ?? 0,
    memory_mb: def?.memory_mb ?? 0,
    cpu_weight: def?.cpu_weight ?? 0,
    privileged: def?.privileged ?? false,
    log_source: def?.log_source ?? '',
    log_guid: def?.log_guid ?? '',
    metrics_guid: def?.metrics_guid ?? '',
    result_file: def?.result_file ?? '',
    completion_callback_url: def?.completion_callback_url ?? '',
    annotation: def?.annotation ?? '',
    egress_rules: (def?.egress_rules ?? []).map(securityGroupRuleFromProto),
    cached_dependencies: (def?.cached_dependencies ?? []).map(cachedDependencyFromProto),
    legacy_download_user: def?.legacy_download_user ?? '',
    trusted_system_certificates_path: def?.trusted_system_certificates_path ?? '',
  };
}

/** The proto enum names (`Pending`) are the model's states (`PENDING`) in other case. */
const TASK_STATE_TO_PROTO: Readonly<Record<TaskState, models.Task.State>> = {
  INVALID: models.Task.State.Invalid,
  PENDING: models.Task.State.Pending,
  RUNNING: models.Task.State.Running,
  COMPLETED: models.Task.State.Completed,
  RESOLVING: models.Task.State.Resolving,
};

function taskStateFromProto(state: Maybe<models.Task.State>): TaskState {
  const known = TASK_STATES.find((s) => TASK_STATE_TO_PROTO[s] === (state ?? models.Task.State.Invalid));
  if (known === undefined) throw invalidMessage(`unknown task state ${String(state)}`);
  return known;
}

export function taskToProto(task: Task): models.ITask {
  return {
    task_definition: taskDefinitionToProto(task),
    task_guid: task.task_guid,
    domain: task.domain,
    created_at: int64ToLong(task.created_at),
    updated_at: int64ToLong(task.updated_at),
    first_completed_at: int64ToLong(task.first_completed_at),
    state: TASK_STATE_TO_PROTO[task.state],
    cell_id: task.cell_id,
    result: task.result,
    failed: task.failed,
    failure_reason: task.failure_reason,
  };
}

/** @throws BbsError('InvalidProtobufMessage') when the state is not a Task.State. */
export function taskFromProto(task: models.ITask): Task {
  return {
    ...taskDefinitionFromProto(task.task_definition),
    task_guid: task.task_guid ?? '',
    domain: task.domain ?? '',
    created_at: longToInt64(task.created_at),
    updated_at: longToInt64(task.updated_at),
    first_completed_at: longToInt64(task.first_completed_at),
    state: taskStateFromProto(task.state),
    cell_id: task.cell_id ?? '',
    result: task.result ?? '',
    failed: task.failed ?? false,
    failure_reason: task.failure_reason ?? '',
  };
}

// ---- cells ----

export function cellPresenceToProto(cell: CellPresence): models.ICellPresence {
  return {
    cell_id: cell.cell_id,
    rep_address: cell.rep_address,
    zone: cell.zone,
    capacity: { memory_mb: cell.capacity.memory_mb, disk_mb: cell.capacity.disk_mb, containers: cell.capacity.containers },
    rootfs_providers: Object.entries(cell.rootfs_providers).map(([name, properties]) => ({ name, properties: [...properties] })),
  };
}

export function cellPresenceFromProto(cell: models.ICellPresence): CellPresence {
  const providers: Record<string, string[]> = {};
  for (const provider of cell.rootfs_providers ?? []) providers[provider.name ?? ''] = [...(provider.properties ?? [])];
  return {
    cell_id: cell.cell_id ?? '',
    rep_address: cell.rep_address ?? '',
    zone: cell.zone ?? '',
    capacity: {
      memory_mb: cell.capacity?.memory_mb ?? 0,
      disk_mb: cell.capacity?.disk_mb ?? 0,
      containers: cell.capacity?.containers ?? 0,
    },
    rootfs_providers: providers,
  };
}
