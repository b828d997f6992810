import type { ActualLRPKey } from '@diego/models';
import { newValidCellPresence, newValidDesiredLrp } from '@diego/test-support';
import { useBbs, useFakeRep } from './bbs-harness';

const bbs = useBbs();
const rep = useFakeRep();

const key = (index: number): ActualLRPKey => ({ process_guid: 'web', index, domain: 'some-domain' });
const instanceKey = { instance_guid: 'ig-1', cell_id: 'cell-1' };
const netInfo = { address: '10.0.0.1', ports: [{ container_port: 8080, host_port: 61000 }] };

async function desireWeb(instances = 1): Promise<void> {
  await bbs().client.desireLRP(newValidDesiredLrp('web', { instances }));
}

async function registerCell(): Promise<void> {
  await bbs().db.registerCell(newValidCellPresence('cell-1', { rep_address: rep().url }), 60);
}

describe('ActualLRPGroups', () => {
  it('lists every group, filtered by domain and by cell', async () => {
    await desireWeb(2);
    await bbs().client.desireLRP(newValidDesiredLrp('worker', { domain: 'other-domain' }));
    await bbs().client.claimActualLRP('web', 1, instanceKey);

    expect((await bbs().client.actualLRPGroups()).length).toBe(3);
    expect((await bbs().client.actualLRPGroups({ domain: 'other-domain' })).map((g) => g.instance?.process_guid)).toEqual(['worker']);
    const onCell = await bbs().client.actualLRPGroups({ cell_id: 'cell-1' });
    expect(onCell.map((g) => [g.instance?.process_guid, g.instance?.index])).toEqual([['web', 1]]);
  });
});

describe('ActualLRPsReceptorJSON', () => {
  it("answers GET /v1/actual_lrps's JSON array, each group resolved, filtered by domain, with the list's revision", async () => {
    await desireWeb(2);
    await bbs().client.desireLRP(newValidDesiredLrp('worker', { domain: 'other-domain' }));
    await bbs().client.startActualLRP(key(1), instanceKey, netInfo);

    const all = await bbs().client.actualLRPsReceptorJSON();
    const lrps = JSON.parse(Buffer.from(all.json).toString('utf8')) as Array<Record<string, unknown>>;
    expect(lrps.map((lrp) => [lrp.process_guid, lrp.index, lrp.state, lrp.evacuating])).toEqual([
      ['web', 0, 'UNCLAIMED', false],
      ['web', 1, 'RUNNING', false],
      ['worker', 0, 'UNCLAIMED', false],
    ]);
    expect(lrps[1]).toMatchObject({ instance_guid: 'ig-1', cell_id: 'cell-1', address: '10.0.0.1', ports: [{ container_port: 8080, host_port: 61000 }] });
    expect(BigInt(all.revision)).toBeGreaterThan(0n);

    const other = await bbs().client.actualLRPsReceptorJSON({ domain: 'other-domain' });
    expect(JSON.parse(Buffer.from(other.json).toString('utf8'))).toHaveLength(1);
    expect(Buffer.from((await bbs().client.actualLRPsReceptorJSON({ domain: 'none' })).json).toString('utf8')).toBe('[]');
  });

  it('resolves a group with an evacuating record to the running evacuating copy (§3.11)', async () => {
    await desireWeb(1);
    await bbs().client.startActualLRP(key(0), instanceKey, netInfo);
    await bbs().client.evacuateRunningActualLRP(key(0), instanceKey, netInfo, 60);
    const [lrp] = JSON.parse(Buffer.from((await bbs().client.actualLRPsReceptorJSON()).json).toString('utf8')) as Array<Record<string, unknown>>;
    expect(lrp).toMatchObject({ state: 'RUNNING', evacuating: true, instance_guid: 'ig-1' });
  });
});

