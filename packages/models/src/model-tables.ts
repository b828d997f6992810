/**
 * The field table of every model message: the one place a field is spelled (besides its .proto line). Each table
 * lists its fields in the order the receptor's JSON writes them (Go's struct order), and says per field its proto
 * field when named otherwise, which JSON forms leave it out (see `Emit`), and the Go type a receptor request
 * names in its errors when it differs from the stored one. Codecs, validation of requests and the model types
 * (types.ts) all come from here; `message<IProto>()` fails the build when a table and its proto message differ.
 */
import { models } from '../gen/proto';
import {
  alternatives,
  bool,
  embedded,
  field,
  goInt,
  goUint,
  int32,
  int64,
  jsonMap,
  lazy,
  list,
  message,
  nullable,
  oneOf,
  optional,
  required,
  string,
  uint16,
  uint32,
  uint53,
  invalidMessage,
  quote,
  type AlternativesOf,
  type Codec,
  type ModelOf,
} from './field-table';
import { parseJson, stringifyJson } from './json';

// ---- small messages ----

export const ENVIRONMENT_VARIABLE = message<models.IEnvironmentVariable>()({
  name: field(string),
  value: field(string),
});

export const MODIFICATION_TAG = message<models.IModificationTag>()({
  epoch: field(string),
  index: field(uint32),
});

export const PORT_MAPPING = message<models.IPortMapping>()({
  container_port: field(uint32),
  host_port: field(uint32, { emit: 'omitempty' }),
});

export const PORT_RANGE = message<models.IPortRange>()({
  start: field(uint32),
  end: field(uint32),
});

export const ICMP_INFO = message<models.IICMPInfo>()({
  type: field(int32),
  code: field(int32),
});

/** receptor §6: only `log` is always written. */
export const SECURITY_GROUP_RULE = message<models.ISecurityGroupRule>()({
  protocol: field(string, { emit: 'omitempty' }),
  destinations: field(list(string, '[]string'), { emit: 'omitempty' }),
  ports: field(list(uint32, '[]uint32'), { emit: 'omitempty' }),
  port_range: field(nullable(PORT_RANGE, 'models.PortRange', 'port_range'), { emit: 'omitempty' }),
  icmp_info: field(nullable(ICMP_INFO, 'models.ICMPInfo', 'icmp_info'), { emit: 'omitempty' }),
  log: field(bool),
});

export const CACHED_DEPENDENCY = message<models.ICachedDependency>()({
  name: field(string),
  from: field(string),
  to: field(string),
  cache_key: field(string),
  log_source: field(string),
});

const egressRules = list(required(SECURITY_GROUP_RULE, 'models.SecurityGroupRule'), '[]*models.SecurityGroupRule');
const cachedDependencies = list(required(CACHED_DEPENDENCY, 'models.CachedDependency'), '[]*models.CachedDependency');
/** The receptor's own environment variable type, in its requests' errors. */
const receptorEnv = list(required(ENVIRONMENT_VARIABLE, 'receptor.EnvironmentVariable'), '[]receptor.EnvironmentVariable');

