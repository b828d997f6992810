/**
 * Image manifests, indexes and configs as the registry API and the OCI image spec define them: media types,
 * parsing of untrusted JSON into typed descriptors, and the linux/amd64 choice in a manifest list or index.
 */
import { createHash } from 'node:crypto';
import { isJsonObject } from '@diego/models';

export const MediaType = {
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
} as const;

/** Accept header for a manifest request: every form we can read. */
export const MANIFEST_ACCEPT = Object.values(MediaType).join(', ');

/** Layer media types we apply, by how their bytes are compressed (told apart by magic number anyway). */
const LAYER_MEDIA_TYPES = new Set([
  'application/vnd.docker.image.rootfs.diff.tar.gzip',
  'application/vnd.oci.image.layer.v1.tar',
  'application/vnd.oci.image.layer.v1.tar+gzip',
  'application/vnd.oci.image.layer.v1.tar+zstd',
]);
const CONFIG_MEDIA_TYPES = new Set(['application/vnd.docker.container.image.v1+json', 'application/vnd.oci.image.config.v1+json']);

export const PLATFORM = { os: 'linux', architecture: 'amd64' } as const;

/** A content-addressed blob named by a manifest. */
export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
}

export interface ImageManifest {
  kind: 'image';
  config: Descriptor;
  layers: Descriptor[];
}

export interface ManifestIndex {
  kind: 'index';
  manifests: Array<Descriptor & { platform: { os: string; architecture: string } | null }>;
}

/**
 * The parts of an image's config a container is started with.
 *
 * @example
 *   { env: ['PATH=/bin'], workingDir: '/app', user: 'vcap', entrypoint: ['/bin/sh'], cmd: ['-c', 'serve'], exposedPorts: [8080] }
 */
export interface ImageConfig {
  /** `K=V` pairs. */
  env: string[];
  workingDir: string;
  user: string;
  entrypoint: string[];
  cmd: string[];
  /** The tcp ports of `ExposedPorts` (`'8080/tcp'`), ascending. */
  exposedPorts: number[];
}

/** A manifest's content was not what its media type promises; the caller names the image. */
export class BadManifest extends Error {}

const DIGEST = /^sha256:[0-9a-f]{64}$/;

export function sha256Digest(bytes: Buffer): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** `sha256:<hex>` to `<hex>`, after checking the form (digests become file names). */
export function digestHex(digest: string): string {
  if (!DIGEST.test(digest)) throw new BadManifest(`unsupported digest "${digest}" (only sha256 is supported)`);
  return digest.slice('sha256:'.length);
}

/**
 * Parses a manifest or index. `contentType` is the registry's Content-Type (or an OCI descriptor's media
 * type); the document's own `mediaType` is used when that is missing or generic.
 */
export function parseManifest(body: Buffer, contentType: string | null): ImageManifest | ManifestIndex {
  let document: unknown;
  try {
    document = JSON.parse(body.toString('utf8'));
  } catch {
    throw new BadManifest('bad manifest: not JSON');
  }
  if (!isJsonObject(document)) throw new BadManifest('bad manifest: not a JSON object');
  const declared = typeof document.mediaType === 'string' ? document.mediaType : null;
  const generic = contentType === null || contentType === '' || contentType.startsWith('application/json') || contentType.startsWith('text/plain');
  const mediaType = generic ? (declared ?? inferMediaType(document)) : contentType.split(';')[0]!.trim();
  switch (mediaType) {
    case MediaType.dockerManifest:
    case MediaType.ociManifest: {
      const config = descriptor(document.config, 'config');
      if (!CONFIG_MEDIA_TYPES.has(config.mediaType)) throw new BadManifest(`unsupported media type ${config.mediaType} (config)`);
      if (!Array.isArray(document.layers)) throw new BadManifest('bad manifest: no layers');
      const layers = document.layers.map((layer, i) => descriptor(layer, `layer ${i}`));
      for (const layer of layers) {
        if (!LAYER_MEDIA_TYPES.has(layer.mediaType)) throw new BadManifest(`unsupported media type ${layer.mediaType} (layer ${layer.digest})`);
      }
      return { kind: 'image', config, layers };
    }
    case MediaType.dockerManifestList:
    case MediaType.ociIndex: {
      if (!Array.isArray(document.manifests)) throw new BadManifest('bad manifest: an index without manifests');
      const manifests = document.manifests.map((entry: unknown, i) => {
        const platform = isJsonObject(entry) && isJsonObject(entry.platform) ? entry.platform : null;
        return {
          ...descriptor(entry, `manifest ${i}`),
          platform:
            platform !== null && typeof platform.os === 'string' && typeof platform.architecture === 'string'
              ? { os: platform.os, architecture: platform.architecture }
              : null,
        };
      });
      return { kind: 'index', manifests };
    }
    default:
      throw new BadManifest(`unsupported media type ${mediaType}`);
  }
}

/** The linux/amd64 entry of an index, or null when it has none. */
export function choosePlatform(index: ManifestIndex): Descriptor | null {
  return (
    index.manifests.find(
      (entry) =>
        entry.platform?.os === PLATFORM.os &&
        entry.platform.architecture === PLATFORM.architecture &&
        (entry.mediaType === MediaType.dockerManifest || entry.mediaType === MediaType.ociManifest),
    ) ?? null
  );
}

/** Reads the container defaults out of an image config blob (Docker's and OCI's share these fields). */
export function parseImageConfig(body: Buffer): ImageConfig {
  let document: unknown;
  try {
    document = JSON.parse(body.toString('utf8'));
  } catch {
    throw new BadManifest('bad image config: not JSON');
  }
  if (!isJsonObject(document)) throw new BadManifest('bad image config: not a JSON object');
  const config = isJsonObject(document.config) ? document.config : {};
  const exposed = isJsonObject(config.ExposedPorts) ? Object.keys(config.ExposedPorts) : [];
  const exposedPorts = exposed
    .map((spec) => /^(\d+)(?:\/tcp)?$/.exec(spec))
    .filter((match): match is RegExpExecArray => match !== null)
    .map((match) => Number(match[1]))
    .sort((a, b) => a - b);
  return {
    env: strings(config.Env),
    workingDir: typeof config.WorkingDir === 'string' ? config.WorkingDir : '',
    user: typeof config.User === 'string' ? config.User : '',
    entrypoint: strings(config.Entrypoint),
    cmd: strings(config.Cmd),
    exposedPorts,
  };
}

function inferMediaType(document: Record<string, unknown>): string {
  // OCI allows manifests without mediaType; their shape tells them apart.
  if (Array.isArray(document.manifests)) return MediaType.ociIndex;
  if (isJsonObject(document.config) && Array.isArray(document.layers)) return MediaType.ociManifest;
  return document.schemaVersion === 1 ? 'application/vnd.docker.distribution.manifest.v1+json' : 'unknown';
}

function descriptor(value: unknown, what: string): Descriptor {
  if (!isJsonObject(value) || typeof value.mediaType !== 'string' || typeof value.digest !== 'string' || typeof value.size !== 'number') {
    throw new BadManifest(`bad manifest: ${what} is not a descriptor`);
  }
  digestHex(value.digest);
  return { mediaType: value.mediaType, digest: value.digest, size: value.size };
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
}

