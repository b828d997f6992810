// Validation with Diego's rules and messages (spec/bbs.md §3.1, §11; spec/receptor-api.md §6, §7). Each check
// collects every failure, in Go's order, and each `validateX` throws one BbsError whose message joins them
// with ", " (Go's `ValidationError`); it returns nothing when the value is valid.
import { BbsError, type ErrorType } from './errors';
import { parseGoUrl } from './go-url';
import { compareIps, isCidr, parseIp } from './ip-address';
import {
  ACTION_TYPES,
  type Action,
  type ActionList,
  type ActualLRP,
  type ActualLRPInstanceKey,
  type ActualLRPKey,
  type ActualLRPNetInfo,
  type CachedDependency,
  type CellPresence,
  type DesiredLRP,
  type DesiredLRPUpdate,
  type Routes,
  type SecurityGroupRule,
  type TaskDefinition,
} from './types';

const GUID_PATTERN = /^[a-zA-Z0-9_-]+$/;
/** Bytes (UTF-8), as Go's `len(string)` counts them. */
export const MAXIMUM_ANNOTATION_LENGTH = 10 * 1024;
/** Bytes of all route values' JSON together. */
export const MAXIMUM_ROUTES_LENGTH = 4 * 1024;
const MAXIMUM_CPU_WEIGHT = 100;

/**
 * How deep actions may nest (a task's or LRP's own action is depth 1; each serial, parallel, codependent, timeout,
 * try or emit_progress adds one). Each level is two protobuf messages, and protobufjs refuses messages nested over
 * 100 (`max depth exceeded`), so a deeper action could not reach the BBS or leave it in an event.
 */
export const MAX_ACTION_DEPTH = 32;
const ACTIONS_TOO_DEEP = `actions nested deeper than ${MAX_ACTION_DEPTH}`;

/** Go's `ErrInvalidActionType`: a task or LRP without an action. */
const INVALID_ACTION_TYPE = 'invalid action type';

const invalidField = (field: string): string => `Invalid field: ${field}`;
const invalidIf = (failed: boolean, field: string): string[] => (failed ? [invalidField(field)] : []);

function throwIfAny(type: ErrorType, failures: readonly string[]): void {
  if (failures.length > 0) throw new BbsError(type, failures.join(', '));
}

const byteLength = (text: string): number => Buffer.byteLength(text, 'utf8');

/** `^[a-zA-Z0-9_-]+$`: process and task guids (so they never contain the `/` of a key). */
export function isValidGuid(guid: string): boolean {
  return GUID_PATTERN.test(guid);
}

// ---- actions ----

type StringFields<T> = { [K in keyof T]: T[K] extends string ? K : never }[keyof T];

function emptyFields<T>(value: T, fields: readonly StringFields<T>[]): string[] {
  return fields.filter((field) => value[field] === '').map((field) => invalidField(String(field)));
}

/** A nested action is required; its own failures are reported flat, after nothing of the parent's. */
function nestedActionFailures(action: Action | null): string[] {
  return action === null ? [invalidField('action')] : actionFailures(action);
}

function actionListFailures(list: ActionList): string[] {
  if (list.actions.length === 0) return [invalidField('actions')];
  return list.actions.flatMap((action, index) =>
    action === null ? [invalidField(`action at index ${index}`)] : actionFailures(action),
  );
}

/** One action wrapper: exactly one inner action (else `inner-action`), validated recursively. */
function actionFailures(action: Action): string[] {
  if (ACTION_TYPES.filter((type) => action[type] !== undefined).length !== 1) return [invalidField('inner-action')];
  const { download, upload, run, timeout, emit_progress, try: tryAction, parallel, serial, codependent } = action;
  if (download) return emptyFields(download, ['from', 'to', 'user']);
  if (upload) return emptyFields(upload, ['to', 'from', 'user']);
  if (run) return emptyFields(run, ['path', 'user']);
  if (timeout) return [...nestedActionFailures(timeout.action), ...invalidIf(timeout.timeout <= 0n, 'timeout')];
  if (emit_progress) return nestedActionFailures(emit_progress.action);
  if (tryAction) return nestedActionFailures(tryAction.action);
  const list = parallel ?? serial ?? codependent;
  return list === undefined ? [] : actionListFailures(list);
}

