import { allowsTransitionTo, resolveActualLrpGroup } from './actual-lrp-lifecycle';
import type { ActualLRP, ActualLRPInstanceKey, ActualLRPKey, ActualLRPState } from './types';

const key: ActualLRPKey = { process_guid: 'p', index: 1, domain: 'd' };
const k: ActualLRPInstanceKey = { instance_guid: 'i1', cell_id: 'cell-1' };
const kOtherCell: ActualLRPInstanceKey = { instance_guid: 'i1', cell_id: 'cell-2' };
const kOtherInstance: ActualLRPInstanceKey = { instance_guid: 'i2', cell_id: 'cell-1' };
const noInstance: ActualLRPInstanceKey = { instance_guid: '', cell_id: '' };

function stored(state: ActualLRPState, instanceKey: ActualLRPInstanceKey = noInstance): ActualLRP {
  return {
    ...key, ...instanceKey, address: '', ports: [], crash_count: 0, crash_reason: '', state,
    placement_error: '', since: 1n, modification_tag: { epoch: 'e', index: 0 },
  };
}

describe('allowsTransitionTo (spec/bbs.md §5.1)', () => {
  it.each([
    // from, stored instance key, requested instance key, to, allowed
    ['UNCLAIMED', noInstance, k, 'CLAIMED', true],
    ['UNCLAIMED', noInstance, k, 'RUNNING', true],
    ['CRASHED', noInstance, k, 'CLAIMED', true],
    ['CRASHED', noInstance, k, 'RUNNING', true],
    ['CLAIMED', k, k, 'CLAIMED', true],
    ['CLAIMED', k, kOtherCell, 'CLAIMED', false],
    ['CLAIMED', k, kOtherInstance, 'CLAIMED', false],
    ['CLAIMED', k, k, 'RUNNING', true],
    ['CLAIMED', k, kOtherCell, 'RUNNING', true],
    ['RUNNING', k, k, 'CLAIMED', true],
    ['RUNNING', k, k, 'RUNNING', true],
    ['RUNNING', k, kOtherCell, 'CLAIMED', false],
    ['RUNNING', k, kOtherInstance, 'RUNNING', false],
    ['CLAIMED', k, k, 'CRASHED', true],
    ['RUNNING', k, k, 'CRASHED', true],
    ['CLAIMED', k, kOtherCell, 'CRASHED', false],
    ['RUNNING', k, kOtherInstance, 'CRASHED', false],
    ['UNCLAIMED', noInstance, k, 'CRASHED', false],
    ['CRASHED', noInstance, k, 'CRASHED', false],
    ['CLAIMED', k, kOtherCell, 'UNCLAIMED', true],
    ['RUNNING', k, noInstance, 'UNCLAIMED', true],
    ['CRASHED', noInstance, noInstance, 'UNCLAIMED', true],
  ] as const)('%s(%o) -> %s with %o to %s: %s', (from, storedKey, requestedKey, to, allowed) => {
    expect(allowsTransitionTo(stored(from, storedKey), key, requestedKey, to)).toBe(allowed);
  });

  it.each([
    ['process_guid', { ...key, process_guid: 'q' }],
    ['index', { ...key, index: 2 }],
    ['domain', { ...key, domain: 'other' }],
  ])('refuses every transition when the %s of the key differs', (_field, otherKey) => {
    expect(allowsTransitionTo(stored('UNCLAIMED'), otherKey, k, 'CLAIMED')).toBe(false);
    expect(allowsTransitionTo(stored('CLAIMED', k), otherKey, k, 'RUNNING')).toBe(false);
  });
});

describe('resolveActualLrpGroup', () => {
  const evacuating = { ...stored('RUNNING', kOtherCell) };

  it('resolves a lone instance to itself, not evacuating', () => {
    const instance = stored('UNCLAIMED');
    expect(resolveActualLrpGroup({ instance, evacuating: null })).toEqual({ lrp: instance, evacuating: false });
  });

  it('resolves a lone evacuating record to itself, evacuating', () => {
    expect(resolveActualLrpGroup({ instance: null, evacuating })).toEqual({ lrp: evacuating, evacuating: true });
  });

  it.each(['RUNNING', 'CRASHED'] as const)('prefers a %s instance over the evacuating copy', (state) => {
    const instance = stored(state, state === 'RUNNING' ? k : noInstance);
    expect(resolveActualLrpGroup({ instance, evacuating })).toEqual({ lrp: instance, evacuating: false });
  });

  it.each(['UNCLAIMED', 'CLAIMED'] as const)('prefers the evacuating copy over a %s instance', (state) => {
    const instance = stored(state, state === 'CLAIMED' ? k : noInstance);
    expect(resolveActualLrpGroup({ instance, evacuating })).toEqual({ lrp: evacuating, evacuating: true });
  });

  it('resolves an empty group to null', () => {
    expect(resolveActualLrpGroup({ instance: null, evacuating: null })).toBeNull();
  });
});
