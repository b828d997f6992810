// Actual LRPs through the receptor (spec/receptor-api.md §3.11–§3.13, §4.6), on a real BBS and etcd. The BBS client
// plays the cell: it claims, starts and evacuates instances as a rep would.
import request from 'supertest';
import { stringifyJson, type ActualLRPInstanceKey, type ActualLRPNetInfo } from '@diego/models';
import { startReceptorUnderTest, type ReceptorUnderTest } from './support/receptor-under-test';
import {
  asObject, asObjects, desiredLrpRequest, expectEmpty, expectError, expectJson, uniqueGuid, type JsonObject,
} from './support/http';

/** The BBS's clock: every `since` it writes, beyond 2^53, so a float anywhere on the way would show. */
const NOW = 1441087965748636277n;

const CELL_1: ActualLRPInstanceKey = { instance_guid: 'instance-1', cell_id: 'cell-1' };
const CELL_2: ActualLRPInstanceKey = { instance_guid: 'instance-2', cell_id: 'cell-2' };
const NET_INFO: ActualLRPNetInfo = { address: '10.0.0.1', ports: [{ container_port: 8080, host_port: 60001 }] };

let receptor: ReceptorUnderTest;

beforeAll(async () => {
  receptor = await startReceptorUnderTest({}, { clock: () => NOW });
});

afterAll(async () => {
  await receptor?.stop();
});

async function desireLrp(overrides: JsonObject = {}): Promise<{ guid: string; domain: string }> {
  const guid = uniqueGuid('lrp');
  const body = desiredLrpRequest(guid, overrides);
  expectEmpty(
    await request(receptor.app).post('/v1/desired_lrps').set('Content-Type', 'application/json').send(stringifyJson(body)),
    201,
  );
  return { guid, domain: String(body.domain) };
}

/** Claims and starts instance `index` on `instanceKey`'s cell, as the cell's rep would. */
async function runInstance(guid: string, domain: string, index: number, instanceKey = CELL_1): Promise<void> {
  await receptor.bbs.claimActualLRP(guid, index, instanceKey);
  await receptor.bbs.startActualLRP({ process_guid: guid, index, domain }, instanceKey, NET_INFO);
}

async function getInstance(guid: string, index: number | string): Promise<request.Response> {
  return request(receptor.app).get(`/v1/actual_lrps/${guid}/index/${index}`);
}

describe('ActualLRPs', () => {
  it('lists the resolved instances of a domain, and all of them without ?domain= or with an empty one', async () => {
    const domain = uniqueGuid('domain');
    const first = await desireLrp({ domain, instances: 2 });
    const other = await desireLrp();

    const inDomain = asObjects(expectJson(await request(receptor.app).get(`/v1/actual_lrps?domain=${domain}`), 200));
    expect(inDomain.map((lrp) => [lrp.process_guid, lrp.index, lrp.state, lrp.evacuating]).sort()).toEqual([
      [first.guid, 0, 'UNCLAIMED', false],
      [first.guid, 1, 'UNCLAIMED', false],
    ]);

    for (const path of ['/v1/actual_lrps', '/v1/actual_lrps?domain=']) {
      const all = asObjects(expectJson(await request(receptor.app).get(path), 200)).map((lrp) => lrp.process_guid);
      expect(all).toEqual(expect.arrayContaining([first.guid, other.guid]));
    }
  });

  it('answers [] for a domain without instances', async () => {
    expect(expectJson(await request(receptor.app).get('/v1/actual_lrps?domain=no-such-domain'), 200)).toEqual([]);
  });
});

describe('ActualLRPsByProcessGuid', () => {
  it('lists the instances of one LRP, resolved', async () => {
    const { guid, domain } = await desireLrp({ instances: 2 });
    await runInstance(guid, domain, 1);
    const lrps = asObjects(expectJson(await request(receptor.app).get(`/v1/actual_lrps/${guid}`), 200));
    expect(lrps.map((lrp) => [lrp.index, lrp.state, lrp.cell_id]).sort()).toEqual([
      [0, 'UNCLAIMED', ''],
      [1, 'RUNNING', 'cell-1'],
    ]);
  });

  it('answers [] for an unknown process guid, never 404', async () => {
    expect(expectJson(await request(receptor.app).get('/v1/actual_lrps/no-such-lrp'), 200)).toEqual([]);
  });
});

