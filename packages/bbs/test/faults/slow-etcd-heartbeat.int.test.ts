// A cell's presence survives an etcd that stalls (SIGSTOP) for less than the presence's TTL: the heartbeat sent
// during the stall is carried through it, and the cell keeps its lease (issue 13, "Cell presence survives a slow
// etcd for its whole TTL").
import { Etcd3 } from 'etcd3';
import pino from 'pino';
import { CellPresenceMaintainer } from '@diego/cell';
import { etcdClientOptions, startBbsServer, type BbsServer } from '@diego/bbs';
import { HttpBbsClient, type BbsClient } from '@diego/bbs-client';
import { eventually, newValidCellPresence, startEtcdCluster, type EtcdCluster } from '@diego/test-support';

const silent = pino({ level: 'silent' });
/** Heartbeats every 5 s: a stall from just after one until the next has started stays well inside the TTL. */
const TTL_SECONDS = 15;

let cluster: EtcdCluster | undefined;
let etcd: Etcd3 | undefined;
let bbs: BbsServer | undefined;
let client: HttpBbsClient | undefined;
let maintainer: CellPresenceMaintainer | undefined;

afterEach(async () => {
  cluster?.members[0]?.signal('SIGCONT');
  await maintainer?.stop();
  client?.close();
  await bbs?.stop();
  etcd?.close();
  await cluster?.stop();
});

it('keeps the cell present, on the same lease, through an etcd stalled for less than the TTL', async () => {
  cluster = await startEtcdCluster(1);
  const member = cluster.members[0];
  if (member === undefined) throw new Error('no etcd member');
  etcd = new Etcd3(etcdClientOptions(cluster.endpoints));
  bbs = await startBbsServer({ etcd, listenAddress: '127.0.0.1:0', logger: silent });
  const bbsClient = new HttpBbsClient([`http://${bbs.address}`]);
  client = bbsClient;
  const beats = { sent: 0, succeeded: 0 };
  // The real client, counting what the cell sends through it.
  const counting: Pick<BbsClient, 'registerCell' | 'cellHeartbeat' | 'removeCell'> = {
    registerCell: (cell, ttl) => bbsClient.registerCell(cell, ttl),
    removeCell: (cellId) => bbsClient.removeCell(cellId),
    cellHeartbeat: async (cellId, lease) => {
      beats.sent += 1;
      await bbsClient.cellHeartbeat(cellId, lease);
      beats.succeeded += 1;
    },
  };
  maintainer = new CellPresenceMaintainer({ bbs: counting, presence: newValidCellPresence('cell-stalled'), logger: silent, ttlSeconds: TTL_SECONDS });
  await maintainer.start();
  const lease = maintainer.leaseId;

  // Stall etcd right after a heartbeat renewed the lease, until the next heartbeat has been sent into the stall.
  await eventually(async () => beats.succeeded, (succeeded) => succeeded >= 1, { timeoutMs: TTL_SECONDS * 1000 });
  member.signal('SIGSTOP');
  const sentBeforeStall = beats.sent;
  await eventually(async () => beats.sent, (sent) => sent > sentBeforeStall, { timeoutMs: TTL_SECONDS * 1000, intervalMs: 20 });
  member.signal('SIGCONT');

  const succeededAfterStall = beats.succeeded;
  await eventually(async () => beats.succeeded, (succeeded) => succeeded > succeededAfterStall, { timeoutMs: TTL_SECONDS * 1000 });
  expect(maintainer.leaseId).toBe(lease);
  expect((await bbsClient.cells()).map((cell) => cell.cell_id)).toEqual(['cell-stalled']);
}, 90_000);
