import type { ActualLRP, ActualLRPGroup, DesiredLRPSchedulingInfo } from '@diego/models';
import { calculateLRPConvergence, lrpStartRequests, type LRPConvergenceInput } from './lrp-convergence';

const NOW = 1_700_000_000_000_000_000n;
const SECOND = 1_000_000_000n;

function desired(processGuid: string, instances: number, domain = 'apps'): DesiredLRPSchedulingInfo {
  return {
    process_guid: processGuid,
    domain,
    log_guid: '',
    annotation: '',
    instances,
    rootfs: 'preloaded:cflinuxfs2',
    memory_mb: 256,
    disk_mb: 1024,
    routes: {},
    modification_tag: { epoch: 'e', index: 0 },
  };
}

function actual(processGuid: string, index: number, overrides: Partial<ActualLRP> = {}): ActualLRPGroup {
  return {
    instance: {
      process_guid: processGuid,
      index,
      domain: 'apps',
      instance_guid: `${processGuid}-${index}`,
      cell_id: 'cell-live',
      address: '10.0.0.1',
      ports: [],
      crash_count: 0,
      crash_reason: '',
      state: 'RUNNING',
      placement_error: '',
      since: NOW,
      modification_tag: { epoch: 'e', index: 1 },
      ...overrides,
    },
    evacuating: null,
  };
}

function input(overrides: Partial<LRPConvergenceInput>): LRPConvergenceInput {
  return { actuals: [], desireds: [], freshDomains: new Set(['apps']), liveCellIds: new Set(['cell-live']), now: NOW, ...overrides };
}

const key = (processGuid: string, index: number, domain = 'apps') => ({ process_guid: processGuid, index, domain });

describe('calculateLRPConvergence', () => {
  it('changes nothing when every desired instance runs on a live cell', () => {
    const changes = calculateLRPConvergence(input({ desireds: [desired('web', 2)], actuals: [actual('web', 0), actual('web', 1)] }));
    expect(changes).toEqual({ missing: [], onMissingCells: [], restarts: [], staleUnclaimed: [], extra: [], undesired: [] });
  });

  it('finds missing indices, counting an index with only an evacuating record as missing', () => {
    const evacuatingOnly: ActualLRPGroup = { instance: null, evacuating: actual('web', 1).instance };
    const changes = calculateLRPConvergence(input({ desireds: [desired('web', 3)], actuals: [actual('web', 0), evacuatingOnly] }));
    expect(changes.missing).toEqual([key('web', 1), key('web', 2)]);
  });

  it('unclaims a wanted instance on a missing cell; an unwanted one is an extra', () => {
    const changes = calculateLRPConvergence(
      input({
        desireds: [desired('web', 1)],
        actuals: [actual('web', 0, { state: 'CLAIMED', cell_id: 'cell-gone' }), actual('web', 1, { cell_id: 'cell-gone' })],
      }),
    );
    expect(changes.onMissingCells).toEqual([{ key: key('web', 0), cellId: 'cell-gone' }]);
    expect(changes.extra).toEqual([key('web', 1)]);
  });

  it('retires extra and undesired instances only in fresh domains', () => {
    const actuals = [actual('web', 0), actual('web', 1), actual('orphan', 0), actual('stray', 0, { domain: 'other' })];
    const stale = calculateLRPConvergence(input({ desireds: [desired('web', 1)], actuals, freshDomains: new Set() }));
    expect([...stale.extra, ...stale.undesired]).toEqual([]);
    const fresh = calculateLRPConvergence(input({ desireds: [desired('web', 1)], actuals }));
    expect(fresh.extra).toEqual([key('web', 1)]);
    expect(fresh.undesired).toEqual([key('orphan', 0)]);
  });

  it.each([
    [3, 29n, false],
    [3, 30n, true],
    [4, 59n, false],
    [4, 60n, true],
    [8, 960n, true],
    [200, 100_000n, false],
  ])('restarts a CRASHED instance with crash_count %i after %i s: %s', (crashCount, seconds, restarted) => {
    const crashed = actual('web', 0, { state: 'CRASHED', cell_id: '', instance_guid: '', crash_count: crashCount, since: NOW - seconds * SECOND });
    const changes = calculateLRPConvergence(input({ desireds: [desired('web', 1)], actuals: [crashed] }));
    expect(changes.restarts).toEqual(restarted ? [key('web', 0)] : []);
  });

  it('auctions an UNCLAIMED instance again after more than 30 s', () => {
    const unclaimed = (seconds: bigint) => actual('web', 0, { state: 'UNCLAIMED', cell_id: '', instance_guid: '', since: NOW - seconds * SECOND });
    expect(calculateLRPConvergence(input({ desireds: [desired('web', 1)], actuals: [unclaimed(30n)] })).staleUnclaimed).toEqual([]);
    expect(calculateLRPConvergence(input({ desireds: [desired('web', 1)], actuals: [unclaimed(31n)] })).staleUnclaimed).toEqual([key('web', 0)]);
  });
});

describe('lrpStartRequests', () => {
  it('groups the indices per process guid with the desired LRP resources, leaving out guids no longer desired', () => {
    expect(lrpStartRequests([key('web', 2), key('gone', 0), key('web', 0)], [desired('web', 3)])).toEqual([
      { process_guid: 'web', domain: 'apps', indices: [2, 0], memory_mb: 256, disk_mb: 1024, rootfs: 'preloaded:cflinuxfs2' },
    ]);
  });
});
