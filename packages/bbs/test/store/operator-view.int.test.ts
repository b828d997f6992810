/**
 * What an operator sees with `etcdctl get /v1/ --prefix` after desiring an LRP: the real etcdctl binary against
 * the store's keys (issue "Foundation", done-when).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { newValidDesiredLrp } from '@diego/test-support';
import { useStore } from './store-harness';

const run = promisify(execFile);

/** `etcdctl get <prefix>/v1/ --prefix` as key/value pairs, in etcd's key order. */
async function etcdctlGet(prefix: string): Promise<[string, string][]> {
  const endpoint = process.env.DIEGO_TEST_ETCD ?? '';
  const { stdout } = await run('etcdctl', ['--endpoints', endpoint, 'get', `${prefix}/v1/`, '--prefix'], {
    env: { ...process.env, ETCDCTL_API: '3' },
  });
  const lines = stdout.split('\n').filter((line) => line !== '');
  const pairs: [string, string][] = [];
  for (let i = 0; i + 1 < lines.length; i += 2) pairs.push([lines[i] ?? '', lines[i + 1] ?? '']);
  return pairs;
}

describe('the store seen through etcdctl', () => {
  const store = useStore();

  it('shows the desired LRP and one instance key per index as readable JSON with modification tags', async () => {
    const { db, keys } = store();
    await db.desireLRP(newValidDesiredLrp('web-app', { instances: 2, domain: 'cf-apps' }));

    const pairs = await etcdctlGet(keys.prefix);
    expect(pairs.map(([key]) => key.slice(keys.prefix.length))).toEqual([
      '/v1/actual/web-app/0/instance',
      '/v1/actual/web-app/1/instance',
      '/v1/desired/web-app',
    ]);

    const [instance0, instance1, desired] = pairs.map(([, value]) => JSON.parse(value) as Record<string, unknown>);
    expect(desired).toMatchObject({
      process_guid: 'web-app',
      domain: 'cf-apps',
      instances: 2,
      modification_tag: { epoch: expect.any(String), index: 0 },
    });
    for (const [index, actual] of [instance0, instance1].entries()) {
      expect(actual).toMatchObject({
        process_guid: 'web-app',
        index,
        domain: 'cf-apps',
        state: 'UNCLAIMED',
        modification_tag: { epoch: expect.any(String), index: 0 },
      });
    }
    // `since` is nanoseconds past 2^53: the raw text carries every digit the clock gave.
    const rawSince = /"since":(\d+)/.exec(pairs[0]?.[1] ?? '')?.[1];
    expect(rawSince).toBe(store().clock.now.toString());
  });
});
