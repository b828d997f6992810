import type { ActualLRP, ActualLRPGroup, ActualLRPState, DesiredLRPSchedulingInfo } from '@diego/models';
import { LRPCountsByProcessGuid } from './lrp-counts';

function desired(processGuid: string, instances: number): DesiredLRPSchedulingInfo {
  return {
    process_guid: processGuid, domain: 'apps', log_guid: '', annotation: '', instances, rootfs: 'preloaded:cflinuxfs2',
    memory_mb: 256, disk_mb: 1024, routes: {}, modification_tag: { epoch: 'e', index: 0 },
  };
}

function instance(processGuid: string, index: number, state: ActualLRPState): ActualLRP {
  return {
    process_guid: processGuid, index, domain: 'apps', instance_guid: '', cell_id: '', address: '', ports: [], crash_count: 0,
    crash_reason: '', state, placement_error: '', since: 0n, modification_tag: { epoch: 'e', index: 0 },
  };
}

const actual = (processGuid: string, index: number, state: ActualLRPState = 'RUNNING'): ActualLRPGroup =>
  ({ instance: instance(processGuid, index, state), evacuating: null });

describe('LRPCountsByProcessGuid', () => {
  it('counts instance records by state and the guids with a crash, not evacuating copies', () => {
    const counts = new LRPCountsByProcessGuid();
    counts.replace(
      null,
      [
        actual('web', 0),
        actual('web', 1, 'CRASHED'),
        actual('web', 2, 'CRASHED'),
        actual('api', 0, 'UNCLAIMED'),
        actual('api', 1, 'CLAIMED'),
        { instance: null, evacuating: instance('api', 2, 'RUNNING') },
      ],
      [desired('web', 3), desired('api', 2)],
    );
    expect(counts.totals).toEqual({ desired: 5, unclaimed: 1, claimed: 1, running: 1, crashed: 2, crashingDesireds: 1 });
    expect(counts.processGuids).toBe(2);
  });

  it('replaces the part of the guids given only, and drops a guid that has no record left', () => {
    const counts = new LRPCountsByProcessGuid();
    counts.replace(null, [actual('web', 0, 'CRASHED'), actual('api', 0), actual('gone', 0)], [desired('web', 1), desired('api', 1), desired('gone', 1)]);

    counts.replace(new Set(['web', 'gone']), [actual('web', 0, 'UNCLAIMED'), actual('web', 1, 'UNCLAIMED')], [desired('web', 2)]);
    expect(counts.totals).toEqual({ desired: 3, unclaimed: 2, claimed: 0, running: 1, crashed: 0, crashingDesireds: 0 });
    expect(counts.processGuids).toBe(2);

    // Every guid again: the same as counting from nothing.
    const fromNothing = new LRPCountsByProcessGuid();
    fromNothing.replace(null, [actual('web', 0, 'UNCLAIMED'), actual('web', 1, 'UNCLAIMED'), actual('api', 0)], [desired('web', 2), desired('api', 1)]);
    expect(counts.totals).toEqual(fromNothing.totals);
  });
});
