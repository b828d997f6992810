// Basic auth, the receptor_authorization cookie and CORS (spec/receptor-api.md §10), on a real BBS and etcd.
import request from 'supertest';
import type { Express } from 'express';
import { startReceptorUnderTest, type ReceptorUnderTest } from './support/receptor-under-test';
import { expectEmpty, expectError, expectJson } from './support/http';

const USERNAME = 'diego-user';
/** A colon inside: only the first colon of `user:pass` separates them. 23 bytes in all: base64 pads them. */
const PASSWORD = 'se:cret-pass';

function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`;
}

const VALID = basic(USERNAME, PASSWORD);

let receptor: ReceptorUnderTest;
let secured: Express;

beforeAll(async () => {
  receptor = await startReceptorUnderTest({ username: USERNAME, password: PASSWORD });
  secured = receptor.app;
});

afterAll(async () => {
  await receptor?.stop();
});

function expectUnauthorized(res: request.Response): void {
  expectError(res, 401, 'Unauthorized', 'Unauthorized');
  expect(res.headers['www-authenticate']).toBe('Basic realm="API Authentication"');
}

describe('basic auth (§10.2)', () => {
  it('lets in the configured credentials', async () => {
    expect(VALID).toMatch(/[^=]=$/);
    expect(expectJson(await request(secured).get('/v1/domains').set('Authorization', VALID), 200)).toEqual([]);
  });

  it.each([
    ['no Authorization header', undefined],
    ['a wrong password', basic(USERNAME, 'se:cret')],
    ['a wrong user', basic('someone', PASSWORD)],
    ['the password as a prefix of the right one', basic(USERNAME, `${PASSWORD}x`)],
    ['no colon', `Basic ${Buffer.from(USERNAME).toString('base64')}`],
    ['another scheme', `Bearer ${Buffer.from(`${USERNAME}:${PASSWORD}`).toString('base64')}`],
    ['a lower-case scheme', VALID.replace('Basic', 'basic')],
    ['base64 that is not padded', VALID.replace(/=$/, '')],
    ['base64 with characters outside the alphabet', `Basic ${'!'.repeat(8)}`],
  ])('answers 401 Unauthorized for %s', async (_case, authorization) => {
    const req = request(secured).get('/v1/domains');
    if (authorization !== undefined) req.set('Authorization', authorization);
    expectUnauthorized(await req);
  });

  it('guards every route, the event stream and the cookie route included', async () => {
    for (const [method, path] of [
      ['post', '/v1/tasks'], ['get', '/v1/tasks/t'], ['delete', '/v1/desired_lrps/p'], ['get', '/v1/events'],
      ['post', '/v1/auth_cookie'], ['put', '/v1/domains/d'], ['get', '/v1/cells'],
    ] as const) {
      expectUnauthorized(await request(secured)[method](path));
    }
  });

  it('answers router 404s and 405s without asking for credentials', async () => {
    const notFound = await request(secured).get('/');
    expect([notFound.status, notFound.text]).toEqual([404, '404 page not found\n']);
    const notAllowed = await request(secured).patch('/v1/tasks');
    expect([notAllowed.status, notAllowed.text]).toEqual([405, 'Method Not Allowed\n']);
  });

  it('accepts an empty configured password', async () => {
    const app = receptor.appWith({ username: USERNAME, password: '' });
    expect((await request(app).get('/v1/domains').set('Authorization', basic(USERNAME, ''))).status).toBe(200);
    expectUnauthorized(await request(app).get('/v1/domains').set('Authorization', basic(USERNAME, 'x')));
  });

  it('never logs credentials', async () => {
    await request(secured).get('/v1/domains').set('Authorization', VALID);
    await request(secured).get('/v1/domains').set('Authorization', basic(USERNAME, 'a-wrong-guess'));
    await request(secured).get('/v1/domains').set('Cookie', `receptor_authorization="${VALID}"`);
    const logged = receptor.logs.lines.join('\n');
    expect(receptor.logs.lines.length).toBeGreaterThan(0);
    for (const secret of [PASSWORD, 'a-wrong-guess', VALID.slice('Basic '.length)]) {
      expect(logged).not.toContain(secret);
    }
  });
});

describe('GenerateCookie', () => {
  it('hands the Authorization back as a session cookie: 204, HttpOnly, no Path, Domain, Max-Age or Expires', async () => {
    const res = await request(secured).post('/v1/auth_cookie').set('Authorization', VALID);
    expectEmpty(res, 204);
    expect(res.headers['set-cookie']).toEqual([`receptor_authorization="${VALID}"; HttpOnly`]);
  });

  it('refuses wrong credentials with 401 and sets no cookie', async () => {
    const res = await request(secured).post('/v1/auth_cookie').set('Authorization', basic(USERNAME, 'wrong'));
    expectUnauthorized(res);
    expect(res.headers['set-cookie']).toBeUndefined();
  });

  it('sets a cookie that alone lets a client in (the way a browser EventSource authenticates)', async () => {
    const agent = request.agent(secured);
    expectEmpty(await agent.post('/v1/auth_cookie').set('Authorization', VALID), 204);
    expect((await agent.get('/v1/domains')).status).toBe(200);
  });

  it('answers 204 without a cookie when auth is off and no Authorization came', async () => {
    const open = receptor.appWith({});
    const res = await request(open).post('/v1/auth_cookie');
    expectEmpty(res, 204);
    expect(res.headers['set-cookie']).toBeUndefined();
    const withHeader = await request(open).post('/v1/auth_cookie').set('Authorization', 'Basic Zm9vOmJhcg==');
    expect(withHeader.headers['set-cookie']).toEqual(['receptor_authorization="Basic Zm9vOmJhcg=="; HttpOnly']);
  });
});

describe('the receptor_authorization cookie (§10.3)', () => {
  it('lets a client in with the header value, quoted as modern Go writes it or bare as Go 1.5 did', async () => {
    for (const cookie of [`receptor_authorization="${VALID}"`, `other=1; receptor_authorization=${VALID}`]) {
      expect((await request(secured).get('/v1/domains').set('Cookie', cookie)).status).toBe(200);
    }
  });

  it('wins over the Authorization header, both ways', async () => {
    const cookieWins = await request(secured)
      .get('/v1/domains')
      .set('Cookie', `receptor_authorization="${VALID}"`)
      .set('Authorization', basic(USERNAME, 'wrong'));
    expect(cookieWins.status).toBe(200);
    expectUnauthorized(
      await request(secured)
        .get('/v1/domains')
        .set('Cookie', `receptor_authorization="${basic(USERNAME, 'wrong')}"`)
        .set('Authorization', VALID),
    );
  });
});

describe('CORS (§10.4)', () => {
  let cors: Express;

  beforeAll(() => {
    cors = receptor.appWith({ username: USERNAME, password: PASSWORD, corsEnabled: true });
  });

  it('marks every response for the request Origin, 401s and router 404s included', async () => {
    for (const req of [
      request(cors).get('/v1/domains').set('Authorization', VALID),
      request(cors).get('/v1/domains'),
      request(cors).get('/no/such/path'),
    ]) {
      const res = await req.set('Origin', 'http://console.example.com');
      expect(res.headers['access-control-allow-origin']).toBe('http://console.example.com');
      expect(res.headers['access-control-allow-credentials']).toBe('true');
    }
  });

  it('sends no CORS headers without an Origin, or for Origin *', async () => {
    for (const res of [
      await request(cors).get('/v1/domains').set('Authorization', VALID),
      await request(cors).get('/v1/domains').set('Authorization', VALID).set('Origin', '*'),
    ]) {
      expect(res.headers['access-control-allow-origin']).toBeUndefined();
      expect(res.headers['access-control-allow-credentials']).toBeUndefined();
    }
  });

  it('answers every OPTIONS itself, before routing and auth: 200, empty, the request method and headers echoed', async () => {
    for (const path of ['/v1/tasks', '/no/such/path']) {
      const res = await request(cors)
        .options(path)
        .set('Origin', 'http://console.example.com')
        .set('Access-Control-Request-Method', 'PUT')
        .set('Access-Control-Request-Headers', 'Content-Type, Authorization');
      expectEmpty(res, 200);
      expect(res.headers).toMatchObject({
        'access-control-allow-origin': 'http://console.example.com',
        'access-control-allow-methods': 'PUT',
        'access-control-allow-headers': 'Content-Type, Authorization',
      });
    }
    const bare = await request(cors).options('/v1/tasks');
    expectEmpty(bare, 200);
    expect([bare.headers['access-control-allow-methods'], bare.headers['access-control-allow-headers']]).toEqual(['', '']);
  });

  it('is off by default: no CORS headers, and OPTIONS is routed like any method (405 with Allow)', async () => {
    const res = await request(secured).options('/v1/tasks').set('Origin', 'http://console.example.com');
    expect(res.status).toBe(405);
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
    expect(res.headers.allow?.split(', ').sort()).toEqual(['GET', 'HEAD', 'POST']);
  });
});
