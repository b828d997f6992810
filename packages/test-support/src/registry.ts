/**
 * A real Docker registry for tests (Debian's `docker-registry`, distribution 2.8) and images to put in it:
 * layers built with GNU tar and zlib, pushed through the registry's own upload API, or written as a
 * `docker save` tarball or an OCI image layout for the local-directory provisioner.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, chown, copyFile, link, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, posix } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { manageChild } from './child';
import { freePorts } from './etcd';
import { eventually } from './eventually';

/** A running registry started by {@link startRegistry}. */
export interface RegistryProcess {
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** `127.0.0.1:<port>`, as a `docker://` rootfs names it. */
  host: string;
  /** Kills the registry and removes its storage. Safe to call twice. */
  stop(): Promise<void>;
}

const STDERR_TAIL_LINES = 30;

/**
 * Starts `docker-registry serve` on a free loopback port with its storage in a temp directory, and resolves
 * once `/v2/` answers.
 *
 * @example
 *   const registry = await startRegistry();
 *   await pushImage(registry.url, 'org/app', 'v1', [await busyboxLayer()], { Cmd: ['sh'] });
 *   // ... docker://${registry.host}/org/app#v1
 *   await registry.stop();
 */
export async function startRegistry(): Promise<RegistryProcess> {
  const [port] = await freePorts(1);
  const host = `127.0.0.1:${port}`;
  const url = `http://${host}`;
  const dir = await mkdtemp(join(tmpdir(), 'diego-registry-'));
  const configFile = join(dir, 'config.yml');
  await writeFile(
    configFile,
    [
      'version: 0.1',
      'log: { level: warn, accesslog: { disabled: true } }',
      `storage: { filesystem: { rootdirectory: ${join(dir, 'data')} }, delete: { enabled: true } }`,
      `http: { addr: "${host}", secret: test-only-upload-state-secret }`,
    ].join('\n'),
  );
  const child = spawn('docker-registry', ['serve', configFile], { stdio: ['ignore', 'ignore', 'pipe'] });
  const stderrTail: string[] = [];
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderrTail.push(...chunk.split('\n').filter((line) => line !== ''));
    stderrTail.splice(0, Math.max(0, stderrTail.length - STDERR_TAIL_LINES));
  });
  const { exited, stop } = manageChild(child, { cleanUp: () => rm(dir, { recursive: true, force: true }) });
  let exitReason: string | null = null;
  void exited.then((why) => (exitReason = why));
  try {
    await eventually(
      async () => exitReason ?? (await fetch(`${url}/v2/`).then((response) => `HTTP ${response.status}`, (err: Error) => err.message)),
      (state) => state === 'HTTP 200' || exitReason !== null,
      { timeoutMs: 15000 },
    );
    if (exitReason !== null) throw new Error(exitReason);
  } catch (err) {
    await stop();
    throw new Error(`could not start docker-registry on ${host}: ${(err as Error).message}\n${stderrTail.join('\n')}`);
  }
  return { url, host, stop };
}

/** One entry of a layer built by {@link fileLayer}; archived in the order given, parents only when listed. */
export type LayerEntry =
  | { path: string; content: string | Buffer; mode?: number; uid?: number; gid?: number }
  | { path: string; symlink: string }
  | { path: string; hardlink: string }
  | { path: string; dir: true; mode?: number; uid?: number; gid?: number }
  /** `.wh.<name>` beside it: deletes `path` of the lower layers. */
  | { path: string; whiteout: true }
  /** `<path>/.wh..wh..opq`: hides everything the lower layers have in directory `path`. */
  | { path: string; opaque: true };

/**
 * A gzipped layer holding exactly `entries`, in order (a file's directory gets no entry of its own unless
 * listed, so a test can write through whatever a lower layer has at that path). Ownership needs root.
 *
 * @example
 *   await fileLayer([{ path: 'etc/motd', content: 'hi\n' }, { path: 'bin/ls', whiteout: true }, { path: 'srv', opaque: true }])
 */
