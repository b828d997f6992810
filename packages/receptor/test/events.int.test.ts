// The event stream (spec/receptor-api.md §9): the BBS's events relayed as the receptor's SSE, on a real BBS and etcd,
// through a receptor listening on a real port (startReceptor).
import request from 'supertest';
import pino from 'pino';
import { HttpBbsClient } from '@diego/bbs-client';
import type { RunningServer } from '@diego/server-support';
import { parseJson, stringifyJson } from '@diego/models';
import { createReceptorApp, startReceptor } from '../src';
import { eventually, SseClient, type SseEvent } from '@diego/test-support';
import { CapturedLogs, deadBbsUrl, startReceptorUnderTest, type ReceptorUnderTest } from './support/receptor-under-test';
import { asObject, desiredLrpRequest, eventIdsIncrease, expectEmpty, taskRequest, uniqueGuid, type JsonObject } from './support/http';

const USERNAME = 'user';
const PASSWORD = 'password';
const AUTHORIZATION = `Basic ${Buffer.from(`${USERNAME}:${PASSWORD}`).toString('base64')}`;

let receptor: ReceptorUnderTest;
let server: RunningServer;
let serverLogs: CapturedLogs;
const clients: SseClient[] = [];

beforeAll(async () => {
  receptor = await startReceptorUnderTest();
  serverLogs = new CapturedLogs();
  server = await startReceptor(
    {
      address: '127.0.0.1:0',
      bbsAddress: [receptor.bbsUrl],
      username: '',
      password: '',
      corsEnabled: false,
      logLevel: 'info',
      debugAddress: null,
    },
    { logger: serverLogs.logger },
  );
});

afterEach(() => {
  for (const client of clients.splice(0)) client.close();
});

afterAll(async () => {
  await server?.stop();
  await receptor?.stop();
});

async function connect(url = `http://${server.address}/v1/events`, headers: Record<string, string> = {}): Promise<SseClient> {
  const client = await SseClient.connect(url, headers);
  clients.push(client);
  return client;
}

/** The event's one `data:` line, parsed. */
function payload(event: SseEvent): JsonObject {
  expect(event.dataLines).toHaveLength(1);
  return asObject(parseJson(event.dataLines[0] ?? ''));
}

function ofType(type: string, test: (data: JsonObject) => boolean = () => true): (event: SseEvent) => boolean {
  return (event) => event.event === type && test(payload(event));
}

function aboutLrp(guid: string, key: string): (data: JsonObject) => boolean {
  return (data) => asObject(data[key]).process_guid === guid;
}

