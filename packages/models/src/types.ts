/**
 * The domain models, shaped as the receptor's snake_case JSON (and as stored in etcd). Each is the model of its
 * field table (model-tables.ts), where its fields are spelled.
 *
 * They follow Go struct semantics: every scalar field is present with its zero value ("" / 0 / false),
 * every list is present ([] when empty), and only nested messages may be `null`. Which keys are omitted
 * when empty is decided by the tables' JSON forms, not by these types.
 *
 * Int64 values (nanosecond timestamps and durations) are `bigint`: they exceed 2^53 and must keep every digit.
 */
import type { EmbeddedKeys, ModelOf } from './field-table';
import type {
  ACTION_LIST,
  ACTUAL_LRP,
  CACHED_DEPENDENCY,
  CELL_CAPACITY,
  DOWNLOAD_ACTION,
  EMIT_PROGRESS_ACTION,
  ENVIRONMENT_VARIABLE,
  ICMP_INFO,
  MODIFICATION_TAG,
  PORT_MAPPING,
  PORT_RANGE,
  RESOURCE_LIMITS,
  RUN_ACTION,
  SECURITY_GROUP_RULE,
  TASK,
  TIMEOUT_ACTION,
  TRY_ACTION,
  UPLOAD_ACTION,
} from './model-tables';

export {
  ACTUAL_LRP_STATES,
  TASK_STATES,
  type Action,
  type ActualLRP,
  type ActualLRPGroup,
  type ActualLRPState,
  type CellPresence,
  type DesiredLRP,
  type DesiredLRPSchedulingInfo,
  type DesiredLRPUpdate,
  type Task,
  type TaskState,
} from './model-tables';

export type Int64 = bigint;

/**
 * A model as a reader of the receptor's JSON holds it after `JSON.parse` (the dashboard): int64s arrive as numbers.
 * Which keys a response leaves out is each table's `emit` rule; a reader of such a field says so where it reads it.
 */
export type JsonOf<T> = T extends bigint
  ? number
  : T extends readonly (infer E)[]
    ? JsonOf<E>[]
    : T extends object
      ? { -readonly [K in keyof T]: JsonOf<T[K]> }
      : T;

export interface ModificationTag extends ModelOf<typeof MODIFICATION_TAG.fields> {}
export interface EnvironmentVariable extends ModelOf<typeof ENVIRONMENT_VARIABLE.fields> {}
export interface PortMapping extends ModelOf<typeof PORT_MAPPING.fields> {}
export interface PortRange extends ModelOf<typeof PORT_RANGE.fields> {}
export interface ICMPInfo extends ModelOf<typeof ICMP_INFO.fields> {}
export interface SecurityGroupRule extends ModelOf<typeof SECURITY_GROUP_RULE.fields> {}
export interface CachedDependency extends ModelOf<typeof CACHED_DEPENDENCY.fields> {}

// ---- actions ----

export interface DownloadAction extends ModelOf<typeof DOWNLOAD_ACTION.fields> {}
export interface UploadAction extends ModelOf<typeof UPLOAD_ACTION.fields> {}
export interface ResourceLimits extends ModelOf<typeof RESOURCE_LIMITS.fields> {}
export interface RunAction extends ModelOf<typeof RUN_ACTION.fields> {}
export interface TimeoutAction extends ModelOf<typeof TIMEOUT_ACTION.fields> {}
export interface EmitProgressAction extends ModelOf<typeof EMIT_PROGRESS_ACTION.fields> {}
export interface TryAction extends ModelOf<typeof TRY_ACTION.fields> {}
export interface ActionList extends ModelOf<typeof ACTION_LIST.fields> {}
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

// ---- desired LRPs ----

/** Router key -> that key's value as compact JSON text (opaque to Diego; echoed back as received). */
export type Routes = Record<string, string>;

// ---- actual LRPs ----

type ActualLRPFields = typeof ACTUAL_LRP.fields;
export interface ActualLRPKey extends ModelOf<Pick<ActualLRPFields, EmbeddedKeys<ActualLRPFields, 'actual_lrp_key'>>> {}
export interface ActualLRPInstanceKey
  extends ModelOf<Pick<ActualLRPFields, EmbeddedKeys<ActualLRPFields, 'actual_lrp_instance_key'>>> {}
export interface ActualLRPNetInfo extends ModelOf<Pick<ActualLRPFields, EmbeddedKeys<ActualLRPFields, 'actual_lrp_net_info'>>> {}


// ---- tasks ----

export interface TaskDefinition extends ModelOf<Pick<typeof TASK.fields, EmbeddedKeys<typeof TASK.fields, 'task_definition'>>> {}

// ---- cells ----

export interface CellCapacity extends ModelOf<typeof CELL_CAPACITY.fields> {}
