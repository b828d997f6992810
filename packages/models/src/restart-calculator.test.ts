import {
  CRASH_RESET_TIMEOUT_NS,
  nextCrashCount,
  shouldRestart,
  shouldRestartCrash,
  shouldRestartImmediately,
} from './restart-calculator';
import type { ActualLRP, ActualLRPState } from './types';

const SECOND = 1_000_000_000n;
const MINUTE = 60n * SECOND;
const crashedAt = 1_447_700_000_000_000_123n;

function lrp(state: ActualLRPState, crashCount: number, since: bigint): ActualLRP {
  return {
    process_guid: 'p', index: 0, domain: 'd', instance_guid: '', cell_id: '', address: '', ports: [],
    crash_count: crashCount, crash_reason: '', state, placement_error: '', since,
    modification_tag: { epoch: 'e', index: 0 },
  };
}

describe('shouldRestart', () => {
  it.each([0, 1, 2])('restarts crash count %i immediately', (count) => {
    expect(shouldRestart(0n, 0n, count)).toBe(true);
    expect(shouldRestartImmediately(count)).toBe(true);
  });

  it.each([
    [3, 30n * SECOND],
    [4, 60n * SECOND],
    [5, 2n * MINUTE],
    [6, 4n * MINUTE],
    [7, 8n * MINUTE],
    [8, 16n * MINUTE],
    [199, 16n * MINUTE],
  ])('restarts crash count %i only once its backoff of %p ns has passed', (count, backoff) => {
    expect(shouldRestartImmediately(count)).toBe(false);
    expect(shouldRestart(crashedAt + backoff - 1n, crashedAt, count)).toBe(false);
    expect(shouldRestart(crashedAt + backoff, crashedAt, count)).toBe(true);
  });

  it.each([200, 201, 10_000])('never restarts crash count %i', (count) => {
    expect(shouldRestart(crashedAt + 1000n * MINUTE, crashedAt, count)).toBe(false);
    expect(shouldRestartImmediately(count)).toBe(false);
  });
});

describe('nextCrashCount', () => {
  const now = crashedAt + 10n * MINUTE;

  it('resets to 1 when the instance had been running for more than 5 minutes', () => {
    expect(nextCrashCount(lrp('RUNNING', 150, now - CRASH_RESET_TIMEOUT_NS - 1n), now)).toBe(1);
  });

  it('counts on when the instance had been running for exactly 5 minutes or less', () => {
    expect(nextCrashCount(lrp('RUNNING', 4, now - CRASH_RESET_TIMEOUT_NS), now)).toBe(5);
  });

  it('counts on for a claimed instance however long ago it was claimed', () => {
    expect(nextCrashCount(lrp('CLAIMED', 4, now - 60n * MINUTE), now)).toBe(5);
  });
});

describe('shouldRestartCrash', () => {
  it('restarts a crashed record once the backoff since its crash has passed', () => {
    expect(shouldRestartCrash(lrp('CRASHED', 3, crashedAt), crashedAt + 29n * SECOND)).toBe(false);
    expect(shouldRestartCrash(lrp('CRASHED', 3, crashedAt), crashedAt + 30n * SECOND)).toBe(true);
  });

  it('never restarts a record that is not crashed', () => {
    expect(shouldRestartCrash(lrp('UNCLAIMED', 0, crashedAt), crashedAt + MINUTE)).toBe(false);
    expect(shouldRestartCrash(lrp('RUNNING', 0, crashedAt), crashedAt + MINUTE)).toBe(false);
  });
});
