// A BBS that carried out a create but whose answer never reached the client: the client sends the create to the
// next BBS, which recognises the repeat of the same definition. The client is told of success, not of a
// collision with its own write, and exactly one record exists (issue 13, "Retries that tell the truth").
import pino from 'pino';
import { EtcdDb, startBbsServer, type BbsServer } from '@diego/bbs';
import { HttpBbsClient } from '@diego/bbs-client';
import {
  CuttingProxy,
  eventually,
  newValidDesiredLrp,
  newValidTask,
  testKeySpace,
  type TestKeySpace,
} from '@diego/test-support';

const silent = pino({ level: 'silent' });
/** Liveness guards: a BBS acts on a request in milliseconds, but a hogged machine in a full run can take seconds. */
const WAIT = { timeoutMs: 60_000 };
jest.setTimeout(120_000);

let keys: TestKeySpace;
let db: EtcdDb;
let first: BbsServer;
let second: BbsServer;
/** In front of the first BBS: passes requests on, never its answers. */
let blackHole: CuttingProxy;
let client: HttpBbsClient;

beforeEach(async () => {
  keys = testKeySpace();
  db = new EtcdDb(keys.namespace, { logger: silent });
  first = await startBbsServer({ etcd: keys.namespace, listenAddress: '127.0.0.1:0', logger: silent });
  second = await startBbsServer({ etcd: keys.namespace, listenAddress: '127.0.0.1:0', logger: silent });
  blackHole = new CuttingProxy(new URL(`http://${first.address}`), { forwardAnswers: false });
  const port = await blackHole.listen();
  // It waits as long as the tests do: a client that gave up first would close the connection its request is on.
  client = new HttpBbsClient([`http://127.0.0.1:${port}`, `http://${second.address}`], { timeoutMs: WAIT.timeoutMs });
});

afterEach(async () => {
  client.close();
  await blackHole.stop();
  await first.stop();
  await second.stop();
  db.close();
  await keys.cleanup();
});

/** Starts `create`, waits until the first BBS stored its record, then cuts the connection its answer would use. */
async function createWhoseAnswerIsLost(create: () => Promise<void>, stored: () => Promise<boolean>): Promise<void> {
  const created = create();
  await eventually(stored, (done) => done, WAIT);
  blackHole.cut();
  await created;
}

it('answers a task create retried on another BBS after its answer was lost as success, with one task stored', async () => {
  const { task_guid, domain, definition } = newValidTask('task-retried');
  await createWhoseAnswerIsLost(
    () => client.desireTask(task_guid, domain, definition),
    async () => (await db.tasks()).length > 0,
  );
  const tasks = await db.tasks();
  expect(tasks.map((task) => [task.task_guid, task.state])).toEqual([['task-retried', 'PENDING']]);
});

it('answers a DesiredLRP create retried on another BBS after its answer was lost as success, with one stored', async () => {
  const lrp = newValidDesiredLrp('lrp-retried', { instances: 2 });
  await createWhoseAnswerIsLost(
    () => client.desireLRP(lrp),
    async () => (await db.desiredLRPs()).length > 0,
  );
  expect((await db.desiredLRPs()).map((stored) => stored.process_guid)).toEqual(['lrp-retried']);
  const indices = (await db.actualLRPGroupsByProcessGuid('lrp-retried')).map((group) => group.instance?.index).sort();
  expect(indices).toEqual([0, 1]);
});

it('still answers a different definition under a taken guid as ResourceExists', async () => {
  const { task_guid, domain, definition } = newValidTask('task-taken');
  const direct = new HttpBbsClient([`http://${second.address}`]);
  try {
    await direct.desireTask(task_guid, domain, definition);
    await expect(direct.desireTask(task_guid, domain, { ...definition, memory_mb: definition.memory_mb + 1 })).rejects.toMatchObject({
      type: 'ResourceExists',
    });
  } finally {
    direct.close();
  }
});

it('does not move a request that must not be repeated once the first BBS may have received it', async () => {
  const { task_guid, domain, definition } = newValidTask('task-cancelled');
  await db.desireTask(definition, task_guid, domain);
  // The first BBS reads through its view, which learns of a write made behind its back from its watch (before the
  // view is live, reads go to etcd: a read found then says nothing of what the view will answer).
  const direct = new HttpBbsClient([`http://${first.address}`]);
  try {
    await eventually(
      async () => first.view?.live === true && (await direct.taskByGuid(task_guid).then(() => true, () => false)),
      (known) => known,
      WAIT,
    );
  } finally {
    direct.close();
  }
  const cancelled = client.cancelTask(task_guid);
  await eventually(async () => (await db.taskByGuid(task_guid)).state, (state) => state === 'COMPLETED', WAIT);
  blackHole.cut();
  // Sent on to the second BBS, the cancel would be refused as an invalid transition of the task it cancelled.
  await expect(cancelled).rejects.toMatchObject({ type: 'Unavailable', message: expect.stringContaining('may have been carried out') });
});
