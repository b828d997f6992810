// CONTRACT STUB (models helper implements): model <-> proto message (package `models`), both directions,
// exact for int64 (bigint <-> Long). Decoders fill Go zero values for absent fields.
import type { models } from '../gen/proto';
import type {
  Action, ActualLRP, ActualLRPGroup, ActualLRPInstanceKey, ActualLRPKey, ActualLRPNetInfo, CellPresence,
  DesiredLRP, DesiredLRPSchedulingInfo, DesiredLRPUpdate, Task, TaskDefinition,
} from './types';

export declare function actionToProto(action: Action): models.IAction;
export declare function actionFromProto(action: models.IAction): Action;
export declare function actualLrpToProto(lrp: ActualLRP): models.IActualLRP;
export declare function actualLrpFromProto(lrp: models.IActualLRP): ActualLRP;
export declare function actualLrpGroupToProto(group: ActualLRPGroup): models.IActualLRPGroup;
export declare function actualLrpGroupFromProto(group: models.IActualLRPGroup): ActualLRPGroup;
export declare function actualLrpKeyToProto(key: ActualLRPKey): models.IActualLRPKey;
export declare function actualLrpKeyFromProto(key: models.IActualLRPKey | null | undefined): ActualLRPKey;
export declare function actualLrpInstanceKeyToProto(key: ActualLRPInstanceKey): models.IActualLRPInstanceKey;
export declare function actualLrpInstanceKeyFromProto(key: models.IActualLRPInstanceKey | null | undefined): ActualLRPInstanceKey;
export declare function actualLrpNetInfoToProto(info: ActualLRPNetInfo): models.IActualLRPNetInfo;
export declare function actualLrpNetInfoFromProto(info: models.IActualLRPNetInfo | null | undefined): ActualLRPNetInfo;
export declare function desiredLrpToProto(lrp: DesiredLRP): models.IDesiredLRP;
export declare function desiredLrpFromProto(lrp: models.IDesiredLRP): DesiredLRP;
export declare function desiredLrpUpdateToProto(update: DesiredLRPUpdate): models.IDesiredLRPUpdate;
export declare function desiredLrpUpdateFromProto(update: models.IDesiredLRPUpdate | null | undefined): DesiredLRPUpdate;
export declare function schedulingInfoToProto(info: DesiredLRPSchedulingInfo): models.IDesiredLRPSchedulingInfo;
export declare function schedulingInfoFromProto(info: models.IDesiredLRPSchedulingInfo): DesiredLRPSchedulingInfo;
export declare function taskToProto(task: Task): models.ITask;
export declare function taskFromProto(task: models.ITask): Task;
export declare function taskDefinitionToProto(def: TaskDefinition): models.ITaskDefinition;
export declare function taskDefinitionFromProto(def: models.ITaskDefinition | null | undefined): TaskDefinition;
export declare function cellPresenceToProto(cell: CellPresence): models.ICellPresence;
export declare function cellPresenceFromProto(cell: models.ICellPresence): CellPresence;
