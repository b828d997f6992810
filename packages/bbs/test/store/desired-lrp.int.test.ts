import type { ActualLRPGroup } from '@diego/models';
import { newValidDesiredLrp } from '@diego/test-support';
import { etcdKeys } from '@diego/bbs';
import { useStore, STORE_READS } from './store-harness';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const K1 = { instance_guid: 'instance-1', cell_id: 'cell-1' };

function indicesOf(groups: ActualLRPGroup[]): number[] {
  return groups.map((group) => group.instance?.index ?? -1).sort((a, b) => a - b);
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from }, (_, i) => from + i);
}

describe.each(STORE_READS)('desired LRPs (spec/bbs.md §12), reading %s', (reads) => {
  const store = useStore({ view: reads === 'through the view' });

  describe('desireLRP', () => {
    it('stores the whole LRP under one key with a new epoch at index 0', async () => {
      const { db } = store();
      const lrp = newValidDesiredLrp('web', { instances: 2 });
      const { desired } = await db.desireLRP(lrp);

      expect(desired).toEqual({ ...lrp, modification_tag: { epoch: expect.stringMatching(UUID_V4), index: 0 } });
      expect(desired.modification_tag.epoch).not.toBe(lrp.modification_tag.epoch);
      expect(await db.desiredLRPByProcessGuid('web')).toEqual(desired);
      const raw = await store().raw(etcdKeys.desiredLrpKey('web'));
      expect(JSON.parse(raw?.value.toString() ?? '')).toMatchObject({
        process_guid: 'web',
        modification_tag: desired.modification_tag,
      });
    });

    it('creates 300 UNCLAIMED instances, more than one transaction holds, each with its own epoch', async () => {
      const { db, clock } = store();
      const { createdIndices } = await db.desireLRP(newValidDesiredLrp('web', { instances: 300 }));
      expect(createdIndices).toEqual(range(0, 300));

      const groups = await db.actualLRPGroupsByProcessGuid('web');
      expect(indicesOf(groups)).toEqual(range(0, 300));
      const instances = groups.map((group) => group.instance!);
      expect(instances.every((lrp) => lrp.state === 'UNCLAIMED' && lrp.since === clock.now && lrp.domain === 'some-domain')).toBe(true);
      expect(instances.every((lrp) => lrp.modification_tag.index === 0)).toBe(true);
      expect(new Set(instances.map((lrp) => lrp.modification_tag.epoch)).size).toBe(300);
    });

    it('is ResourceExists for a taken guid and writes nothing', async () => {
      const { db } = store();
      const { desired } = await db.desireLRP(newValidDesiredLrp('web', { instances: 2 }));
      const { after: claimed } = await db.claimActualLRP('web', 0, K1);

      await expect(db.desireLRP(newValidDesiredLrp('web', { instances: 5, annotation: 'second' }))).rejects.toMatchObject({
        type: 'ResourceExists',
      });
      expect(await db.desiredLRPByProcessGuid('web')).toEqual(desired);
      const groups = await db.actualLRPGroupsByProcessGuid('web');
      expect(indicesOf(groups)).toEqual([0, 1]);
      expect((await db.actualLRPGroupByProcessGuidAndIndex('web', 0)).instance).toEqual(claimed);
    });

    it('skips indices whose instance already exists, in the first transaction and in later ones', async () => {
      const { db } = store();
      await db.createUnclaimedActualLRP({ process_guid: 'web', index: 5, domain: 'some-domain' });
      const { after: claimed5 } = await db.claimActualLRP('web', 5, K1);
      await db.createUnclaimedActualLRP({ process_guid: 'web', index: 200, domain: 'some-domain' });
      const { after: claimed200 } = await db.claimActualLRP('web', 200, K1);

      const { createdIndices } = await db.desireLRP(newValidDesiredLrp('web', { instances: 300 }));

      expect(createdIndices).toEqual(range(0, 300).filter((index) => index !== 5 && index !== 200));
      expect((await db.actualLRPGroupByProcessGuidAndIndex('web', 5)).instance).toEqual(claimed5);
      expect((await db.actualLRPGroupByProcessGuidAndIndex('web', 200)).instance).toEqual(claimed200);
      expect(indicesOf(await db.actualLRPGroupsByProcessGuid('web'))).toEqual(range(0, 300));
    });

    it('stores an LRP of 0 instances', async () => {
      const { db } = store();
      const { createdIndices } = await db.desireLRP(newValidDesiredLrp('web', { instances: 0 }));
      expect(createdIndices).toEqual([]);
      expect((await db.desiredLRPByProcessGuid('web')).instances).toBe(0);
    });
  });

  describe('reads', () => {
    it('lists desired LRPs and their scheduling infos, filtered by domain', async () => {
      const { db } = store();
      const { desired: a } = await db.desireLRP(newValidDesiredLrp('a', { domain: 'd1' }));
      const { desired: b } = await db.desireLRP(newValidDesiredLrp('b', { domain: 'd2' }));

      expect(await db.desiredLRPs()).toEqual([a, b]);
      expect(await db.desiredLRPs({ domain: 'd2' })).toEqual([b]);
      expect(await db.desiredLRPSchedulingInfos({ domain: 'd1' })).toEqual([
        {
          process_guid: 'a',
          domain: 'd1',
          log_guid: a.log_guid,
          annotation: a.annotation,
          instances: a.instances,
          rootfs: a.rootfs,
          memory_mb: a.memory_mb,
          disk_mb: a.disk_mb,
          routes: a.routes,
          modification_tag: a.modification_tag,
        },
      ]);
    });

    it('is ResourceNotFound for a missing guid', async () => {
      await expect(store().db.desiredLRPByProcessGuid('nope')).rejects.toMatchObject({ type: 'ResourceNotFound' });
    });

    it('skips undecodable records in lists and reports them as InvalidRecord when asked for', async () => {
      const { db, keys } = store();
      const { desired } = await db.desireLRP(newValidDesiredLrp('good', { instances: 0 }));
      const put = await keys.namespace.put(etcdKeys.desiredLrpKey('bad')).value('{not json').exec();
      db.observedRevision(put.header.revision);
      expect(await db.desiredLRPs()).toEqual([desired]);
      await expect(db.desiredLRPByProcessGuid('bad')).rejects.toMatchObject({ type: 'InvalidRecord' });
    });

    it('pages through a few thousand actual LRPs', async () => {
      const { db, otherDb } = store();
      await db.desireLRP(newValidDesiredLrp('bulk', { instances: 3000 }));
      const paged = otherDb({ pageSize: 128 });
      const groups = await paged.actualLRPGroups();
      expect(indicesOf(groups)).toEqual(range(0, 3000));
    });
  });

  describe('updateDesiredLRP', () => {
    it('applies instances, routes and annotation with the tag index + 1, and creates the new instances', async () => {
      const { db } = store();
      const { desired } = await db.desireLRP(newValidDesiredLrp('web', { instances: 2 }));
      const routes = { 'cf-router': '[{"hostnames":["a.example.com"],"port":8080}]' };

      const result = await db.updateDesiredLRP('web', { instances: 4, routes, annotation: 'new' });

      const after = { ...desired, instances: 4, routes, annotation: 'new', modification_tag: { ...desired.modification_tag, index: 1 } };
      expect(result).toEqual({ before: desired, after, createdIndices: [2, 3] });
      expect(await db.desiredLRPByProcessGuid('web')).toEqual(after);
      expect(indicesOf(await db.actualLRPGroupsByProcessGuid('web'))).toEqual([0, 1, 2, 3]);
    });

    it('leaves null fields alone and retires nothing on scale-down', async () => {
      const { db } = store();
      const { desired } = await db.desireLRP(newValidDesiredLrp('web', { instances: 3 }));
      const { after, createdIndices } = await db.updateDesiredLRP('web', { instances: 1, routes: null, annotation: null });
      expect(after).toEqual({ ...desired, instances: 1, modification_tag: { ...desired.modification_tag, index: 1 } });
      expect(createdIndices).toEqual([]);
      expect(indicesOf(await db.actualLRPGroupsByProcessGuid('web'))).toEqual([0, 1, 2]);
    });

    it('is ResourceNotFound for a missing guid', async () => {
      await expect(
        store().db.updateDesiredLRP('nope', { instances: 1, routes: null, annotation: null }),
      ).rejects.toMatchObject({ type: 'ResourceNotFound' });
    });

    it('counts every one of 30 concurrent updates that succeeds in the tag; the others are ResourceConflict', async () => {
      const { db, otherDb } = store();
      await db.desireLRP(newValidDesiredLrp('web', { instances: 0 }));
      // Several BBSes, as in production: each has its own connection.
      const writers = [db, otherDb(), otherDb()];

      const results = await Promise.allSettled(
        range(0, 30).map((i) =>
          writers[i % writers.length]!.updateDesiredLRP('web', { instances: null, routes: null, annotation: `update-${i}` }),
        ),
      );

      const succeeded = results.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
      const failed = results.flatMap((result) => (result.status === 'rejected' ? [result.reason as unknown] : []));
      expect(failed.every((err) => typeof err === 'object' && err !== null && 'type' in err && err.type === 'ResourceConflict')).toBe(true);
      expect(succeeded.length).toBeGreaterThan(0);
      expect(succeeded.map((update) => update.after.modification_tag.index).sort((a, b) => a - b)).toEqual(
        range(1, succeeded.length + 1),
      );
      const final = await otherDb().desiredLRPByProcessGuid('web');
      expect(final.modification_tag.index).toBe(succeeded.length);
      const last = succeeded.find((update) => update.after.modification_tag.index === succeeded.length);
      expect(final.annotation).toBe(last?.after.annotation);
    });
  });

  describe('removeDesiredLRP', () => {
    it('deletes the record and returns it, leaving its actuals to be retired', async () => {
      const { db } = store();
      const { desired } = await db.desireLRP(newValidDesiredLrp('web', { instances: 2 }));
      expect(await db.removeDesiredLRP('web')).toEqual(desired);
      await expect(db.desiredLRPByProcessGuid('web')).rejects.toMatchObject({ type: 'ResourceNotFound' });
      expect(indicesOf(await db.actualLRPGroupsByProcessGuid('web'))).toEqual([0, 1]);
    });

    it('is ResourceNotFound for a missing guid', async () => {
      await expect(store().db.removeDesiredLRP('nope')).rejects.toMatchObject({ type: 'ResourceNotFound' });
    });
  });
});
