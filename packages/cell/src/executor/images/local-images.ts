/**
 * Images from a local directory, as Mesos's `--docker_registry=<path>` finds them. For repository `org/app`
 * and tag `v1` these are tried in order (a name on the default registry also without its `library/`):
 *   - `<dir>/org/app:v1.tar` or `<dir>/org_app:v1.tar`: a `docker save` tarball (manifest.json with
 *     RepoTags/Config/Layers; the entry tagged `org/app:v1`, else its only entry) or a tarred OCI layout;
 *   - `<dir>/org/app` or `<dir>/org_app`: an OCI image layout directory (oci-layout, index.json), the
 *     manifest whose `org.opencontainers.image.ref.name` annotation is `v1` or `org/app:v1`.
 */
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { isJsonObject } from '@diego/models';
import { BlobStore } from './blob-store';
import { runTar } from './layers';
import { BadManifest, choosePlatform, parseManifest, sha256Digest, type Descriptor } from './manifest';
import type { ImageReference } from './reference';

const REF_NAME_ANNOTATION = 'org.opencontainers.image.ref.name';

/** An image found locally, its blobs already in (or readable into) the blob store. */
export interface LocalImage {
  /** Where it was found, for logs and messages. */
  source: string;
  /** The manifest's digest (for a docker-save tarball, which has none, its config's digest). */
  digest: string;
  config: Descriptor;
  layers: Descriptor[];
  /** Stores the blob in the blob store (verified) and returns its path. */
  blob(descriptor: Descriptor): Promise<string>;
}

/** A local image that is there but cannot be read. */
export class LocalImageError extends Error {}

/**
 * Finds images in a local directory (see the file comment for the names it accepts).
 *
 * @example
 *   const image = await new LocalImages('/var/vcap/images', blobs, scratch).find(ref);
 */
export class LocalImages {
  /** Tarballs already read, by path: a second provide of one need not unpack it again while it is unchanged. */
  private readonly tarballs = new Map<string, { mtimeMs: number; size: number; image: LocalImage }>();

  constructor(
    private readonly dir: string,
    private readonly blobs: BlobStore,
    /** Makes an empty scratch directory on the blob store's file system; removed by the returned function. */
    private readonly scratch: () => Promise<{ path: string; remove: () => Promise<void> }>,
  ) {}

  /** The image for `ref`, or null when the directory has none under an accepted name. */
  async find(ref: ImageReference): Promise<LocalImage | null> {
    const names = new Set([ref.repository, ref.repository.replaceAll('/', '_')]);
    if (ref.registry === null && ref.repository.startsWith('library/')) names.add(ref.repository.slice('library/'.length));
    for (const name of names) {
      const tarball = join(this.dir, `${name}:${ref.tag}.tar`);
      if (await isFile(tarball)) {
        const { mtimeMs, size } = await stat(tarball);
        const known = this.tarballs.get(`${tarball} ${ref.repository}:${ref.tag}`);
        if (known !== undefined && known.mtimeMs === mtimeMs && known.size === size) return known.image;
        const image = await this.fromTarball(tarball, ref);
        this.tarballs.set(`${tarball} ${ref.repository}:${ref.tag}`, { mtimeMs, size, image });
        return image;
      }
      const layout = join(this.dir, name);
      if (await isFile(join(layout, 'oci-layout'))) return this.fromLayout(layout, ref);
    }
    return null;
  }

  private async fromTarball(tarball: string, ref: ImageReference): Promise<LocalImage> {
    const scratch = await this.scratch();
    try {
      await runTar(['-x', '-f', tarball, '-C', scratch.path]);
      if (await isFile(join(scratch.path, 'manifest.json'))) return await this.fromDockerSave(tarball, scratch.path, ref);
      if (await isFile(join(scratch.path, 'oci-layout'))) {
        const image = await this.fromLayout(scratch.path, ref);
        // The scratch copy goes away: take every blob into the store now.
        await Promise.all([image.config, ...image.layers].map((descriptor) => image.blob(descriptor)));
        return { ...image, source: tarball, blob: (descriptor) => Promise.resolve(this.blobs.path(descriptor.digest)) };
      }
      throw new LocalImageError(`${tarball} is neither a docker save tarball (no manifest.json) nor an OCI layout`);
    } finally {
      await scratch.remove();
    }
  }

