// Ten event subscribers that never read among 190 that do, while events flow (README "Event stream"): the receptor
// holds at most its buffer of events for each (its /debug/vars say how many it holds), ends the stalled ones, and
// the readers get every event.
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import pino from 'pino';
import { DEFAULT_SUBSCRIBER_BUFFER, HttpBbsClient } from '@diego/bbs-client';
import { startBbsServer, type BbsServer } from '@diego/bbs';
import type { RunningServer } from '@diego/server-support';
import { eventually, newValidDesiredLrp, testKeySpace, type TestKeySpace } from '@diego/test-support';
import { startReceptor } from '../../src';
import { deadBbsUrl } from '../support/receptor-under-test';

/** Plain readers; 10 more read on the connections of the stalled ones: 200 in all. */
const READERS = 190;
const STALLED = 10;
/** Instances per desired LRP: one write is one revision of this many + 1 events. */
const INSTANCES = 100;
const MAX_WRITES = 40;

const silent = pino({ level: 'silent' });
let keys: TestKeySpace;
let bbs: BbsServer;
let bbsClient: HttpBbsClient;
let receptor: RunningServer;
let debugUrl: string;
const stalled: Socket[] = [];
const readers: Reader[] = [];

/** A subscriber that reads everything and keeps only what the test checks: how many events, the last id. */
class Reader {
  events = 0;
  ended = false;
  private partial = '';

  private constructor(private readonly close: () => void) {}

  static open(url: string): Promise<Reader> {
    return new Promise((resolve, reject) => {
      const req = request(url, (res) => {
        const reader = new Reader(() => req.destroy());
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => reader.receive(chunk));
        res.on('close', () => (reader.ended = true));
        resolve(reader);
      });
      req.on('error', reject);
      req.end();
    });
  }

  stop(): void {
    this.close();
  }

  private receive(chunk: string): void {
    const lines = (this.partial + chunk).split('\n');
    this.partial = lines.pop() ?? '';
    for (const line of lines) if (line.startsWith('id: ')) this.events++;
  }
}

/**
 * A stalled subscriber without megabytes of kernel buffers in front of it: its GET /v1/events is pipelined behind
 * another one on the same connection, whose events the client reads. The receptor can send the second stream
 * nothing until the first ends, so from its first event on, every event it is given waits in the receptor (a client
 * that stops reading would first fill ~4 MB of socket buffers, ~1 GB across this test's streams).
 */
function openStalledBehindReader(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port }, () => {
      const get = 'GET /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n';
      socket.write(get + get);
      resolve(socket);
    });
    socket.on('error', reject);
    // The first stream is read (and dropped): that subscriber keeps up.
    socket.resume();
  });
}

interface EventVars {
  subscribers: number;
  queued_events: number;
  dropped_slow: number;
}

async function eventVars(): Promise<EventVars> {
  const vars = (await (await fetch(`${debugUrl}/debug/vars`)).json()) as { events: EventVars };
  return vars.events;
}

beforeAll(async () => {
  keys = testKeySpace();
  bbs = await startBbsServer({ etcd: keys.namespace, listenAddress: '127.0.0.1:0', logger: silent });
  // Deadlines that guard liveness only: a BBS fanning out to 200 streams on a busy machine answers slowly.
  bbsClient = new HttpBbsClient([`http://${bbs.address}`], { timeoutMs: 60_000 });
  const debugAddress = new URL(await deadBbsUrl()).host;
  debugUrl = `http://${debugAddress}`;
  receptor = await startReceptor(
    { address: '127.0.0.1:0', bbsAddress: [`http://${bbs.address}`], username: '', password: '', corsEnabled: false, logLevel: 'info', debugAddress },
    { logger: silent },
  );
}, 30_000);

afterAll(async () => {
  for (const reader of readers) reader.stop();
  for (const socket of stalled) socket.destroy();
  await receptor?.stop();
  bbsClient?.close();
  await bbs?.stop();
  await keys?.cleanup();
});

describe('receptor event streams with stalled subscribers', () => {
  it('holds a bounded number of events, ends the stalled ones, and the readers get everything', async () => {
    const url = `http://${receptor.address}/v1/events`;
    for (let i = 0; i < READERS; i++) readers.push(await Reader.open(url));
    const port = Number(receptor.address.slice(receptor.address.lastIndexOf(':') + 1));
    for (let i = 0; i < STALLED; i++) stalled.push(await openStalledBehindReader(port));
    // The plain readers, a reader and a stalled subscriber on each pipelined connection.
    await eventually(eventVars, (vars) => vars.subscribers === READERS + 2 * STALLED, { timeoutMs: 60_000 });

    // Writes of 101 events each; after each, every reader has them all (so none falls behind), and what the
    // receptor holds is at most a full buffer per stalled subscriber and one write per reader.
    const bound = STALLED * DEFAULT_SUBSCRIBER_BUFFER + (READERS + STALLED) * (INSTANCES + 1);
    let writes = 0;
    let mostQueued = 0;
    while ((await eventVars()).dropped_slow < STALLED) {
      if (writes === MAX_WRITES) throw new Error(`the stalled subscribers were not all ended after ${writes} writes`);
      await bbsClient.desireLRP(newValidDesiredLrp(`stalled-${writes}`, { instances: INSTANCES }));
      writes += 1;
      const expected = writes * (INSTANCES + 1);
      await eventually(async () => readers.filter((reader) => reader.events < expected).length, (behind) => behind === 0, { timeoutMs: 60_000 });
      mostQueued = Math.max(mostQueued, (await eventVars()).queued_events);
      expect(mostQueued).toBeLessThanOrEqual(bound);
    }

    await eventually(eventVars, (vars) => vars.subscribers === READERS + STALLED && vars.queued_events === 0, { timeoutMs: 60_000 });
    expect(readers.every((reader) => !reader.ended && reader.events === writes * (INSTANCES + 1))).toBe(true);
    // The stalled ones filled their buffers before they were ended: the bound was reached, and held.
    expect(mostQueued).toBeGreaterThan(0);
  }, 600_000);
});
