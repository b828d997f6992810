/**
 * The cell's image provisioner (Garden's and Mesos's docker provisioner): turns a `docker://` rootfs into a
 * directory holding the image's whole root file system, pulled from a v2 registry or found in a local
 * directory. On disk under `dir`:
 *   blobs/sha256/<hex>              configs, and the layers of local images, once each, verified
 *   layers/sha256/<hex>/files       a registry layer once, verified and extracted: not its blob, which would cost a
 *                                   second write of the layer's bytes on the first pull (the image roots hard-link
 *                                   these files, so the layer takes no space of its own)
 *   layers/sha256/<hex>/dirs.json   the directories the layer has entries for (ExtractedLayer.explicitDirs)
 *   images/<manifest hex>/rootfs    an image's layers applied in order, built once per manifest digest
 *   images/<manifest hex>/config.json
 *   tmp/<pid>-<uuid>                work in progress; renamed into images/ only when complete, so a crash
 *                                   never leaves a half-built image that is used later
 */
import { randomUUID } from 'node:crypto';
import { chmod, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Logger } from 'pino';
import type { Readable } from 'node:stream';
import { BlobStore } from './blob-store';
import { ImageError } from './errors';
import { extractLayerFile, mergeLayer, StreamingLayerExtraction, type ExtractedLayer } from './layers';
import { LocalImages } from './local-images';
import { BadManifest, choosePlatform, digestHex, parseImageConfig, parseManifest, type Descriptor, type ImageConfig } from './manifest';
import { parseDockerRootfs, type ImageReference } from './reference';
import { RegistryClient } from './registry-client';

/**
 * An image ready for containers.
 *
 * @example
 *   const { rootDir, config } = await store.provide('docker:///org/app#v1');
 *   // mount rootDir as an overlay lowerdir; start config.entrypoint + config.cmd
 */
export interface ProvidedImage {
  /**
   * A directory with the image's whole root file system (all layers applied, whiteouts processed), read-only
   * by convention, shared by every container of this image: the executor mounts it as an overlay lowerdir or
   * copies it.
   */
  rootDir: string;
  config: ImageConfig;
  /** The manifest's digest, `sha256:...` (of the linux/amd64 manifest when the tag names a list or index). */
  digest: string;
  /** Where the image came from: the registry's `host/repository`, or the local tarball or layout. */
  source: string;
}

export interface ImageStoreOptions {
  /** Where blobs and images are kept, e.g. `<workDir>/images`. */
  dir: string;
  /** The registry of `docker:///...` images, e.g. `https://registry-1.docker.io` or `http://127.0.0.1:5000`. */
  defaultRegistryURL: string;
  /** `host:port`s reached over plain http (other registries than the default one use https). */
  insecureRegistries: string[];
  /** A directory of local images, tried before any registry (see local-images.ts for the names); null for none. */
  localImageDir: string | null;
  logger: Logger;
}

/** An image's manifest, wherever it came from, with a way to put its blobs in the blob store. */
interface ResolvedImage {
  digest: string;
  source: string;
  config: Descriptor;
  layers: Descriptor[];
  /** The blob's path once stored and verified. */
  blob(descriptor: Descriptor): Promise<string>;
  /** The blob's bytes, unverified and not stored (null for a local image, whose blobs are stored files). */
  open: ((descriptor: Descriptor) => Promise<Readable>) | null;
}

/**
 * Pulls images once and keeps them: blobs once per digest, roots once per manifest digest, and one pull in
 * flight per image and per blob however many callers ask at once. A caller's abort signal ends its own wait;
 * a pull other callers share runs on, and its result is kept.
 *
 * @example
 *   const store = new ImageStore({ dir, defaultRegistryURL: 'https://registry-1.docker.io', insecureRegistries: [], localImageDir: null, logger });
 *   const image = await store.provide('docker:///library/busybox#latest');
 */
export class ImageStore {
  private readonly logger: Logger;
  private readonly blobs: BlobStore;
  private readonly registry: RegistryClient;
  private readonly local: LocalImages | null;
  private readonly provides = new Map<string, Promise<ProvidedImage>>();
  private readonly builds = new Map<string, Promise<ProvidedImage>>();
  /** Layers being fetched and extracted, by digest: one download however many images share a layer. */
  private readonly layers = new Map<string, Promise<ExtractedLayer>>();
  private readonly ready: Promise<void>;

  constructor(private readonly options: ImageStoreOptions) {
    this.logger = options.logger.child({ session: 'image-store' });
    this.blobs = new BlobStore(join(options.dir, 'blobs'));
    this.registry = new RegistryClient({ ...options, logger: this.logger });
    this.local = options.localImageDir === null ? null : new LocalImages(options.localImageDir, this.blobs, () => this.scratch());
    this.ready = this.removeAbandonedWork();
    this.ready.catch(() => undefined); // reported by the first call that waits for it
  }

