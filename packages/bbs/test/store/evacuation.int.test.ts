import type { ActualLRP, ActualLRPInstanceKey, ActualLRPKey, ActualLRPNetInfo } from '@diego/models';
import { eventually } from '@diego/test-support';
import { etcdKeys } from '@diego/bbs';
import { SECOND_NS, useStore, STORE_READS } from './store-harness';

const GUID = 'process-guid';
const KEY: ActualLRPKey = { process_guid: GUID, index: 0, domain: 'some-domain' };
const K1: ActualLRPInstanceKey = { instance_guid: 'instance-1', cell_id: 'cell-1' };
const K2: ActualLRPInstanceKey = { instance_guid: 'instance-2', cell_id: 'cell-2' };
const K3: ActualLRPInstanceKey = { instance_guid: 'instance-3', cell_id: 'cell-3' };
const NET1: ActualLRPNetInfo = { address: '10.0.0.1', ports: [{ container_port: 8080, host_port: 61001 }] };
const NET1B: ActualLRPNetInfo = { address: '10.0.0.1', ports: [{ container_port: 8080, host_port: 61999 }] };
const NET2: ActualLRPNetInfo = { address: '10.0.0.2', ports: [{ container_port: 8080, host_port: 61002 }] };
const TTL = 60;
const KEEP = { keepContainer: true, auctionNeeded: false };
const DROP = { keepContainer: false, auctionNeeded: false };