describe('EventStream', () => {
  it('flushes its headers before any event', async () => {
    const client = await connect();
    expect(client.response.statusCode).toBe(200);
    expect(client.response.headers).toMatchObject({
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-store, must-revalidate',
      connection: 'keep-alive',
    });
    expect(client.pending()).toEqual([]);
  });

  it('relays an LRP\'s lifecycle as a cell drives it, resolved, with etcd revisions as ids; never a task event', async () => {
    const client = await connect();
    const taskGuid = uniqueGuid('task');
    const guid = uniqueGuid('lrp');
    const domain = 'tests';
    expectEmpty(
      await request(receptor.app).post('/v1/tasks').set('Content-Type', 'application/json').send(stringifyJson(taskRequest(taskGuid))),
      201,
    );
    expectEmpty(
      await request(receptor.app)
        .post('/v1/desired_lrps')
        .set('Content-Type', 'application/json')
        .send(stringifyJson(desiredLrpRequest(guid, { domain }))),
      201,
    );

    // The task came first, yet the first event is the LRP's.
    const desired = await client.next();
    expect(desired.event).toBe('desired_lrp_created');
    expect(Object.keys(payload(desired))).toEqual(['desired_lrp']);
    expect(payload(desired).desired_lrp).toMatchObject({ process_guid: guid, instances: 1, modification_tag: { index: 0 } });

    const created = await client.next(ofType('actual_lrp_created', aboutLrp(guid, 'actual_lrp')));
    expect(payload(created).actual_lrp).toMatchObject({ index: 0, state: 'UNCLAIMED', ports: null, evacuating: false });

    const instanceKey = { instance_guid: 'instance-1', cell_id: 'cell-1' };
    await receptor.bbs.claimActualLRP(guid, 0, instanceKey);
    const claimed = await client.next(
      ofType('actual_lrp_changed', (data) => asObject(data.actual_lrp_after).state === 'CLAIMED'),
    );
    expect(Object.keys(payload(claimed))).toEqual(['actual_lrp_before', 'actual_lrp_after']);
    expect(payload(claimed)).toMatchObject({
      actual_lrp_before: { process_guid: guid, state: 'UNCLAIMED', evacuating: false },
      actual_lrp_after: { process_guid: guid, state: 'CLAIMED', cell_id: 'cell-1', evacuating: false },
    });

    const netInfo = { address: '10.0.0.9', ports: [{ container_port: 8080, host_port: 61000 }] };
    await receptor.bbs.startActualLRP({ process_guid: guid, index: 0, domain }, instanceKey, netInfo);
    const running = await client.next(
      ofType('actual_lrp_changed', (data) => asObject(data.actual_lrp_after).state === 'RUNNING'),
    );
    expect(payload(running)).toMatchObject({
      actual_lrp_before: { state: 'CLAIMED' },
      actual_lrp_after: { state: 'RUNNING', address: '10.0.0.9', ports: netInfo.ports },
    });

    expectEmpty(
      await request(receptor.app).put(`/v1/desired_lrps/${guid}`).set('Content-Type', 'application/json').send('{"annotation":"v2"}'),
      204,
    );
    const changed = await client.next(ofType('desired_lrp_changed'));
    expect(Object.keys(payload(changed))).toEqual(['desired_lrp_before', 'desired_lrp_after']);
    expect(payload(changed)).toMatchObject({
      desired_lrp_before: { process_guid: guid, modification_tag: { index: 0 } },
      desired_lrp_after: { process_guid: guid, annotation: 'v2', modification_tag: { index: 1 } },
    });

    expectEmpty(await request(receptor.app).delete(`/v1/desired_lrps/${guid}`), 204);
    const removed = await client.next(ofType('desired_lrp_removed', aboutLrp(guid, 'desired_lrp')));
    const actualRemoved = await client.next(ofType('actual_lrp_removed', aboutLrp(guid, 'actual_lrp')));
    expect(payload(actualRemoved).actual_lrp).toMatchObject({ state: 'RUNNING', cell_id: 'cell-1' });

    const ids = [desired, created, claimed, running, changed, removed, actualRemoved].map((event) => event.id);
    expect(ids.every((id) => /^[1-9]\d*\.\d+$/.test(id))).toBe(true);
    expect(eventIdsIncrease(ids)).toBe(true);
    expect(client.pending().filter((event) => event.event.startsWith('task'))).toEqual([]);
  });

  it('closes the BBS subscription when the client goes away: the request is over and logged', async () => {
    const client = await connect();
    const before = serverLogs.entries().filter((entry) => entry.route === 'EventStream').length;
    client.close();
    const streamsLogged = async (): Promise<number> =>
      serverLogs.entries().filter((entry) => entry.route === 'EventStream').length;
    await eventually(streamsLogged, (count) => count === before + 1);
  });

  it('ends the stream when the BBS stream ends', async () => {
    const ownBbs = await startReceptorUnderTest();
    const ownReceptor = await startReceptor(
      { address: '127.0.0.1:0', bbsAddress: [ownBbs.bbsUrl], username: '', password: '', corsEnabled: false, logLevel: 'info', debugAddress: null },
      { logger: pino({ level: 'silent' }) },
    );
    let bbsStopped = false;
    try {
      const client = await connect(`http://${ownReceptor.address}/v1/events`);
      expect(client.response.statusCode).toBe(200);
      bbsStopped = true;
      await ownBbs.stop();
      await eventually(async () => client.isEnded, (ended) => ended);
    } finally {
      await ownReceptor.stop();
      if (!bbsStopped) await ownBbs.stop();
    }
  });

  it('answers 500 with no body when the BBS subscription fails', async () => {
    const app = createReceptorApp({
      bbs: new HttpBbsClient([await deadBbsUrl()]),
      username: '',
      password: '',
      corsEnabled: false,
      logger: pino({ level: 'silent' }),
    });
    expectEmpty(await request(app).get('/v1/events'), 500);
  });

  it('takes its credentials from the receptor_authorization cookie, as a browser EventSource does', async () => {
    const secured = await startReceptor(
      { address: '127.0.0.1:0', bbsAddress: [receptor.bbsUrl], username: USERNAME, password: PASSWORD, corsEnabled: false, logLevel: 'info', debugAddress: null },
      { logger: pino({ level: 'silent' }) },
    );
    try {
      const url = `http://${secured.address}/v1/events`;
      const refused = await connect(url);
      expect(refused.response.statusCode).toBe(401);
      const admitted = await connect(url, { Cookie: `receptor_authorization="${AUTHORIZATION}"` });
      expect(admitted.response.statusCode).toBe(200);
    } finally {
      await secured.stop();
    }
  });
});
