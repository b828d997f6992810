/**
 * Model <-> proto message (package `models`), both directions, compiled from the field tables (model-tables.ts).
 *
 * Encoders write every field, as gogoproto's non-nullable fields did; nested messages that are nil in Go
 * (actions, routes, port ranges, ...) are left out. Decoders accept decoded messages and plain objects alike,
 * and fill Go zero values for absent fields. Int64s go between `bigint` and `Long` through their decimal
 * digits, so no value is ever rounded.
 */
import type { models } from '../gen/proto';
import {
  ACTION,
  ACTUAL_LRP,
  ACTUAL_LRP_GROUP,
  ACTUAL_LRP_INSTANCE_KEY,
  ACTUAL_LRP_KEY,
  ACTUAL_LRP_NET_INFO,
  CELL_PRESENCE,
  DESIRED_LRP,
  DESIRED_LRP_SCHEDULING_INFO,
  DESIRED_LRP_UPDATE,
  TASK,
  TASK_DEFINITION,
} from './model-tables';
import type {
  Action,
  ActualLRP,
  ActualLRPGroup,
  ActualLRPInstanceKey,
  ActualLRPKey,
  ActualLRPNetInfo,
  CellPresence,
  DesiredLRP,
  DesiredLRPSchedulingInfo,
  DesiredLRPUpdate,
  Task,
  TaskDefinition,
} from './types';

export const actionToProto = (action: Action): models.IAction => ACTION.toProto(action);
export const actionFromProto = (action: models.IAction): Action => ACTION.fromProto(action);

// ---- actual LRPs ----

export const actualLrpKeyToProto = (key: ActualLRPKey): models.IActualLRPKey => ACTUAL_LRP_KEY.toProto(key);
export const actualLrpKeyFromProto = (key: models.IActualLRPKey | null | undefined): ActualLRPKey => ACTUAL_LRP_KEY.fromProto(key);

export const actualLrpInstanceKeyToProto = (key: ActualLRPInstanceKey): models.IActualLRPInstanceKey =>
  ACTUAL_LRP_INSTANCE_KEY.toProto(key);
export const actualLrpInstanceKeyFromProto = (key: models.IActualLRPInstanceKey | null | undefined): ActualLRPInstanceKey =>
  ACTUAL_LRP_INSTANCE_KEY.fromProto(key);

export const actualLrpNetInfoToProto = (info: ActualLRPNetInfo): models.IActualLRPNetInfo => ACTUAL_LRP_NET_INFO.toProto(info);
export const actualLrpNetInfoFromProto = (info: models.IActualLRPNetInfo | null | undefined): ActualLRPNetInfo =>
  ACTUAL_LRP_NET_INFO.fromProto(info);

export const actualLrpToProto = (lrp: ActualLRP): models.IActualLRP => ACTUAL_LRP.toProto(lrp);
/** @throws BbsError('InvalidProtobufMessage') when the state is not one of the four ActualLRP states. */
export const actualLrpFromProto = (lrp: models.IActualLRP): ActualLRP => ACTUAL_LRP.fromProto(lrp);

export const actualLrpGroupToProto = (group: ActualLRPGroup): models.IActualLRPGroup => ACTUAL_LRP_GROUP.toProto(group);
export const actualLrpGroupFromProto = (group: models.IActualLRPGroup): ActualLRPGroup => ACTUAL_LRP_GROUP.fromProto(group);

// ---- desired LRPs ----

export const desiredLrpToProto = (lrp: DesiredLRP): models.IDesiredLRP => DESIRED_LRP.toProto(lrp);
export const desiredLrpFromProto = (lrp: models.IDesiredLRP): DesiredLRP => DESIRED_LRP.fromProto(lrp);

export const desiredLrpUpdateToProto = (update: DesiredLRPUpdate): models.IDesiredLRPUpdate => DESIRED_LRP_UPDATE.toProto(update);
/** A member is set when it was on the wire: a decoded message owns it, its prototype only holds the default. */
export const desiredLrpUpdateFromProto = (update: models.IDesiredLRPUpdate | null | undefined): DesiredLRPUpdate =>
  DESIRED_LRP_UPDATE.fromProto(update);

export const schedulingInfoToProto = (info: DesiredLRPSchedulingInfo): models.IDesiredLRPSchedulingInfo =>
  DESIRED_LRP_SCHEDULING_INFO.toProto(info);
export const schedulingInfoFromProto = (info: models.IDesiredLRPSchedulingInfo): DesiredLRPSchedulingInfo =>
  DESIRED_LRP_SCHEDULING_INFO.fromProto(info);

// ---- tasks ----

export const taskDefinitionToProto = (definition: TaskDefinition): models.ITaskDefinition => TASK_DEFINITION.toProto(definition);
export const taskDefinitionFromProto = (definition: models.ITaskDefinition | null | undefined): TaskDefinition =>
  TASK_DEFINITION.fromProto(definition);

export const taskToProto = (task: Task): models.ITask => TASK.toProto(task);
/** @throws BbsError('InvalidProtobufMessage') when the state is not a Task.State. */
export const taskFromProto = (task: models.ITask): Task => TASK.fromProto(task);

// ---- cells ----

export const cellPresenceToProto = (cell: CellPresence): models.ICellPresence => CELL_PRESENCE.toProto(cell);
export const cellPresenceFromProto = (cell: models.ICellPresence): CellPresence => CELL_PRESENCE.fromProto(cell);
