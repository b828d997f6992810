import { ImageError } from './errors';

/**
 * What a `docker://` rootfs names.
 *
 * @example
 *   parseDockerRootfs('docker:///busybox') // { registry: null, repository: 'library/busybox', tag: 'latest', ... }
 */
export interface ImageReference {
  /** `host` or `host:port`; null for the default registry. */
  registry: string | null;
  /** `org/image`, or `library/x` for a bare name on the default registry. */
  repository: string;
  /** `latest` when the URL has none. */
  tag: string;
  /** The URL as given. */
  rootfs: string;
}

// Docker's reference grammar (distribution/reference): path components, tags and registry hosts.
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^\w[\w.-]{0,127}$/;
const REGISTRY_HOST = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[0-9a-fA-F:.]+\])(?::\d{1,5})?$/;
const DOCKER_SCHEME = 'docker://';

/**
 * Parses Diego's docker rootfs forms: `docker:///org/image#tag` (the default registry),
 * `docker://host:port/org/image#tag`, with tag `latest` when none is given, and `docker:///image` as
 * `library/image` the way Docker names official images. Throws {@link ImageError} on anything else.
 *
 * @example
 *   parseDockerRootfs('docker://127.0.0.1:5000/org/app#v2') // { registry: '127.0.0.1:5000', repository: 'org/app', tag: 'v2', ... }
 */
export function parseDockerRootfs(rootfs: string): ImageReference {
  const invalid = (why: string): ImageError => new ImageError(`${rootfs}: not a docker image URL: ${why}`);
  if (!rootfs.startsWith(DOCKER_SCHEME)) throw invalid(`expected ${DOCKER_SCHEME}[host[:port]]/repository[#tag]`);
  const rest = rootfs.slice(DOCKER_SCHEME.length);
  const hashAt = rest.indexOf('#');
  const location = hashAt === -1 ? rest : rest.slice(0, hashAt);
  const tag = hashAt === -1 ? 'latest' : rest.slice(hashAt + 1);
  if (!TAG.test(tag)) throw invalid(`bad tag "${tag}"`);
  const slashAt = location.indexOf('/');
  if (slashAt === -1) throw invalid('no repository path');
  const host = location.slice(0, slashAt);
  const path = location.slice(slashAt + 1);
  if (host !== '' && !REGISTRY_HOST.test(host)) throw invalid(`bad registry host "${host}"`);
  if (path.includes('@')) throw invalid('references by digest are not supported');
  const components = path.split('/');
  const last = components[components.length - 1] ?? '';
  if (last.includes(':')) throw invalid(`give the tag after "#", not ":" ("${last}")`);
  for (const component of components) {
    if (!PATH_COMPONENT.test(component)) throw invalid(`bad repository name "${path}"`);
  }
  const registry = host === '' ? null : host;
  // Only the default registry (Docker Hub's convention) puts single names under library/.
  const repository = registry === null && components.length === 1 ? `library/${path}` : path;
  return { registry, repository, tag, rootfs };
}
