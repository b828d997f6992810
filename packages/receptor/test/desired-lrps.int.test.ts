// Desired LRPs through the receptor (spec/receptor-api.md §3.6–§3.10, §4.3–§4.5, §7.2), on a real BBS and etcd.
import request from 'supertest';
import { BbsError, parseJson, stringifyJson } from '@diego/models';
import type { BbsClient } from '@diego/bbs-client';
import { loadFixture } from '@diego/test-support';
import { startReceptorUnderTest, type ReceptorUnderTest } from './support/receptor-under-test';
import {
  asObject, asObjects, desiredLrpRequest, expectEmpty, expectError, expectJson, uniqueGuid, type JsonObject,
} from './support/http';

let receptor: ReceptorUnderTest;

beforeAll(async () => {
  receptor = await startReceptorUnderTest();
});

afterAll(async () => {
  await receptor?.stop();
});

function createDesiredLrp(body: JsonObject | string, app = receptor.app): request.Test {
  return request(app)
    .post('/v1/desired_lrps')
    .set('Content-Type', 'application/json')
    .send(typeof body === 'string' ? body : stringifyJson(body));
}

function updateDesiredLrp(processGuid: string, body: JsonObject | string, app = receptor.app): request.Test {
  return request(app)
    .put(`/v1/desired_lrps/${processGuid}`)
    .set('Content-Type', 'application/json')
    .send(typeof body === 'string' ? body : stringifyJson(body));
}

async function getDesiredLrp(processGuid: string): Promise<JsonObject> {
  return asObject(expectJson(await request(receptor.app).get(`/v1/desired_lrps/${processGuid}`), 200));
}

/** Nothing was stored: no desired LRP, no actual LRP. */
async function expectNothingStored(processGuid: string): Promise<void> {
  await expect(receptor.bbs.desiredLRPByProcessGuid(processGuid)).rejects.toMatchObject({ type: 'ResourceNotFound' });
  expect(await receptor.bbs.actualLRPGroupsByProcessGuid(processGuid)).toEqual([]);
}

