/**
 * An auction per test: a real BBS server over its own key prefix of the shared test etcd, a real Auctioneer
 * started on that store, and test cells (real HTTP servers speaking the rep API) that register and report
 * through the BBS as cells do.
 */
import pino from 'pino';
import { Auctioneer, EtcdDb, startBbsServer, type AuctioneerOptions } from '@diego/bbs';
import { HttpBbsClient } from '@diego/bbs-client';
import type { RunningServer } from '@diego/server-support';
import type { ActualLRP, DesiredLRP } from '@diego/models';
import { newValidDesiredLrp, startTestCell, testKeySpace, type TestCell, type TestCellOptions, type TestKeySpace } from '@diego/test-support';

export const silentLogger = pino({ level: 'silent' });

export interface AuctionUnderTest {
  auctioneer: Auctioneer;
  /** A store on the same key space, for reading what the auction did. */
  db: EtcdDb;
  /** A client of the BBS, as CC-bridge or a cell uses it. */
  client: HttpBbsClient;
  keys: TestKeySpace;
  /** A cell registered with the BBS; stopped after the test. */
  startCell(options: Omit<TestCellOptions, 'bbs'>): Promise<TestCell>;
  /** The instance records (not evacuating copies) of a process guid, by index. */
  instances(processGuid: string): Promise<ActualLRP[]>;
}

/** Registers before/after hooks; call the returned function inside a test. */
export function useAuction(options: Partial<Omit<AuctioneerOptions, 'db' | 'etcd' | 'logger'>> = {}): () => AuctionUnderTest {
  let current: { harness: AuctionUnderTest; server: RunningServer; cells: TestCell[] } | undefined;
  beforeEach(async () => {
    const keys = testKeySpace();
    const server = await startBbsServer({ etcd: keys.namespace, listenAddress: '127.0.0.1:0', logger: silentLogger });
    const client = new HttpBbsClient([`http://${server.address}`]);
    const db = new EtcdDb(keys.namespace, { logger: silentLogger });
    const auctioneer = new Auctioneer({ db, etcd: keys.namespace, logger: silentLogger, ...options });
    await auctioneer.start();
    const cells: TestCell[] = [];
    const harness: AuctionUnderTest = {
      auctioneer,
      db,
      client,
      keys,
      async startCell(cellOptions) {
        const cell = await startTestCell({ ...cellOptions, bbs: client });
        cells.push(cell);
        return cell;
      },
      async instances(processGuid) {
        const groups = await db.actualLRPGroupsByProcessGuid(processGuid);
        return groups.flatMap(({ instance }) => (instance === null ? [] : [instance])).sort((a, b) => a.index - b.index);
      },
    };
    current = { harness, server, cells };
  });
  afterEach(async () => {
    if (current === undefined) return;
    const { harness, server, cells } = current;
    current = undefined;
    await harness.auctioneer.stop();
    await Promise.all(cells.map((cell) => cell.stop()));
    harness.client.close();
    await server.stop();
    await harness.keys.cleanup();
  });
  return () => {
    if (current === undefined) throw new Error('useAuction() is only available inside a test');
    return current.harness;
  };
}

/** A desired LRP the default test cell can run: preloaded cflinuxfs2, 256 MB memory and disk. */
export function runnableLrp(processGuid: string, overrides: Partial<DesiredLRP> = {}): DesiredLRP {
  return newValidDesiredLrp(processGuid, { rootfs: 'preloaded:cflinuxfs2', memory_mb: 256, disk_mb: 256, ...overrides });
}
