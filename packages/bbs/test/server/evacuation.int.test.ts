import type { ActualLRPKey } from '@diego/models';
import { newValidDesiredLrp } from '@diego/test-support';
import { useBbs } from './bbs-harness';

const bbs = useBbs();

const key: ActualLRPKey = { process_guid: 'web', index: 0, domain: 'some-domain' };
const instanceKey = { instance_guid: 'ig-1', cell_id: 'draining-cell' };
const netInfo = { address: '10.0.0.1', ports: [{ container_port: 8080, host_port: 61000 }] };

/** web/0 desired, claimed by the draining cell, and RUNNING there when `running`. */
async function instanceOnDrainingCell(running: boolean): Promise<void> {
  await bbs().client.desireLRP(newValidDesiredLrp('web'));
  await bbs().client.claimActualLRP('web', 0, instanceKey);
  if (running) await bbs().client.startActualLRP(key, instanceKey, netInfo);
}

describe('EvacuateRunningActualLRP', () => {
  it('keeps the container: an evacuating copy serves while the instance goes back to UNCLAIMED', async () => {
    await instanceOnDrainingCell(true);
    expect(await bbs().client.evacuateRunningActualLRP(key, instanceKey, netInfo, 60)).toBe(true);
    const group = await bbs().client.actualLRPGroupByProcessGuidAndIndex('web', 0);
    expect(group.instance).toMatchObject({ state: 'UNCLAIMED', cell_id: '' });
    expect(group.evacuating).toMatchObject({ state: 'RUNNING', instance_guid: 'ig-1', address: '10.0.0.1' });
  });

  it('answers the default (keep) when the request is refused as invalid', async () => {
    expect(await bbs().client.evacuateRunningActualLRP(key, instanceKey, { address: '', ports: [] }, 60)).toBe(true);
  });
});

describe('RemoveEvacuatingActualLRP', () => {
  it('removes the evacuating copy', async () => {
    await instanceOnDrainingCell(true);
    await bbs().client.evacuateRunningActualLRP(key, instanceKey, netInfo, 60);
    await bbs().client.removeEvacuatingActualLRP(key, instanceKey);
    expect((await bbs().client.actualLRPGroupByProcessGuidAndIndex('web', 0)).evacuating).toBeNull();
  });

  it('refuses a request without an instance key with InvalidRequest', async () => {
    await expect(bbs().client.removeEvacuatingActualLRP(key, { instance_guid: '', cell_id: '' })).rejects.toMatchObject({
      type: 'InvalidRequest',
      message: 'Invalid field: cell_id, Invalid field: instance_guid',
    });
  });
});

describe('EvacuateClaimedActualLRP', () => {
  it('does not keep the container, and puts the instance back up for placement', async () => {
    await instanceOnDrainingCell(false);
    expect(await bbs().client.evacuateClaimedActualLRP(key, instanceKey)).toBe(false);
    const group = await bbs().client.actualLRPGroupByProcessGuidAndIndex('web', 0);
    expect(group.instance).toMatchObject({ state: 'UNCLAIMED', cell_id: '' });
    expect(group.evacuating).toBeNull();
  });
});

describe('EvacuateStoppedActualLRP', () => {
  it('does not keep the container, and removes the instance', async () => {
    await instanceOnDrainingCell(true);
    expect(await bbs().client.evacuateStoppedActualLRP(key, instanceKey)).toBe(false);
    await expect(bbs().client.actualLRPGroupByProcessGuidAndIndex('web', 0)).rejects.toMatchObject({ type: 'ResourceNotFound' });
  });
});

describe('EvacuateCrashedActualLRP', () => {
  it('does not keep the container, and records the crash', async () => {
    await instanceOnDrainingCell(true);
    expect(await bbs().client.evacuateCrashedActualLRP(key, instanceKey, 'it died')).toBe(false);
    const { instance } = await bbs().client.actualLRPGroupByProcessGuidAndIndex('web', 0);
    expect(instance).toMatchObject({ crash_count: 1, crash_reason: 'it died' });
  });
});
