// Domains through the receptor (spec/receptor-api.md §3.15, §3.16), on a real BBS and etcd.
import request from 'supertest';
import { eventually } from '@diego/test-support';
import { startReceptorUnderTest, type ReceptorUnderTest } from './support/receptor-under-test';
import { expectEmpty, expectError, expectJson, uniqueGuid } from './support/http';

let receptor: ReceptorUnderTest;

beforeAll(async () => {
  receptor = await startReceptorUnderTest();
});

afterAll(async () => {
  await receptor?.stop();
});

async function freshDomains(): Promise<unknown> {
  return expectJson(await request(receptor.app).get('/v1/domains'), 200);
}

describe('Domains', () => {
  it('answers [] when no domain is fresh', async () => {
    expect(await freshDomains()).toEqual([]);
  });
});

describe('UpsertDomain', () => {
  it('marks a domain fresh for ever without Cache-Control: 204, and it is listed', async () => {
    const domain = uniqueGuid('domain');
    expectEmpty(await request(receptor.app).put(`/v1/domains/${domain}`), 204);
    expect(await freshDomains()).toContain(domain);
  });

  it('ignores the body (the Go client sends null)', async () => {
    const domain = uniqueGuid('domain');
    expectEmpty(await request(receptor.app).put(`/v1/domains/${domain}`).send('not json at all'), 204);
    expect(await freshDomains()).toContain(domain);
  });

  it('reads max-age from its own Cache-Control line among several', async () => {
    const domain = uniqueGuid('domain');
    expectEmpty(await request(receptor.app).put(`/v1/domains/${domain}`).set({ 'Cache-Control': ['public', 'max-age=1000'] }), 204);
    expect(await freshDomains()).toContain(domain);
  });

  it('lets the domain expire after max-age seconds', async () => {
    const domain = uniqueGuid('domain');
    expectEmpty(await request(receptor.app).put(`/v1/domains/${domain}`).set('Cache-Control', 'max-age=1'), 204);
    expect(await freshDomains()).toContain(domain);
    // etcd rounds a lease up to its minimum TTL (a couple of seconds); the domain still goes.
    await eventually(freshDomains, (domains) => Array.isArray(domains) && !domains.includes(domain), { timeoutMs: 15000 });
  });

  it('keeps a domain with max-age=0 for ever', async () => {
    const domain = uniqueGuid('domain');
    expectEmpty(await request(receptor.app).put(`/v1/domains/${domain}`).set('Cache-Control', 'max-age=0'), 204);
    expect(await freshDomains()).toContain(domain);
  });

  it.each<[string, string | string[], string]>([
    ['max-age inside a single comma-joined line', 'public, max-age=10', 'max-age directive missing from request'],
    ['no max-age line', ['no-cache', 'public'], 'max-age directive missing from request'],
    ['an empty Cache-Control', '', 'max-age directive missing from request'],
    ['a max-age that is not a number', 'max-age=ten', 'invalid-max-age-directive: max-age=ten'],
    ['a max-age with a fraction', 'max-age=1.5', 'invalid-max-age-directive: max-age=1.5'],
    ['a max-age with no value', 'max-age=', 'invalid-max-age-directive: max-age='],
    ['a negative max-age', 'max-age=-5', 'invalid-max-age-directive: max-age=-5'],
  ])('answers 400 InvalidRequest for %s, and the domain is not marked fresh', async (_case, cacheControl, message) => {
    const domain = uniqueGuid('domain');
    // An array is sent as one header line per element.
    const res = await request(receptor.app).put(`/v1/domains/${domain}`).set({ 'Cache-Control': cacheControl });
    expectError(res, 400, 'InvalidRequest', message);
    expect(await freshDomains()).not.toContain(domain);
  });
});
