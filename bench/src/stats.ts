/** Timing helpers: a bounded pool of in-flight operations, percentiles. */
import { performance } from 'node:perf_hooks';

export const now = (): number => performance.now();

/** The p-th percentile (0..100) by nearest rank; null for no samples. */
export function percentile(samples: ArrayLike<number>, p: number): number | null {
  if (samples.length === 0) return null;
  const sorted = Float64Array.from(samples).sort();
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] ?? null;
}

export function median(samples: ArrayLike<number>): number | null {
  return percentile(samples, 50);
}

export interface PoolResult {
  durationMs: number;
  /** Per operation, ms. */
  latencies: Float64Array;
  /** Operations per second. */
  rate: number;
  errors: number;
  firstError: string | null;
}

/**
 * Runs `op(0..count-1)` with at most `concurrency` in flight, timing each; failures are counted (the first one
 * kept), not thrown.
 */
export async function runPool(
  count: number,
  concurrency: number,
  op: (i: number) => Promise<unknown>,
  label?: string,
): Promise<PoolResult> {
  const latencies = new Float64Array(count);
  let next = 0;
  let done = 0;
  const ticker = label === undefined ? null : setInterval(() => progress(`  ${label}: ${done}/${count}`), 10_000);
  let errors = 0;
  let firstError: string | null = null;
  const start = now();
  const worker = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      const t0 = now();
      try {
        await op(i);
      } catch (err) {
        errors++;
        firstError ??= `#${i}: ${messageOf(err)}`;
      }
      latencies[i] = now() - t0;
      done++;
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  } finally {
    if (ticker !== null) clearInterval(ticker);
  }
  const durationMs = now() - start;
  return { durationMs, latencies, rate: durationMs > 0 ? (count * 1000) / durationMs : 0, errors, firstError };
}

export function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message;
  if (typeof err === 'object' && err !== null && 'message' in err && typeof err.message === 'string') return err.message;
  return String(err);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `check` until it returns true or `timeoutMs` passes; resolves whether it became true. */
export async function waitFor(check: () => Promise<boolean> | boolean, timeoutMs: number, intervalMs = 50): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() >= deadline) return false;
    await sleep(intervalMs);
  }
}

export function progress(message: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}