  /**
   * Pulls (or finds locally) the image of a docker:// rootfs and returns its root. A second call for the same
   * image fetches no layer; concurrent calls for one image or one layer share one pull.
   */
  provide(rootfs: string, signal?: AbortSignal): Promise<ProvidedImage> {
    return this.named(rootfs, signal, async (ref) => {
      const key = `${ref.registry ?? ''}/${ref.repository}#${ref.tag}`;
      let shared = this.provides.get(key);
      if (shared === undefined) {
        shared = this.pull(ref).finally(() => this.provides.delete(key));
        this.provides.set(key, shared);
      }
      return untilAborted(shared, signal);
    });
  }

  /** Only the config (for defaults such as Entrypoint, Cmd and ExposedPorts): the manifest and config blob, no layers. */
  config(rootfs: string, signal?: AbortSignal): Promise<ImageConfig> {
    return this.named(rootfs, signal, async (ref) => {
      const image = await this.resolve(ref, signal);
      return parseImageConfig(await readFile(await image.blob(image.config)));
    });
  }

  /** Runs `work` for the parsed rootfs; any failure becomes an ImageError naming the image. */
  private async named<T>(rootfs: string, signal: AbortSignal | undefined, work: (ref: ImageReference) => Promise<T>): Promise<T> {
    const ref = parseDockerRootfs(rootfs);
    try {
      await this.ready;
      return await work(ref);
    } catch (err) {
      if (signal?.aborted === true) throw err;
      const why = err instanceof ImageError ? err.message : describeFailure(err);
      this.logger.error({ rootfs, error: why }, 'image-failed');
      if (err instanceof ImageError) throw err;
      throw new ImageError(`${rootfs}: ${why}`, { cause: err });
    }
  }

  private async pull(ref: ImageReference): Promise<ProvidedImage> {
    const started = Date.now();
    const image = await this.resolve(ref);
    const imageDir = join(this.options.dir, 'images', digestHex(image.digest));
    const built = await this.readBuilt(imageDir, image);
    if (built !== null) return built;
    let build = this.builds.get(image.digest);
    if (build === undefined) {
      build = this.build(ref, image, imageDir).finally(() => this.builds.delete(image.digest));
      this.builds.set(image.digest, build);
    }
    const provided = await build;
    this.logger.info({ rootfs: ref.rootfs, digest: image.digest, source: image.source, duration_ms: Date.now() - started }, 'image-provided');
    return provided;
  }

  private async build(ref: ImageReference, image: ResolvedImage, imageDir: string): Promise<ProvidedImage> {
    const work = await this.scratch();
    try {
      const rootfs = join(work.path, 'rootfs');
      await mkdir(rootfs);
      await chmod(rootfs, 0o755);
      // Every layer downloads and unpacks at once, with the config; each layer is merged as soon as it and the layers
      // below it are, so that a small base layer is in while a large one downloads.
      const unpacking = image.layers.map((layer) => this.layer(image, layer));
      const configuring = image.blob(image.config).then((path) => readFile(path)).then(parseImageConfig);
      // Handles every rejection at once, and keeps a failure from removing the scratch while a merge may run.
      const settled = Promise.allSettled([...unpacking, configuring]);
      let config: ImageConfig;
      try {
        for (const layer of unpacking) await mergeLayer(rootfs, await layer);
        config = await configuring;
      } finally {
        await settled;
      }
      await writeFile(join(work.path, 'config.json'), JSON.stringify(config));
      await mkdir(join(this.options.dir, 'images'), { recursive: true });
      try {
        await rename(work.path, imageDir);
      } catch (err) {
        // Another store on this directory finished the same image first: use theirs.
        const theirs = await this.readBuilt(imageDir, image);
        if (theirs === null) throw err;
        return theirs;
      }
      this.logger.info({ rootfs: ref.rootfs, digest: image.digest, layers: image.layers.length }, 'image-built');
      return { rootDir: join(imageDir, 'rootfs'), config, digest: image.digest, source: image.source };
    } finally {
      await work.remove();
    }
  }

  /** The layer extracted under layers/, fetched and extracted unless it is there already; one at a time per digest. */
  private layer(image: ResolvedImage, descriptor: Descriptor): Promise<ExtractedLayer> {
    let pending = this.layers.get(descriptor.digest);
    if (pending === undefined) {
      pending = this.extractOnce(image, descriptor).finally(() => this.layers.delete(descriptor.digest));
      this.layers.set(descriptor.digest, pending);
    }
    return pending;
  }

