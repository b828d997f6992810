/**
 * Real cells for tests: a BBS on the test's own etcd key space with its leader loops (auctioneer, converger,
 * callbacks), and cells started with startCell on a real ProcessExecutor in a temp work dir, all stopped and
 * removed after each test.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { HttpBbsClient } from '@diego/bbs-client';
import { startBbsServer, type BbsServer } from '@diego/bbs';
import { ProcessExecutor, startCell, type RunningCell } from '@diego/cell';
import { isBbsError, type Action, type ActualLRPGroup, type DesiredLRP } from '@diego/models';
import { eventually, newValidDesiredLrp, testKeySpace, type TestKeySpace } from '@diego/test-support';

const silent = pino({ level: 'silent' });

export interface CellsUnderTest {
  client: HttpBbsClient;
  bbs: BbsServer;
  /** Starts a cell with 1024 MB, 1024 MB disk, 10 containers and `preloaded:cflinuxfs2` (bulk sync: every 30 s). */
  startCell(cellId: string, options?: { memoryMb?: number; evacuationTimeoutMs?: number; bulkSyncIntervalMs?: number }): Promise<RunningCell>;
}

/** Registers before/after hooks; call the returned function inside a test. */
export function useCells(): () => CellsUnderTest {
  let keys: TestKeySpace;
  let current: CellsUnderTest | undefined;
  const cells: RunningCell[] = [];
  const workDirs: string[] = [];
  beforeEach(async () => {
    keys = testKeySpace();
    const bbs = await startBbsServer({
      etcd: keys.namespace,
      listenAddress: '127.0.0.1:0',
      logger: silent,
      leader: { advertiseUrl: 'http://bbs.example:8889', electionTtlSeconds: 2, convergeRepeatIntervalMs: 3_600_000 },
    });
    const client = new HttpBbsClient([`http://${bbs.address}`]);
    await eventually(() => Promise.resolve(bbs.isLeader()), (leading) => leading, { timeoutMs: 5000 });
    current = {
      client,
      bbs,
      startCell: async (cellId, { memoryMb = 1024, evacuationTimeoutMs = 20_000, bulkSyncIntervalMs = 30_000 } = {}) => {
        const workDir = await mkdtemp(join(tmpdir(), `diego-${cellId}-`));
        workDirs.push(workDir);
        const cell = await startCell(
          {
            cellId,
            zone: 'z1',
            listenAddress: '127.0.0.1:0',
            bbsAddress: [`http://${bbs.address}`],
            memoryMb,
            diskMb: 1024,
            containers: 10,
            preloadedRootFses: [{ name: 'cflinuxfs2', path: null }],
            evacuationTimeoutMs,
            bulkSyncIntervalMs,
            workDir,
            dockerRegistryURL: 'http://127.0.0.1:1',
            insecureDockerRegistries: [],
            dockerImageDir: null,
            networkPool: '10.254.0.0/22',
            logLevel: 'error',
            evacuationPollingIntervalMs: 50,
            presenceTtlSeconds: 2,
          },
          {
            executor: new ProcessExecutor({ workDir, cellAddress: '127.0.0.1', logger: silent, unhealthyMonitoringIntervalMs: 50 }),
            bbs: client,
            logger: silent,
          },
        );
        cells.push(cell);
        return cell;
      },
    };
  });
  afterEach(async () => {
    await Promise.all(cells.splice(0).map((cell) => cell.stop()));
    await Promise.all(workDirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
    current?.client.close();
    await current?.bbs.stop();
    await keys.cleanup();
    current = undefined;
  });
  return () => {
    if (current === undefined) throw new Error('useCells() is only available inside a test');
    return current;
  };
}

/** `sh -c <script> <marker>`: the marker is the shell's $0, so its process can be found in /proc. */
export function shell(script: string, marker = 'diego-cell-test'): Action {
  return {
    run: {
      path: 'sh', args: ['-c', script, marker], dir: '', env: [], resource_limits: null, user: 'vcap', log_source: '',
      suppress_log_output: false,
    },
  };
}

/** An LRP of one instance on `preloaded:cflinuxfs2`, 128 MB, port 8080, running `action`, no setup or monitor. */
export function desiredLrp(processGuid: string, action: Action, overrides: Partial<DesiredLRP> = {}): DesiredLRP {
  return newValidDesiredLrp(processGuid, {
    domain: 'cf-apps', rootfs: 'preloaded:cflinuxfs2', memory_mb: 128, disk_mb: 128, ports: [8080],
    setup: null, action, monitor: null, start_timeout: 0, ...overrides,
  });
}

/** The pids of the processes whose command line holds `marker`. */
export async function processesWith(marker: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if ((await readFile(`/proc/${entry}/cmdline`, 'utf8')).split('\0').includes(marker)) pids.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return pids;
}

export async function group(client: HttpBbsClient, processGuid: string, index = 0): Promise<ActualLRPGroup | null> {
  try {
    return await client.actualLRPGroupByProcessGuidAndIndex(processGuid, index);
  } catch (err) {
    if (isBbsError(err, 'ResourceNotFound')) return null;
    throw err;
  }
}
