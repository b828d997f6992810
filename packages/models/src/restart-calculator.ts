// CONTRACT STUB (models helper implements): spec/bbs.md §6. Times are Unix nanoseconds.
import type { ActualLRP, Int64 } from './types';

export declare const CRASH_RESET_TIMEOUT_NS: Int64;
/** ShouldRestart(now, crashedAt, crashCount). */
export declare function shouldRestart(now: Int64, crashedAt: Int64, crashCount: number): boolean;
/** crash_count < 3. */
export declare function shouldRestartImmediately(crashCount: number): boolean;
/** The count after a crash at `now`: 1 if it had been RUNNING for more than 5 min, else +1. */
export declare function nextCrashCount(lrp: ActualLRP, now: Int64): number;
/** ShouldRestartCrash(now) of a CRASHED record. */
export declare function shouldRestartCrash(lrp: ActualLRP, now: Int64): boolean;
