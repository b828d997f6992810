/**
 * What the encryption tests share: BBSes with keys over a test's key space, the store read raw as an operator's
 * etcdctl reads it, and a set of records that convergence leaves as they are (instances and tasks RUNNING on a
 * present cell), so that a leader's answers before and after a rotation can be compared whole.
 */
import pino, { type Logger } from 'pino';
import { HttpBbsClient } from '@diego/bbs-client';
import { startBbsServer, type BbsServer, type EncryptionKey } from '@diego/bbs';
import { eventually, newValidCellPresence, newValidDesiredLrp, newValidTask, type TestKeySpace } from '@diego/test-support';

export const silentLogger = pino({ level: 'silent' });

export const KEY_A: EncryptionKey = { label: 'key-a', passphrase: 'correct horse battery staple' };
export const KEY_B: EncryptionKey = { label: 'key-b', passphrase: 'tr0ub4dor&3' };

export const CELL_ID = 'cell-1';

export interface RunningBbs {
  server: BbsServer;
  client: HttpBbsClient;
  stop(): Promise<void>;
}

export interface BbsWith {
  keys: EncryptionKey[];
  activeKeyLabel: string | null;
  /** Campaign to lead (and so rotate); waits until it leads. */
  leader?: boolean;
  updateWorkers?: number;
  logger?: Logger;
}

/** A BBS with `keys` over the test's key space (its own store, as `diego bbs` runs it). */
export async function startBbsWith(space: TestKeySpace, options: BbsWith): Promise<RunningBbs> {
  const server = await startBbsServer({
    etcd: space.namespace,
    listenAddress: '127.0.0.1:0',
    logger: options.logger ?? silentLogger,
    encryption: { keys: options.keys, activeKeyLabel: options.activeKeyLabel },
    ...(options.leader === true
      ? {
          leader: {
            advertiseUrl: 'http://bbs.example:8889',
            electionTtlSeconds: 2,
            convergeRepeatIntervalMs: 3_600_000,
            ...(options.updateWorkers === undefined ? {} : { updateWorkers: options.updateWorkers }),
          },
        }
      : {}),
  });
  const client = new HttpBbsClient([`http://${server.address}`]);
  if (options.leader === true) await eventually(async () => server.isLeader(), (leading) => leading, { timeoutMs: 15_000 });
  return {
    server,
    client,
    stop: async () => {
      client.close();
      await server.stop();
    },
  };
}

/** Every key under `/v1/` (relative to the key space) and its value, as etcd holds them. */
export async function rawStore(space: TestKeySpace): Promise<Map<string, string>> {
  const all = await space.namespace.getAll().prefix('/v1/').strings();
  return new Map(Object.entries(all));
}

/** The keys of records (the values the codec encrypts): desired, actual, task, cell. */
export function isRecordKey(key: string): boolean {
  return /^\/v1\/(desired|actual|task|cell)\//.test(key);
}

/** The label an encrypted value names (`"02" + base64(len | label | ...)`); null for anything else. */
export function labelOf(value: string): string | null {
  if (!value.startsWith('02')) return null;
  const bytes = Buffer.from(value.slice(2), 'base64');
  return bytes.subarray(1, 1 + (bytes[0] ?? 0)).toString('utf8');
}

/** `/encryption-key`'s label, or null while it is absent. */
export async function storedKeyLabel(space: TestKeySpace): Promise<string | null> {
  return space.namespace.get('/encryption-key').string();
}

/** Waits until `/encryption-key` names `label`: the leader's rotation has finished. */
export async function rotatedTo(space: TestKeySpace, label: string): Promise<void> {
  await eventually(() => storedKeyLabel(space), (stored) => stored === label, { timeoutMs: 30_000, intervalMs: 100 });
}

/**
 * `lrps` desired LRPs of two instances and `tasks` tasks, all RUNNING on a present cell (registered for ten
 * minutes), and a fresh domain: nothing a leader's converger or auctioneer would change.
 */
export async function desireSteadyRecords(client: HttpBbsClient, { lrps, tasks }: { lrps: number; tasks: number }): Promise<void> {
  await client.registerCell(newValidCellPresence(CELL_ID), 600);
  await client.upsertDomain('cf-apps', 600);
  await Promise.all(
    Array.from({ length: lrps }, async (_, i) => {
      const processGuid = `web-${i}`;
      await client.desireLRP(newValidDesiredLrp(processGuid, { instances: 2, domain: 'cf-apps' }));
      for (const index of [0, 1]) {
        const instanceKey = { instance_guid: `${processGuid}-${index}`, cell_id: CELL_ID };
        await client.claimActualLRP(processGuid, index, instanceKey);
        await client.startActualLRP({ process_guid: processGuid, index, domain: 'cf-apps' }, instanceKey, {
          address: '10.0.0.1',
          ports: [{ container_port: 8080, host_port: 61000 + index }],
        });
      }
    }),
  );
  await Promise.all(
    Array.from({ length: tasks }, async (_, i) => {
      const task = newValidTask(`task-${i}`, { domain: 'cf-apps' });
      await client.desireTask(task.task_guid, task.domain, task.definition);
      await client.startTask(task.task_guid, CELL_ID);
    }),
  );
}

export const OTHER_CELL_ID = 'cell-2';

/**
 * Evacuates `web-0`'s instance 0 from `cell-1` to a new instance on `cell-2`: an evacuating record under its
 * own lease (ten minutes) beside a RUNNING instance, which convergence leaves as they are.
 */
export async function evacuateOneInstance(client: HttpBbsClient): Promise<void> {
  await client.registerCell(newValidCellPresence(OTHER_CELL_ID), 600);
  const key = { process_guid: 'web-0', index: 0, domain: 'cf-apps' };
  const netInfo = { address: '10.0.0.2', ports: [{ container_port: 8080, host_port: 62000 }] };
  await client.evacuateRunningActualLRP(key, { instance_guid: 'web-0-0', cell_id: CELL_ID }, netInfo, 600);
  const moved = { instance_guid: 'web-0-0-moved', cell_id: OTHER_CELL_ID };
  await client.claimActualLRP('web-0', 0, moved);
  await client.startActualLRP(key, moved, netInfo);
}

/** The lease of every record and domain that has one (not the election's). */
export async function leases(space: TestKeySpace): Promise<Map<string, string>> {
  const { kvs } = await space.namespace.getAll().prefix('/v1/').exec();
  const leased = kvs.filter((kv) => kv.lease !== '0' && !kv.key.toString().startsWith('/v1/locks/'));
  return new Map(leased.map((kv) => [kv.key.toString(), kv.lease]));
}

/** Everything the API answers about the store, in a stable order. */
export async function apiAnswers(client: HttpBbsClient): Promise<unknown> {
  const byKey = <T>(items: T[], key: (item: T) => string): T[] => [...items].sort((a, b) => key(a).localeCompare(key(b)));
  return {
    desired: byKey(await client.desiredLRPs(), (lrp) => lrp.process_guid),
    actual: await client.actualLRPGroups(),
    tasks: byKey(await client.tasks(), (task) => task.task_guid),
    cells: byKey(await client.cells(), (cell) => cell.cell_id),
    domains: [...(await client.domains())].sort(),
  };
}