  private async fromDockerSave(tarball: string, root: string, ref: ImageReference): Promise<LocalImage> {
    const entries = parseJson(await readFile(join(root, 'manifest.json')), `${tarball}: manifest.json`);
    if (!Array.isArray(entries) || entries.length === 0) throw new LocalImageError(`${tarball}: manifest.json lists no image`);
    const wanted = new Set([`${ref.repository}:${ref.tag}`, `${ref.repository.replace(/^library\//, '')}:${ref.tag}`]);
    const tagged = entries.find((entry: unknown) => isJsonObject(entry) && Array.isArray(entry.RepoTags) && entry.RepoTags.some((tag) => wanted.has(String(tag))));
    const entry: unknown = tagged ?? (entries.length === 1 ? entries[0] : undefined);
    if (!isJsonObject(entry) || typeof entry.Config !== 'string' || !Array.isArray(entry.Layers)) {
      throw new LocalImageError(`${tarball}: manifest.json has no image tagged ${[...wanted][0]}`);
    }
    const adopt = async (member: unknown, mediaType: string): Promise<Descriptor> => {
      if (typeof member !== 'string' || member.split('/').includes('..')) throw new LocalImageError(`${tarball}: bad member name ${String(member)}`);
      const { digest, size } = await this.blobs.adopt(createReadStream(join(root, member)));
      return { mediaType, digest, size };
    };
    const config = await adopt(entry.Config, 'application/vnd.docker.container.image.v1+json');
    const layers: Descriptor[] = [];
    for (const layer of entry.Layers) layers.push(await adopt(layer, 'application/vnd.docker.image.rootfs.diff.tar'));
    return { source: tarball, digest: config.digest, config, layers, blob: (descriptor) => Promise.resolve(this.blobs.path(descriptor.digest)) };
  }

  private async fromLayout(layout: string, ref: ImageReference): Promise<LocalImage> {
    const blobFile = (digest: string): string => join(layout, 'blobs', ...digest.split(':'));
    const readBlob = async (descriptor: Descriptor): Promise<Buffer> => {
      const bytes = await readFile(blobFile(descriptor.digest));
      if (sha256Digest(bytes) !== descriptor.digest) throw new LocalImageError(`${layout}: blob ${descriptor.digest} failed verification`);
      return bytes;
    };
    const index = parseManifest(await readFile(join(layout, 'index.json')), 'application/vnd.oci.image.index.v1+json');
    if (index.kind !== 'index') throw new LocalImageError(`${layout}: index.json is not an image index`);
    const raw = parseJson(await readFile(join(layout, 'index.json')), `${layout}: index.json`);
    const refNames = new Set([ref.tag, `${ref.repository}:${ref.tag}`, `${ref.repository.replace(/^library\//, '')}:${ref.tag}`]);
    const rawManifests: unknown[] = isJsonObject(raw) && Array.isArray(raw.manifests) ? raw.manifests : [];
    const position = rawManifests.findIndex((entry) => {
      const annotations = isJsonObject(entry) && isJsonObject(entry.annotations) ? entry.annotations : {};
      return refNames.has(String(annotations[REF_NAME_ANNOTATION]));
    });
    let descriptor: Descriptor | null = position === -1 ? null : (index.manifests[position] ?? null);
    if (descriptor === null) throw new LocalImageError(`${layout}: no manifest named ${ref.tag} in index.json`);
    let manifest = parseManifest(await readBlob(descriptor), descriptor.mediaType);
    if (manifest.kind === 'index') {
      descriptor = choosePlatform(manifest);
      if (descriptor === null) throw new BadManifest('no linux/amd64 image in the index');
      manifest = parseManifest(await readBlob(descriptor), descriptor.mediaType);
      if (manifest.kind !== 'image') throw new BadManifest('an index entry for linux/amd64 is itself an index');
    }
    const image = manifest;
    return {
      source: layout,
      digest: descriptor.digest,
      config: image.config,
      layers: image.layers,
      blob: (blob) => this.blobs.ensure(blob.digest, () => Promise.resolve(createReadStream(blobFile(blob.digest)))),
    };
  }
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

function parseJson(bytes: Buffer, what: string): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new LocalImageError(`${what} is not JSON`);
  }
}

