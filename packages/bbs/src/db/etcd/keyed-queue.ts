/**
 * Runs the tasks of one key one after another and those of different keys at once. Written here rather than
 * taken from npm: it is these few lines, and none of the installed libraries (p-limit limits one pool) keys them.
 *
 * @example
 *   const queue = new KeyedQueue();
 *   await Promise.all([queue.run('a', first), queue.run('a', second)]); // second starts when first has settled
 */
export class KeyedQueue {
  private readonly tails = new Map<string, Promise<void>>();

  /** `task` once every task queued before it for `key` has settled; its result. */
  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const result = (this.tails.get(key) ?? Promise.resolve()).then(task);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }
}
