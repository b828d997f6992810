// The ActualLRP transition predicate (spec/bbs.md §5.1) and group resolution (§3.1, receptor §3.11).
import type { ActualLRP, ActualLRPGroup, ActualLRPInstanceKey, ActualLRPKey, ActualLRPState } from './types';

function sameKey(a: ActualLRPKey, b: ActualLRPKey): boolean {
  return a.process_guid === b.process_guid && a.index === b.index && a.domain === b.domain;
}

function sameInstanceKey(a: ActualLRPInstanceKey, b: ActualLRPInstanceKey): boolean {
  return a.instance_guid === b.instance_guid && a.cell_id === b.cell_id;
}

function isClaimedOrRunning(state: ActualLRPState): boolean {
  return state === 'CLAIMED' || state === 'RUNNING';
}

/**
 * The transition predicate `AllowsTransitionTo(key, instanceKey, newState)` of §5.1, `before` being stored.
 * The checks run in Go's order: the key must match; CLAIMED -> RUNNING is allowed from any instance (another
 * cell may start an LRP claimed by someone else); otherwise claimed/running records keep their instance key;
 * only a claimed or running record of the same instance may crash.
 *
 * @example allowsTransitionTo(claimedOnCell1, claimedOnCell1, cell2Key, 'RUNNING') // true
 */
export function allowsTransitionTo(
  before: ActualLRP,
  key: ActualLRPKey,
  instanceKey: ActualLRPInstanceKey,
  newState: ActualLRPState,
): boolean {
  if (!sameKey(before, key)) return false;
  if (before.state === 'CLAIMED' && newState === 'RUNNING') return true;
  const sameInstance = sameInstanceKey(before, instanceKey);
  if (isClaimedOrRunning(before.state) && isClaimedOrRunning(newState) && !sameInstance) return false;
  if (newState === 'CRASHED') {
    if (before.state === 'UNCLAIMED' || before.state === 'CRASHED') return false;
    if (isClaimedOrRunning(before.state) && !sameInstance) return false;
  }
  return true;
}

/**
 * §3.1 Resolve(): the one record a client sees, and whether it is the evacuating copy. With both present
 * the instance wins once it is RUNNING or CRASHED (the replacement is up, or has failed); until then the
 * evacuating copy is still the one serving. An empty group resolves to null.
 */
export function resolveActualLrpGroup(group: ActualLRPGroup): { lrp: ActualLRP; evacuating: boolean } | null {
  const { instance, evacuating } = group;
  if (instance === null) return evacuating === null ? null : { lrp: evacuating, evacuating: true };
  if (evacuating === null || instance.state === 'RUNNING' || instance.state === 'CRASHED') {
    return { lrp: instance, evacuating: false };
  }
  return { lrp: evacuating, evacuating: true };
}
