// Our GET /v1/cluster_events (README "Dashboard"): cells appearing and disappearing and domains turning fresh, as
// server-sent events, on a real BBS and etcd through a receptor on a real port; and GET /v1/events, which a 2015
// Go client follows and which fails on an event name it does not know, never carrying them.
import request from 'supertest';
import pino from 'pino';
import type { RunningServer } from '@diego/server-support';
import { parseJson } from '@diego/models';
import { newValidCellPresence, SseClient, type SseEvent } from '@diego/test-support';
import { startReceptor } from '../src';
import { startReceptorUnderTest, type ReceptorUnderTest } from './support/receptor-under-test';
import { asObject, desiredLrpRequest, expectEmpty, uniqueGuid, type JsonObject } from './support/http';

const USERNAME = 'user';
const PASSWORD = 'password';
const AUTHORIZATION = `Basic ${Buffer.from(`${USERNAME}:${PASSWORD}`).toString('base64')}`;

let receptor: ReceptorUnderTest;
let server: RunningServer;
const clients: SseClient[] = [];

beforeAll(async () => {
  receptor = await startReceptorUnderTest();
  server = await startReceptor(
    { address: '127.0.0.1:0', bbsAddress: [receptor.bbsUrl], username: USERNAME, password: PASSWORD, corsEnabled: false, logLevel: 'error', debugAddress: null },
    { logger: pino({ level: 'silent' }) },
  );
});

afterEach(() => {
  for (const client of clients.splice(0)) client.close();
});

afterAll(async () => {
  await server?.stop();
  await receptor?.stop();
});

async function connect(path: string, headers: Record<string, string> = { Authorization: AUTHORIZATION }): Promise<SseClient> {
  const client = await SseClient.connect(`http://${server.address}${path}`, headers);
  clients.push(client);
  return client;
}

/** The event's one `data:` line, parsed. */
function payload(event: SseEvent): JsonObject {
  expect(event.dataLines).toHaveLength(1);
  return asObject(parseJson(event.dataLines[0] ?? ''));
}

describe('ClusterEventStream', () => {
  it('relays cells appearing and disappearing and domains set fresh, with resumable ids, behind basic auth', async () => {
    const refused = await connect('/v1/cluster_events', {});
    expect(refused.response.statusCode).toBe(401);
    const client = await connect('/v1/cluster_events');
    expect(client.response.statusCode).toBe(200);
    const cellId = uniqueGuid('cluster-cell');
    const domain = uniqueGuid('cluster-domain');
    await receptor.bbs.registerCell(newValidCellPresence(cellId), 60);
    expectEmpty(await request(receptor.app).put(`/v1/domains/${domain}`).set('Cache-Control', 'max-age=60'), 204);
    await receptor.bbs.removeCell(cellId);

    const appeared = await client.next();
    expect(appeared.event).toBe('cell_appeared');
    expect(appeared.id).toMatch(/^\d+\.\d+$/);
    expect(payload(appeared)).toMatchObject({ cell: { cell_id: cellId, zone: 'z1', capacity: { memory_mb: 1024 } } });
    const fresh = await client.next();
    expect(fresh.event).toBe('domain_fresh');
    expect(payload(fresh)).toEqual({ domain });
    const disappeared = await client.next();
    expect(disappeared.event).toBe('cell_disappeared');
    expect(payload(disappeared)).toEqual({ cell_id: cellId });

    // Resumed after the first event: the second comes again, and nothing before it.
    const resumed = await connect('/v1/cluster_events', { Authorization: AUTHORIZATION, 'Last-Event-ID': appeared.id });
    expect((await resumed.next()).id).toBe(fresh.id);
  });
});

describe('EventStream', () => {
  it('never carries a cell or domain event (a 2015 client fails on an unknown name)', async () => {
    const client = await connect('/v1/events');
    const cellId = uniqueGuid('unseen-cell');
    await receptor.bbs.registerCell(newValidCellPresence(cellId), 60);
    expectEmpty(await request(receptor.app).put(`/v1/domains/${uniqueGuid('unseen-domain')}`).set('Cache-Control', 'max-age=60'), 204);
    await receptor.bbs.removeCell(cellId);
    const guid = uniqueGuid('after-cells');
    expectEmpty(await request(receptor.app).post('/v1/desired_lrps').send(desiredLrpRequest(guid)), 201);

    // Written after the cell and the domain, yet the first event the stream carries.
    const first = await client.next();
    expect(first.event).toBe('desired_lrp_created');
    expect(asObject(payload(first).desired_lrp).process_guid).toBe(guid);
  });
});