/** The actions directly inside `action`, of every type it has set (an invalid one may have several). */
function innerActions({ timeout, emit_progress, try: tryAction, parallel, serial, codependent }: Action): (Action | null)[] {
  return [
    ...[timeout, emit_progress, tryAction].map((wrapper) => wrapper?.action ?? null),
    ...[parallel, serial, codependent].flatMap((list) => list?.actions ?? []),
  ];
}

/** Whether `action`, at `depth`, has actions nested below MAX_ACTION_DEPTH; it looks no deeper than that. */
function nestsTooDeep(action: Action, depth = 1): boolean {
  if (depth > MAX_ACTION_DEPTH) return true;
  return innerActions(action).some((inner) => inner !== null && nestsTooDeep(inner, depth + 1));
}

/**
 * The receptor's check before the protobuf hop (which would fail on deeper actions): InvalidRequest
 * `Invalid field: <field>, actions nested deeper than 32` for the first too deep of `actions` (by field name).
 */
export function validateActionDepth(actions: Readonly<Record<string, Action | null>>): void {
  for (const [field, action] of Object.entries(actions)) {
    if (action !== null && nestsTooDeep(action)) throw new BbsError('InvalidRequest', `${invalidField(field)}, ${ACTIONS_TOO_DEEP}`);
  }
}

/** `setup`, `action` or `monitor` of an LRP or task: `Invalid field: <field>` followed by the nested failures. */
function topLevelActionFailures(field: string, action: Action | null, required: boolean): string[] {
  if (action === null) return required ? [INVALID_ACTION_TYPE] : [];
  if (nestsTooDeep(action)) return [invalidField(field), ACTIONS_TOO_DEEP];
  const failures = actionFailures(action);
  return failures.length === 0 ? [] : [invalidField(field), ...failures];
}

// ---- egress rules ----

/** Go's `validatePorts` for tcp and udp: exactly one of ports and port_range, each port and bound >= 1. */
function portFailures(rule: SecurityGroupRule): string[] {
  // An empty list is absent: the protobuf hop to the BBS drops it.
  const hasPorts = rule.ports.length > 0;
  if (rule.port_range === null && !hasPorts) return ['Missing required field: ports or port_range'];
  if (rule.port_range !== null && hasPorts) return ['Invalid: ports and port_range provided'];
  if (rule.port_range !== null) {
    const { start, end } = rule.port_range;
    return [...invalidIf(start < 1, 'port_range'), ...invalidIf(end < 1, 'port_range'), ...invalidIf(start > end, 'port_range')];
  }
  return rule.ports.filter((port) => port < 1).map(() => invalidField('ports'));
}

/** Why one destination is not an IP, a CIDR or an ordered range `a-b`, or null when it is one. */
function destinationFailure(destination: string): string | null {
  const separator = destination.search(/[-/]/);
  if (separator < 0) return parseIp(destination) === null ? 'Invalid IP' : null;
  if (destination[separator] === '/') return isCidr(destination) ? null : `invalid CIDR address: ${destination}`;
  const first = parseIp(destination.slice(0, separator));
  const last = parseIp(destination.slice(separator + 1));
  return first === null || last === null || compareIps(first, last) > 0 ? 'Invalid IP' : null;
}

function destinationsFailures(destinations: readonly string[]): string[] {
  const failures =
    destinations.length === 0
      ? ['Must have at least 1 destination']
      : destinations.map(destinationFailure).filter((failure): failure is string => failure !== null);
  return failures.length === 0 ? [] : [invalidField(`destinations [ ${failures.join(', ')} ]`)];
}

