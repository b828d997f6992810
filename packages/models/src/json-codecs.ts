// CONTRACT STUB (models helper implements). Stored values (etcd) and receptor response bodies.
import type { ActualLRP, ActualLRPGroup, CellPresence, DesiredLRP, Task } from './types';

// Stored records: the model as JSON (snake_case, flattened, every digit). Readers throw BbsError('InvalidRecord').
export declare function actualLrpToJson(lrp: ActualLRP): string;
export declare function actualLrpFromJson(text: string): ActualLRP;
export declare function desiredLrpToJson(lrp: DesiredLRP): string;
export declare function desiredLrpFromJson(text: string): DesiredLRP;
export declare function taskToJson(task: Task): string;
export declare function taskFromJson(text: string): Task;
export declare function cellPresenceToJson(cell: CellPresence): string;
export declare function cellPresenceFromJson(text: string): CellPresence;

// Receptor responses (spec/receptor-api.md §4), exact key order and omission rules.
export declare function taskResponseJson(task: Task): string;
export declare function desiredLrpResponseJson(lrp: DesiredLRP): string;
/** The group resolved to one ActualLRPResponse (§3.11), with `evacuating`. */
export declare function actualLrpGroupResponseJson(group: ActualLRPGroup): string;
export declare function cellResponseJson(cell: CellPresence): string;
