// The receptor's router (spec/receptor-api.md §1.1, §1.4): pat's answers, not express's.
import request from 'supertest';
import pino from 'pino';
import { HttpBbsClient } from '@diego/bbs-client';
import { stringifyJson } from '@diego/models';
import { createReceptorApp } from '../src';
import { deadBbsUrl, startReceptorUnderTest, type ReceptorUnderTest } from './support/receptor-under-test';
import { expectEmpty, expectError, expectJson, taskRequest, uniqueGuid } from './support/http';

let receptor: ReceptorUnderTest;

beforeAll(async () => {
  receptor = await startReceptorUnderTest();
});

afterAll(async () => {
  await receptor?.stop();
});

function expectPlainText(res: request.Response, status: number, text: string): void {
  expect({ status: res.status, text: res.text }).toEqual({ status, text });
  expect(res.headers['content-type']).toBe('text/plain; charset=utf-8');
}

describe('unknown paths', () => {
  it.each([
    ['GET', '/'],
    ['GET', '/v1/tasks/'],
    ['GET', '/v1/desired_lrps/'],
    ['PUT', '/v1/domains/'],
    ['GET', '/v1/actual_lrps/some-guid/index/'],
    ['POST', '/v1/tasks//cancel'],
    ['GET', '//v1/tasks'],
    ['GET', '/v1/tasks/a%2Fb'],
    ['GET', '/v1/TASKS'],
  ])('%s %s is a plain-text 404', async (method, path) => {
    expectPlainText(await request(receptor.app)[method === 'GET' ? 'get' : method === 'PUT' ? 'put' : 'post'](path), 404, '404 page not found\n');
  });

  it('answers a malformed percent-escape with 400', async () => {
    expect((await request(receptor.app).get('/v1/tasks/%zz')).status).toBe(400);
  });
});

describe('wrong methods', () => {
  it.each([
    ['put', '/v1/tasks', ['GET', 'HEAD', 'POST']],
    ['post', '/v1/tasks/some-task', ['DELETE', 'GET', 'HEAD']],
    ['get', '/v1/tasks/some-task/cancel', ['POST']],
    ['delete', '/v1/desired_lrps', ['GET', 'HEAD', 'POST']],
    ['post', '/v1/domains/some-domain', ['PUT']],
    ['get', '/v1/auth_cookie', ['POST']],
    ['post', '/v1/events', ['GET', 'HEAD']],
    ['patch', '/v1/actual_lrps/some-guid/index/0', ['DELETE', 'GET', 'HEAD']],
  ] as const)('%s %s is a plain-text 405 with Allow', async (method, path, allowed) => {
    const res = await request(receptor.app)[method](path);
    expectPlainText(res, 405, 'Method Not Allowed\n');
    expect(res.headers.allow?.split(', ').sort()).toEqual(allowed);
  });
});

describe('HEAD', () => {
  it('answers every GET route with the GET status and headers and no body', async () => {
    const guid = uniqueGuid('task');
    expectEmpty(
      await request(receptor.app).post('/v1/tasks').set('Content-Type', 'application/json').send(stringifyJson(taskRequest(guid))),
      201,
    );
    const get = await request(receptor.app).get(`/v1/tasks/${guid}`);
    const head = await request(receptor.app).head(`/v1/tasks/${guid}`);
    expect(head.status).toBe(200);
    expect(head.text ?? '').toBe('');
    expect(head.headers['content-type']).toBe('application/json');
    expect(head.headers['content-length']).toBe(get.headers['content-length']);

    const missing = await request(receptor.app).head('/v1/tasks/no-such-task');
    expect([missing.status, missing.headers['content-type']]).toEqual([404, 'application/json']);
  });

  it('is not allowed on routes without a GET', async () => {
    expect((await request(receptor.app).head('/v1/auth_cookie')).status).toBe(405);
  });
});

describe('path parameters', () => {
  it('are percent-decoded before they are used', async () => {
    const guid = uniqueGuid('task');
    expectEmpty(
      await request(receptor.app).post('/v1/tasks').set('Content-Type', 'application/json').send(stringifyJson(taskRequest(guid))),
      201,
    );
    const encoded = guid.replace('task', '%74%61%73%6B');
    expect(expectJson(await request(receptor.app).get(`/v1/tasks/${encoded}`), 200)).toMatchObject({ task_guid: guid });
  });

  it('name the guid asked for in not-found messages, with characters Go escapes', async () => {
    expectError(
      await request(receptor.app).get('/v1/tasks/a%3Cb%3E'),
      404,
      'TaskNotFound',
      "task with guid 'a<b>' not found",
    );
    const res = await request(receptor.app).get('/v1/tasks/a%3Cb%3E');
    expect(res.text).toContain('a\\u003cb\\u003e');
  });
});

describe('failures the routes do not map', () => {
  it('answer 500 UnknownError with the underlying message when the BBS cannot be reached', async () => {
    const bbs = new HttpBbsClient([await deadBbsUrl()]);
    const app = createReceptorApp({ bbs, username: '', password: '', corsEnabled: false, logger: pino({ level: 'silent' }) });
    try {
      for (const req of [
        request(app).get('/v1/tasks'),
        request(app).get('/v1/desired_lrps/some-lrp'),
        request(app).put('/v1/domains/some-domain'),
      ]) {
        const res = await req;
        expectError(res, 500, 'UnknownError');
        expect(res.body).toMatchObject({ message: expect.stringMatching(/.+/) });
      }
    } finally {
      bbs.close();
    }
  });
});

describe('request log', () => {
  it('writes one JSON line per request with the route, status, duration and the guids involved', async () => {
    receptor.logs.lines.length = 0;
    await request(receptor.app).get('/v1/tasks/some-task-guid');
    await request(receptor.app).get('/v1/nowhere');
    expect(receptor.logs.entries()).toEqual([
      expect.objectContaining({
        msg: 'request-served', route: 'GetTask', method: 'GET', status: 404, task_guid: 'some-task-guid',
        duration_ms: expect.any(Number),
      }),
      expect.objectContaining({ msg: 'request-served', route: null, status: 404, path: '/v1/nowhere' }),
    ]);
  });
});
