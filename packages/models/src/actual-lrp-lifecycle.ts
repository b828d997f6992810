// CONTRACT STUB (models helper implements): spec/bbs.md §5.1 and §3.1 (group resolution).
import type { ActualLRP, ActualLRPGroup, ActualLRPInstanceKey, ActualLRPKey, ActualLRPState } from './types';

/** The transition predicate `AllowsTransitionTo(key, instanceKey, newState)` of §5.1, `before` being stored. */
export declare function allowsTransitionTo(
  before: ActualLRP, key: ActualLRPKey, instanceKey: ActualLRPInstanceKey, newState: ActualLRPState): boolean;
/** §3.1 Resolve(): the one record a client sees, and whether it is the evacuating copy. */
export declare function resolveActualLrpGroup(group: ActualLRPGroup): { lrp: ActualLRP; evacuating: boolean } | null;
