import { desiredLrpFromProto, type ActualLRPGroup, type CachedDependency } from '@diego/models';
import { newValidCellPresence, newValidDesiredLrp } from '@diego/test-support';
import { useBbs, useFakeRep } from './bbs-harness';

const bbs = useBbs();
const rep = useFakeRep();

const dependency: CachedDependency = { name: 'buildpack', from: 'http://blob/bp.zip', to: '/bp', cache_key: 'bp', log_source: 'STG' };
const withDependencies = newValidDesiredLrp('with-deps', { cached_dependencies: [dependency], legacy_download_user: 'vcap' });

const indices = (groups: ActualLRPGroup[]): number[] => groups.flatMap((group) => (group.instance ? [group.instance.index] : [])).sort();

/** Registers cell-1 with the fake rep, and claims `index` of `processGuid` on it as instance `ig-<index>`. */
async function claimOnCell(processGuid: string, index: number): Promise<void> {
  await bbs().db.registerCell(newValidCellPresence('cell-1', { rep_address: rep().url }), 60);
  await bbs().client.claimActualLRP(processGuid, index, { instance_guid: `ig-${index}`, cell_id: 'cell-1' });
}

describe('DesireDesiredLRP', () => {
  it('stores the LRP with a fresh modification tag, and an UNCLAIMED instance per index', async () => {
    const lrp = newValidDesiredLrp('web', { instances: 2 });
    await bbs().client.desireLRP(lrp);
    const stored = await bbs().client.desiredLRPByProcessGuid('web');
    expect({ ...stored, modification_tag: null }).toEqual({ ...lrp, modification_tag: null });
    expect(stored.modification_tag.index).toBe(0);
    expect(stored.modification_tag.epoch).not.toBe(lrp.modification_tag.epoch);
    const groups = await bbs().client.actualLRPGroupsByProcessGuid('web');
    expect(indices(groups)).toEqual([0, 1]);
    expect(groups.map((group) => group.instance?.state)).toEqual(['UNCLAIMED', 'UNCLAIMED']);
  });

  it('refuses a taken process guid with ResourceExists', async () => {
    await bbs().client.desireLRP(newValidDesiredLrp('web'));
    // Another definition: the same one again is a repeat, answered as success (issue 13).
    await expect(bbs().client.desireLRP(newValidDesiredLrp('web', { instances: 5 }))).rejects.toMatchObject({ type: 'ResourceExists' });
  });

  it('refuses an invalid LRP with InvalidRequest naming every invalid field', async () => {
    const invalid = newValidDesiredLrp('web', { domain: '', instances: -1 });
    await expect(bbs().client.desireLRP(invalid)).rejects.toMatchObject({
      type: 'InvalidRequest',
      message: 'Invalid field: domain, Invalid field: instances',
    });
    await expect(bbs().client.desiredLRPs()).resolves.toEqual([]);
  });
});

describe('DesiredLRPs_r1', () => {
  it('lists the LRPs, filtered by domain, with their cached dependencies', async () => {
    await bbs().client.desireLRP(withDependencies);
    await bbs().client.desireLRP(newValidDesiredLrp('other', { domain: 'other-domain' }));
    const listed = await bbs().client.desiredLRPs({ domain: 'some-domain' });
    expect(listed.map((lrp) => lrp.process_guid)).toEqual(['with-deps']);
    expect(listed[0]?.cached_dependencies).toEqual([dependency]);
    expect((await bbs().client.desiredLRPs()).length).toBe(2);
  });
});

describe('DesiredLRPsReceptorJSON', () => {
  it("answers GET /v1/desired_lrps's JSON array of DesiredLRPResponses, filtered by domain, with the list's revision", async () => {
    await bbs().client.desireLRP(withDependencies);
    await bbs().client.desireLRP(newValidDesiredLrp('other', { domain: 'other-domain' }));
    const all = await bbs().client.desiredLRPsReceptorJSON();
    const lrps = JSON.parse(Buffer.from(all.json).toString('utf8')) as Array<Record<string, unknown>>;
    expect(lrps.map((lrp) => lrp.process_guid)).toEqual(['other', 'with-deps']);
    // The receptor's shape: no stored-only fields.
    expect(lrps[1]).not.toHaveProperty('cached_dependencies');
    expect(lrps[1]).toMatchObject({ domain: 'some-domain', modification_tag: { index: 0 } });
    expect(BigInt(all.revision)).toBeGreaterThan(0n);
    const some = await bbs().client.desiredLRPsReceptorJSON({ domain: 'some-domain' });
    expect((JSON.parse(Buffer.from(some.json).toString('utf8')) as unknown[]).length).toBe(1);
  });
});

describe('DesiredLRPs', () => {
  it('lists the LRPs versioned down to V0: cached dependencies downloaded before the setup', async () => {
    await bbs().client.desireLRP(withDependencies);
    const response = await bbs().client.call('DesiredLRPs', { domain: '' });
    const [lrp] = response.desired_lrps.map(desiredLrpFromProto);
    expect(lrp?.cached_dependencies).toEqual([]);
    expect(lrp?.setup?.serial?.actions).toEqual([
      {
        parallel: {
          actions: [{ download: { artifact: 'buildpack', from: 'http://blob/bp.zip', to: '/bp', cache_key: 'bp', log_source: 'STG', user: 'vcap' } }],
          log_source: '',
        },
      },
      withDependencies.setup,
    ]);
  });
});

