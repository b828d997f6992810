/** bbs `-convergenceWorkers`: how many of a convergence pass's writes are in flight at once. */
export const CONVERGENCE_WORKERS = 20;

/** Runs `work` on every item, at most `workers` at a time; resolves when all are done (`work` must not reject). */
export async function forEachWithWorkers<T>(items: readonly T[], workers: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++];
      if (item !== undefined) await work(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(workers, items.length) }, worker));
}