/** SecurityGroupRule.Validate (receptor §6). */
function egressRuleFailures(rule: SecurityGroupRule): string[] {
  const hasPorts = rule.ports.length > 0;
  const hasRange = rule.port_range !== null;
  const hasIcmp = rule.icmp_info !== null;
  let protocolFailures: string[];
  switch (rule.protocol) {
    case 'tcp':
      protocolFailures = [...portFailures(rule), ...invalidIf(hasIcmp, 'icmp_info')];
      break;
    case 'udp':
      protocolFailures = [...portFailures(rule), ...invalidIf(hasIcmp, 'icmp_info'), ...invalidIf(rule.log, 'log')];
      break;
    case 'icmp':
      protocolFailures = [
        ...invalidIf(hasRange, 'port_range'),
        ...invalidIf(hasPorts, 'ports'),
        ...invalidIf(!hasIcmp, 'icmp_info'),
        ...invalidIf(rule.log, 'log'),
      ];
      break;
    case 'all':
      protocolFailures = [...invalidIf(hasRange, 'port_range'), ...invalidIf(hasPorts, 'ports'), ...invalidIf(hasIcmp, 'icmp_info')];
      break;
    default:
      protocolFailures = [invalidField('protocol')];
  }
  return [...protocolFailures, ...destinationsFailures(rule.destinations)];
}

// ---- shared pieces of LRPs and tasks ----

/** Go's `url.Parse(rootfs)` must succeed with a scheme (`preloaded:cflinuxfs2`, `docker:///busybox`). */
function isRootfsUrl(rootfs: string): boolean {
  const parsed = parseGoUrl(rootfs, false);
  return parsed.ok && parsed.scheme !== '';
}

function cachedDependencyFailures(dependencies: readonly CachedDependency[], legacyDownloadUser: string): string[] {
  if (dependencies.length === 0) return [];
  return [
    ...invalidIf(legacyDownloadUser === '', 'legacy_download_user'),
    ...dependencies.flatMap((dependency) => {
      const failures = emptyFields(dependency, ['from', 'to']);
      return failures.length === 0 ? [] : [invalidField('cached_dependency'), ...failures];
    }),
  ];
}

function routesTooLong(routes: Routes): boolean {
  return Object.values(routes).reduce((total, json) => total + byteLength(json), 0) > MAXIMUM_ROUTES_LENGTH;
}

// ---- desired LRPs ----

/**
 * DesireLRPRequest validation (receptor §7.2 order) -> BbsError('InvalidRequest', 'Invalid field: domain, ...').
 * Beyond 2015's checks (receptor §7.4's recommended deviation), negative memory_mb/disk_mb and blank env
 * names are refused here too: Diego only caught them when it later failed to read the stored record.
 */
export function validateDesiredLrp(lrp: DesiredLRP | null): void {
  if (lrp === null) throw new BbsError('InvalidRequest', invalidField('desired_lrp'));
  throwIfAny('InvalidRequest', [
    ...invalidIf(lrp.domain === '', 'domain'),
    ...invalidIf(!isValidGuid(lrp.process_guid), 'process_guid'),
    // Two separate checks, as in Go: an empty rootfs is reported twice.
    ...invalidIf(lrp.rootfs === '', 'rootfs'),
    ...invalidIf(!isRootfsUrl(lrp.rootfs), 'rootfs'),
    ...topLevelActionFailures('setup', lrp.setup, false),
    ...topLevelActionFailures('action', lrp.action, true),
    ...topLevelActionFailures('monitor', lrp.monitor, false),
    ...invalidIf(lrp.instances < 0, 'instances'),
    ...invalidIf(lrp.memory_mb < 0, 'memory_mb'),
    ...invalidIf(lrp.disk_mb < 0, 'disk_mb'),
    ...invalidIf(lrp.cpu_weight > MAXIMUM_CPU_WEIGHT, 'cpu_weight'),
    ...invalidIf(byteLength(lrp.annotation) > MAXIMUM_ANNOTATION_LENGTH, 'annotation'),
    ...invalidIf(routesTooLong(lrp.routes), 'routes'),
    ...lrp.egress_rules.flatMap((rule) => {
      const failures = egressRuleFailures(rule);
      return failures.length === 0 ? [] : [invalidField('egress_rules'), ...failures];
    }),
    ...cachedDependencyFailures(lrp.cached_dependencies, lrp.legacy_download_user),
    ...invalidIf(lrp.env.some((variable) => variable.name === ''), 'env'),
  ]);
}

