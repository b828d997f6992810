/**
 * How a root cell's container comes to life: the command line of the process that holds its namespaces, and the
 * shell script its init runs before it sleeps. Everything the script mounts lives in the container's own mount
 * namespace, so it all goes when the init dies (a destroy, a crash of the cell, a SIGKILL): no mount, loop device or
 * network interface of a container can outlive it. The script is run by the host's /bin/sh, before any image
 * binary, so it works for images that have no shell at all.
 */

/** Where a container's processes see their root. */
export type ContainerRootSpec =
  /** The host's root, with the container's own /tmp bound over /tmp (preloaded rootfses given without a path). */
  | { kind: 'host' }
  /**
   * A root of its own: `lowerDir` (an image's layers applied, or a preloaded rootfs) read-only under an upper
   * directory of the container's, by an overlay mount, or by a copy where the kernel has no overlay.
   */
  | { kind: 'own'; lowerDir: string; backend: 'overlay' | 'copy' };

/** What the init of a container with its own root prepares. Paths are on the host. */
export interface InitLayout {
  /** <containerDir>/rootfs: the container's `/`, as the init's mount namespace sees it. */
  rootDir: string;
  /** <containerDir>/rw: the upper and work directories, on the disk image's file system when there is one. */
  writableDir: string;
}

export function initLayout(containerDir: string): InitLayout {
  return { rootDir: `${containerDir}/rootfs`, writableDir: `${containerDir}/rw` };
}

/** Devices a process may expect (runc's default set, less the ones that need a terminal). */
const DEVICES = ['null', 'zero', 'full', 'random', 'urandom', 'tty'];

/**
 * $1 the container's tmp dir, $2 the container dir (as the `host` kind had it since the start: its /tmp over the
 * host's /tmp).
 */
const HOST_ROOT_SCRIPT = [
  'set -e',
  'mount --make-rprivate /',
  'mount --bind "$1" /tmp',
  'echo ready',
  'exec sleep infinity',
].join('\n');

/**
 * $1 lower dir, $2 container dir, $3 overlay|copy, $4 the disk image ('' = no disk limit), $5 the hostname.
 * The upper directory lives on the disk image's ext4 when the container has a disk limit, so a write past
 * disk_mb fails with ENOSPC there and nowhere else.
 */
const OWN_ROOT_SCRIPT = [
  'set -e',
  'mount --make-rprivate /',
  'R="$2/rootfs"; W="$2/rw"',
  'mkdir -p "$R" "$W"',
  'if [ -n "$4" ]; then mount -o loop,nosuid,nodev "$4" "$W"; fi',
  'mkdir -p "$W/upper" "$W/work"',
  'if [ "$3" = overlay ]; then',
  '  mount -t overlay overlay -o "lowerdir=$1,upperdir=$W/upper,workdir=$W/work" "$R"',
  'else',
  '  cp -a "$1/." "$W/upper/"',
  '  mount --bind "$W/upper" "$R"',
  'fi',
  'mkdir -p "$R/proc" "$R/dev" "$R/tmp" "$R/etc" "$R/sys"',
  'chmod 1777 "$R/tmp"',
  'mount -t proc -o nosuid,nodev,noexec proc "$R/proc"',
  'mount -t tmpfs -o nosuid,mode=755,size=64k dev "$R/dev"',
  `for d in ${DEVICES.join(' ')}; do : > "$R/dev/$d"; mount --bind "/dev/$d" "$R/dev/$d"; done`,
  'mkdir "$R/dev/shm" "$R/dev/pts"',
  'mount -t tmpfs -o nosuid,nodev,mode=1777 shm "$R/dev/shm"',
  'ln -s /proc/self/fd "$R/dev/fd"',
  'ln -s /proc/self/fd/0 "$R/dev/stdin"; ln -s /proc/self/fd/1 "$R/dev/stdout"; ln -s /proc/self/fd/2 "$R/dev/stderr"',
  // The image's own files are replaced, as Docker does: the host's resolver, and a hosts file naming the container.
  'rm -f "$R/etc/resolv.conf" "$R/etc/hosts" "$R/etc/hostname"',
  'if [ -f /etc/resolv.conf ]; then cat /etc/resolv.conf > "$R/etc/resolv.conf"; fi',
  'printf "127.0.0.1 localhost %s\\n::1 localhost\\n" "$5" > "$R/etc/hosts"',
  'printf "%s\\n" "$5" > "$R/etc/hostname"',
  // Through /proc, not hostname(1): that refuses names a guid may have (`_`, a leading `-`); the kernel takes them.
  'printf %s "$5" > /proc/sys/kernel/hostname',
  'echo ready',
  'exec sleep infinity',
].join('\n');

export interface HolderOptions {
  root: ContainerRootSpec;
  containerDir: string;
  tmpDir: string;
  /** cgroup.procs files the holder joins before it unshares, so that every process of the container is in them. */
  cgroupProcsFiles: string[];
  /** A network namespace of its own (the cell wires it once the init exists). */
  ownNetwork: boolean;
  /** The ext4 image the writable layer lives on ('' = none). */
  diskImage: string;
  hostname: string;
}

/**
 * The holder's command line: it joins the container's cgroups, then `unshare` forks the init of new mount, pid
 * (and uts, net) namespaces, which runs the script and sleeps. `--pdeathsig KILL` on the holder and
 * `--kill-child` on unshare make the init die with the cell.
 */
export function holderCommand(options: HolderOptions): string[] {
  const namespaces = ['--mount', '--pid', '--fork', '--kill-child=KILL'];
  if (options.ownNetwork) namespaces.push('--net');
  let script: string[];
  if (options.root.kind === 'host') {
    namespaces.push('--mount-proc');
    script = [HOST_ROOT_SCRIPT, 'sh', options.tmpDir, options.containerDir];
  } else {
    namespaces.push('--uts');
    script = [
      OWN_ROOT_SCRIPT, 'sh', options.root.lowerDir, options.containerDir, options.root.backend, options.diskImage,
      options.hostname,
    ];
  }
  return buildCommand(namespaces, script, options.cgroupProcsFiles);
}

function buildCommand(namespaces: string[], script: string[], cgroupProcsFiles: string[]): string[] {
  const unshare = ['unshare', ...namespaces, '--', '/bin/sh', '-c', ...script];
  return ['setpriv', '--pdeathsig', 'KILL', ...inCgroups(cgroupProcsFiles, unshare)];
}

/**
 * `command`, run after joining the cgroups whose cgroup.procs files are given (none: `command` as it is). The
 * holder joins them before it unshares; every run action joins them too, since `nsenter` enters namespaces but
 * not cgroups: a process it starts stays in the cell's cgroup, beyond the container's limits.
 */
export function inCgroups(cgroupProcsFiles: string[], command: string[]): string[] {
  if (cgroupProcsFiles.length === 0) return command;
  // The files come first as the script's arguments, then `--` and the command to exec once joined.
  const join = 'while [ "$1" != -- ]; do echo $$ > "$1"; shift; done; shift; exec "$@"';
  return ['/bin/sh', '-c', join, 'join-cgroups', ...cgroupProcsFiles, '--', ...command];
}
