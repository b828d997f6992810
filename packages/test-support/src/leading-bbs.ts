/**
 * A real BBS that leads (its auctioneer places work on cells) on a test's own etcd key space, and a client to it:
 * what the tests that start cells share. Convergence runs once an hour unless asked, so only what a test does (or
 * a cell's own sync) moves its records.
 */
import pino from 'pino';
import { HttpBbsClient } from '@diego/bbs-client';
import { startBbsServer, type BbsServer } from '@diego/bbs';
import { eventually } from './eventually';
import type { TestKeySpace } from './etcd-client';

export interface LeadingBbs {
  bbs: BbsServer;
  client: HttpBbsClient;
  /** `http://127.0.0.1:<port>` */
  url: string;
  stop(): Promise<void>;
}

export async function startLeadingBbs(keys: TestKeySpace, { convergeRepeatIntervalMs = 3_600_000 } = {}): Promise<LeadingBbs> {
  const bbs = await startBbsServer({
    etcd: keys.namespace,
    listenAddress: '127.0.0.1:0',
    logger: pino({ level: 'silent' }),
    leader: { advertiseUrl: 'http://bbs.example:8889', electionTtlSeconds: 2, convergeRepeatIntervalMs },
  });
  const url = `http://${bbs.address}`;
  const client = new HttpBbsClient([url]);
  await eventually(() => Promise.resolve(bbs.isLeader()), (leading) => leading, { timeoutMs: 5000 });
  return {
    bbs,
    client,
    url,
    stop: async () => {
      client.close();
      await bbs.stop();
    },
  };
}