/** UpdateDesiredLRPRequest validation -> InvalidRequest. A null update (nothing to change) is valid. */
export function validateDesiredLrpUpdate(processGuid: string, update: DesiredLRPUpdate | null): void {
  throwIfAny('InvalidRequest', [
    ...invalidIf(processGuid === '', 'process_guid'),
    ...invalidIf(update?.instances != null && update.instances < 0, 'instances'),
    ...invalidIf(update?.annotation != null && byteLength(update.annotation) > MAXIMUM_ANNOTATION_LENGTH, 'annotation'),
    ...invalidIf(update?.routes != null && routesTooLong(update.routes), 'routes'),
  ]);
}

// ---- tasks ----

/**
 * DesireTaskRequest validation (receptor §7.1 order) -> InvalidRequest, e.g.
 * `Invalid field: task_guid, Invalid field: domain, invalid action type`. Negative memory_mb/disk_mb are refused
 * too (receptor §7.4; later Diego does the same, after the action).
 */
export function validateDesireTask(taskGuid: string, domain: string, definition: TaskDefinition | null): void {
  throwIfAny('InvalidRequest', [
    ...invalidIf(!isValidGuid(taskGuid), 'task_guid'),
    ...invalidIf(domain === '', 'domain'),
    ...(definition === null ? [invalidField('task_definition')] : taskDefinitionFailures(definition)),
  ]);
}

function taskDefinitionFailures(definition: TaskDefinition): string[] {
  return [
    // One check here, unlike LRPs: an empty rootfs is reported once.
    ...invalidIf(!isRootfsUrl(definition.rootfs), 'rootfs'),
    ...topLevelActionFailures('action', definition.action, true),
    ...invalidIf(definition.memory_mb < 0, 'memory_mb'),
    ...invalidIf(definition.disk_mb < 0, 'disk_mb'),
    ...invalidIf(definition.cpu_weight > MAXIMUM_CPU_WEIGHT, 'cpu_weight'),
    ...invalidIf(byteLength(definition.annotation) > MAXIMUM_ANNOTATION_LENGTH, 'annotation'),
    // Tasks name the field only, without the rule's own failures.
    ...definition.egress_rules.flatMap((rule) => invalidIf(egressRuleFailures(rule).length > 0, 'egress_rules')),
    ...cachedDependencyFailures(definition.cached_dependencies, definition.legacy_download_user),
  ];
}

/**
 * The receptor's check of a task's completion_callback_url: Go's `url.ParseRequestURI` (an absolute URI with
 * a scheme, or an absolute path). Empty means no callback and is fine.
 * @throws BbsError('InvalidRequest', 'parse <url>: invalid URI for request') and the like.
 */
export function validateCompletionCallbackUrl(url: string): void {
  if (url === '') return;
  const parsed = parseGoUrl(url, true);
  if (!parsed.ok) throw new BbsError('InvalidRequest', `parse ${url}: ${parsed.error}`);
}

/** StartTaskRequest and CompleteTaskRequest: a valid task guid and the cell. */
export function validateTaskOnCellRequest(taskGuid: string, cellId: string): void {
  throwIfAny('InvalidRequest', [...invalidIf(!isValidGuid(taskGuid), 'task_guid'), ...invalidIf(cellId === '', 'cell_id')]);
}

/** FailTaskRequest: a valid task guid and a reason. */
export function validateFailTaskRequest(taskGuid: string, failureReason: string): void {
  throwIfAny('InvalidRequest', [
    ...invalidIf(!isValidGuid(taskGuid), 'task_guid'),
    ...invalidIf(failureReason === '', 'failure_reason'),
  ]);
}

/** TaskByGuid, CancelTask, ResolvingTask, DeleteTask: a task guid. */
export function validateTaskGuidRequest(taskGuid: string): void {
  throwIfAny('InvalidRequest', invalidIf(taskGuid === '', 'task_guid'));
}

// ---- domains ----

/** UpsertDomain: non-empty, and without `/` (it would nest the domain's etcd key; bbs §1.1's hazard). */
export function validateDomain(domain: string): void {
  throwIfAny('InvalidRequest', invalidIf(domain === '' || domain.includes('/'), 'domain'));
}