describe('ActualLRPGroupsByProcessGuid', () => {
  it('lists the groups of one process guid', async () => {
    await desireWeb(2);
    const groups = await bbs().client.actualLRPGroupsByProcessGuid('web');
    expect(groups.map((g) => g.instance?.index).sort()).toEqual([0, 1]);
    expect(await bbs().client.actualLRPGroupsByProcessGuid('nothing')).toEqual([]);
  });

  it('refuses an empty guid with InvalidRequest', async () => {
    await expect(bbs().client.actualLRPGroupsByProcessGuid('')).rejects.toMatchObject({
      type: 'InvalidRequest',
      message: 'Invalid field: process_guid',
    });
  });
});

describe('ActualLRPGroupByProcessGuidAndIndex', () => {
  it('gets one group', async () => {
    await desireWeb();
    const group = await bbs().client.actualLRPGroupByProcessGuidAndIndex('web', 0);
    expect(group.instance).toMatchObject({ process_guid: 'web', index: 0, state: 'UNCLAIMED' });
    expect(group.evacuating).toBeNull();
  });

  it('answers ResourceNotFound for an index with no record', async () => {
    await desireWeb();
    await expect(bbs().client.actualLRPGroupByProcessGuidAndIndex('web', 5)).rejects.toMatchObject({ type: 'ResourceNotFound' });
  });

  it('refuses a negative index with InvalidRequest', async () => {
    await expect(bbs().client.actualLRPGroupByProcessGuidAndIndex('web', -1)).rejects.toMatchObject({
      type: 'InvalidRequest',
      message: 'Invalid field: index',
    });
  });
});

describe('ClaimActualLRP', () => {
  it('claims an UNCLAIMED instance for a cell', async () => {
    await desireWeb();
    await bbs().client.claimActualLRP('web', 0, instanceKey);
    const { instance } = await bbs().client.actualLRPGroupByProcessGuidAndIndex('web', 0);
    expect(instance).toMatchObject({ state: 'CLAIMED', instance_guid: 'ig-1', cell_id: 'cell-1' });
  });

  it('refuses a claim by another instance with ActualLRPCannotBeClaimed', async () => {
    await desireWeb();
    await bbs().client.claimActualLRP('web', 0, instanceKey);
    await expect(bbs().client.claimActualLRP('web', 0, { instance_guid: 'ig-2', cell_id: 'cell-2' })).rejects.toMatchObject({
      type: 'ActualLRPCannotBeClaimed',
    });
  });

  it('answers ResourceNotFound for an index with no record', async () => {
    await expect(bbs().client.claimActualLRP('web', 0, instanceKey)).rejects.toMatchObject({ type: 'ResourceNotFound' });
  });

  it('refuses a claim without a cell with InvalidRequest', async () => {
    await expect(bbs().client.claimActualLRP('web', 0, { instance_guid: 'ig-1', cell_id: '' })).rejects.toMatchObject({
      type: 'InvalidRequest',
      message: 'Invalid field: cell_id',
    });
  });
});

describe('StartActualLRP', () => {
  it('marks a claimed instance RUNNING with its address', async () => {
    await desireWeb();
    await bbs().client.claimActualLRP('web', 0, instanceKey);
    await bbs().client.startActualLRP(key(0), instanceKey, netInfo);
    const { instance } = await bbs().client.actualLRPGroupByProcessGuidAndIndex('web', 0);
    expect(instance).toMatchObject({ state: 'RUNNING', address: '10.0.0.1', ports: netInfo.ports });
  });

  it('refuses a start without an address with InvalidRequest', async () => {
    await expect(bbs().client.startActualLRP(key(0), instanceKey, { address: '', ports: [] })).rejects.toMatchObject({
      type: 'InvalidRequest',
      message: 'Invalid field: address',
    });
  });
});