/** The BBS client, except that its first `conflicts` desired LRP updates lose a compare-and-swap. */
function losingUpdates(conflicts: number): { wrap: (bbs: BbsClient) => BbsClient; calls: () => number } {
  let calls = 0;
  const wrap = (bbs: BbsClient): BbsClient =>
    new Proxy(bbs, {
      get(target, property, receiver) {
        if (property === 'updateDesiredLRP') {
          return async (...args: Parameters<BbsClient['updateDesiredLRP']>): Promise<void> => {
            calls += 1;
            if (calls <= conflicts) throw new BbsError('ResourceConflict');
            await target.updateDesiredLRP(...args);
          };
        }
        const value: unknown = Reflect.get(target, property, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
  return { wrap, calls: () => calls };
}

describe('CreateDesiredLRP', () => {
  it('answers 201 with no body; the LRP reads back with modification tag {new epoch, 0} and its instances UNCLAIMED', async () => {
    const guid = uniqueGuid('lrp');
    expectEmpty(await createDesiredLrp(desiredLrpRequest(guid, { instances: 2 })), 201);

    const lrp = await getDesiredLrp(guid);
    expect(lrp).toMatchObject({ process_guid: guid, instances: 2 });
    expect(lrp.modification_tag).toEqual({ epoch: expect.stringMatching(/^[0-9a-f-]{36}$/), index: 0 });

    const actuals = asObjects(expectJson(await request(receptor.app).get(`/v1/actual_lrps/${guid}`), 200));
    expect(actuals.map((actual) => [actual.index, actual.state]).sort()).toEqual([
      [0, 'UNCLAIMED'],
      [1, 'UNCLAIMED'],
    ]);
  });

  it('stores the cc-bridge payload with every field intact, routes["diego-ssh"] too, and never logs its private key', async () => {
    const secret = '-----BEGIN RSA PRIVATE KEY-----\nsecret-key-material\n-----END RSA PRIVATE KEY-----\n';
    const fixture = asObject(parseJson(loadFixture('cc-bridge-desired-lrp.json')));
    const routes = asObject(fixture.routes);
    const body: JsonObject = { ...fixture, routes: { ...routes, 'diego-ssh': { ...asObject(routes['diego-ssh']), private_key: secret } } };
    const guid = String(fixture.process_guid);

    expectEmpty(await createDesiredLrp(body), 201);
    expect(await getDesiredLrp(guid)).toEqual({ ...body, modification_tag: { epoch: expect.any(String), index: 0 } });
    const listed = asObjects(expectJson(await request(receptor.app).get('/v1/desired_lrps?domain=cf-apps'), 200));
    expect(listed.find((lrp) => lrp.process_guid === guid)?.routes).toEqual(body.routes);

    expect(receptor.logs.lines.some((line) => line.includes('secret-key-material'))).toBe(false);
    expect(receptor.logs.entries().some((entry) => entry.route === 'CreateDesiredLRP' && entry.process_guid === guid)).toBe(true);
  });

  it('refuses a process guid that is taken with 409 DesiredLRPAlreadyExists and keeps the first LRP', async () => {
    const guid = uniqueGuid('lrp');
    expectEmpty(await createDesiredLrp(desiredLrpRequest(guid)), 201);
    expectError(
      await createDesiredLrp(desiredLrpRequest(guid, { instances: 5 })),
      409,
      'DesiredLRPAlreadyExists',
      `Desired LRP with guid '${guid}' already exists`,
    );
    expect((await getDesiredLrp(guid)).instances).toBe(1);
  });

  describe('decoding (§1.2): 400 InvalidJSON and nothing stored', () => {
    it.each<[string, (guid: string) => string]>([
      ['malformed JSON', (guid) => `{"process_guid":"${guid}"`],
      ['an empty body', () => ''],
      ['a string where a number belongs', (guid) => stringifyJson(desiredLrpRequest(guid, { instances: '2' }))],
      ['a port above 65535', (guid) => stringifyJson(desiredLrpRequest(guid, { ports: [65536] }))],
      ['a negative start timeout', (guid) => stringifyJson(desiredLrpRequest(guid, { start_timeout: -1 }))],
      ['routes that are not an object', (guid) => stringifyJson(desiredLrpRequest(guid, { routes: ['cf-router'] }))],
    ])('%s', async (_case, body) => {
      const guid = uniqueGuid('decode');
      const res = await createDesiredLrp(body(guid));
      expectError(res, 400, 'InvalidJSON');
      await expectNothingStored(guid);
    });
  });

  describe('validation (§7.2): 400 InvalidLRP, the failures in one message, nothing stored', () => {
    const bigRoute = 'x'.repeat(4096);

    it.each<[string, JsonObject, string]>([
      ['an empty domain', { domain: '' }, 'Invalid field: domain'],
      ['a process guid with a space', { process_guid: 'bad guid' }, 'Invalid field: process_guid'],
      ['an empty rootfs (reported twice)', { rootfs: '' }, 'Invalid field: rootfs, Invalid field: rootfs'],
      ['a rootfs without a scheme', { rootfs: 'busybox' }, 'Invalid field: rootfs'],
      ['an invalid setup', { setup: { run: { path: 'ls' } } }, 'Invalid field: setup, Invalid field: user'],
      ['no action', { action: null }, 'invalid action type'],
      ['an invalid action', { action: { download: { from: 'http://x/y.tgz', user: 'vcap' } } }, 'Invalid field: action, Invalid field: to'],
      ['an invalid monitor', { monitor: {} }, 'Invalid field: monitor, Invalid field: inner-action'],
      ['negative instances', { instances: -1 }, 'Invalid field: instances'],
      ['a cpu weight over 100', { cpu_weight: 101 }, 'Invalid field: cpu_weight'],
      ['an annotation over 10 KiB', { annotation: 'a'.repeat(10241) }, 'Invalid field: annotation'],
      ['routes over 4 KiB', { routes: { 'cf-router': bigRoute } }, 'Invalid field: routes'],
      [
        'an egress rule without ports',
        { egress_rules: [{ protocol: 'tcp', destinations: ['0.0.0.0/0'] }] },
        'Invalid field: egress_rules, Missing required field: ports or port_range',
      ],
    ])('%s', async (_case, overrides, message) => {
      const guid = typeof overrides.process_guid === 'string' ? overrides.process_guid : uniqueGuid('invalid-lrp');
      const before = expectJson(await request(receptor.app).get('/v1/desired_lrps'), 200);
      expectError(await createDesiredLrp(desiredLrpRequest(guid, overrides)), 400, 'InvalidLRP', message);
      expect(expectJson(await request(receptor.app).get('/v1/desired_lrps'), 200)).toEqual(before);
      if (!guid.includes(' ')) await expectNothingStored(guid);
    });

    it('names every failing field, in order, in one message', async () => {
      const res = await createDesiredLrp({ process_guid: 'bad guid', domain: '', rootfs: 'docker:///busybox', instances: 1 });
      expectError(res, 400, 'InvalidLRP', 'Invalid field: domain, Invalid field: process_guid, invalid action type');
    });

    it('accepts routes of exactly 4 KiB of JSON values, zero instances', async () => {
      const guid = uniqueGuid('lrp');
      // The JSON value "x…x" counts with its quotes.
      const routes = { 'cf-router': bigRoute.slice(2) };
      expectEmpty(await createDesiredLrp(desiredLrpRequest(guid, { routes, instances: 0 })), 201);
      expect(await getDesiredLrp(guid)).toMatchObject({ routes, instances: 0 });
    });
  });
});

describe('GetDesiredLRP', () => {
  it('answers exactly the keys of §4.5: setup and monitor null, ports [], empty ones omitted', async () => {
    const guid = uniqueGuid('lrp');
    expectEmpty(await createDesiredLrp(desiredLrpRequest(guid)), 201);
    const lrp = await getDesiredLrp(guid);
    expect(Object.keys(lrp)).toEqual([
      'process_guid', 'domain', 'rootfs', 'instances', 'setup', 'action', 'monitor', 'start_timeout', 'disk_mb',
      'memory_mb', 'cpu_weight', 'privileged', 'ports', 'log_guid', 'log_source', 'metrics_guid', 'modification_tag',
    ]);
    expect(lrp).toMatchObject({ setup: null, monitor: null, ports: [] });
  });

  it('answers every key of §4.5 in Go order when all are set', async () => {
    const guid = uniqueGuid('lrp');
    const body = desiredLrpRequest(guid, {
      env: [{ name: 'A', value: 'b' }],
      setup: { run: { path: 'true', user: 'vcap' } },
      monitor: { run: { path: 'nc', args: ['-z', '127.0.0.1', '8080'], user: 'vcap' } },
      start_timeout: 60,
      disk_mb: 1024,
      memory_mb: 256,
      cpu_weight: 1,
      privileged: true,
      ports: [8080, 2222],
      routes: { 'cf-router': [{ hostnames: ['a.example.com'], port: 8080 }] },
      log_guid: 'log',
      log_source: 'CELL',
      metrics_guid: 'metrics',
      annotation: 'note',
      egress_rules: [{ protocol: 'icmp', destinations: ['10.0.0.0/8'], icmp_info: { type: 8, code: 0 }, log: false }],
    });
    expectEmpty(await createDesiredLrp(body), 201);
    const lrp = await getDesiredLrp(guid);
    expect(Object.keys(lrp)).toEqual([
      'process_guid', 'domain', 'rootfs', 'instances', 'env', 'setup', 'action', 'monitor', 'start_timeout', 'disk_mb',
      'memory_mb', 'cpu_weight', 'privileged', 'ports', 'routes', 'log_guid', 'log_source', 'metrics_guid',
      'annotation', 'egress_rules', 'modification_tag',
    ]);
    expect(lrp).toEqual({ ...body, modification_tag: { epoch: expect.any(String), index: 0 } });
  });

  it('answers 404 DesiredLRPNotFound for an unknown guid', async () => {
    expectError(
      await request(receptor.app).get('/v1/desired_lrps/no-such-lrp'),
      404,
      'DesiredLRPNotFound',
      "Desired LRP with guid 'no-such-lrp' not found",
    );
  });
});

describe('UpdateDesiredLRP', () => {
  it('applies instances, routes and annotation: 204, and the tag index goes up by one under the same epoch', async () => {
    const guid = uniqueGuid('lrp');
    expectEmpty(await createDesiredLrp(desiredLrpRequest(guid, { annotation: 'before' })), 201);
    const before = await getDesiredLrp(guid);

    const routes = { 'cf-router': [{ hostnames: ['b.example.com'], port: 8080 }] };
    expectEmpty(await updateDesiredLrp(guid, { instances: 3, routes, annotation: 'after', rootfs: 'ignored:rootfs' }), 204);

    const after = await getDesiredLrp(guid);
    expect(after).toEqual({
      ...before,
      instances: 3,
      routes,
      annotation: 'after',
      modification_tag: { epoch: asObject(before.modification_tag).epoch, index: 1 },
    });
    const actuals = asObjects(expectJson(await request(receptor.app).get(`/v1/actual_lrps/${guid}`), 200));
    expect(actuals.map((actual) => actual.index).sort()).toEqual([0, 1, 2]);
  });

  it('treats {} as a no-op that still bumps the tag index', async () => {
    const guid = uniqueGuid('lrp');
    expectEmpty(await createDesiredLrp(desiredLrpRequest(guid)), 201);
    expectEmpty(await updateDesiredLrp(guid, {}), 204);
    expect(await getDesiredLrp(guid)).toMatchObject({ instances: 1, modification_tag: { index: 1 } });
  });

  it('answers 404 DesiredLRPNotFound for an unknown guid', async () => {
    expectError(
      await updateDesiredLrp('no-such-lrp', { instances: 2 }),
      404,
      'DesiredLRPNotFound',
      "Desired LRP with guid 'no-such-lrp' not found",
    );
  });

  it('answers 400 InvalidJSON for a body it cannot decode, and changes nothing', async () => {
    const guid = uniqueGuid('lrp');
    expectEmpty(await createDesiredLrp(desiredLrpRequest(guid)), 201);
    expectError(await updateDesiredLrp(guid, '{"instances":'), 400, 'InvalidJSON');
    expectError(await updateDesiredLrp(guid, '{"instances":"3"}'), 400, 'InvalidJSON');
    expect(await getDesiredLrp(guid)).toMatchObject({ instances: 1, modification_tag: { index: 0 } });
  });

  it('answers the BBS refusal of an invalid update as 500 UnknownError, as the receptor did, and changes nothing', async () => {
    const guid = uniqueGuid('lrp');
    expectEmpty(await createDesiredLrp(desiredLrpRequest(guid)), 201);
    expectError(await updateDesiredLrp(guid, { instances: -1 }), 500, 'UnknownError', 'Invalid field: instances');
    expect(await getDesiredLrp(guid)).toMatchObject({ instances: 1, modification_tag: { index: 0 } });
  });

  it('tries once more when the BBS loses a compare-and-swap', async () => {
    const guid = uniqueGuid('lrp');
    expectEmpty(await createDesiredLrp(desiredLrpRequest(guid)), 201);
    const oneConflict = losingUpdates(1);
    expectEmpty(await updateDesiredLrp(guid, { instances: 2 }, receptor.appWith({ wrapBbs: oneConflict.wrap })), 204);
    expect(oneConflict.calls()).toBe(2);
    expect((await getDesiredLrp(guid)).instances).toBe(2);
  });

  it('answers 500 ResourceConflict when the second try loses too', async () => {
    const guid = uniqueGuid('lrp');
    expectEmpty(await createDesiredLrp(desiredLrpRequest(guid)), 201);
    const alwaysConflicting = losingUpdates(Infinity);
    expectError(
      await updateDesiredLrp(guid, { instances: 2 }, receptor.appWith({ wrapBbs: alwaysConflicting.wrap })),
      500,
      'ResourceConflict',
      `Desired LRP with guid '${guid}' failed to update`,
    );
    expect(alwaysConflicting.calls()).toBe(2);
    expect((await getDesiredLrp(guid)).instances).toBe(1);
  });
});

describe('DeleteDesiredLRP', () => {
  it('answers 204; the LRP is gone and so are its unclaimed instances', async () => {
    const guid = uniqueGuid('lrp');
    expectEmpty(await createDesiredLrp(desiredLrpRequest(guid, { instances: 2 })), 201);
    expectEmpty(await request(receptor.app).delete(`/v1/desired_lrps/${guid}`), 204);
    expectError(await request(receptor.app).get(`/v1/desired_lrps/${guid}`), 404, 'DesiredLRPNotFound');
    expect(expectJson(await request(receptor.app).get(`/v1/actual_lrps/${guid}`), 200)).toEqual([]);
  });

  it('answers 404 DesiredLRPNotFound for an unknown guid', async () => {
    expectError(
      await request(receptor.app).delete('/v1/desired_lrps/no-such-lrp'),
      404,
      'DesiredLRPNotFound',
      "Desired LRP with guid 'no-such-lrp' not found",
    );
  });
});

describe('DesiredLRPs', () => {
  it('lists the LRPs of a domain, and all LRPs without ?domain= or with an empty one', async () => {
    const domain = uniqueGuid('domain');
    const [first, second, elsewhere] = [uniqueGuid('lrp'), uniqueGuid('lrp'), uniqueGuid('lrp')];
    for (const body of [desiredLrpRequest(first, { domain }), desiredLrpRequest(second, { domain }), desiredLrpRequest(elsewhere)]) {
      expectEmpty(await createDesiredLrp(body), 201);
    }
    const inDomain = asObjects(expectJson(await request(receptor.app).get(`/v1/desired_lrps?domain=${domain}`), 200));
    expect(inDomain.map((lrp) => lrp.process_guid).sort()).toEqual([first, second].sort());

    for (const path of ['/v1/desired_lrps', '/v1/desired_lrps?domain=']) {
      const all = asObjects(expectJson(await request(receptor.app).get(path), 200)).map((lrp) => lrp.process_guid);
      expect(all).toEqual(expect.arrayContaining([first, second, elsewhere]));
    }
  });

  it('answers [] for a domain without LRPs', async () => {
    expect(expectJson(await request(receptor.app).get('/v1/desired_lrps?domain=no-such-domain'), 200)).toEqual([]);
  });
});
