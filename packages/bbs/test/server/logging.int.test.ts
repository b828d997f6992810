/** What an operator reads: one JSON line per request, named by route, with the guids and never a secret. */
import pino from 'pino';
import { HttpBbsClient } from '@diego/bbs-client';
import { startBbsServer } from '@diego/bbs';
import type { RunningServer } from '@diego/server-support';
import { newValidDesiredLrp, testKeySpace, type TestKeySpace } from '@diego/test-support';

let keys: TestKeySpace;
let server: RunningServer;
let client: HttpBbsClient;
let lines: string[];

beforeEach(async () => {
  lines = [];
  keys = testKeySpace();
  const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(line) });
  server = await startBbsServer({ etcd: keys.namespace, listenAddress: '127.0.0.1:0', logger });
  client = new HttpBbsClient([`http://${server.address}`]);
});

afterEach(async () => {
  client.close();
  await server.stop();
  await keys.cleanup();
});

function logged(): Record<string, unknown>[] {
  return lines.map((line) => {
    const value: unknown = JSON.parse(line);
    if (typeof value !== 'object' || value === null) throw new Error(`not a JSON object: ${line}`);
    return Object.fromEntries(Object.entries(value));
  });
}

describe('the request log', () => {
  it('has one line per request with the route, status, duration and guids, and the in-band error', async () => {
    await client.desireLRP(newValidDesiredLrp('web', { instances: 0 }));
    await expect(client.desiredLRPByProcessGuid('missing')).rejects.toMatchObject({ type: 'ResourceNotFound' });

    const requests = logged().filter((line) => line.msg === 'request-served');
    expect(requests).toEqual([
      expect.objectContaining({ route: 'DesireDesiredLRP', status: 200, process_guid: 'web', duration_ms: expect.any(Number) }),
      expect.objectContaining({
        route: 'DesiredLRPByProcessGuid_r1',
        status: 200,
        process_guid: 'missing',
        error_type: 'ResourceNotFound',
      }),
    ]);
  });

  it('never holds an LRP\'s diego-ssh private key', async () => {
    const routes = { 'diego-ssh': '{"container_port":2222,"private_key":"-----BEGIN RSA PRIVATE KEY----- SECRET"}' };
    await client.desireLRP(newValidDesiredLrp('web', { instances: 1, routes }));
    await client.updateDesiredLRP('web', { instances: 2, routes, annotation: null });
    await client.removeDesiredLRP('web');
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.filter((line) => line.includes('SECRET'))).toEqual([]);
  });
});
