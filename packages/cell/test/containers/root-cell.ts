/**
 * What the root cell's end-to-end tests share: the images they push to a real registry, and counts of what a
 * cell puts on this machine (mounts, cgroups, links and rules, loop devices, processes) to prove none is left.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { busyboxLayer, fileLayer, pushImage } from '@diego/test-support';
import { countCellNetwork, findHierarchies } from '../../src/executor/linux';

/** Root-only suites run only as root: without it a cell has no namespaces, cgroups or bridge to test. */
export const asRoot = process.getuid?.() === 0 ? describe : describe.skip;
if (process.getuid?.() !== 0) {
  console.warn('skipping the root cell container tests: they need root (namespaces, cgroups, a bridge, loop devices)');
}

/** What the image `e2e/app#v1` has at /etc/x: a container that never wrote it sees this. */
export const IMAGE_ETC_X = 'from the image';
/** What its httpd serves at / (the seed's app, listening on $PORT inside). */
export const IMAGE_INDEX_HTML = 'hello from the image';

/**
 * Pushes the tests' images: `e2e/app#v1` (busybox, /etc/x, /www/index.html: no config, runs as root) and
 * `e2e/configured#v1` (the same layers with Env, WorkingDir /srv/app and User vcap).
 */
export async function pushTestImages(registryUrl: string): Promise<void> {
  const layers = [
    await busyboxLayer(),
    await fileLayer([
      { path: 'etc/x', content: IMAGE_ETC_X },
      { path: 'www', dir: true },
      { path: 'www/index.html', content: IMAGE_INDEX_HTML },
      { path: 'srv', dir: true },
      { path: 'srv/app', dir: true },
    ]),
  ];
  await pushImage(registryUrl, 'e2e/app', 'v1', layers, {});
  await pushImage(registryUrl, 'e2e/configured', 'v1', layers, {
    Env: ['PATH=/bin', 'FROM_IMAGE=image', 'OVERRIDDEN=image'],
    WorkingDir: '/srv/app',
    User: 'vcap',
  });
}

/** Everything of a cell with `cellId` and work dir `workDir` that exists on this machine now. */
export interface CellFootprint {
  /** Lines of /proc/self/mountinfo naming the work dir. */
  mounts: number;
  /** Directories under the cell's diego-<cellId> cgroups, the cell's own included. */
  cgroups: number;
  links: number;
  rules: number;
  /** `losetup -a` lines naming the work dir. */
  loopDevices: number;
  /** Processes whose command line names the work dir (the containers' holders and inits). */
  processes: number;
}

export async function cellFootprint(cellId: string, workDir: string): Promise<CellFootprint> {
  const mountinfo = await readFile('/proc/self/mountinfo', 'utf8');
  const { links, rules } = await countCellNetwork(cellId);
  const { stdout: loops } = await promisify(execFile)('losetup', ['-a']);
  return {
    mounts: mountinfo.split('\n').filter((line) => line.includes(workDir)).length,
    cgroups: await cellCgroupDirs(cellId),
    links,
    rules,
    loopDevices: loops.split('\n').filter((line) => line.includes(workDir)).length,
    processes: (await processesNaming(workDir)).length,
  };
}

async function cellCgroupDirs(cellId: string): Promise<number> {
  const hierarchies = findHierarchies(await readFile('/proc/self/mountinfo', 'utf8'), await readFile('/proc/self/cgroup', 'utf8'));
  let count = 0;
  for (const { ownDir } of hierarchies) {
    // The cell runs in a child process: its own cgroup is this process's (it was never moved).
    const cellDir = join(ownDir, `diego-${cellId}`);
    if (!existsSync(cellDir)) continue;
    count += 1 + (await readdir(cellDir, { withFileTypes: true })).filter((entry) => entry.isDirectory()).length;
  }
  return count;
}

/** Pids of the processes with `text` somewhere in their command line. */
export async function processesNaming(text: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if ((await readFile(`/proc/${entry}/cmdline`, 'utf8')).includes(text)) pids.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return pids;
}

/** Whether anything listens on TCP `port` in this process's network namespace (the host's). */
export async function listensOnHost(port: number): Promise<boolean> {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    const text = await readFile(table, 'utf8').catch(() => '');
    for (const line of text.split('\n').slice(1)) {
      const [, local = '', , state] = line.trim().split(/\s+/);
      if (state === '0A' && local.endsWith(`:${hexPort}`)) return true; // 0A: LISTEN
    }
  }
  return false;
}