  /**
   * Extracts a layer into scratch (while it downloads, for a registry's layer not stored as a blob) and renames it
   * into layers/ only once its bytes matched the digest and tar succeeded, so a layer there is always a good one. A
   * failure leaves the scratch to be removed, never merged.
   */
  private async extractOnce(image: ResolvedImage, descriptor: Descriptor): Promise<ExtractedLayer> {
    const dir = join(this.options.dir, 'layers', 'sha256', digestHex(descriptor.digest));
    const kept = await readExtracted(dir);
    if (kept !== null) return kept;
    const work = await this.scratch();
    try {
      const files = join(work.path, 'files');
      let extracted: ExtractedLayer;
      if (image.open !== null && !(await this.blobs.has(descriptor.digest))) {
        const streaming = new StreamingLayerExtraction(files);
        try {
          await this.blobs.verify(descriptor.digest, await image.open(descriptor), streaming);
        } catch (err) {
          await streaming.abort();
          throw err;
        }
        extracted = await streaming.finish();
      } else {
        extracted = await extractLayerFile(await image.blob(descriptor), files);
      }
      await writeFile(join(work.path, 'dirs.json'), JSON.stringify([...extracted.explicitDirs]));
      await mkdir(dirname(dir), { recursive: true });
      try {
        await rename(work.path, dir);
      } catch (err) {
        // Another store on this directory kept the same layer first: use theirs.
        const theirs = await readExtracted(dir);
        if (theirs === null) throw err;
        return theirs;
      }
      return { dir: join(dir, 'files'), explicitDirs: extracted.explicitDirs };
    } finally {
      await work.remove();
    }
  }

  private async readBuilt(imageDir: string, image: ResolvedImage): Promise<ProvidedImage | null> {
    let config: ImageConfig;
    try {
      config = JSON.parse(await readFile(join(imageDir, 'config.json'), 'utf8')) as ImageConfig;
    } catch {
      return null;
    }
    return { rootDir: join(imageDir, 'rootfs'), config, digest: image.digest, source: image.source };
  }

  /** The image's manifest: from the local directory when it has the image, else from the registry. */
  private async resolve(ref: ImageReference, signal?: AbortSignal): Promise<ResolvedImage> {
    const local = this.local === null ? null : await this.local.find(ref);
    if (local !== null) return { ...local, open: null };
    const source = this.registry.describe(ref);
    let fetched = await this.registry.manifest(ref, ref.tag, signal);
    let manifest = parseManifest(fetched.body, fetched.contentType);
    if (manifest.kind === 'index') {
      const chosen = choosePlatform(manifest);
      if (chosen === null) throw new BadManifest(`no linux/amd64 image in the manifest list of tag ${ref.tag}`);
      fetched = await this.registry.manifest(ref, chosen.digest, signal);
      manifest = parseManifest(fetched.body, fetched.contentType);
      if (manifest.kind !== 'image') throw new BadManifest(`the linux/amd64 entry ${chosen.digest} is not an image manifest`);
    }
    const { config, layers } = manifest;
    return {
      digest: fetched.digest,
      source,
      config,
      layers,
      // Blob fetches are shared with other pulls, so they do not take one caller's signal.
      blob: (descriptor) =>
        this.blobs.ensure(descriptor.digest, async () => {
          this.logger.info({ rootfs: ref.rootfs, digest: descriptor.digest, size: descriptor.size }, 'fetching-blob');
          return this.registry.blob(ref, descriptor.digest);
        }),
      open: (descriptor) => {
        this.logger.info({ rootfs: ref.rootfs, digest: descriptor.digest, size: descriptor.size }, 'fetching-blob');
        return this.registry.blob(ref, descriptor.digest);
      },
    };
  }

  /** A fresh directory under tmp/ named after this process, so a later start can tell abandoned work. */
  private async scratch(): Promise<{ path: string; remove: () => Promise<void> }> {
    const path = join(this.options.dir, 'tmp', `${process.pid}-${randomUUID()}`);
    await mkdir(path, { recursive: true });
    return { path, remove: () => rm(path, { recursive: true, force: true }) };
  }

  /** Removes tmp/ work of processes that are gone (a crash mid-pull), leaving that of live ones. */
  private async removeAbandonedWork(): Promise<void> {
    const tmp = join(this.options.dir, 'tmp');
    await mkdir(tmp, { recursive: true });
    for (const name of await readdir(tmp)) {
      const pid = Number(name.split('-')[0]);
      if (!Number.isInteger(pid) || !isAlive(pid)) await rm(join(tmp, name), { recursive: true, force: true });
    }
  }
}

/** A layer kept under layers/ (see the file comment), or null when there is none. */
async function readExtracted(dir: string): Promise<ExtractedLayer | null> {
  let listed: string;
  try {
    listed = await readFile(join(dir, 'dirs.json'), 'utf8');
  } catch {
    return null;
  }
  return { dir: join(dir, 'files'), explicitDirs: new Set(JSON.parse(listed) as string[]) };
}

/** Our own errors (RegistryError, BadManifest, DigestMismatch, LocalImageError) already say why in words. */
function describeFailure(err: unknown): string {
  const message = typeof err === 'object' && err !== null ? (err as { message?: unknown }).message : undefined;
  return typeof message === 'string' ? message : String(err);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** `work`, or the signal's reason as soon as it aborts (the work itself goes on for others). */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return work;
  signal.throwIfAborted();
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
