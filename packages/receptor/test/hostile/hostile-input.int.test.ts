// Thousands of generated malformed requests to every receptor route, against a real receptor, BBS and etcd: the
// receptor never crashes, answers no 5xx the spec does not name, and a refused request changes nothing in etcd
// (records it aimed at included). Seeded: HOSTILE_SEED=<n> reproduces a run; a failure names its seed.
import pino from 'pino';
import { startBbsServer, type BbsServer } from '@diego/bbs';
import { HttpBbsClient } from '@diego/bbs-client';
import type { RunningServer } from '@diego/server-support';
import type { ReceptorRouteName } from '@diego/routes';
import { newValidDesiredLrp, newValidTask, testKeySpace, type TestKeySpace } from '@diego/test-support';
import { startReceptor } from '../../src';
import { hostileRequests, type HostileRequest } from './hostile-requests';
import { send, type RawResponse } from './raw-http';

const SEED = Number(process.env.HOSTILE_SEED ?? '13');
const REQUESTS = 3000;
const IN_FLIGHT = 8;
// A liveness guard, not a latency bound: under a CPU hog a 1 MiB body takes seconds to cross.
const ANSWER_TIMEOUT_MS = 60_000;

const TARGETS = { taskGuid: 'hostile-stored-task', processGuid: 'hostile-stored-lrp', domain: 'hostile-domain' };

/**
 * The 5xx answers spec/receptor-api.md names for a request a client got wrong, by route: Diego answered the BBS's
 * validation of an update (§3.9) or of a negative index (§3.12, §3.13) with 500 UnknownError, and the cancel of a
 * completed task with the BBS's refusal (§3.5). Any other 5xx is a failure.
 */
const NAMED_5XX: { readonly [R in ReceptorRouteName]?: { name: string; message: RegExp } } = {
  UpdateDesiredLRP: { name: 'UnknownError', message: /^Invalid field: / },
  ActualLRPByProcessGuidAndIndex: { name: 'UnknownError', message: /^Invalid field: index$/ },
  KillActualLRPByProcessGuidAndIndex: { name: 'UnknownError', message: /^Invalid field: index$/ },
  CancelTask: { name: 'UnknownError', message: /state transition/i },
};

const silent = pino({ level: 'silent' });
let keys: TestKeySpace;
let bbs: BbsServer;
let bbsClient: HttpBbsClient;
let receptor: RunningServer;

beforeAll(async () => {
  keys = testKeySpace();
  bbs = await startBbsServer({ etcd: keys.namespace, listenAddress: '127.0.0.1:0', logger: silent });
  bbsClient = new HttpBbsClient([`http://${bbs.address}`]);
  receptor = await startReceptor(
    { address: '127.0.0.1:0', bbsAddress: [`http://${bbs.address}`], username: '', password: '', corsEnabled: false, logLevel: 'info', debugAddress: null },
    { logger: silent },
  );
  // What malformed requests aim at: a fresh domain, an LRP with two instances, a completed task (deletable).
  await bbsClient.upsertDomain(TARGETS.domain, 0);
  await bbsClient.desireLRP(newValidDesiredLrp(TARGETS.processGuid, { instances: 2, domain: TARGETS.domain }));
  await bbsClient.desireTask(TARGETS.taskGuid, TARGETS.domain, newValidTask(TARGETS.taskGuid).definition);
  await bbsClient.startTask(TARGETS.taskGuid, 'cell-1');
  await bbsClient.completeTask(TARGETS.taskGuid, 'cell-1', false, '', 'done');
}, 30_000);

afterAll(async () => {
  await receptor?.stop();
  bbsClient?.close();
  await bbs?.stop();
  await keys?.cleanup();
});

function portOf(address: string): number {
  return Number(address.slice(address.lastIndexOf(':') + 1));
}

/** Every key and value in the test's key space. */
async function etcdContents(): Promise<Record<string, string>> {
  return keys.namespace.getAll().strings();
}

/** The error envelope of a JSON answer, if it is one. */
function envelopeOf(response: RawResponse): { name: string; message: string } | null {
  try {
    const parsed: unknown = JSON.parse(response.body.toString('utf8'));
    if (typeof parsed !== 'object' || parsed === null) return null;
    const name: unknown = Reflect.get(parsed, 'name');
    const message: unknown = Reflect.get(parsed, 'message');
    return typeof name === 'string' && typeof message === 'string' ? { name, message } : null;
  } catch {
    return null;
  }
}

/** Why `response` is wrong for `request`, or null. A connection closed without an answer counts as refused. */
function fault(request: HostileRequest, response: RawResponse): string | null {
  const { status } = response;
  if (status === null) return null;
  if (status >= 500) {
    const named = request.route === null ? undefined : NAMED_5XX[request.route];
    const envelope = envelopeOf(response);
    if (status !== 500 || named === undefined || envelope?.name !== named.name || !named.message.test(envelope.message)) {
      return `${status} ${response.body.toString('utf8').slice(0, 200)}`;
    }
    return null;
  }
  if (request.mustRefuse && status < 400) return `${status}: acted on`;
  return null;
}

async function sendAll(port: number, requests: readonly HostileRequest[]): Promise<string[]> {
  const faults: string[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < requests.length; i = next++) {
      const request = requests[i];
      if (request === undefined) continue;
      const where = `#${i} ${request.label} (${request.method} ${request.target.slice(0, 80)})`;
      try {
        const problem = fault(request, await send(port, request, ANSWER_TIMEOUT_MS));
        if (problem !== null) faults.push(`${where}: ${problem}`);
      } catch (err) {
        faults.push(`${where}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  return faults;
}

describe(`hostile input (seed ${SEED})`, () => {
  it('never crashes the receptor, never answers an unnamed 5xx, and changes nothing it refused', async () => {
    const before = await etcdContents();
    expect(Object.keys(before).length).toBeGreaterThanOrEqual(5);
    const requests = hostileRequests(SEED, REQUESTS, TARGETS);
    // Every route is aimed at.
    expect(new Set(requests.map((request) => request.route)).size).toBeGreaterThanOrEqual(19);

    const faults = await sendAll(portOf(receptor.address), requests);
    expect({ seed: SEED, faults: faults.slice(0, 20), count: faults.length }).toEqual({ seed: SEED, faults: [], count: 0 });

    expect(await etcdContents()).toEqual(before);
    // Still serving, and the records malformed requests aimed at are still there.
    const answer = await fetch(`http://${receptor.address}/v1/tasks/${TARGETS.taskGuid}`);
    expect(answer.status).toBe(200);
    expect(await answer.json()).toMatchObject({ task_guid: TARGETS.taskGuid, state: 'COMPLETED' });
  }, 600_000);

  it('answers a BBS ping with a body over 2 MiB 413, and the BBS keeps answering', async () => {
    const oversized = await send(
      portOf(bbs.address),
      { method: 'POST', target: '/v1/ping', headers: [], body: Buffer.alloc(3 * 1024 * 1024, 'x'), framing: { kind: 'length' } },
      ANSWER_TIMEOUT_MS,
    );
    expect(oversized.status).toBe(413);
    expect(oversized.body.toString('utf8')).toBe('request body exceeds 2097152 bytes\n');
    expect(await bbsClient.ping()).toBe(true);
  });
});
