import type { ViewBatch } from '../db/etcd/view';
import { LRPConvergenceTracking } from './lrp-convergence-tracking';

/** A batch as the view hands it over, of records under these keys (the values do not matter here). */
function batchOf(...keys: string[]): ViewBatch {
  return { changes: [], records: keys.map((key) => ({ key, before: undefined, after: undefined })), revision: 1n };
}

const NO_CHANGES = { missing: [], onMissingCells: [], restarts: [], staleUnclaimed: [], extra: [], undesired: [] };
const finished = { examined: null, actuals: [], desireds: [], changes: NO_CHANGES, liveCellIds: new Set<string>(), freshDomains: new Set<string>() };

describe('LRPConvergenceTracking', () => {
  it('asks for a full pass until one has finished, and again after a (re)load of the view', () => {
    const tracking = new LRPConvergenceTracking();
    expect(tracking.begin().doubt).not.toBeNull();
    tracking.finish(finished);
    expect(tracking.begin().doubt).toBeNull();

    tracking.onLoaded();
    expect(tracking.begin().doubt).toBe('view-reloaded');
    expect(tracking.begin().doubt).toBeNull();
  });

  it("takes the process guids of changed desired and actual records, not cells', domains' or tasks'", () => {
    const tracking = new LRPConvergenceTracking();
    tracking.begin();
    tracking.onBatch(batchOf('/v1/desired/web', '/v1/actual/api/0/instance', '/v1/actual/api/1/evacuating', '/v1/cell/c1', '/v1/domain/d', '/v1/task/t'));
    expect([...tracking.begin().changed].sort()).toEqual(['api', 'web']);
    // Taken once: later changes are the next pass's.
    expect([...tracking.begin().changed]).toEqual([]);
  });
});