// ---- actual LRPs ----

function keyFailures(key: ActualLRPKey): string[] {
  return [
    ...invalidIf(key.process_guid === '', 'process_guid'),
    ...invalidIf(key.index < 0, 'index'),
    ...invalidIf(key.domain === '', 'domain'),
  ];
}

function instanceKeyFailures(key: ActualLRPInstanceKey): string[] {
  return [...invalidIf(key.cell_id === '', 'cell_id'), ...invalidIf(key.instance_guid === '', 'instance_guid')];
}

const netInfoFailures = (info: ActualLRPNetInfo): string[] => invalidIf(info.address === '', 'address');
const isInstanceKeyEmpty = (key: ActualLRPInstanceKey): boolean => key.instance_guid === '' && key.cell_id === '';
const isNetInfoEmpty = (info: ActualLRPNetInfo): boolean => info.address === '' && info.ports.length === 0;

/** A stored or about-to-be-stored actual LRP, per state (bbs §3.1) -> BbsError('InvalidRecord'). */
export function validateActualLrp(lrp: ActualLRP): void {
  const lower = lrp.state.toLowerCase();
  const mustBeUnset = (isUnset: boolean, what: string): string[] =>
    isUnset ? [] : [`${what} cannot be set when state is ${lower}`];
  const noPlacementError = (): string[] => mustBeUnset(lrp.placement_error.trim() === '', 'placement error');

  let stateFailures: string[];
  switch (lrp.state) {
    case 'UNCLAIMED':
      stateFailures = [...mustBeUnset(isInstanceKeyEmpty(lrp), 'instance key'), ...mustBeUnset(isNetInfoEmpty(lrp), 'net info')];
      break;
    case 'CLAIMED':
      stateFailures = [...instanceKeyFailures(lrp), ...mustBeUnset(isNetInfoEmpty(lrp), 'net info'), ...noPlacementError()];
      break;
    case 'RUNNING':
      stateFailures = [...instanceKeyFailures(lrp), ...netInfoFailures(lrp), ...noPlacementError()];
      break;
    case 'CRASHED':
      stateFailures = [
        ...mustBeUnset(isInstanceKeyEmpty(lrp), 'instance key'),
        ...mustBeUnset(isNetInfoEmpty(lrp), 'net info'),
        ...noPlacementError(),
      ];
      break;
    default:
      // Any other string read from the wire.
      stateFailures = [invalidField('state')];
  }
  throwIfAny('InvalidRecord', [...keyFailures(lrp), ...invalidIf(lrp.since === 0n, 'since'), ...stateFailures]);
}

/** The parts of an ActualLRP lifecycle request; `null` is a part the request lacks (Go's nil). */
function partFailures<T>(name: string, part: T | null, failures: (part: T) => string[]): string[] {
  return part === null ? [invalidField(name)] : failures(part);
}
const keyPart = (key: ActualLRPKey | null): string[] => partFailures('actual_lrp_key', key, keyFailures);
const instanceKeyPart = (key: ActualLRPInstanceKey | null): string[] =>
  partFailures('actual_lrp_instance_key', key, instanceKeyFailures);
const netInfoPart = (info: ActualLRPNetInfo | null): string[] => partFailures('actual_lrp_net_info', info, netInfoFailures);
const errorMessagePart = (message: string): string[] => invalidIf(message === '', 'error_message');

/** ClaimActualLRPRequest: process guid, index >= 0 and the claiming instance. */
export function validateClaimActualLrpRequest(
  processGuid: string,
  index: number,
  instanceKey: ActualLRPInstanceKey | null,
): void {
  throwIfAny('InvalidRequest', [
    ...invalidIf(processGuid === '', 'process_guid'),
    ...invalidIf(index < 0, 'index'),
    ...instanceKeyPart(instanceKey),
  ]);
}

