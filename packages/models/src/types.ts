/**
 * The domain models, shaped as the receptor's snake_case JSON (and as stored in etcd).
 *
 * They follow Go struct semantics: every scalar field is present with its zero value ("" / 0 / false),
 * every list is present ([] when empty), and only nested messages may be `null`. Which keys are omitted
 * when empty is decided by the JSON encoders (`json-codecs.ts`), not by these types.
 *
 * Int64 values (nanosecond timestamps and durations) are `bigint`: they exceed 2^53 and must keep every digit.
 */

export type Int64 = bigint;

export interface ModificationTag {
  epoch: string;
  index: number;
}

export interface EnvironmentVariable {
  name: string;
  value: string;
}

export interface PortMapping {
  container_port: number;
  host_port: number;
}

export interface PortRange {
  start: number;
  end: number;
}

export interface ICMPInfo {
  type: number;
  code: number;
}

export interface SecurityGroupRule {
  protocol: string;
  destinations: string[];
  ports: number[];
  port_range: PortRange | null;
  icmp_info: ICMPInfo | null;
  log: boolean;
}

export interface CachedDependency {
  name: string;
  from: string;
  to: string;
  cache_key: string;
  log_source: string;
}

// ---- actions ----

export interface DownloadAction {
  artifact: string;
  from: string;
  to: string;
  cache_key: string;
  log_source: string;
  user: string;
}

export interface UploadAction {
  artifact: string;
  from: string;
  to: string;
  log_source: string;
  user: string;
}

export interface ResourceLimits {
  nofile: number;
}

export interface RunAction {
  path: string;
  args: string[];
  dir: string;
  env: EnvironmentVariable[];
  resource_limits: ResourceLimits | null;
  user: string;
  log_source: string;
  suppress_log_output: boolean;
}

export interface TimeoutAction {
  action: Action | null;
  /** Nanoseconds. */
  timeout: Int64;
  log_source: string;
}

export interface EmitProgressAction {
  action: Action | null;
  start_message: string;
  success_message: string;
  failure_message_prefix: string;
  log_source: string;
}

export interface TryAction {
  action: Action | null;
  log_source: string;
}

export interface ActionList {
  actions: (Action | null)[];
  log_source: string;
}

export type ParallelAction = ActionList;
export type SerialAction = ActionList;
export type CodependentAction = ActionList;

/** The JSON keys of the nine actions, in Diego's precedence order (the first one set is the one used). */
export const ACTION_TYPES = [
  'download',
  'upload',
  'run',
  'timeout',
  'emit_progress',
  'try',
  'parallel',
  'serial',
  'codependent',
] as const;
export type ActionType = (typeof ACTION_TYPES)[number];

/** A wrapper with exactly one action set when valid (validation reports `inner-action` otherwise). */
export interface Action {
  download?: DownloadAction;
  upload?: UploadAction;
  run?: RunAction;
  timeout?: TimeoutAction;
  emit_progress?: EmitProgressAction;
  try?: TryAction;
  parallel?: ParallelAction;
  serial?: SerialAction;
  codependent?: CodependentAction;
}

// ---- desired LRPs ----

/** Router key -> that key's value as compact JSON text (opaque to Diego; echoed back as received). */
export type Routes = Record<string, string>;

export interface DesiredLRP {
  process_guid: string;
  domain: string;
  rootfs: string;
  instances: number;
  env: EnvironmentVariable[];
  setup: Action | null;
  action: Action | null;
  monitor: Action | null;
  /** Seconds; 0 = no start timeout. */
  start_timeout: number;
  disk_mb: number;
  memory_mb: number;
  cpu_weight: number;
  privileged: boolean;
  ports: number[];
  routes: Routes;
  log_guid: string;
  log_source: string;
  metrics_guid: string;
  annotation: string;
  egress_rules: SecurityGroupRule[];
  modification_tag: ModificationTag;
  cached_dependencies: CachedDependency[];
  legacy_download_user: string;
  trusted_system_certificates_path: string;
}

/** Only the fields that are not null are applied. */
export interface DesiredLRPUpdate {
  instances: number | null;
  routes: Routes | null;
  annotation: string | null;
}

/** What placement and routing need of a desired LRP, without its actions. */
export interface DesiredLRPSchedulingInfo {
  process_guid: string;
  domain: string;
  log_guid: string;
  annotation: string;
  instances: number;
  rootfs: string;
  memory_mb: number;
  disk_mb: number;
  routes: Routes;
  modification_tag: ModificationTag;
}

// ---- actual LRPs ----

export const ACTUAL_LRP_STATES = ['UNCLAIMED', 'CLAIMED', 'RUNNING', 'CRASHED'] as const;
export type ActualLRPState = (typeof ACTUAL_LRP_STATES)[number];

export interface ActualLRPKey {
  process_guid: string;
  index: number;
  domain: string;
}

export interface ActualLRPInstanceKey {
  instance_guid: string;
  cell_id: string;
}

export interface ActualLRPNetInfo {
  address: string;
  ports: PortMapping[];
}

/** The key, instance key and net info are flattened, as gogoproto's embed did. */
export interface ActualLRP extends ActualLRPKey, ActualLRPInstanceKey, ActualLRPNetInfo {
  crash_count: number;
  crash_reason: string;
  /** Any other string read from the wire is invalid; validation reports it. */
  state: ActualLRPState;
  placement_error: string;
  /** Unix nanoseconds of the last state change. */
  since: Int64;
  modification_tag: ModificationTag;
}

export interface ActualLRPGroup {
  instance: ActualLRP | null;
  evacuating: ActualLRP | null;
}

// ---- tasks ----

export const TASK_STATES = ['INVALID', 'PENDING', 'RUNNING', 'COMPLETED', 'RESOLVING'] as const;
export type TaskState = (typeof TASK_STATES)[number];

export interface TaskDefinition {
  rootfs: string;
  env: EnvironmentVariable[];
  action: Action | null;
  disk_mb: number;
  memory_mb: number;
  cpu_weight: number;
  privileged: boolean;
  log_source: string;
  log_guid: string;
  metrics_guid: string;
  result_file: string;
  completion_callback_url: string;
  annotation: string;
  egress_rules: SecurityGroupRule[];
  cached_dependencies: CachedDependency[];
  legacy_download_user: string;
  trusted_system_certificates_path: string;
}

/** The definition is flattened into the task, as gogoproto's embed did. */
export interface Task extends TaskDefinition {
  task_guid: string;
  domain: string;
  created_at: Int64;
  updated_at: Int64;
  first_completed_at: Int64;
  state: TaskState;
  cell_id: string;
  result: string;
  failed: boolean;
  failure_reason: string;
}

// ---- cells ----

export interface CellCapacity {
  memory_mb: number;
  disk_mb: number;
  containers: number;
}

export interface CellPresence {
  cell_id: string;
  rep_address: string;
  zone: string;
  capacity: CellCapacity;
  /** Provider name -> its fixed set ("preloaded" -> ["cflinuxfs2"]); arbitrary providers ("docker") map to []. */
  rootfs_providers: Record<string, string[]>;
}