describe('CrashActualLRP', () => {
  it('restarts a first crash at once: back to UNCLAIMED with the crash counted', async () => {
    await desireWeb();
    await bbs().client.claimActualLRP('web', 0, instanceKey);
    await bbs().client.startActualLRP(key(0), instanceKey, netInfo);
    await bbs().client.crashActualLRP(key(0), instanceKey, 'out of memory');
    const { instance } = await bbs().client.actualLRPGroupByProcessGuidAndIndex('web', 0);
    expect(instance).toMatchObject({ state: 'UNCLAIMED', crash_count: 1, crash_reason: 'out of memory', cell_id: '' });
  });

  it('refuses a crash without a message with InvalidRequest', async () => {
    await expect(bbs().client.crashActualLRP(key(0), instanceKey, '')).rejects.toMatchObject({
      type: 'InvalidRequest',
      message: 'Invalid field: error_message',
    });
  });
});

describe('FailActualLRP', () => {
  it('records the placement error on an UNCLAIMED instance', async () => {
    await desireWeb();
    await bbs().client.failActualLRP(key(0), 'insufficient resources');
    const { instance } = await bbs().client.actualLRPGroupByProcessGuidAndIndex('web', 0);
    expect(instance).toMatchObject({ state: 'UNCLAIMED', placement_error: 'insufficient resources' });
  });

  it('refuses to fail a claimed instance with ActualLRPCannotBeFailed', async () => {
    await desireWeb();
    await bbs().client.claimActualLRP('web', 0, instanceKey);
    await expect(bbs().client.failActualLRP(key(0), 'insufficient resources')).rejects.toMatchObject({
      type: 'ActualLRPCannotBeFailed',
    });
  });
});

describe('RemoveActualLRP', () => {
  it('removes the instance record', async () => {
    await desireWeb();
    await bbs().client.claimActualLRP('web', 0, instanceKey);
    await bbs().client.removeActualLRP('web', 0, instanceKey);
    await expect(bbs().client.actualLRPGroupByProcessGuidAndIndex('web', 0)).rejects.toMatchObject({ type: 'ResourceNotFound' });
  });

  it('answers ResourceNotFound when the instance key is not the record\'s', async () => {
    await desireWeb();
    await bbs().client.claimActualLRP('web', 0, instanceKey);
    await expect(bbs().client.removeActualLRP('web', 0, { instance_guid: 'other', cell_id: 'cell-1' })).rejects.toMatchObject({
      type: 'ResourceNotFound',
    });
  });
});

describe('RetireActualLRP', () => {
  it('removes an UNCLAIMED instance without asking any cell', async () => {
    await desireWeb();
    await bbs().client.retireActualLRP(key(0));
    await expect(bbs().client.actualLRPGroupByProcessGuidAndIndex('web', 0)).rejects.toMatchObject({ type: 'ResourceNotFound' });
    expect(rep().requests).toEqual([]);
  });

  it('asks the cell running a claimed instance to stop it, and leaves the record to the cell', async () => {
    await desireWeb();
    await registerCell();
    await bbs().client.claimActualLRP('web', 0, instanceKey);
    await bbs().client.retireActualLRP(key(0));
    expect(rep().requests).toEqual([{ method: 'POST', path: '/v1/lrps/web/instances/ig-1/stop' }]);
    const { instance } = await bbs().client.actualLRPGroupByProcessGuidAndIndex('web', 0);
    expect(instance?.state).toBe('CLAIMED');
  });

  it('answers ActualLRPCannotBeStopped when the cell cannot be told', async () => {
    await desireWeb();
    await bbs().db.registerCell(newValidCellPresence('cell-1', { rep_address: rep().url }), 60);
    await rep().close();
    await bbs().client.claimActualLRP('web', 0, instanceKey);
    await expect(bbs().client.retireActualLRP(key(0))).rejects.toMatchObject({ type: 'ActualLRPCannotBeStopped' });
  });

  it('refuses a key without a domain with InvalidRequest', async () => {
    await expect(bbs().client.retireActualLRP({ process_guid: 'web', index: 0, domain: '' })).rejects.toMatchObject({
      type: 'InvalidRequest',
      message: 'Invalid field: domain',
    });
  });
});