describe.each(STORE_READS)('evacuation (spec/bbs.md §5.3), reading %s', (reads) => {
  const store = useStore({ view: reads === 'through the view' });

  async function group(): Promise<{ instance: ActualLRP | null; evacuating: ActualLRP | null }> {
    try {
      return await store().db.actualLRPGroupByProcessGuidAndIndex(GUID, 0);
    } catch {
      return { instance: null, evacuating: null };
    }
  }

  async function evacuatingLease(): Promise<{ id: string; ttl: number } | null> {
    const { raw, keys } = store();
    const kv = await raw(etcdKeys.actualLrpEvacuatingKey(GUID, 0));
    if (kv === undefined || kv.lease === '0') return null;
    const res = await keys.client.leaseClient.leaseTimeToLive({ ID: kv.lease });
    return { id: kv.lease, ttl: Number(res.TTL) };
  }

  /** K1 was RUNNING and has evacuated: the evacuating copy is K1's, the instance is UNCLAIMED. */
  async function evacuatedByK1(): Promise<ActualLRP> {
    const { db } = store();
    await db.startActualLRP(KEY, K1, NET1);
    expect(await db.evacuateRunningActualLRP(KEY, K1, NET1, TTL)).toEqual({ keepContainer: true, auctionNeeded: true });
    const { evacuating } = await group();
    return evacuating!;
  }

  describe('evacuateRunningActualLRP', () => {
    it('moves our running instance to an evacuating copy (new epoch, index 1, under a lease) and unclaims it', async () => {
      const { db, clock } = store();
      const { after: running } = await db.startActualLRP(KEY, K1, NET1);
      clock.advance(SECOND_NS);

      expect(await db.evacuateRunningActualLRP(KEY, K1, NET1, TTL)).toEqual({ keepContainer: true, auctionNeeded: true });

      const { instance, evacuating } = await group();
      expect(evacuating).toMatchObject({ ...KEY, ...K1, ...NET1, state: 'RUNNING', since: clock.now });
      expect(evacuating?.modification_tag.index).toBe(1);
      expect(evacuating?.modification_tag.epoch).not.toBe(running.modification_tag.epoch);
      expect(instance).toMatchObject({ state: 'UNCLAIMED', instance_guid: '', since: clock.now });
      expect(instance?.modification_tag).toEqual({ ...running.modification_tag, index: running.modification_tag.index + 1 });
      const lease = await evacuatingLease();
      expect(lease?.ttl).toBeGreaterThan(TTL - 5);
      expect(lease?.ttl).toBeLessThanOrEqual(TTL);
    });

    it('also takes over an evacuating copy of another instance when the instance is ours', async () => {
      const { db } = store();
      await evacuatedByK1();
      await db.claimActualLRP(GUID, 0, K2);
      await db.startActualLRP(KEY, K2, NET2);
      expect(await db.evacuateRunningActualLRP(KEY, K2, NET2, TTL)).toEqual({ keepContainer: true, auctionNeeded: true });
      const { evacuating } = await group();
      expect(evacuating).toMatchObject({ ...K2, ...NET2, state: 'RUNNING' });
      expect(evacuating?.modification_tag.index).toBe(2);
    });

    it('leaves an identical evacuating copy alone while the replacement is unplaced', async () => {
      const { db, raw } = store();
      const evacuating = await evacuatedByK1();
      const before = await raw(etcdKeys.actualLrpEvacuatingKey(GUID, 0));
      expect(await db.evacuateRunningActualLRP(KEY, K1, NET1, TTL)).toEqual(KEEP);
      expect((await group()).evacuating).toEqual(evacuating);
      expect((await raw(etcdKeys.actualLrpEvacuatingKey(GUID, 0)))?.mod_revision).toBe(before?.mod_revision);
    });

    it('updates the evacuating copy (tag + 1, since, net info) under a fresh lease', async () => {
      const { db, clock } = store();
      const evacuating = await evacuatedByK1();
      const firstLease = await evacuatingLease();
      clock.advance(SECOND_NS);

      expect(await db.evacuateRunningActualLRP(KEY, K1, NET1B, TTL)).toEqual(KEEP);

      const updated = (await group()).evacuating;
      expect(updated).toMatchObject({ ...K1, ...NET1B, since: clock.now });
      expect(updated?.modification_tag).toEqual({ ...evacuating.modification_tag, index: 2 });
      const secondLease = await evacuatingLease();
      expect(secondLease?.id).not.toBe(firstLease?.id);
      const old = await store().keys.client.leaseClient.leaseTimeToLive({ ID: firstLease!.id });
      expect(Number(old.TTL)).toBe(-1);
    });

    it('keeps serving while the replacement is claimed elsewhere', async () => {
      const { db } = store();
      const evacuating = await evacuatedByK1();
      await db.claimActualLRP(GUID, 0, K2);
      expect(await db.evacuateRunningActualLRP(KEY, K1, NET1, TTL)).toEqual(KEEP);
      expect(await group()).toEqual({ instance: expect.objectContaining({ state: 'CLAIMED', ...K2 }), evacuating });
    });

    it('does not take over an evacuating copy of another instance (ActualLRPCannotBeEvacuated -> drop)', async () => {
      const { db } = store();
      const evacuating = await evacuatedByK1();
      expect(await db.evacuateRunningActualLRP(KEY, K3, NET2, TTL)).toEqual(DROP);
      expect((await group()).evacuating).toEqual(evacuating);
    });

    it('creates an evacuating copy for an instance that is unplaced without ever having been ours', async () => {
      const { db } = store();
      await db.createUnclaimedActualLRP(KEY);
      expect(await db.evacuateRunningActualLRP(KEY, K1, NET1, TTL)).toEqual(KEEP);
      expect((await group()).evacuating).toMatchObject({ ...K1, ...NET1, state: 'RUNNING' });
    });

    it('drops the container and its evacuating copy once the replacement runs', async () => {
      const { db } = store();
      await evacuatedByK1();
      await db.startActualLRP(KEY, K2, NET2);
      expect(await db.evacuateRunningActualLRP(KEY, K1, NET1, TTL)).toEqual(DROP);
      expect(await group()).toEqual({ instance: expect.objectContaining({ state: 'RUNNING', ...K2 }), evacuating: null });
    });

    it('drops the container when the replacement could not be placed', async () => {
      const { db } = store();
      await evacuatedByK1();
      await db.failActualLRP(KEY, 'no room');
      expect(await db.evacuateRunningActualLRP(KEY, K1, NET1, TTL)).toEqual(DROP);
      expect((await group()).evacuating).toBeNull();
    });

    it('drops the container when the instance has crashed', async () => {
      const { db } = store();
      await db.createUnclaimedActualLRP(KEY);
      for (let crash = 1; crash <= 3; crash++) {
        await db.startActualLRP(KEY, K2, NET2);
        await db.crashActualLRP(KEY, K2, 'boom');
      }
      expect(await db.evacuateRunningActualLRP(KEY, K1, NET1, TTL)).toEqual(DROP);
      expect(await group()).toEqual({ instance: expect.objectContaining({ state: 'CRASHED' }), evacuating: null });
    });

    it('drops the container and its evacuating copy when the instance is gone', async () => {
      const { db } = store();
      await evacuatedByK1();
      await db.removeActualLRP(GUID, 0);
      expect(await db.evacuateRunningActualLRP(KEY, K1, NET1, TTL)).toEqual(DROP);
      expect(await db.actualLRPGroupsByProcessGuid(GUID)).toEqual([]);
    });

    it('lets the evacuating copy expire with its lease', async () => {
      const { db } = store();
      await db.startActualLRP(KEY, K1, NET1);
      await db.evacuateRunningActualLRP(KEY, K1, NET1, 1);
      await eventually(
        async () => (await group()).evacuating,
        (evacuating) => evacuating === null,
        { timeoutMs: 4000 },
      );
    });
  });

  describe('removeEvacuatingActualLRP', () => {
    it('removes our evacuating copy', async () => {
      await evacuatedByK1();
      await store().db.removeEvacuatingActualLRP(KEY, K1);
      expect((await group()).evacuating).toBeNull();
    });

    it('succeeds when there is none', async () => {
      await expect(store().db.removeEvacuatingActualLRP(KEY, K1)).resolves.toBeUndefined();
    });

    it("is ActualLRPCannotBeRemoved for another instance's copy", async () => {
      const evacuating = await evacuatedByK1();
      await expect(store().db.removeEvacuatingActualLRP(KEY, K2)).rejects.toMatchObject({
        type: 'ActualLRPCannotBeRemoved',
      });
      expect((await group()).evacuating).toEqual(evacuating);
    });
  });

  describe('evacuateClaimedActualLRP', () => {
    it('unclaims our claimed instance for an auction and drops the container', async () => {
      const { db } = store();
      await db.createUnclaimedActualLRP(KEY);
      await db.claimActualLRP(GUID, 0, K1);
      expect(await db.evacuateClaimedActualLRP(KEY, K1)).toEqual({ keepContainer: false, auctionNeeded: true });
      expect((await group()).instance).toMatchObject({ state: 'UNCLAIMED', instance_guid: '' });
    });

    it('removes our evacuating copy too', async () => {
      const { db } = store();
      await evacuatedByK1();
      await db.claimActualLRP(GUID, 0, K1);
      expect(await db.evacuateClaimedActualLRP(KEY, K1)).toEqual({ keepContainer: false, auctionNeeded: true });
      expect(await group()).toEqual({ instance: expect.objectContaining({ state: 'UNCLAIMED' }), evacuating: null });
    });

    it('needs no auction for an instance already UNCLAIMED, nor for a missing one', async () => {
      const { db } = store();
      expect(await db.evacuateClaimedActualLRP(KEY, K1)).toEqual(DROP);
      await db.createUnclaimedActualLRP(KEY);
      expect(await db.evacuateClaimedActualLRP(KEY, K1)).toEqual(DROP);
    });

    it("is ActualLRPCannotBeUnclaimed for another instance's claim", async () => {
      const { db } = store();
      await db.createUnclaimedActualLRP(KEY);
      await db.claimActualLRP(GUID, 0, K2);
      await expect(db.evacuateClaimedActualLRP(KEY, K1)).rejects.toMatchObject({ type: 'ActualLRPCannotBeUnclaimed' });
    });
  });

  describe('evacuateStoppedActualLRP', () => {
    it('removes our instance and our evacuating copy', async () => {
      const { db } = store();
      await evacuatedByK1();
      await db.claimActualLRP(GUID, 0, K1);
      expect(await db.evacuateStoppedActualLRP(KEY, K1)).toEqual(DROP);
      expect(await db.actualLRPGroupsByProcessGuid(GUID)).toEqual([]);
    });

    it("is ActualLRPCannotBeRemoved for another instance's record, which stays", async () => {
      const { db } = store();
      const { after } = await db.startActualLRP(KEY, K2, NET2);
      await expect(db.evacuateStoppedActualLRP(KEY, K1)).rejects.toMatchObject({ type: 'ActualLRPCannotBeRemoved' });
      expect((await group()).instance).toEqual(after);
    });

    it('drops the container when the instance is gone', async () => {
      expect(await store().db.evacuateStoppedActualLRP(KEY, K1)).toEqual(DROP);
    });
  });

  describe('evacuateCrashedActualLRP', () => {
    it('crashes our instance (restarting it at once) and removes our evacuating copy', async () => {
      const { db } = store();
      await db.startActualLRP(KEY, K1, NET1);
      expect(await db.evacuateCrashedActualLRP(KEY, K1, 'boom')).toEqual({ keepContainer: false, auctionNeeded: true });
      expect((await group()).instance).toMatchObject({ state: 'UNCLAIMED', crash_count: 1, crash_reason: 'boom' });
    });

    it('drops the container when the instance is gone', async () => {
      const { db } = store();
      await evacuatedByK1();
      await db.removeActualLRP(GUID, 0);
      expect(await db.evacuateCrashedActualLRP(KEY, K1, 'boom')).toEqual(DROP);
      expect(await db.actualLRPGroupsByProcessGuid(GUID)).toEqual([]);
    });

    it("is ActualLRPCannotBeCrashed for another instance's record", async () => {
      const { db } = store();
      await db.startActualLRP(KEY, K2, NET2);
      await expect(db.evacuateCrashedActualLRP(KEY, K1, 'boom')).rejects.toMatchObject({
        type: 'ActualLRPCannotBeCrashed',
      });
    });
  });
});
