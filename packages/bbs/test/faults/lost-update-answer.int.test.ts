// A store's update reaches etcd, its answer is lost (the connection breaks), and another writer changes the record
// before the store tries again: the retry finds its own write in the key's history and counts it, rather than
// deciding again on the record as the other writer left it (which would apply the update a second time).
import { Etcd3 } from 'etcd3';
import pino from 'pino';
import { EtcdDb, etcdClientOptions } from '@diego/bbs';
import type { ActualLRPInstanceKey, ActualLRPKey } from '@diego/models';
import { CuttingProxy, eventually, newValidDesiredLrp, TEST_ETCD_ENV, testKeySpace, type TestKeySpace } from '@diego/test-support';

const silent = pino({ level: 'silent' });
const WAIT = { timeoutMs: 30_000 };
jest.setTimeout(60_000);

let keys: TestKeySpace;
let proxy: CuttingProxy;
let viaProxy: Etcd3;
/** A BBS's store whose etcd connection the test breaks; it reads through its view, as every BBS does. */
let cutOff: EtcdDb;
/** Another BBS's store, straight to etcd. */
let other: EtcdDb;

beforeEach(async () => {
  keys = testKeySpace();
  proxy = new CuttingProxy(new URL(process.env[TEST_ETCD_ENV] ?? ''));
  // The BBS's client options: etcd3's own retries would resend the write unseen by the store.
  viaProxy = new Etcd3(etcdClientOptions([`http://127.0.0.1:${await proxy.listen()}`]));
  cutOff = new EtcdDb(viaProxy.namespace(keys.prefix), { logger: silent, view: true });
  other = new EtcdDb(keys.namespace, { logger: silent });
});

afterEach(async () => {
  cutOff.close();
  other.close();
  viaProxy.close();
  await proxy.stop();
  await keys.cleanup();
});

const cell1: ActualLRPInstanceKey = { instance_guid: 'instance-1', cell_id: 'cell-1' };
const netInfo = { address: '10.0.0.1', ports: [{ container_port: 8080, host_port: 61000 }] };

it('counts a crash whose answer was lost once, though the instance was claimed again before the retry', async () => {
  const desired = newValidDesiredLrp('web', { instances: 1 });
  await other.desireLRP(desired);
  const key: ActualLRPKey = { process_guid: 'web', index: 0, domain: desired.domain };
  await other.claimActualLRP('web', 0, cell1);
  await other.startActualLRP(key, cell1, netInfo);
  const instance = async () => (await other.actualLRPGroupByProcessGuidAndIndex('web', 0)).instance;
  // The cut-off store decides on the record its view holds, so that only the write goes to etcd (before the view is
  // live, reads go to etcd: a read then says nothing of what the view holds).
  await eventually(
    async () => cutOff.viewStatus?.live === true && (await cutOff.actualLRPGroupByProcessGuidAndIndex('web', 0)).instance?.state === 'RUNNING',
    (ready) => ready,
    WAIT,
  );

  proxy.setForwardAnswers(false);
  const crash = cutOff.crashActualLRP(key, cell1, 'exited');
  // Applied (the first crash restarts the instance at once), though its answer has not come back.
  await eventually(instance, (lrp) => lrp?.crash_count === 1, WAIT);
  // The same cell claims the restart: a crash decided again on this record would be a valid second crash.
  await other.claimActualLRP('web', 0, cell1);
  proxy.setForwardAnswers(true);
  proxy.cut();

  await expect(crash).resolves.toMatchObject({ restarted: true, after: { state: 'UNCLAIMED', crash_count: 1 } });
  // Claimed, started, crashed once, claimed again.
  expect(await instance()).toMatchObject({ state: 'CLAIMED', ...cell1, crash_count: 1, modification_tag: { index: 4 } });
});
