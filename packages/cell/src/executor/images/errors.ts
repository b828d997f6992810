/**
 * An image could not be provided. The message names the image (its rootfs URL as given) and why, e.g.
 * `docker:///foo/bar#nope: manifest unknown (no tag nope in 127.0.0.1:5000/foo/bar)`.
 *
 * @example
 *   try { await store.provide(rootfs); } catch (err) { if (err instanceof ImageError) log.error(err.message); }
 */
export class ImageError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ImageError';
  }
}