export async function fileLayer(entries: LayerEntry[]): Promise<Buffer> {
  const staging = await mkdtemp(join(tmpdir(), 'diego-layer-'));
  try {
    const members: string[] = [];
    for (const entry of entries) {
      const path = posix.normalize(entry.path).replace(/^\/+|\/+$/g, '');
      const at = join(staging, path);
      await mkdir(dirname(at), { recursive: true });
      let member = path;
      if ('content' in entry) {
        await writeFile(at, entry.content);
        await setOwnerAndMode(at, entry.mode ?? 0o644, entry.uid, entry.gid);
      } else if ('symlink' in entry) {
        await symlink(entry.symlink, at);
      } else if ('hardlink' in entry) {
        await link(join(staging, entry.hardlink), at);
      } else if ('dir' in entry) {
        await mkdir(at, { recursive: true });
        await setOwnerAndMode(at, entry.mode ?? 0o755, entry.uid, entry.gid);
      } else if ('whiteout' in entry) {
        member = posix.join(posix.dirname(path), `.wh.${posix.basename(path)}`);
        await writeFile(join(staging, member), '');
      } else {
        member = posix.join(path, '.wh..wh..opq');
        await mkdir(at, { recursive: true });
        await writeFile(join(staging, member), '');
      }
      members.push(member);
    }
    return gzipSync(await tar(['-c', '--no-recursion', '--numeric-owner', '--mtime=@0', '-C', staging, '--null', '-T', '-', '-f', '-'], members.join('\0')));
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

/** Applets {@link busyboxLayer} links to /bin/busybox. */
export const BUSYBOX_APPLETS = [
  'sh', 'ls', 'cat', 'echo', 'sleep', 'dd', 'id', 'mkdir', 'rm', 'nc', 'wget', 'httpd', 'env', 'pwd', 'ps', 'head',
  'grep', 'yes', 'tail', 'seq', 'true', 'false', 'touch', 'chmod', 'hostname', 'ip', 'ifconfig', 'route', 'ping',
  'nslookup',
] as const;

/**
 * A gzipped base layer: the host's static /bin/busybox with symlinks for {@link BUSYBOX_APPLETS}, /etc/passwd
 * and /etc/group with root and `vcap` (uid and gid 2000), /etc/hostname and a world-writable sticky /tmp.
 * Byte for byte the same on every call (fixed mtimes, sorted names), so its digest is stable.
 */
export async function busyboxLayer(): Promise<Buffer> {
  const staging = await mkdtemp(join(tmpdir(), 'diego-busybox-'));
  try {
    for (const dir of ['bin', 'etc', 'tmp', 'root', 'home/vcap']) await mkdir(join(staging, dir), { recursive: true, mode: 0o755 });
    await copyFile('/bin/busybox', join(staging, 'bin/busybox'));
    await chmod(join(staging, 'bin/busybox'), 0o755);
    for (const applet of BUSYBOX_APPLETS) await symlink('busybox', join(staging, 'bin', applet));
    await writeFile(join(staging, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nvcap:x:2000:2000:vcap:/home/vcap:/bin/sh\n');
    await writeFile(join(staging, 'etc/group'), 'root:x:0:\nvcap:x:2000:\n');
    await writeFile(join(staging, 'etc/hostname'), 'busybox\n');
    await chmod(join(staging, 'tmp'), 0o1777);
    await chmod(join(staging, 'root'), 0o700);
    const owners = process.getuid?.() === 0 ? [] : ['--owner=0', '--group=0'];
    if (owners.length === 0) await chown(join(staging, 'home/vcap'), 2000, 2000);
    return gzipSync(await tar(['-c', '--sort=name', '--mtime=@0', '--numeric-owner', ...owners, '-C', staging, '-f', '-', '.'], ''));
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

/** The fields of a Docker image config's `config` section the tests set. */
export interface DockerContainerConfig {
  Env?: string[];
  Cmd?: string[];
  Entrypoint?: string[];
  WorkingDir?: string;
  User?: string;
  ExposedPorts?: Record<string, Record<string, never>>;
}

/** Digests of an image written by {@link pushImage}, {@link saveImageTarball} or {@link writeOciLayout}. */
export interface BuiltImage {
  /** What the tag names: the manifest's digest, or the list's or index's. */
  digest: string;
  /** The linux/amd64 image manifest's digest (the same as `digest` without a list). */
  manifestDigest: string;
  configDigest: string;
  layerDigests: string[];
}

export interface PushImageOptions {
  /** Docker schema 2 (default) or OCI media types. */
  mediaType?: 'docker' | 'oci';
  /** Tag a manifest list (Docker) or index (OCI) whose linux/amd64 entry is the image, after a linux/arm64 decoy. */
  index?: boolean;
}

/**
 * Pushes the layers, a config (linux/amd64, `config` as its container config) and the manifest with the
 * registry's upload API (POST then monolithic PUT ?digest=).
 *
 * @example
 *   const { digest } = await pushImage(registry.url, 'org/app', 'v1', [await busyboxLayer()], { Env: ['A=1'] }, { mediaType: 'oci' });
 */
export async function pushImage(
  registryUrl: string,
  repository: string,
  tag: string,
  layers: Buffer[],
  config: DockerContainerConfig,
  options: PushImageOptions = {},
): Promise<BuiltImage> {
  const mediaType = options.mediaType ?? 'docker';
  const image = buildImage(layers, config, mediaType, 'amd64');
  const put = (reference: string, manifest: Buffer, type: string): Promise<void> =>
    request(`${registryUrl}/v2/${repository}/manifests/${reference}`, { method: 'PUT', body: manifest, headers: { 'Content-Type': type } });
  for (const [digest, bytes] of image.blobs) await pushBlob(registryUrl, repository, digest, bytes);
  if (options.index !== true) {
    await put(tag, image.manifest, image.manifestMediaType);
    return image.digests;
  }
  const decoy = buildImage(layers, { ...config, Env: [...(config.Env ?? []), 'PLATFORM=linux/arm64'] }, mediaType, 'arm64');
  for (const [digest, bytes] of decoy.blobs) await pushBlob(registryUrl, repository, digest, bytes);
  await put(decoy.digests.manifestDigest, decoy.manifest, decoy.manifestMediaType);
  await put(image.digests.manifestDigest, image.manifest, image.manifestMediaType);
  const platformEntry = (built: ReturnType<typeof buildImage>, architecture: string): object => ({
    mediaType: built.manifestMediaType,
    digest: built.digests.manifestDigest,
    size: built.manifest.length,
    platform: { architecture, os: 'linux' },
  });
  const indexMediaType = mediaType === 'oci' ? 'application/vnd.oci.image.index.v1+json' : 'application/vnd.docker.distribution.manifest.list.v2+json';
  const index = Buffer.from(
    JSON.stringify({ schemaVersion: 2, mediaType: indexMediaType, manifests: [platformEntry(decoy, 'arm64'), platformEntry(image, 'amd64')] }),
  );
  await put(tag, index, indexMediaType);
  return { ...image.digests, digest: sha256(index) };
}

/**
 * Writes a `docker save` tarball (manifest.json with RepoTags/Config/Layers, uncompressed `<id>/layer.tar`s) to `file`.
 *
 * @example
 *   await saveImageTarball(join(localDir, 'org_app:v1.tar'), 'org/app:v1', [await busyboxLayer()], {});
 */
export async function saveImageTarball(file: string, repoTag: string, layers: Buffer[], config: DockerContainerConfig): Promise<BuiltImage> {
  const plain = layers.map(gunzipIfGzip);
  const image = buildImage(plain, config, 'docker', 'amd64');
  const dir = await mkdtemp(join(tmpdir(), 'diego-save-'));
  try {
    const configName = `${hex(image.digests.configDigest)}.json`;
    await writeFile(join(dir, configName), image.blobs.get(image.digests.configDigest)!);
    const layerNames: string[] = [];
    for (const [index, layer] of plain.entries()) {
      const name = `${hex(image.digests.layerDigests[index]!)}/layer.tar`;
      await mkdir(join(dir, dirname(name)), { recursive: true });
      await writeFile(join(dir, name), layer);
      layerNames.push(name);
    }
    await writeFile(join(dir, 'manifest.json'), JSON.stringify([{ Config: configName, RepoTags: [repoTag], Layers: layerNames }]));
    await mkdir(dirname(file), { recursive: true });
    await tar(['-c', '-f', file, '-C', dir, '.'], '');
    return { ...image.digests, digest: image.digests.configDigest, manifestDigest: image.digests.configDigest };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Writes an OCI image layout directory at `dir` whose index.json names the image `refName`
 * (`org.opencontainers.image.ref.name`, e.g. the tag).
 */
export async function writeOciLayout(dir: string, refName: string, layers: Buffer[], config: DockerContainerConfig): Promise<BuiltImage> {
  const image = buildImage(layers, config, 'oci', 'amd64');
  await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true });
  for (const [digest, bytes] of [...image.blobs, [image.digests.manifestDigest, image.manifest] as const]) {
    await writeFile(join(dir, 'blobs', 'sha256', hex(digest)), bytes);
  }
  await writeFile(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  await writeFile(
    join(dir, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [
        {
          mediaType: image.manifestMediaType,
          digest: image.digests.manifestDigest,
          size: image.manifest.length,
          annotations: { 'org.opencontainers.image.ref.name': refName },
        },
      ],
    }),
  );
  return image.digests;
}

/** Config blob, manifest and digests of an image of `layers` (gzipped or plain). */
function buildImage(layers: Buffer[], config: DockerContainerConfig, mediaType: 'docker' | 'oci', architecture: string) {
  const oci = mediaType === 'oci';
  const configBlob = Buffer.from(
    JSON.stringify({ architecture, os: 'linux', config, rootfs: { type: 'layers', diff_ids: layers.map((layer) => sha256(gunzipIfGzip(layer))) }, history: [] }),
  );
  const configDigest = sha256(configBlob);
  const layerDigests = layers.map(sha256);
  const layerMediaType = (layer: Buffer): string =>
    isGzip(layer)
      ? oci ? 'application/vnd.oci.image.layer.v1.tar+gzip' : 'application/vnd.docker.image.rootfs.diff.tar.gzip'
      : oci ? 'application/vnd.oci.image.layer.v1.tar' : 'application/vnd.docker.image.rootfs.diff.tar.gzip';
  const manifestMediaType = oci ? 'application/vnd.oci.image.manifest.v1+json' : 'application/vnd.docker.distribution.manifest.v2+json';
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: manifestMediaType,
      config: { mediaType: oci ? 'application/vnd.oci.image.config.v1+json' : 'application/vnd.docker.container.image.v1+json', size: configBlob.length, digest: configDigest },
      layers: layers.map((layer, i) => ({ mediaType: layerMediaType(layer), size: layer.length, digest: layerDigests[i] })),
    }),
  );
  const manifestDigest = sha256(manifest);
  const blobs = new Map<string, Buffer>([[configDigest, configBlob], ...layers.map((layer, i) => [layerDigests[i]!, layer] as [string, Buffer])]);
  return { blobs, manifest, manifestMediaType, digests: { digest: manifestDigest, manifestDigest, configDigest, layerDigests } };
}

async function pushBlob(registryUrl: string, repository: string, digest: string, bytes: Buffer): Promise<void> {
  const started = await fetch(`${registryUrl}/v2/${repository}/blobs/uploads/`, { method: 'POST' });
  await started.arrayBuffer();
  const location = started.headers.get('location');
  if (started.status !== 202 || location === null) throw new Error(`blob upload to ${repository} not started: HTTP ${started.status}`);
  const upload = new URL(location, registryUrl);
  upload.searchParams.set('digest', digest);
  await request(upload.toString(), { method: 'PUT', body: bytes, headers: { 'Content-Type': 'application/octet-stream' } });
}

async function request(url: string, init: RequestInit): Promise<void> {
  const response = await fetch(url, init);
  const text = await response.text();
  if (!response.ok) throw new Error(`${init.method ?? 'GET'} ${url}: HTTP ${response.status} ${text}`);
}

async function setOwnerAndMode(path: string, mode: number, uid: number | undefined, gid: number | undefined): Promise<void> {
  if (uid !== undefined || gid !== undefined) await chown(path, uid ?? 0, gid ?? 0);
  await chmod(path, mode);
}

function tar(args: string[], stdin: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn('tar', args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const stdout: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolve(Buffer.concat(stdout)) : reject(new Error(`tar ${args.join(' ')}: ${stderr.trim()}`))));
    // tar given no file list (-T -) may exit before reading its stdin, and the write then fails with EPIPE: its
    // exit status says whether it worked.
    child.stdin.on('error', () => undefined);
    child.stdin.end(stdin);
  });
}

const isGzip = (bytes: Buffer): boolean => bytes[0] === 0x1f && bytes[1] === 0x8b;
const gunzipIfGzip = (bytes: Buffer): Buffer => (isGzip(bytes) ? gunzipSync(bytes) : bytes);
const sha256 = (bytes: Buffer): string => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
const hex = (digest: string): string => digest.slice('sha256:'.length);
