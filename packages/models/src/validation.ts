// CONTRACT STUB (models helper implements): spec/bbs.md §11 and spec/receptor-api.md §7, exact messages.
// Each `validateX` throws BbsError(<type>, <all failures joined with ", ">) and returns nothing when valid.
import type { ActualLRP, CellPresence, DesiredLRP, DesiredLRPUpdate, TaskDefinition } from './types';

/** DesireLRPRequest validation -> BbsError('InvalidRequest', 'Invalid field: domain, ...'). */
export declare function validateDesiredLrp(lrp: DesiredLRP): void;
/** UpdateDesiredLRPRequest validation -> InvalidRequest. */
export declare function validateDesiredLrpUpdate(processGuid: string, update: DesiredLRPUpdate): void;
/** DesireTaskRequest validation -> InvalidRequest. */
export declare function validateDesireTask(taskGuid: string, domain: string, definition: TaskDefinition): void;
/** A stored or about-to-be-stored actual LRP, per state (§3.1) -> BbsError('InvalidRecord'). */
export declare function validateActualLrp(lrp: ActualLRP): void;
/** Cell presence -> InvalidRequest. */
export declare function validateCellPresence(cell: CellPresence): void;
/** `^[a-zA-Z0-9_-]+$` */
export declare function isValidGuid(guid: string): boolean;
