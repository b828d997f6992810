// The crash restart policy of Diego's `models/restart_calculator.go` (spec/bbs.md §6). Times are Unix
// nanoseconds, durations nanoseconds, both as bigint.
import type { ActualLRP, Int64 } from './types';

const NS_PER_SECOND = 1_000_000_000n;

/** Crashes below this count restart at once. */
export const IMMEDIATE_RESTARTS = 3;
/** From this crash count on an instance is never restarted. */
export const MAX_RESTARTS = 200;
export const CRASH_BACKOFF_MIN_NS: Int64 = 30n * NS_PER_SECOND;
export const MAX_BACKOFF_NS: Int64 = 16n * 60n * NS_PER_SECOND;
/** A RUNNING instance that crashes after being up longer than this starts counting crashes from 1 again. */
export const CRASH_RESET_TIMEOUT_NS: Int64 = 5n * 60n * NS_PER_SECOND;
/** log2(ceil(16 min / 30 s)) = 5: the backoff doubles at most five times. */
const MAX_BACKOFF_EXPONENT = 5;

/** The wait after a crash before convergence may restart it: 30 s doubled per crash past the third, capped. */
function backoffNs(crashCount: number): Int64 {
  const exponent = Math.min(crashCount - IMMEDIATE_RESTARTS, MAX_BACKOFF_EXPONENT);
  const backoff = CRASH_BACKOFF_MIN_NS * (1n << BigInt(exponent));
  return backoff > MAX_BACKOFF_NS ? MAX_BACKOFF_NS : backoff;
}

/** ShouldRestart(now, crashedAt, crashCount): counts 0-2 at once, 3-199 after their backoff, 200+ never. */
export function shouldRestart(now: Int64, crashedAt: Int64, crashCount: number): boolean {
  if (crashCount < IMMEDIATE_RESTARTS) return true;
  if (crashCount < MAX_RESTARTS) return crashedAt + backoffNs(crashCount) <= now;
  return false;
}

/** crash_count < 3: the crash is turned straight back into UNCLAIMED in the same write. */
export function shouldRestartImmediately(crashCount: number): boolean {
  return crashCount < IMMEDIATE_RESTARTS;
}

/** The count after a crash at `now`: 1 if it had been RUNNING for more than 5 min, else +1. */
export function nextCrashCount(lrp: ActualLRP, now: Int64): number {
  if (lrp.state === 'RUNNING' && now - lrp.since > CRASH_RESET_TIMEOUT_NS) return 1;
  return lrp.crash_count + 1;
}

/** ShouldRestartCrash(now): only a CRASHED record whose backoff (counted from `since`) has passed. */
export function shouldRestartCrash(lrp: ActualLRP, now: Int64): boolean {
  return lrp.state === 'CRASHED' && shouldRestart(now, lrp.since, lrp.crash_count);
}
