// Whole lists streamed from etcd's pages through a real BBS and the receptor (GET /v1/desired_lrps, nsync's bulk
// read): complete, byte for byte what the models' encoder makes, filtered by domain, without the records that do
// not decode, and failing visibly (never a shorter list) when the store goes away in the middle of one.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Etcd3 } from 'etcd3';
import pino from 'pino';
import request from 'supertest';
import { HttpBbsClient } from '@diego/bbs-client';
import { startBbsServer } from '@diego/bbs';
import { desiredLrpResponseJson, desiredLrpToJson, type DesiredLRP } from '@diego/models';
import { eventually, newValidDesiredLrp, startEtcd } from '@diego/test-support';
import type { Namespace } from 'etcd3';
import { createReceptorApp } from '../src';
import { startReceptorUnderTest } from './support/receptor-under-test';

/** `count` DesiredLRPs in key order, alternately in domains `a` and `b`, stored straight into etcd. */
async function seed(ns: Namespace, count: number, overrides: Partial<DesiredLRP> = {}): Promise<DesiredLRP[]> {
  const lrps = Array.from({ length: count }, (_, i) =>
    newValidDesiredLrp(`lrp-${String(i).padStart(5, '0')}`, {
      domain: i % 2 === 0 ? 'a' : 'b',
      modification_tag: { epoch: `epoch-${i}`, index: i },
      ...(i % 3 === 0 ? { env: [], routes: {}, annotation: '', egress_rules: [] } : {}),
      ...overrides,
    }));
  for (let at = 0; at < lrps.length; at += 100) {
    await Promise.all(lrps.slice(at, at + 100).map((lrp) => ns.put(`/v1/desired/${lrp.process_guid}`).value(desiredLrpToJson(lrp)).exec()));
  }
  return lrps;
}

const arrayOf = (lrps: readonly DesiredLRP[]): string => `[${lrps.map(desiredLrpResponseJson).join(',')}]`;

describe('GET /v1/desired_lrps of many', () => {
  it('arrives whole and byte for byte as the models encode it, by domain too, without a record that does not decode', async () => {
    const receptor = await startReceptorUnderTest();
    try {
      const lrps = await seed(receptor.keys.namespace, 2_000);
      await receptor.keys.namespace.put('/v1/desired/lrp-00000-undecodable').value('{"process_guid":').exec();
      // The BBS's view has taken every write (its decode of each is what the list leans on).
      await eventually(async () => (await receptor.bbs.desiredLRPSchedulingInfos()).length, (count) => count === 2_000, { timeoutMs: 60_000 });

      const all = await request(receptor.app).get('/v1/desired_lrps');
      expect({ status: all.status, text: all.status === 200 ? '' : all.text }).toEqual({ status: 200, text: '' });
      expect(all.headers['content-type']).toBe('application/json');
      expect(all.headers['x-diego-revision']).toMatch(/^\d+$/);
      expect(all.text).toBe(arrayOf(lrps));

      const inA = await request(receptor.app).get('/v1/desired_lrps?domain=a');
      expect(inA.text).toBe(arrayOf(lrps.filter((lrp) => lrp.domain === 'a')));

      // The BBS's own protobuf list, streamed the same way, holds the same models.
      expect(await receptor.bbs.desiredLRPs({ domain: 'b' })).toEqual(lrps.filter((lrp) => lrp.domain === 'b'));
    } finally {
      await receptor.stop();
    }
  }, 120_000);

  it('ends unfinished, so that the client sees a failure, when etcd goes away in the middle of the list', async () => {
    const etcd = await startEtcd();
    const client = new Etcd3({ hosts: etcd.endpoint });
    const bbsServer = await startBbsServer({ etcd: client.namespace('/mid-list/'), listenAddress: '127.0.0.1:0', logger: pino({ level: 'silent' }) });
    const bbs = new HttpBbsClient([`http://${bbsServer.address}`]);
    const receptor = http.createServer(createReceptorApp({ bbs, username: '', password: '', corsEnabled: false, logger: pino({ level: 'silent' }) }));
    try {
      // 2,000 records of about 8 KiB: far more than the sockets between the three hold while the client waits.
      await seed(client.namespace('/mid-list/'), 2_000, { annotation: 'x'.repeat(8_000) });
      await new Promise<void>((resolve) => receptor.listen(0, '127.0.0.1', resolve));
      const { port } = receptor.address() as AddressInfo;

      const outcome = await new Promise<{ status: number | undefined; complete: boolean; error: string | null }>((resolve) => {
        http.get(`http://127.0.0.1:${port}/v1/desired_lrps`, (res) => {
          let stopped = false;
          let error: string | null = null;
          res.on('data', () => {
            if (stopped) return;
            stopped = true;
            // Hold the list at its first bytes while etcd stops, then read on.
            res.pause();
            void etcd.stop().then(() => res.resume());
          });
          res.on('error', (err) => (error = err.message));
          res.on('close', () => resolve({ status: res.statusCode, complete: res.complete, error }));
        });
      });
      expect(outcome).toEqual({ status: 200, complete: false, error: expect.any(String) });
    } finally {
      await new Promise((resolve) => receptor.close(resolve));
      bbs.close();
      await bbsServer.stop();
      client.close();
      await etcd.stop();
    }
  }, 120_000);
});
