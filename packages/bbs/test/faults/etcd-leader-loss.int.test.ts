// A 3-member etcd loses its leader under writes in flight through a real BBS: the BBS retries what etcd reports
// as transient, so every write is acknowledged and stored (issue 13, "Faults of etcd are absorbed").
import { Etcd3 } from 'etcd3';
import pino from 'pino';
import { etcdClientOptions, startBbsServer, type BbsServer } from '@diego/bbs';
import { HttpBbsClient } from '@diego/bbs-client';
import { newValidTask, startEtcdCluster, type EtcdCluster, type EtcdMember } from '@diego/test-support';

const WRITES_IN_FLIGHT = 20;

let cluster: EtcdCluster | undefined;
let etcd: Etcd3 | undefined;
let bbs: BbsServer | undefined;
let client: HttpBbsClient | undefined;

afterEach(async () => {
  client?.close();
  await bbs?.stop();
  etcd?.close();
  await cluster?.stop();
});

/** The member the others follow, as each member's own status says. */
async function leaderOf(members: EtcdMember[]): Promise<EtcdMember> {
  for (const member of members) {
    const probe = new Etcd3({ hosts: member.endpoint });
    try {
      const status = await probe.maintenance.status();
      if (status.leader === status.header.member_id) return member;
    } finally {
      probe.close();
    }
  }
  throw new Error('no member says it leads');
}

function desireTasks(bbsClient: HttpBbsClient, wave: string): { guids: string[]; writes: Promise<void>[] } {
  const guids = Array.from({ length: WRITES_IN_FLIGHT }, (_, i) => `task-${wave}-${i}`);
  return { guids, writes: guids.map((guid) => bbsClient.desireTask(guid, 'd', newValidTask(guid).definition)) };
}

it('acknowledges and stores every write in flight while the etcd leader is killed', async () => {
  cluster = await startEtcdCluster(3);
  etcd = new Etcd3(etcdClientOptions(cluster.endpoints));
  bbs = await startBbsServer({ etcd, listenAddress: '127.0.0.1:0', logger: pino({ level: 'silent' }) });
  client = new HttpBbsClient([`http://${bbs.address}`]);
  await client.desireTask('task-before', 'd', newValidTask('task-before').definition);

  const leader = await leaderOf(cluster.members);
  const before = desireTasks(client, 'before-kill');
  leader.signal('SIGKILL');
  // Sent while the cluster has no leader yet.
  const after = desireTasks(client, 'after-kill');

  const results = await Promise.allSettled([...before.writes, ...after.writes]);
  const failures = results.flatMap((result) => (result.status === 'rejected' ? [String(result.reason)] : []));
  expect(failures).toEqual([]);
  const stored = (await client.tasks({ domain: 'd' })).map((task) => task.task_guid).sort();
  expect(stored).toEqual(['task-before', ...before.guids, ...after.guids].sort());
}, 60_000);
