/**
 * The executor a `diego cell` runs with, from its config. As root: images from the registry and the local image
 * directory, cgroups, and a bridge with a network namespace per container, after removing whatever a killed
 * predecessor with the same cell ID left (container directories, cgroups, its bridge and firewall rules). Without
 * root: plain processes, and the cell says what it gives up.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { CellConfig } from '../config';
import { ImageStore, type ImageConfig } from './images';
import { CellCgroups, CellNetwork, forwardPort, removeCellNetworkLeftovers } from './linux';
import { ProcessExecutor, type ProcessExecutorOptions } from './process-executor';

export interface CellExecutor {
  executor: ProcessExecutor;
  /** What the cell advertises: `preloaded` always, `docker` (any image) when it runs images. */
  rootfsProviders: Record<string, string[]>;
  /** A `docker://` image's config (Entrypoint, Cmd, ExposedPorts... to build a run action from); null without images. */
  imageConfig: ((rootfs: string) => Promise<ImageConfig>) | null;
  /** Removes the cell's bridge, rules and cgroups (after every container was destroyed). */
  close(): Promise<void>;
}

/** What the cell's flags set of its containers' behaviour, root or not; each unset one keeps the executor's default. */
function executorSettings(config: CellConfig): Partial<ProcessExecutorOptions> {
  return {
    ...(config.exportNetworkEnvVars === undefined ? {} : { exportNetworkEnvVars: config.exportNetworkEnvVars }),
    ...(config.containerMaxCpuShares === undefined ? {} : { containerMaxCpuShares: config.containerMaxCpuShares }),
    ...(config.healthyMonitoringIntervalMs === undefined ? {} : { healthyMonitoringIntervalMs: config.healthyMonitoringIntervalMs }),
    ...(config.unhealthyMonitoringIntervalMs === undefined ? {} : { unhealthyMonitoringIntervalMs: config.unhealthyMonitoringIntervalMs }),
  };
}

export async function openCellExecutor(config: CellConfig, logger: Logger): Promise<CellExecutor> {
  const log = logger.child({ session: 'executor' });
  // Nothing of a predecessor's containers runs any more (their inits die with their cell): their files go.
  await rm(join(config.workDir, 'containers'), { recursive: true, force: true });
  const preloadedRootfs = Object.fromEntries(config.preloadedRootFses.map((rootfs) => [rootfs.name, rootfs.path ?? '/']));
  const preloaded = config.preloadedRootFses.map((rootfs) => rootfs.name);
  if (process.getuid?.() !== 0) {
    log.info(
      { gives_up: ['docker rootfses', 'a root per container', 'memory, cpu, pids and disk limits', 'a network per container', 'egress rules'] },
      'not-root-running-plain-processes',
    );
    return {
      executor: new ProcessExecutor({ workDir: config.workDir, preloadedRootfs, logger, ...executorSettings(config) }),
      rootfsProviders: { preloaded },
      imageConfig: null,
      close: () => Promise.resolve(),
    };
  }
  const cgroups = await CellCgroups.open(config.cellId, logger);
  if (cgroups === null) {
    log.info('no-cgroups-running-without-limits');
  } else {
    const { removed } = await cgroups.removeLeftovers();
    if (removed > 0) log.info({ removed }, 'removed-leftover-cgroups');
  }
  let network: CellNetwork;
  try {
    network = await CellNetwork.open({ cellId: config.cellId, pool: config.networkPool, logger });
  } catch (err) {
    await cgroups?.close();
    throw err;
  }
  const images = new ImageStore({
    dir: join(config.workDir, 'images'),
    defaultRegistryURL: config.dockerRegistryURL,
    insecureRegistries: config.insecureDockerRegistries,
    localImageDir: config.dockerImageDir,
    logger,
  });
  const executor = new ProcessExecutor({
    workDir: config.workDir,
    preloadedRootfs,
    logger,
    ...executorSettings(config),
    images,
    cgroups,
    network: {
      attach: (guid, pid, egress) => network.attach(guid, pid, egress),
      forwardPort: (port) => forwardPort({ listenHost: '0.0.0.0', ...port }),
    },
  });
  return {
    executor,
    rootfsProviders: { docker: [], preloaded },
    imageConfig: (rootfs) => images.config(rootfs),
    close: async () => {
      await network.close();
      await cgroups?.close();
    },
  };
}

/**
 * What a SIGKILLed cell left on this machine (its cgroups, bridge, veths and firewall rules), removed as its
 * successor with the same ID would at start: for a cell that will not come back.
 */
export async function removeCellLeftovers(cellId: string, logger: Logger): Promise<void> {
  if (process.getuid?.() !== 0) return;
  const cgroups = await CellCgroups.open(cellId, logger);
  await cgroups?.removeLeftovers();
  await cgroups?.close();
  await removeCellNetworkLeftovers(cellId);
}