describe('ActualLRPByProcessGuidAndIndex', () => {
  it('answers an UNCLAIMED instance with ports null, no cell, and since with every digit', async () => {
    const { guid, domain } = await desireLrp();
    const res = await getInstance(guid, 0);
    expect(asObject(expectJson(res, 200))).toMatchObject({
      process_guid: guid, instance_guid: '', cell_id: '', domain, index: 0, address: '', ports: null,
      state: 'UNCLAIMED', crash_count: 0, since: NOW, evacuating: false,
      modification_tag: { epoch: expect.any(String), index: expect.any(Number) },
    });
    expect(res.text).toContain(`"since":${NOW}`);
  });

  it('answers a RUNNING instance with exactly the keys of §4.6, in Go order', async () => {
    const { guid, domain } = await desireLrp();
    await runInstance(guid, domain, 0);
    const lrp = asObject(expectJson(await getInstance(guid, 0), 200));
    expect(Object.keys(lrp)).toEqual([
      'process_guid', 'instance_guid', 'cell_id', 'domain', 'index', 'address', 'ports', 'state', 'crash_count',
      'since', 'evacuating', 'modification_tag',
    ]);
    expect(lrp).toMatchObject({ ...CELL_1, ...NET_INFO, state: 'RUNNING', evacuating: false });
  });

  it('resolves an evacuating instance (§3.11): the evacuating copy until the replacement runs', async () => {
    const { guid, domain } = await desireLrp();
    await runInstance(guid, domain, 0, CELL_1);
    await receptor.bbs.evacuateRunningActualLRP({ process_guid: guid, index: 0, domain }, CELL_1, NET_INFO, 60);

    expect(asObject(expectJson(await getInstance(guid, 0), 200))).toMatchObject({
      cell_id: 'cell-1', state: 'RUNNING', evacuating: true,
    });

    await receptor.bbs.claimActualLRP(guid, 0, CELL_2);
    expect(asObject(expectJson(await getInstance(guid, 0), 200))).toMatchObject({ cell_id: 'cell-1', evacuating: true });

    await receptor.bbs.startActualLRP({ process_guid: guid, index: 0, domain }, CELL_2, NET_INFO);
    expect(asObject(expectJson(await getInstance(guid, 0), 200))).toMatchObject({
      cell_id: 'cell-2', state: 'RUNNING', evacuating: false,
    });
    const listed = asObjects(expectJson(await request(receptor.app).get(`/v1/actual_lrps/${guid}`), 200));
    expect(listed.map((lrp) => [lrp.cell_id, lrp.evacuating])).toEqual([['cell-2', false]]);
  });

  it('reads the index as Go\'s Atoi did: an explicit sign is a number', async () => {
    const { guid } = await desireLrp();
    expect(asObject(expectJson(await getInstance(guid, '+0'), 200)).index).toBe(0);
  });

  it('answers 404 with the JSON body null for a missing index', async () => {
    const { guid } = await desireLrp();
    const res = await getInstance(guid, 1);
    expect(expectJson(res, 404)).toBeNull();
    expect(res.text).toBe('null');
    expect(res.headers['content-length']).toBe('4');
    expect(expectJson(await getInstance('no-such-lrp', 0), 404)).toBeNull();
  });

  it.each(['x', '1.5', '0x1', ' 1', '99999999999999999999'])('answers 400 InvalidRequest for the index %p', async (index) => {
    expectError(await getInstance('some-lrp', encodeURIComponent(index)), 400, 'InvalidRequest', 'index not a number');
  });

  it('answers 500 UnknownError for a negative index (the BBS refuses it)', async () => {
    expectError(await getInstance('some-lrp', -1), 500, 'UnknownError');
  });
});

describe('KillActualLRPByProcessGuidAndIndex', () => {
  it('retires an unclaimed instance: 204, and only that index is gone; the desired LRP stays', async () => {
    const { guid } = await desireLrp({ instances: 2 });
    expectEmpty(await request(receptor.app).delete(`/v1/actual_lrps/${guid}/index/0`), 204);
    expect(expectJson(await getInstance(guid, 0), 404)).toBeNull();
    expect(asObject(expectJson(await getInstance(guid, 1), 200)).state).toBe('UNCLAIMED');
    expect(asObject(expectJson(await request(receptor.app).get(`/v1/desired_lrps/${guid}`), 200)).instances).toBe(2);
  });

  it('retires a running instance whose cell is gone: 204, and the record is removed', async () => {
    const { guid, domain } = await desireLrp();
    await runInstance(guid, domain, 0);
    expectEmpty(await request(receptor.app).delete(`/v1/actual_lrps/${guid}/index/0`), 204);
    expect(expectJson(await getInstance(guid, 0), 404)).toBeNull();
  });

  it('answers 404 ActualLRPIndexNotFound for an unknown process or index', async () => {
    const { guid } = await desireLrp();
    expectError(
      await request(receptor.app).delete(`/v1/actual_lrps/${guid}/index/3`),
      404,
      'ActualLRPIndexNotFound',
      `process-guid '${guid}' does not exist or has no instance at index 3`,
    );
    expectError(
      await request(receptor.app).delete('/v1/actual_lrps/no-such-lrp/index/0'),
      404,
      'ActualLRPIndexNotFound',
      "process-guid 'no-such-lrp' does not exist or has no instance at index 0",
    );
  });

  it('answers 400 InvalidRequest for an index that is not a number', async () => {
    expectError(
      await request(receptor.app).delete('/v1/actual_lrps/some-lrp/index/first'),
      400,
      'InvalidRequest',
      'index not a number',
    );
  });
});