// ---- routes: router key -> that key's value as compact JSON text (opaque to Diego; echoed back as received) ----

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Each value is carried as the UTF-8 bytes of its JSON, and re-serialised compactly when read from a client. */
const routes: Codec<Record<string, string>, models.IProtoRoutes> = jsonMap<string, models.IProtoRoutes>({
  toJson: (json) => json,
  fromJson: (value) => stringifyJson(value),
  toProto: (map) => {
    const out: Record<string, Uint8Array> = {};
    for (const [key, json] of Object.entries(map)) out[key] = Buffer.from(json, 'utf8');
    return { routes: out };
  },
  fromProto: (proto) => {
    const out: Record<string, string> = {};
    for (const [key, bytes] of Object.entries(proto?.routes ?? {})) {
      try {
        out[key] = stringifyJson(parseJson(utf8.decode(bytes)));
      } catch (err) {
        throw invalidMessage(`routes[${JSON.stringify(key)}] is not JSON: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    return out;
  },
  // The `routeValues` keyword (requests.ts) stores each value as compact JSON text.
  schema: { type: 'object', goType: 'receptor.RoutingInfo', required: [], additionalProperties: true, routeValues: true, default: {} },
});

// ---- actions (receptor §5): nested actions omit their empty fields in both JSON forms ----

/** An action inside another (timeout, try, emit_progress): absent when null. Typed here: actions hold actions. */
const nestedAction: Codec<Action | null, models.IAction | null> = lazy(() => nullable(ACTION, 'models.Action', 'action'));

/** An entry of an action list: JSON keeps a null entry; a repeated proto field cannot, so it goes as an empty action. */
const actionListEntry: Codec<Action | null, models.IAction> = {
  ...nestedAction,
  toProto: (action) => (action === null ? {} : ACTION.toProto(action)),
  fromProto: (action) => ACTION.fromProto(action),
  schema: (registry) => {
    nestedAction.schema(registry);
    return { type: 'object', nullable: true, $ref: 'action', goType: 'models.Action' };
  },
};

export const DOWNLOAD_ACTION = message<models.IDownloadAction>()({
  artifact: field(string, { emit: 'omitempty' }),
  from: field(string),
  to: field(string),
  cache_key: field(string),
  log_source: field(string, { emit: 'omitempty' }),
  user: field(string),
});

export const UPLOAD_ACTION = message<models.IUploadAction>()({
  artifact: field(string, { emit: 'omitempty' }),
  from: field(string),
  to: field(string),
  log_source: field(string, { emit: 'omitempty' }),
  user: field(string),
});

export const RESOURCE_LIMITS = message<models.IResourceLimits>()({
  nofile: field(uint53, { emit: 'omitempty' }),
});

export const RUN_ACTION = message<models.IRunAction>()({
  path: field(string),
  args: field(list(string, '[]string'), { emit: 'omitempty' }),
  dir: field(string, { emit: 'omitempty' }),
  env: field(list(required(ENVIRONMENT_VARIABLE, 'models.EnvironmentVariable'), '[]*models.EnvironmentVariable'), {
    emit: 'omitempty',
  }),
  resource_limits: field(nullable(RESOURCE_LIMITS, 'models.ResourceLimits', 'resource_limits'), { emit: 'omitempty' }),
  user: field(string),
  log_source: field(string, { emit: 'omitempty' }),
  suppress_log_output: field(bool, { emit: 'omitempty' }),
});

export const TIMEOUT_ACTION = message<models.ITimeoutAction>()({
  action: field(nestedAction, { emit: 'omitempty' }),
  /** Nanoseconds. */
  timeout: field(int64),
  log_source: field(string, { emit: 'omitempty' }),
});

export const EMIT_PROGRESS_ACTION = message<models.IEmitProgressAction>()({
  action: field(nestedAction, { emit: 'omitempty' }),
  start_message: field(string),
  success_message: field(string),
  failure_message_prefix: field(string),
  log_source: field(string, { emit: 'omitempty' }),
});

export const TRY_ACTION = message<models.ITryAction>()({
  action: field(nestedAction, { emit: 'omitempty' }),
  log_source: field(string, { emit: 'omitempty' }),
});

/** Parallel, serial and codependent actions are the same message. */
export const ACTION_LIST = message<models.ISerialAction>()({
  actions: field(list(actionListEntry, '[]*models.Action')),
  log_source: field(string, { emit: 'omitempty' }),
});

/** Every alternative that is set is written, in Diego's precedence order (exactly one in a valid action). */
export const ACTION = alternatives<models.IAction>()({
  download: field(required(DOWNLOAD_ACTION, 'models.DownloadAction'), { proto: 'download_action' }),
  upload: field(required(UPLOAD_ACTION, 'models.UploadAction'), { proto: 'upload_action' }),
  run: field(required(RUN_ACTION, 'models.RunAction'), { proto: 'run_action' }),
  timeout: field(required(TIMEOUT_ACTION, 'models.TimeoutAction'), { proto: 'timeout_action' }),
  emit_progress: field(required(EMIT_PROGRESS_ACTION, 'models.EmitProgressAction'), { proto: 'emit_progress_action' }),
  try: field(required(TRY_ACTION, 'models.TryAction'), { proto: 'try_action' }),
  parallel: field(required(ACTION_LIST, 'models.ParallelAction'), { proto: 'parallel_action' }),
  serial: field(required(ACTION_LIST, 'models.SerialAction'), { proto: 'serial_action' }),
  codependent: field(required(ACTION_LIST, 'models.CodependentAction'), { proto: 'codependent_action' }),
});

/** A wrapper with exactly one action set when valid (validation reports `inner-action` otherwise). */
export interface Action extends AlternativesOf<typeof ACTION.fields> {}

// ---- desired LRPs ----

/**
 * Stored: every field. Response (receptor §4.5): the 2015 fields, empty env, routes, annotation and egress rules
 * left out. Requests (§4.4) take the 2015 fields but the modification tag.
 */
export const DESIRED_LRP = message<models.IDesiredLRP>()({
  process_guid: field(string),
  domain: field(string),
  rootfs: field(string, { proto: 'root_fs' }),
  instances: field(goInt),
  env: field(receptorEnv, { proto: 'environment_variables', response: 'omitempty' }),
  setup: field(nestedAction),
  action: field(nestedAction),
  monitor: field(nestedAction),
  /** Seconds; 0 = no start timeout. */
  start_timeout: field(goUint),
  disk_mb: field(goInt),
  memory_mb: field(goInt),
  cpu_weight: field(goUint),
  privileged: field(bool),
  ports: field(list(uint32, '[]uint32'), { request: list(uint16, '[]uint16') }),
  // Go's *Routes is nil when there are none; an empty map and no routes are the same to every reader.
  routes: field(routes, { response: 'omitempty', protoOmitEmpty: true }),
  log_guid: field(string),
  log_source: field(string),
  metrics_guid: field(string),
  annotation: field(string, { response: 'omitempty' }),
  egress_rules: field(egressRules, { response: 'omitempty' }),
  modification_tag: field(required(MODIFICATION_TAG, 'models.ModificationTag'), { request: false }),
  cached_dependencies: field(cachedDependencies, { response: 'absent', request: false }),
  legacy_download_user: field(string, { response: 'absent', request: false }),
  trusted_system_certificates_path: field(string, { response: 'absent', request: false }),
});
export interface DesiredLRP extends ModelOf<typeof DESIRED_LRP.fields> {}

/** Only the fields that are not null are applied. */
export const DESIRED_LRP_UPDATE = message<models.IDesiredLRPUpdate>()({
  instances: field(optional(goInt, 'update_instances')),
  routes: field(optional(routes, 'update_routes')),
  annotation: field(optional(string, 'update_annotation')),
});
export interface DesiredLRPUpdate extends ModelOf<typeof DESIRED_LRP_UPDATE.fields> {}

/** What placement and routing need of a desired LRP, without its actions. */
export const DESIRED_LRP_SCHEDULING_INFO = message<models.IDesiredLRPSchedulingInfo>()({
  process_guid: field(string, { proto: 'desired_lrp_key.process_guid' }),
  domain: field(string, { proto: 'desired_lrp_key.domain' }),
  log_guid: field(string, { proto: 'desired_lrp_key.log_guid' }),
  annotation: field(string),
  instances: field(int32),
  rootfs: field(string, { proto: 'desired_lrp_resource.root_fs' }),
  memory_mb: field(int32, { proto: 'desired_lrp_resource.memory_mb' }),
  disk_mb: field(int32, { proto: 'desired_lrp_resource.disk_mb' }),
  routes: field(routes),
  modification_tag: field(required(MODIFICATION_TAG, 'models.ModificationTag')),
});
export interface DesiredLRPSchedulingInfo extends ModelOf<typeof DESIRED_LRP_SCHEDULING_INFO.fields> {}

// ---- actual LRPs ----

export const ACTUAL_LRP_STATES = ['UNCLAIMED', 'CLAIMED', 'RUNNING', 'CRASHED'] as const;
export type ActualLRPState = (typeof ACTUAL_LRP_STATES)[number];

/** The state is a string on the wire too; any other is refused. */
const actualLrpState = oneOf<ActualLRPState, string>(
  ACTUAL_LRP_STATES,
  {
    to: (state) => state,
    from: (state) => {
      const known = ACTUAL_LRP_STATES.find((s) => s === state);
      if (known === undefined) throw invalidMessage(`unknown actual LRP state ${JSON.stringify(state ?? '')}`);
      return known;
    },
  },
  'UNCLAIMED',
  'invalid',
);

/**
 * The key, instance key and net info are nested on the wire and flattened in JSON, as gogoproto's embed did.
 * Response (receptor §4.6): `ports` null when empty, empty crash_reason and placement_error left out.
 */
export const ACTUAL_LRP = message<models.IActualLRP>()({
  process_guid: field(string, { proto: 'actual_lrp_key.process_guid' }),
  instance_guid: field(string, { proto: 'actual_lrp_instance_key.instance_guid' }),
  cell_id: field(string, { proto: 'actual_lrp_instance_key.cell_id' }),
  domain: field(string, { proto: 'actual_lrp_key.domain' }),
  index: field(int32, { proto: 'actual_lrp_key.index' }),
  address: field(string, { proto: 'actual_lrp_net_info.address' }),
  ports: field(list(required(PORT_MAPPING, 'models.PortMapping'), '[]models.PortMapping'), {
    proto: 'actual_lrp_net_info.ports',
    emit: 'null-when-empty',
  }),
  /** Any other string read from the wire is invalid. */
  state: field(actualLrpState),
  crash_count: field(int32),
  crash_reason: field(string, { response: 'omitempty' }),
  placement_error: field(string, { response: 'omitempty' }),
  /** Unix nanoseconds of the last state change. */
  since: field(int64),
  modification_tag: field(required(MODIFICATION_TAG, 'models.ModificationTag')),
});
export interface ActualLRP extends ModelOf<typeof ACTUAL_LRP.fields> {}

/** The record of an index (its instance) and its evacuating copy while it moves. */
export const ACTUAL_LRP_GROUP = message<models.IActualLRPGroup>()({
  instance: field(nullable(ACTUAL_LRP, 'models.ActualLRP', 'actual_lrp')),
  evacuating: field(nullable(ACTUAL_LRP, 'models.ActualLRP', 'actual_lrp')),
});
export interface ActualLRPGroup extends ModelOf<typeof ACTUAL_LRP_GROUP.fields> {}

export const ACTUAL_LRP_KEY = embedded<models.IActualLRPKey>()(ACTUAL_LRP, 'actual_lrp_key');
export const ACTUAL_LRP_INSTANCE_KEY = embedded<models.IActualLRPInstanceKey>()(
  ACTUAL_LRP,
  'actual_lrp_instance_key',
);
export const ACTUAL_LRP_NET_INFO = embedded<models.IActualLRPNetInfo>()(
  ACTUAL_LRP,
  'actual_lrp_net_info',
);

// ---- tasks ----

export const TASK_STATES = ['INVALID', 'PENDING', 'RUNNING', 'COMPLETED', 'RESOLVING'] as const;
export type TaskState = (typeof TASK_STATES)[number];

/** The proto enum names (`Pending`) are the model's states (`PENDING`) in other case. */
const TASK_STATE_TO_PROTO: Readonly<Record<TaskState, models.Task.State>> = {
  INVALID: models.Task.State.Invalid,
  PENDING: models.Task.State.Pending,
  RUNNING: models.Task.State.Running,
  COMPLETED: models.Task.State.Completed,
  RESOLVING: models.Task.State.Resolving,
};

const taskState = oneOf<TaskState, models.Task.State>(
  TASK_STATES,
  {
    to: (state) => TASK_STATE_TO_PROTO[state],
    from: (state) => {
      const known = TASK_STATES.find((s) => TASK_STATE_TO_PROTO[s] === (state ?? models.Task.State.Invalid));
      if (known === undefined) throw invalidMessage(`unknown task state ${String(state)}`);
      return known;
    },
  },
  'INVALID',
);

/**
 * The definition is nested on the wire and flattened in JSON, as gogoproto's embed did. Stored: every field.
 * Response (receptor §4.2): Go's key order, without the internal timestamps and the BBS-only fields, empty
 * annotation, env and egress rules left out. Requests (§4.1) take the definition's 2015 fields.
 */
export const TASK = message<models.ITask>()({
  action: field(nestedAction, { proto: 'task_definition.action' }),
  annotation: field(string, { proto: 'task_definition.annotation', response: 'omitempty' }),
  completion_callback_url: field(string, { proto: 'task_definition.completion_callback_url' }),
  cpu_weight: field(goUint, { proto: 'task_definition.cpu_weight' }),
  disk_mb: field(goInt, { proto: 'task_definition.disk_mb' }),
  domain: field(string),
  log_guid: field(string, { proto: 'task_definition.log_guid' }),
  log_source: field(string, { proto: 'task_definition.log_source' }),
  metrics_guid: field(string, { proto: 'task_definition.metrics_guid' }),
  memory_mb: field(goInt, { proto: 'task_definition.memory_mb' }),
  result_file: field(string, { proto: 'task_definition.result_file' }),
  task_guid: field(string),
  rootfs: field(string, { proto: 'task_definition.root_fs' }),
  privileged: field(bool, { proto: 'task_definition.privileged' }),
  env: field(receptorEnv, { proto: 'task_definition.environment_variables', response: 'omitempty' }),
  cell_id: field(string),
  /** Unix nanoseconds. */
  created_at: field(int64),
  updated_at: field(int64, { response: 'absent' }),
  first_completed_at: field(int64, { response: 'absent' }),
  failed: field(bool),
  failure_reason: field(string),
  result: field(string),
  state: field(taskState),
  egress_rules: field(egressRules, { proto: 'task_definition.egress_rules', response: 'omitempty' }),
  cached_dependencies: field(cachedDependencies, {
    proto: 'task_definition.cached_dependencies',
    response: 'absent',
    request: false,
  }),
  legacy_download_user: field(string, { proto: 'task_definition.legacy_download_user', response: 'absent', request: false }),
  trusted_system_certificates_path: field(string, {
    proto: 'task_definition.trusted_system_certificates_path',
    response: 'absent',
    request: false,
  }),
});
export interface Task extends ModelOf<typeof TASK.fields> {}

export const TASK_DEFINITION = embedded<models.ITaskDefinition>()(TASK, 'task_definition');

// ---- cells ----

export const CELL_CAPACITY = message<models.ICellCapacity>()({
  memory_mb: field(int32),
  disk_mb: field(int32),
  containers: field(int32),
});

/** Provider name -> its fixed set ("preloaded" -> ["cflinuxfs2"]); every provider's list an array (`[]` when empty). */
const rootfsProviders = jsonMap<string[], models.IProvider[]>({
  toJson: (properties) => `[${properties.map(quote).join(',')}]`,
  fromJson: (value, path, fail) => (value === null ? [] : list(string, '[]string').fromJson(value, path, '', fail)),
  toProto: (providers) => Object.entries(providers).map(([name, properties]) => ({ name, properties: [...properties] })),
  fromProto: (providers) => {
    const out: Record<string, string[]> = {};
    for (const provider of providers ?? []) out[provider.name ?? ''] = [...(provider.properties ?? [])];
    return out;
  },
  schema: {},
});

/** Response (receptor §4.7): without rep_address. */
export const CELL_PRESENCE = message<models.ICellPresence>()({
  cell_id: field(string),
  rep_address: field(string, { response: 'absent' }),
  zone: field(string),
  capacity: field(required(CELL_CAPACITY, 'models.CellCapacity')),
  rootfs_providers: field(rootfsProviders),
});
export interface CellPresence extends ModelOf<typeof CELL_PRESENCE.fields> {}