/** StartActualLRPRequest and EvacuateRunningActualLRPRequest: key, instance key and net info. */
export function validateActualLrpRunningRequest(
  key: ActualLRPKey | null,
  instanceKey: ActualLRPInstanceKey | null,
  netInfo: ActualLRPNetInfo | null,
): void {
  throwIfAny('InvalidRequest', [...keyPart(key), ...instanceKeyPart(instanceKey), ...netInfoPart(netInfo)]);
}

/** CrashActualLRPRequest and EvacuateCrashedActualLRPRequest: key, instance key and a non-empty error. */
export function validateActualLrpCrashRequest(
  key: ActualLRPKey | null,
  instanceKey: ActualLRPInstanceKey | null,
  errorMessage: string,
): void {
  throwIfAny('InvalidRequest', [...keyPart(key), ...instanceKeyPart(instanceKey), ...errorMessagePart(errorMessage)]);
}

/** FailActualLRPRequest: key and a non-empty error. */
export function validateFailActualLrpRequest(key: ActualLRPKey | null, errorMessage: string): void {
  throwIfAny('InvalidRequest', [...keyPart(key), ...errorMessagePart(errorMessage)]);
}

/** RetireActualLRPRequest: the key. */
export function validateActualLrpKeyRequest(key: ActualLRPKey | null): void {
  throwIfAny('InvalidRequest', keyPart(key));
}

/** RemoveEvacuating, EvacuateClaimed and EvacuateStopped requests: key and instance key. */
export function validateActualLrpInstanceRequest(key: ActualLRPKey | null, instanceKey: ActualLRPInstanceKey | null): void {
  throwIfAny('InvalidRequest', [...keyPart(key), ...instanceKeyPart(instanceKey)]);
}

/** ActualLRPGroupByProcessGuidAndIndex and RemoveActualLRP: process guid and index >= 0. */
export function validateProcessGuidAndIndexRequest(processGuid: string, index: number): void {
  throwIfAny('InvalidRequest', [...invalidIf(processGuid === '', 'process_guid'), ...invalidIf(index < 0, 'index')]);
}

/** DesiredLRPByProcessGuid, RemoveDesiredLRP, ActualLRPGroupsByProcessGuid: a process guid. */
export function validateProcessGuidRequest(processGuid: string): void {
  throwIfAny('InvalidRequest', invalidIf(processGuid === '', 'process_guid'));
}

// ---- cells ----

function cellPresenceFailures(cell: CellPresence): string[] {
  return [
    ...invalidIf(cell.cell_id === '', 'cell_id'),
    ...invalidIf(cell.rep_address === '', 'rep_address'),
    ...invalidIf(cell.capacity.memory_mb <= 0, 'memory_mb'),
    ...invalidIf(cell.capacity.disk_mb < 0, 'disk_mb'),
    ...invalidIf(cell.capacity.containers <= 0, 'containers'),
  ];
}

/** Cell presence -> InvalidRequest: ids set, memory and containers > 0, disk >= 0. */
export function validateCellPresence(cell: CellPresence): void {
  throwIfAny('InvalidRequest', cellPresenceFailures(cell));
}

/**
 * RegisterCell: a valid presence (null when the request had none) whose cell_id has no `/` (it is the last
 * segment of the key /v1/cell/<cell_id>), and a TTL of at least a second.
 */
export function validateRegisterCellRequest(cell: CellPresence | null, ttlSeconds: number): void {
  throwIfAny('InvalidRequest', [
    ...(cell === null ? [invalidField('cell_presence')] : cellPresenceFailures(cell)),
    ...invalidIf(cell !== null && cell.cell_id.includes('/'), 'cell_id'),
    ...invalidIf(ttlSeconds < 1, 'ttl'),
  ]);
}

/** CellHeartbeat: the cell and the decimal etcd lease id RegisterCell answered. */
export function validateCellHeartbeatRequest(cellId: string, leaseId: string): void {
  throwIfAny('InvalidRequest', [
    ...invalidIf(cellId === '', 'cell_id'),
    ...invalidIf(!/^[1-9][0-9]*$/.test(leaseId), 'lease_id'),
  ]);
}

/** RemoveCell: a cell id. */
export function validateCellIdRequest(cellId: string): void {
  throwIfAny('InvalidRequest', invalidIf(cellId === '', 'cell_id'));
}
