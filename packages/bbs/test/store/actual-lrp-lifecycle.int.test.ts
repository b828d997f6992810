import type { ActualLRP, ActualLRPInstanceKey, ActualLRPKey, ActualLRPNetInfo } from '@diego/models';
import { newValidCellPresence } from '@diego/test-support';
import { etcdKeys } from '@diego/bbs';
import { MINUTE_NS, SECOND_NS, START_NS, useStore, STORE_READS } from './store-harness';

const GUID = 'process-guid';
const KEY: ActualLRPKey = { process_guid: GUID, index: 0, domain: 'some-domain' };
const K1: ActualLRPInstanceKey = { instance_guid: 'instance-1', cell_id: 'cell-1' };
const K2: ActualLRPInstanceKey = { instance_guid: 'instance-2', cell_id: 'cell-2' };
const NET1: ActualLRPNetInfo = { address: '10.0.0.1', ports: [{ container_port: 8080, host_port: 61001 }] };
const NET2: ActualLRPNetInfo = { address: '10.0.0.2', ports: [{ container_port: 8080, host_port: 61002 }] };
const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe.each(STORE_READS)('ActualLRP lifecycle (spec/bbs.md §5.1, §5.2, §6), reading %s', (reads) => {
  const store = useStore({ view: reads === 'through the view' });

  async function instance(): Promise<ActualLRP | null> {
    return (await store().db.actualLRPGroupByProcessGuidAndIndex(GUID, 0)).instance;
  }

  async function modRevision(): Promise<string | undefined> {
    return (await store().raw(etcdKeys.actualLrpInstanceKey(GUID, 0)))?.mod_revision;
  }

  /** Puts the instance record in `state` (CLAIMED and RUNNING by K1) through the lifecycle calls. */
  async function given(state: 'UNCLAIMED' | 'CLAIMED' | 'RUNNING' | 'CRASHED'): Promise<ActualLRP> {
    const { db } = store();
    await db.createUnclaimedActualLRP(KEY);
    if (state === 'CLAIMED') await db.claimActualLRP(GUID, 0, K1);
    if (state === 'RUNNING') await db.startActualLRP(KEY, K1, NET1);
    if (state === 'CRASHED') {
      // The first two crashes restart at once; the third stays CRASHED.
      for (let crash = 1; crash <= 3; crash++) {
        await db.startActualLRP(KEY, K1, NET1);
        await db.crashActualLRP(KEY, K1, `crash ${crash}`);
      }
    }
    const lrp = await instance();
    expect(lrp?.state).toBe(state);
    return lrp!;
  }

  describe('the transition table of §5.1', () => {
    it.each(['UNCLAIMED', 'CRASHED'] as const)('%s -> CLAIMED is allowed', async (from) => {
      await given(from);
      const { after } = await store().db.claimActualLRP(GUID, 0, K1);
      expect(after).toMatchObject({ state: 'CLAIMED', ...K1, address: '', ports: [] });
      expect(await instance()).toEqual(after);
    });

    it.each(['UNCLAIMED', 'CRASHED'] as const)('%s -> RUNNING is allowed', async (from) => {
      await given(from);
      const { after } = await store().db.startActualLRP(KEY, K1, NET1);
      expect(after).toMatchObject({ state: 'RUNNING', ...K1, ...NET1 });
      expect(await instance()).toEqual(after);
    });

    it('CLAIMED(k) -> CLAIMED(k) is allowed (and writes nothing)', async () => {
      const before = await given('CLAIMED');
      const revision = await modRevision();
      const result = await store().db.claimActualLRP(GUID, 0, K1);
      expect(result).toEqual({ before, after: before });
      expect(await modRevision()).toBe(revision);
    });

    it("CLAIMED(k) -> CLAIMED(k') is refused", async () => {
      const before = await given('CLAIMED');
      await expect(store().db.claimActualLRP(GUID, 0, K2)).rejects.toMatchObject({ type: 'ActualLRPCannotBeClaimed' });
      expect(await instance()).toEqual(before);
    });

    it.each([
      ['k', K1],
      ["k'", K2],
    ] as const)('CLAIMED(k) -> RUNNING(%s) is allowed', async (_name, instanceKey) => {
      await given('CLAIMED');
      const { after } = await store().db.startActualLRP(KEY, instanceKey, NET2);
      expect(after).toMatchObject({ state: 'RUNNING', ...instanceKey, ...NET2 });
      expect(await instance()).toEqual(after);
    });

    it('RUNNING(k) -> CLAIMED(k) is allowed', async () => {
      await given('RUNNING');
      const { after } = await store().db.claimActualLRP(GUID, 0, K1);
      expect(after).toMatchObject({ state: 'CLAIMED', ...K1, address: '', ports: [] });
      expect(await instance()).toEqual(after);
    });

    it('RUNNING(k) -> RUNNING(k) with new net info is allowed', async () => {
      await given('RUNNING');
      const { after } = await store().db.startActualLRP(KEY, K1, NET2);
      expect(after).toMatchObject({ state: 'RUNNING', ...K1, ...NET2 });
      expect(await instance()).toEqual(after);
    });

    it("RUNNING(k) -> CLAIMED(k') is refused", async () => {
      const before = await given('RUNNING');
      await expect(store().db.claimActualLRP(GUID, 0, K2)).rejects.toMatchObject({ type: 'ActualLRPCannotBeClaimed' });
      expect(await instance()).toEqual(before);
    });

    it("RUNNING(k) -> RUNNING(k') is refused", async () => {
      const before = await given('RUNNING');
      await expect(store().db.startActualLRP(KEY, K2, NET2)).rejects.toMatchObject({ type: 'ActualLRPCannotBeStarted' });
      expect(await instance()).toEqual(before);
    });

    it.each(['CLAIMED', 'RUNNING'] as const)('%s(k) -> CRASHED(k) is allowed', async (from) => {
      await given(from);
      const { after } = await store().db.crashActualLRP(KEY, K1, 'boom');
      expect(after).toMatchObject({ crash_count: 1, crash_reason: 'boom', instance_guid: '', cell_id: '', address: '' });
      expect(await instance()).toEqual(after);
    });

    it.each(['CLAIMED', 'RUNNING'] as const)("%s(k) -> CRASHED(k') is refused", async (from) => {
      const before = await given(from);
      await expect(store().db.crashActualLRP(KEY, K2, 'boom')).rejects.toMatchObject({ type: 'ActualLRPCannotBeCrashed' });
      expect(await instance()).toEqual(before);
    });

    it.each(['UNCLAIMED', 'CRASHED'] as const)('%s -> CRASHED is refused', async (from) => {
      const before = await given(from);
      await expect(store().db.crashActualLRP(KEY, K1, 'boom')).rejects.toMatchObject({ type: 'ActualLRPCannotBeCrashed' });
      expect(await instance()).toEqual(before);
    });

    it('refuses a start or crash whose key differs from the stored one', async () => {
      const before = await given('RUNNING');
      const otherDomain = { ...KEY, domain: 'other-domain' };
      await expect(store().db.startActualLRP(otherDomain, K1, NET2)).rejects.toMatchObject({
        type: 'ActualLRPCannotBeStarted',
      });
      await expect(store().db.crashActualLRP(otherDomain, K1, 'boom')).rejects.toMatchObject({
        type: 'ActualLRPCannotBeCrashed',
      });
      expect(await instance()).toEqual(before);
    });
  });

  describe('modification tags (§2.1)', () => {
    it('gives every created record a new UUIDv4 epoch at index 0', async () => {
      const { db } = store();
      const first = await db.createUnclaimedActualLRP(KEY);
      const second = await db.createUnclaimedActualLRP({ ...KEY, index: 1 });
      expect(first.modification_tag).toEqual({ epoch: expect.stringMatching(UUID_V4), index: 0 });
      expect(second.modification_tag.epoch).toMatch(UUID_V4);
      expect(second.modification_tag.epoch).not.toBe(first.modification_tag.epoch);
      expect(await instance()).toEqual(first);
    });

    it('adds one to the index on every change, keeping the epoch', async () => {
      const { db } = store();
      const created = await db.createUnclaimedActualLRP(KEY);
      const { epoch } = created.modification_tag;
      const tags = [
        (await db.failActualLRP(KEY, 'no room')).after,
        (await db.claimActualLRP(GUID, 0, K1)).after,
        (await db.startActualLRP(KEY, K1, NET1)).after,
        (await db.crashActualLRP(KEY, K1, 'boom')).after,
        (await db.claimActualLRP(GUID, 0, K1)).after,
        (await db.unclaimActualLRP(KEY, K1)).after,
      ].map((lrp) => lrp.modification_tag);
      expect(tags).toEqual([1, 2, 3, 4, 5, 6].map((index) => ({ epoch, index })));
      expect((await instance())?.modification_tag).toEqual({ epoch, index: 6 });
    });

    it('does not write or change the tag on a start that changes nothing', async () => {
      const running = await given('RUNNING');
      const revision = await modRevision();
      const result = await store().db.startActualLRP(KEY, K1, NET1);
      expect(result).toEqual({ before: running, after: running });
      expect(await modRevision()).toBe(revision);
    });

    it('creates a missing instance RUNNING on start, with a new epoch', async () => {
      const { db, clock } = store();
      const result = await db.startActualLRP(KEY, K1, NET1);
      expect(result.before).toBeNull();
      expect(result.after).toMatchObject({ ...KEY, ...K1, ...NET1, state: 'RUNNING', since: clock.now, crash_count: 0 });
      expect(result.after.modification_tag).toEqual({ epoch: expect.stringMatching(UUID_V4), index: 0 });
      expect(await instance()).toEqual(result.after);
    });
  });

  describe('claim', () => {
    it('sets since to now and clears placement errors', async () => {
      const { db, clock } = store();
      await db.createUnclaimedActualLRP(KEY);
      await db.failActualLRP(KEY, 'no room');
      clock.advance(SECOND_NS);
      const { after } = await db.claimActualLRP(GUID, 0, K1);
      expect(after).toMatchObject({ since: clock.now, placement_error: '' });
    });

    it('is ResourceNotFound for a missing instance', async () => {
      await expect(store().db.claimActualLRP(GUID, 0, K1)).rejects.toMatchObject({ type: 'ResourceNotFound' });
    });

    it('lets exactly one of two racing claims win; the loser is ActualLRPCannotBeClaimed', async () => {
      const { db } = store();
      await db.createUnclaimedActualLRP(KEY);
      const other = store().otherDb();
      const results = await Promise.allSettled([db.claimActualLRP(GUID, 0, K1), other.claimActualLRP(GUID, 0, K2)]);
      const won = results.filter((result) => result.status === 'fulfilled');
      const lost = results.filter((result) => result.status === 'rejected');
      expect(won).toHaveLength(1);
      expect(lost.map((result) => result.reason)).toEqual([expect.objectContaining({ type: 'ActualLRPCannotBeClaimed' })]);
      // Read from etcd: the other writer's win may still be on its way to this store's view.
      expect((await other.actualLRPGroupByProcessGuidAndIndex(GUID, 0)).instance?.modification_tag.index).toBe(1);
    });
  });

  describe('crash restarts (§6)', () => {
    it('restarts at once twice, then stays CRASHED', async () => {
      const { db, clock } = store();
      await db.createUnclaimedActualLRP(KEY);
      const outcomes: { state: string; crash_count: number; restarted: boolean; since: bigint }[] = [];
      for (let crash = 1; crash <= 3; crash++) {
        await db.startActualLRP(KEY, K1, NET1);
        clock.advance(10n * SECOND_NS);
        const { after, restarted } = await db.crashActualLRP(KEY, K1, `crash ${crash}`);
        outcomes.push({ state: after.state, crash_count: after.crash_count, restarted, since: after.since });
      }
      expect(outcomes).toEqual([
        { state: 'UNCLAIMED', crash_count: 1, restarted: true, since: START_NS + 10n * SECOND_NS },
        { state: 'UNCLAIMED', crash_count: 2, restarted: true, since: START_NS + 20n * SECOND_NS },
        { state: 'CRASHED', crash_count: 3, restarted: false, since: START_NS + 30n * SECOND_NS },
      ]);
      expect(await instance()).toMatchObject({ state: 'CRASHED', crash_count: 3, crash_reason: 'crash 3' });
    });

    it('counts from 1 again when the instance had been running for more than 5 minutes', async () => {
      const { db, clock } = store();
      await given('CRASHED');
      await db.startActualLRP(KEY, K1, NET1);
      clock.advance(5n * MINUTE_NS + SECOND_NS);
      const { after, restarted } = await db.crashActualLRP(KEY, K1, 'late crash');
      expect({ state: after.state, crash_count: after.crash_count, restarted }).toEqual({
        state: 'UNCLAIMED',
        crash_count: 1,
        restarted: true,
      });
    });

    it('keeps counting when it crashes within 5 minutes of starting', async () => {
      const { db, clock } = store();
      await given('CRASHED');
      await db.startActualLRP(KEY, K1, NET1);
      clock.advance(5n * MINUTE_NS);
      const { after, restarted } = await db.crashActualLRP(KEY, K1, 'crash 4');
      expect({ state: after.state, crash_count: after.crash_count, restarted }).toEqual({
        state: 'CRASHED',
        crash_count: 4,
        restarted: false,
      });
    });
  });

  describe('fail', () => {
    it('records the placement error on an UNCLAIMED instance', async () => {
      const { db, clock } = store();
      await db.createUnclaimedActualLRP(KEY);
      clock.advance(SECOND_NS);
      const { after } = await db.failActualLRP(KEY, 'insufficient resources');
      expect(after).toMatchObject({ state: 'UNCLAIMED', placement_error: 'insufficient resources', since: clock.now });
      expect(await instance()).toEqual(after);
    });

    it('is ActualLRPCannotBeFailed once claimed', async () => {
      await given('CLAIMED');
      await expect(store().db.failActualLRP(KEY, 'no room')).rejects.toMatchObject({ type: 'ActualLRPCannotBeFailed' });
    });
  });

  describe('unclaim', () => {
    it('unclaims a running instance, keeping its crash count', async () => {
      const { db } = store();
      await given('CRASHED');
      await db.startActualLRP(KEY, K1, NET1);
      const { changed, after } = await db.unclaimActualLRP(KEY, K1);
      expect(changed).toBe(true);
      expect(after).toMatchObject({ state: 'UNCLAIMED', instance_guid: '', cell_id: '', address: '', crash_count: 3 });
    });

    it('unclaims a CRASHED instance with the empty instance key (convergence restarts)', async () => {
      await given('CRASHED');
      const { changed, after } = await store().db.unclaimActualLRP(KEY);
      expect({ changed, state: after.state }).toEqual({ changed: true, state: 'UNCLAIMED' });
    });

    it('reports no change for an UNCLAIMED instance', async () => {
      const before = await given('UNCLAIMED');
      expect(await store().db.unclaimActualLRP(KEY, K1)).toEqual({ changed: false, after: before });
    });

    it('is ActualLRPCannotBeUnclaimed for another instance key', async () => {
      await given('RUNNING');
      await expect(store().db.unclaimActualLRP(KEY, K2)).rejects.toMatchObject({ type: 'ActualLRPCannotBeUnclaimed' });
    });
  });

  describe('remove', () => {
    it('deletes the instance whatever its state and returns it', async () => {
      const running = await given('RUNNING');
      expect(await store().db.removeActualLRP(GUID, 0)).toEqual(running);
      await expect(store().db.actualLRPGroupByProcessGuidAndIndex(GUID, 0)).rejects.toMatchObject({
        type: 'ResourceNotFound',
      });
    });

    it('is ResourceNotFound when the given instance key does not match', async () => {
      const running = await given('RUNNING');
      await expect(store().db.removeActualLRP(GUID, 0, K2)).rejects.toMatchObject({ type: 'ResourceNotFound' });
      expect(await instance()).toEqual(running);
      await store().db.removeActualLRP(GUID, 0, K1);
      expect(await store().db.actualLRPGroupsByProcessGuid(GUID)).toEqual([]);
    });
  });

  describe('retire', () => {
    it.each(['UNCLAIMED', 'CRASHED'] as const)('removes a %s instance', async (state) => {
      await given(state);
      expect(await store().db.retireActualLRP(KEY)).toEqual({ removed: true });
      expect(await store().db.actualLRPGroupsByProcessGuid(GUID)).toEqual([]);
    });

    it('asks the cell to stop a running instance when the cell is present', async () => {
      const { db } = store();
      const running = await given('RUNNING');
      const cell = newValidCellPresence('cell-1');
      await db.registerCell(cell, 10);
      expect(await db.retireActualLRP(KEY)).toEqual({ removed: false, cell, lrp: running });
      expect(await instance()).toEqual(running);
    });

    it('removes a running instance whose cell is gone', async () => {
      await given('RUNNING');
      expect(await store().db.retireActualLRP(KEY)).toEqual({ removed: true });
      expect(await store().db.actualLRPGroupsByProcessGuid(GUID)).toEqual([]);
    });

    it('is ResourceNotFound for a missing instance', async () => {
      await expect(store().db.retireActualLRP(KEY)).rejects.toMatchObject({ type: 'ResourceNotFound' });
    });
  });

  describe('stored value', () => {
    it('is readable JSON with the modification tag and every digit of since', async () => {
      const { db, raw } = store();
      const created = await db.createUnclaimedActualLRP(KEY);
      const kv = await raw(etcdKeys.actualLrpInstanceKey(GUID, 0));
      const text = kv?.value.toString() ?? '';
      expect(text).toContain(`"since":${START_NS}`);
      expect(JSON.parse(text)).toMatchObject({
        process_guid: GUID,
        index: 0,
        domain: 'some-domain',
        state: 'UNCLAIMED',
        modification_tag: { epoch: created.modification_tag.epoch, index: 0 },
      });
    });

    it('refuses to write an invalid record', async () => {
      await expect(store().db.createUnclaimedActualLRP({ ...KEY, domain: '' })).rejects.toMatchObject({
        type: 'InvalidRecord',
      });
      expect(await store().raw(etcdKeys.actualLrpInstanceKey(GUID, 0))).toBeUndefined();
    });

    it('reads an invalid stored record as InvalidRecord, and skips it in lists', async () => {
      const { db, keys } = store();
      await db.createUnclaimedActualLRP({ ...KEY, index: 1 });
      const put = await keys.namespace.put(etcdKeys.actualLrpInstanceKey(GUID, 0)).value('{"process_guid":"process-guid"}').exec();
      db.observedRevision(put.header.revision);
      await expect(db.actualLRPGroupByProcessGuidAndIndex(GUID, 0)).rejects.toMatchObject({ type: 'InvalidRecord' });
      const groups = await db.actualLRPGroups();
      expect(groups.map((group) => group.instance?.index)).toEqual([1]);
    });
  });

  describe('groups', () => {
    it('filters records by domain and cell, a group showing when one of its records passes', async () => {
      const { db } = store();
      await db.createUnclaimedActualLRP(KEY);
      await db.startActualLRP({ ...KEY, index: 1 }, K1, NET1);
      await db.startActualLRP({ ...KEY, index: 2 }, K2, NET2);
      await db.evacuateRunningActualLRP({ ...KEY, index: 2 }, K2, NET2, 60);
      await db.startActualLRP({ process_guid: 'other', index: 0, domain: 'other-domain' }, K1, NET1);

      const indices = (groups: { instance: ActualLRP | null; evacuating: ActualLRP | null }[]) =>
        groups.map((group) => `${(group.instance ?? group.evacuating)?.process_guid}/${(group.instance ?? group.evacuating)?.index}`).sort();

      expect(indices(await db.actualLRPGroups())).toEqual(['other/0', `${GUID}/0`, `${GUID}/1`, `${GUID}/2`]);
      expect(indices(await db.actualLRPGroups({ domain: 'other-domain' }))).toEqual(['other/0']);
      expect(indices(await db.actualLRPGroups({ cell_id: 'cell-1' }))).toEqual(['other/0', `${GUID}/1`]);
      const onCell2 = await db.actualLRPGroups({ cell_id: 'cell-2' });
      // Index 2's instance was unclaimed by the evacuation: only its evacuating copy is on cell-2.
      expect(onCell2).toEqual([{ instance: null, evacuating: expect.objectContaining({ index: 2, cell_id: 'cell-2' }) }]);
      expect(await db.actualLRPGroupsByProcessGuid(GUID)).toHaveLength(3);
    });
  });
});
