import type { LRPStartRequest, TaskStartRequest } from '../leader/contracts';
import { AuctionBatch } from './auction-batch';

function lrpStart(processGuid: string, indices: number[], memoryMB = 256): LRPStartRequest {
  return { process_guid: processGuid, domain: 'd', indices, memory_mb: memoryMB, disk_mb: 512, rootfs: 'preloaded:cflinuxfs2' };
}

function taskStart(taskGuid: string, memoryMB = 128): TaskStartRequest {
  return { task_guid: taskGuid, domain: 'd', memory_mb: memoryMB, disk_mb: 64, rootfs: 'docker:///busybox' };
}

describe('AuctionBatch', () => {
  let now: bigint;
  let batch: AuctionBatch;
  beforeEach(() => {
    now = 1_000_000_000n;
    batch = new AuctionBatch(() => now);
  });

  it('turns each index of an LRP start request into one auction with the request\'s resources', () => {
    batch.addLRPStarts([lrpStart('p', [0, 2])]);
    expect(batch.drain().lrps).toEqual([
      { process_guid: 'p', index: 0, domain: 'd', MemoryMB: 256, DiskMB: 512, RootFs: 'preloaded:cflinuxfs2' },
      { process_guid: 'p', index: 2, domain: 'd', MemoryMB: 256, DiskMB: 512, RootFs: 'preloaded:cflinuxfs2' },
    ]);
  });

  it('keeps the first request for a guid and index, and for a task guid', () => {
    batch.addLRPStarts([lrpStart('p', [0, 1], 256), lrpStart('p', [1, 2], 999), lrpStart('q', [1])]);
    batch.addTaskStarts([taskStart('t', 128), taskStart('u'), taskStart('t', 999)]);
    const { lrps, tasks } = batch.drain();
    expect(lrps.map((lrp) => [`${lrp.process_guid}.${lrp.index}`, lrp.MemoryMB])).toEqual([
      ['p.0', 256], ['p.1', 256], ['p.2', 999], ['q.1', 256],
    ]);
    expect(tasks.map((task) => [task.TaskGuid, task.MemoryMB])).toEqual([['t', 128], ['u', 128]]);
  });

  it('is empty after a drain, and remembers when its oldest request came', () => {
    expect(batch.isEmpty).toBe(true);
    batch.addTaskStarts([taskStart('t')]);
    now += 5n;
    batch.addLRPStarts([lrpStart('p', [0])]);
    expect(batch.isEmpty).toBe(false);
    expect(batch.drain().queuedSince).toBe(1_000_000_000n);
    expect(batch.isEmpty).toBe(true);
    expect(batch.drain()).toEqual({ lrps: [], tasks: [], queuedSince: null, freshStates: false });
  });

  it('does not count an empty request as queued work', () => {
    batch.addLRPStarts([]);
    batch.addTaskStarts([]);
    expect(batch.isEmpty).toBe(true);
    expect(batch.drain().queuedSince).toBeNull();
  });
});

describe('AuctionBatch with refused work', () => {
  it('queues what a cell refused and has the round that takes it ask every cell, once', () => {
    let now = 7n;
    const batch = new AuctionBatch(() => now);
    batch.addLRPStarts([lrpStart('p', [0])]);
    now = 9n;
    const refusedLRP = { process_guid: 'q', index: 1, domain: 'd', MemoryMB: 1, DiskMB: 1, RootFs: 'preloaded:cflinuxfs2' };
    batch.addRefused({ LRPs: [refusedLRP], Tasks: [] });
    expect(batch.queuedSince).toBe(7n);

    const drained = batch.drain();
    expect(drained.lrps.map((lrp) => `${lrp.process_guid}.${lrp.index}`)).toEqual(['p.0', 'q.1']);
    expect(drained.freshStates).toBe(true);
    batch.addLRPStarts([lrpStart('p', [0])]);
    expect(batch.drain().freshStates).toBe(false);
  });

  it('does not ask every cell for nothing refused', () => {
    const batch = new AuctionBatch(() => 1n);
    batch.addRefused({ LRPs: [], Tasks: [] });
    expect(batch.isEmpty).toBe(true);
    expect(batch.drain().freshStates).toBe(false);
  });
});
