// The watch-maintained view a BBS reads from (packages/bbs/src/db/etcd/view.ts): the same answers as etcd, in
// etcd's key order, current with the store's own writes at once and with everyone else's within the watch.
import { etcdKeys } from '@diego/bbs';
import { decodeDesiredLrpCreateRequest } from '@diego/models';
import { eventually, loadFixture, newValidCellPresence, newValidDesiredLrp } from '@diego/test-support';
import { useStore } from './store-harness';

describe('the in-memory view', () => {
  const store = useStore({ view: true });

  it('answers lists exactly as etcd does, in key order, including guids that prefix each other and indices past 9', async () => {
    const { db, otherDb } = store();
    const fromEtcd = otherDb();
    await eventually(async () => db.viewStatus?.live, (live) => live === true);
    for (const guid of ['ab', 'ab-c', 'a', 'b_0']) await db.desireLRP(newValidDesiredLrp(guid, { instances: 12 }));
    await db.startActualLRP({ process_guid: 'ab', index: 10, domain: 'some-domain' }, { instance_guid: 'i', cell_id: 'cell-1' }, { address: '10.0.0.1', ports: [] });
    await db.evacuateRunningActualLRP(
      { process_guid: 'ab', index: 10, domain: 'some-domain' }, { instance_guid: 'i', cell_id: 'cell-1' }, { address: '10.0.0.1', ports: [] }, 60,
    );

    const viewed = await db.listActualLRPGroups();
    const listed = await fromEtcd.listActualLRPGroups();
    expect(viewed.items).toEqual(listed.items);
    expect(viewed.items).toHaveLength(48);
    expect(viewed.items.slice(0, 4).map((group) => `${group.instance?.process_guid}/${group.instance?.index}`)).toEqual(['a/0', 'a/1', 'a/10', 'a/11']);
    expect(await db.desiredLRPs()).toEqual(await fromEtcd.desiredLRPs());
    expect(await db.actualLRPGroupsByProcessGuid('ab')).toEqual(await fromEtcd.actualLRPGroupsByProcessGuid('ab'));
    expect(await db.actualLRPGroupByProcessGuidAndIndex('ab', 10)).toEqual(await fromEtcd.actualLRPGroupByProcessGuidAndIndex('ab', 10));
    expect(await db.actualLRPGroups({ cell_id: 'cell-1' })).toEqual(await fromEtcd.actualLRPGroups({ cell_id: 'cell-1' }));
    // The view is at a revision no older than the store's last write.
    expect(BigInt(viewed.revision)).toBeGreaterThanOrEqual(BigInt(listed.revision));
  });

  it("finds a cell's records through its index, following them as they move and go", async () => {
    const { db } = store();
    await eventually(async () => db.viewStatus?.live, (live) => live === true);
    await db.desireLRP(newValidDesiredLrp('web', { instances: 3 }));
    const onCell = async (cellId: string): Promise<string[]> =>
      (await db.actualLRPGroups({ cell_id: cellId })).map((group) => `${group.instance?.index}`);
    await db.claimActualLRP('web', 0, { instance_guid: 'i-0', cell_id: 'cell-1' });
    await db.claimActualLRP('web', 2, { instance_guid: 'i-2', cell_id: 'cell-1' });
    expect(await onCell('cell-1')).toEqual(['0', '2']);

    await db.unclaimActualLRP({ process_guid: 'web', index: 0, domain: 'some-domain' }, { instance_guid: 'i-0', cell_id: 'cell-1' });
    await db.startActualLRP({ process_guid: 'web', index: 0, domain: 'some-domain' }, { instance_guid: 'i-0b', cell_id: 'cell-2' }, { address: '10.0.0.2', ports: [] });
    await db.removeActualLRP('web', 2);
    expect(await onCell('cell-1')).toEqual([]);
    expect(await onCell('cell-2')).toEqual(['0']);
    expect(await db.actualLRPGroups({ cell_id: 'cell-2', domain: 'other-domain' })).toEqual([]);
  });

  it('decodes each ActualLRP once per stored version: the same object until it changes', async () => {
    const { db } = store();
    await eventually(async () => db.viewStatus?.live, (live) => live === true);
    await db.desireLRP(newValidDesiredLrp('web', { instances: 2 }));
    const [first] = await db.actualLRPGroups();
    const [again] = await db.actualLRPGroups();
    expect(again?.instance).toBe(first?.instance);

    await db.claimActualLRP('web', 0, { instance_guid: 'i-1', cell_id: 'cell-1' });
    const [claimed, untouched] = await db.actualLRPGroups();
    expect(claimed?.instance).not.toBe(first?.instance);
    expect(claimed?.instance?.state).toBe('CLAIMED');
    expect(untouched?.instance).toBe((await db.actualLRPGroups())[1]?.instance);
  });

  it('shows writes made behind its back once its watch delivers them, and the deletes of expired leases', async () => {
    const { db, otherDb, keys } = store();
    const other = otherDb();
    await eventually(async () => db.viewStatus?.live, (live) => live === true);
    await other.desireLRP(newValidDesiredLrp('elsewhere', { instances: 1 }));
    await other.registerCell(newValidCellPresence('cell-short'), 1);
    await eventually(() => db.desiredLRPs(), (lrps) => lrps.map((lrp) => lrp.process_guid).includes('elsewhere'));
    await eventually(() => db.cells(), (cells) => cells.some((cell) => cell.cell_id === 'cell-short'));
    // The lease expires (etcd's minimum TTL is a little over a second): the view sees the delete.
    await eventually(() => db.cells(), (cells) => cells.length === 0, { timeoutMs: 6000 });

    // A change seen elsewhere (say, on another watch) is reflected by the very next read once observed.
    const put = await keys.namespace.put(etcdKeys.domainKey('observed')).value('').exec();
    db.observedRevision(put.header.revision);
    expect(await db.domains()).toContain('observed');
  });

  it('loads a store that was there before it, large DesiredLRPs after thousands of small ActualLRPs', async () => {
    const { otherDb } = store();
    const writer = otherDb({ view: false });
    const fixture = decodeDesiredLrpCreateRequest(loadFixture('cc-bridge-desired-lrp.json'));
    // About 5 MiB of DesiredLRPs: one page sized by the ActualLRPs before them would be over gRPC's 4 MiB.
    const guids = Array.from({ length: 1500 }, (_, i) => `loaded-${i}`);
    for (let i = 0; i < guids.length; i += 50) {
      await Promise.all(guids.slice(i, i + 50).map((guid) => writer.desireLRP({ ...fixture, process_guid: guid, instances: 1 })));
    }
    const late = otherDb({ view: true });
    await eventually(async () => late.viewStatus, (status) => status?.live === true, { timeoutMs: 20_000 });
    expect(late.viewStatus?.loads).toBe(1);
    expect((await late.desiredLRPSchedulingInfos()).length).toBe(1500);
    expect((await late.actualLRPGroups()).length).toBe(1500);
  });

  it("reads each record its own writes made, every key of a transaction included, while writes to other keys are in flight", async () => {
    const { db } = store();
    await eventually(async () => db.viewStatus?.live, (live) => live === true);
    const guids = Array.from({ length: 40 }, (_, i) => `own-${i}`);
    // Each desire writes the DesiredLRP and its instance in one transaction; the claim reads the instance at once.
    const claimed = await Promise.all(guids.map(async (guid) => {
      await db.desireLRP(newValidDesiredLrp(guid, { instances: 1 }));
      await db.claimActualLRP(guid, 0, { instance_guid: `i-${guid}`, cell_id: 'cell-1' });
      return (await db.actualLRPGroupByProcessGuidAndIndex(guid, 0)).instance?.state;
    }));
    expect(claimed).toEqual(guids.map(() => 'CLAIMED'));
  });

  it('hands its followers every change it applied, with the record before and after and the previous value', async () => {
    const { db, otherDb } = store();
    const other = otherDb({ view: false });
    const loads: bigint[] = [];
    const changes: Array<{ key: string; type: string; before: string | undefined; after: string | undefined; prev: boolean }> = [];
    const stop = db.followView({
      onLoaded: (revision) => loads.push(revision),
      onBatch: (batch) => {
        batch.records.forEach((record, i) => {
          const change = batch.changes[i];
          changes.push({
            key: record.key,
            type: change?.type ?? '',
            before: record.before?.modRevision,
            after: record.after?.modRevision,
            prev: change?.prev_kv !== undefined,
          });
        });
      },
    });
    await eventually(async () => loads.length, (count) => count === 1);
    await db.desireLRP(newValidDesiredLrp('followed', { instances: 1 }));
    // Written by another BBS: the view's watch brings it too.
    await other.claimActualLRP('followed', 0, { instance_guid: 'i-0', cell_id: 'cell-1' });
    await db.removeActualLRP('followed', 0);
    const instanceKey = etcdKeys.actualLrpInstanceKey('followed', 0);
    const ofInstance = await eventually(
      async () => changes.filter((change) => change.key === instanceKey),
      (seen) => seen.length === 3,
    );
    const [created, claimed, removed] = ofInstance;
    expect(created).toMatchObject({ type: 'Put', before: undefined, prev: false });
    expect(claimed).toMatchObject({ type: 'Put', before: created?.after, prev: true });
    expect(removed).toMatchObject({ type: 'Delete', before: claimed?.after, after: undefined, prev: true });
    expect(changes.some((change) => change.key === etcdKeys.desiredLrpKey('followed'))).toBe(true);

    expect(stop).not.toBeNull();
    stop?.();
    await db.desireLRP(newValidDesiredLrp('unfollowed', { instances: 1 }));
    await eventually(() => db.desiredLRPs(), (lrps) => lrps.some((lrp) => lrp.process_guid === 'unfollowed'));
    expect(changes.some((change) => change.key.includes('unfollowed'))).toBe(false);
  });

  it('reads etcd again once closed', async () => {
    const { db, keys } = store();
    await eventually(async () => db.viewStatus?.live, (live) => live === true);
    db.close();
    await keys.namespace.put(etcdKeys.domainKey('direct')).value('').exec();
    expect(await db.domains()).toEqual(['direct']);
    expect(db.viewStatus?.live).toBe(false);
  });
});