describe('DesiredLRPByProcessGuid_r1', () => {
  it('gets one LRP as stored', async () => {
    await bbs().client.desireLRP(withDependencies);
    expect((await bbs().client.desiredLRPByProcessGuid('with-deps')).cached_dependencies).toEqual([dependency]);
  });

  it('answers ResourceNotFound for an unknown guid', async () => {
    await expect(bbs().client.desiredLRPByProcessGuid('nope')).rejects.toMatchObject({ type: 'ResourceNotFound' });
  });

  it('refuses an empty guid with InvalidRequest', async () => {
    await expect(bbs().client.desiredLRPByProcessGuid('')).rejects.toMatchObject({
      type: 'InvalidRequest',
      message: 'Invalid field: process_guid',
    });
  });
});

describe('DesiredLRPByProcessGuid', () => {
  it('gets one LRP versioned down to V0', async () => {
    await bbs().client.desireLRP(withDependencies);
    const response = await bbs().client.call('DesiredLRPByProcessGuid', { process_guid: 'with-deps' });
    const lrp = desiredLrpFromProto(response.desired_lrp ?? {});
    expect(lrp.cached_dependencies).toEqual([]);
    expect(lrp.setup?.serial?.actions[1]).toEqual(withDependencies.setup);
  });

  it('answers ResourceNotFound for an unknown guid', async () => {
    await expect(bbs().client.call('DesiredLRPByProcessGuid', { process_guid: 'nope' })).rejects.toMatchObject({
      type: 'ResourceNotFound',
    });
  });
});

describe('DesiredLRPSchedulingInfos', () => {
  it('lists what placement and routing need, filtered by domain', async () => {
    const lrp = newValidDesiredLrp('web', { instances: 3 });
    await bbs().client.desireLRP(lrp);
    await bbs().client.desireLRP(newValidDesiredLrp('other', { domain: 'other-domain' }));
    const infos = await bbs().client.desiredLRPSchedulingInfos({ domain: 'some-domain' });
    expect(infos).toEqual([
      {
        process_guid: 'web',
        domain: lrp.domain,
        log_guid: lrp.log_guid,
        annotation: lrp.annotation,
        instances: 3,
        rootfs: lrp.rootfs,
        memory_mb: lrp.memory_mb,
        disk_mb: lrp.disk_mb,
        routes: lrp.routes,
        modification_tag: expect.objectContaining({ index: 0 }),
      },
    ]);
  });
});

describe('UpdateDesireLRP', () => {
  it('applies instances, routes and annotation, and bumps the modification tag', async () => {
    await bbs().client.desireLRP(newValidDesiredLrp('web', { instances: 1 }));
    const before = await bbs().client.desiredLRPByProcessGuid('web');
    await bbs().client.updateDesiredLRP('web', { instances: 3, routes: { 'cf-router': '[{"port":8080}]' }, annotation: 'v2' });
    const after = await bbs().client.desiredLRPByProcessGuid('web');
    expect(after).toEqual({
      ...before,
      instances: 3,
      routes: { 'cf-router': '[{"port":8080}]' },
      annotation: 'v2',
      modification_tag: { epoch: before.modification_tag.epoch, index: 1 },
    });
    expect(indices(await bbs().client.actualLRPGroupsByProcessGuid('web'))).toEqual([0, 1, 2]);
  });

  it('scaling down retires the extra instances: unclaimed ones go, a claimed one is stopped by its cell', async () => {
    await bbs().client.desireLRP(newValidDesiredLrp('web', { instances: 3 }));
    await claimOnCell('web', 2);
    await bbs().client.updateDesiredLRP('web', { instances: 1, routes: null, annotation: null });

    expect(rep().requests).toEqual([{ method: 'POST', path: '/v1/lrps/web/instances/ig-2/stop' }]);
    // The cell removes index 2 once stopped; the BBS removed the UNCLAIMED index 1 itself.
    expect(indices(await bbs().client.actualLRPGroupsByProcessGuid('web'))).toEqual([0, 2]);
  });

  it('answers ResourceNotFound for an unknown guid', async () => {
    await expect(bbs().client.updateDesiredLRP('nope', { instances: 2, routes: null, annotation: null })).rejects.toMatchObject({
      type: 'ResourceNotFound',
    });
  });

  it('refuses negative instances with InvalidRequest', async () => {
    await bbs().client.desireLRP(newValidDesiredLrp('web'));
    await expect(bbs().client.updateDesiredLRP('web', { instances: -1, routes: null, annotation: null })).rejects.toMatchObject({
      type: 'InvalidRequest',
      message: 'Invalid field: instances',
    });
  });
});

describe('RemoveDesiredLRP', () => {
  it('removes the LRP and retires every instance: a claimed one is stopped by its cell', async () => {
    await bbs().client.desireLRP(newValidDesiredLrp('web', { instances: 2 }));
    await claimOnCell('web', 0);
    await bbs().client.removeDesiredLRP('web');

    await expect(bbs().client.desiredLRPByProcessGuid('web')).rejects.toMatchObject({ type: 'ResourceNotFound' });
    expect(rep().requests).toEqual([{ method: 'POST', path: '/v1/lrps/web/instances/ig-0/stop' }]);
    expect(indices(await bbs().client.actualLRPGroupsByProcessGuid('web'))).toEqual([0]);
  });

  it('answers ResourceNotFound for an unknown guid', async () => {
    await expect(bbs().client.removeDesiredLRP('nope')).rejects.toMatchObject({ type: 'ResourceNotFound' });
  });
});
