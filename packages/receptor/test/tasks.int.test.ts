// Tasks through the receptor (spec/receptor-api.md §3.1–§3.5, §4.1–§4.2, §7.1), on a real BBS and etcd.
import request from 'supertest';
import { stringifyJson } from '@diego/models';
import { startReceptorUnderTest, type ReceptorUnderTest } from './support/receptor-under-test';
import {
  asObject, asObjects, expectEmpty, expectError, expectJson, taskRequest, uniqueGuid, type JsonObject,
} from './support/http';

/** Every task this file's BBS creates is stamped with this time, so the digits can be checked exactly. */
const CREATED_AT = 1441087965748636277n;

let receptor: ReceptorUnderTest;

beforeAll(async () => {
  receptor = await startReceptorUnderTest({}, { clock: () => CREATED_AT });
});

afterAll(async () => {
  await receptor?.stop();
});

function createTask(body: JsonObject | string): request.Test {
  return request(receptor.app)
    .post('/v1/tasks')
    .set('Content-Type', 'application/json')
    .send(typeof body === 'string' ? body : stringifyJson(body));
}

async function getTask(taskGuid: string): Promise<JsonObject> {
  return asObject(expectJson(await request(receptor.app).get(`/v1/tasks/${taskGuid}`), 200));
}

/** A valid task's JSON with `member` appended as text; a key given twice counts with its last value, as in Go. */
function taskJson(taskGuid: string, member: string): string {
  return `${stringifyJson(taskRequest(taskGuid)).slice(0, -1)},${member}}`;
}

/** Nothing was stored under this guid: the BBS does not know it. */
async function expectNoTask(taskGuid: string): Promise<void> {
  await expect(receptor.bbs.taskByGuid(taskGuid)).rejects.toMatchObject({ type: 'ResourceNotFound' });
}

describe('CreateTask', () => {
  it('answers 201 with no body, and the task reads back with every field and PENDING', async () => {
    const guid = uniqueGuid('task');
    const body = taskRequest(guid);
    expectEmpty(await createTask(body), 201);

    const task = await getTask(guid);
    expect(task).toEqual({
      ...body,
      cell_id: '',
      created_at: CREATED_AT,
      failed: false,
      failure_reason: '',
      result: '',
      state: 'PENDING',
    });
  });

  it('reads the body whatever the Content-Type, or with none', async () => {
    const asText = uniqueGuid('task');
    const withoutType = uniqueGuid('task');
    expectEmpty(
      await request(receptor.app).post('/v1/tasks').set('Content-Type', 'text/plain').send(stringifyJson(taskRequest(asText))),
      201,
    );
    const bare = request(receptor.app).post('/v1/tasks');
    bare.unset('Content-Type');
    expectEmpty(await bare.send(Buffer.from(stringifyJson(taskRequest(withoutType)))), 201);
    expect((await getTask(asText)).task_guid).toBe(asText);
    expect((await getTask(withoutType)).task_guid).toBe(withoutType);
  });

  it('accepts a completion callback URL that Go parses as a request URI', async () => {
    const guid = uniqueGuid('task');
    expectEmpty(await createTask(taskRequest(guid, { completion_callback_url: 'http://cc.example.com:9090/done?x=1' })), 201);
    expect((await getTask(guid)).completion_callback_url).toBe('http://cc.example.com:9090/done?x=1');
  });

  it('refuses a guid that is taken with 409 TaskGuidAlreadyExists, in any domain, and keeps the first task', async () => {
    const guid = uniqueGuid('task');
    expectEmpty(await createTask(taskRequest(guid)), 201);
    expectError(
      await createTask(taskRequest(guid, { domain: 'another-domain', memory_mb: 1 })),
      409,
      'TaskGuidAlreadyExists',
      'task already exists',
    );
    const task = await getTask(guid);
    expect({ domain: task.domain, memory_mb: task.memory_mb }).toEqual({ domain: 'tests', memory_mb: 256 });
  });

  describe('decoding (§1.2): 400 InvalidJSON and nothing stored', () => {
    it.each<[string, string, string | null]>([
      ['malformed JSON', '{"task_guid": "decode-malformed",', 'decode-malformed'],
      ['an empty body', '', null],
      ['a JSON array', '[]', null],
      ['a string where a number belongs', taskJson('decode-string', '"cpu_weight":"100"'), 'decode-string'],
      ['a negative unsigned field', taskJson('decode-negative', '"cpu_weight":-1'), 'decode-negative'],
      ['a fraction where an integer belongs', taskJson('decode-fraction', '"memory_mb":1.5'), 'decode-fraction'],
      ['an object where an array belongs', taskJson('decode-object', '"env":{"name":"A"}'), 'decode-object'],
    ])('%s', async (_case, body, guid) => {
      const res = await createTask(body);
      expectError(res, 400, 'InvalidJSON');
      expect(asObject(expectJson(res, 400)).message).not.toBe('');
      if (guid !== null) await expectNoTask(guid);
    });
  });

  describe('validation (§7.1): 400 InvalidTask, the failures in one message, nothing stored', () => {
    const ANNOTATION_LIMIT = 10240;

    it.each<[string, JsonObject, string]>([
      ['a guid with a slash', { task_guid: 'bad/guid' }, 'Invalid field: task_guid'],
      ['an empty guid', { task_guid: '' }, 'Invalid field: task_guid'],
      ['an empty domain', { domain: '' }, 'Invalid field: domain'],
      ['a rootfs without a scheme', { rootfs: 'cflinuxfs2' }, 'Invalid field: rootfs'],
      ['an empty rootfs', { rootfs: '' }, 'Invalid field: rootfs'],
      ['no action', { action: null }, 'invalid action type'],
      ['an action of no known type', { action: {} }, 'Invalid field: action, Invalid field: inner-action'],
      ['a run action without path and user', { action: { run: {} } }, 'Invalid field: action, Invalid field: path, Invalid field: user'],
      ['a cpu weight over 100', { cpu_weight: 101 }, 'Invalid field: cpu_weight'],
      ['an annotation over 10 KiB', { annotation: 'a'.repeat(ANNOTATION_LIMIT + 1) }, 'Invalid field: annotation'],
      ['an annotation over 10 KiB in UTF-8 bytes', { annotation: 'é'.repeat(ANNOTATION_LIMIT / 2 + 1) }, 'Invalid field: annotation'],
      ['an egress rule of an unknown protocol', { egress_rules: [{ protocol: 'tcp6', destinations: ['0.0.0.0/0'] }] }, 'Invalid field: egress_rules'],
      ['a completion callback URL Go cannot parse', { completion_callback_url: 'ಠ_ಠ' }, 'parse ಠ_ಠ: invalid URI for request'],
    ])('%s', async (_case, overrides, message) => {
      const guid = typeof overrides.task_guid === 'string' ? overrides.task_guid : uniqueGuid('invalid-task');
      const before = expectJson(await request(receptor.app).get('/v1/tasks'), 200);
      expectError(await createTask(taskRequest(guid, { ...overrides, task_guid: guid })), 400, 'InvalidTask', message);
      expect(expectJson(await request(receptor.app).get('/v1/tasks'), 200)).toEqual(before);
    });

    it('names every failing field, in order, in one message', async () => {
      const res = await createTask({ task_guid: 'bad guid', domain: '', rootfs: 'preloaded:cflinuxfs2' });
      expectError(res, 400, 'InvalidTask', 'Invalid field: task_guid, Invalid field: domain, invalid action type');
    });

    it('accepts an annotation of exactly 10 KiB', async () => {
      const guid = uniqueGuid('task');
      expectEmpty(await createTask(taskRequest(guid, { annotation: 'a'.repeat(ANNOTATION_LIMIT) })), 201);
    });
  });
});

describe('Tasks', () => {
  it('lists the tasks of a domain, and all tasks without ?domain= or with an empty one', async () => {
    const domain = uniqueGuid('domain');
    const [first, second, elsewhere] = [uniqueGuid('task'), uniqueGuid('task'), uniqueGuid('task')];
    for (const body of [taskRequest(first, { domain }), taskRequest(second, { domain }), taskRequest(elsewhere)]) {
      expectEmpty(await createTask(body), 201);
    }

    const inDomain = asObjects(expectJson(await request(receptor.app).get(`/v1/tasks?domain=${domain}`), 200));
    expect(inDomain.map((task) => task.task_guid).sort()).toEqual([first, second].sort());
    expect(inDomain.every((task) => task.domain === domain && task.state === 'PENDING')).toBe(true);

    for (const path of ['/v1/tasks', '/v1/tasks?domain=']) {
      const all = asObjects(expectJson(await request(receptor.app).get(path), 200)).map((task) => task.task_guid);
      expect(all).toEqual(expect.arrayContaining([first, second, elsewhere]));
    }
  });

  it('answers [] for a domain without tasks', async () => {
    expect(expectJson(await request(receptor.app).get('/v1/tasks?domain=no-such-domain'), 200)).toEqual([]);
  });
});

describe('GetTask', () => {
  it('answers a TaskResponse with exactly the keys of §4.2, in Go order, and created_at with every digit', async () => {
    const guid = uniqueGuid('task');
    expectEmpty(await createTask(taskRequest(guid)), 201);
    const res = await request(receptor.app).get(`/v1/tasks/${guid}`);
    expect(Object.keys(asObject(expectJson(res, 200)))).toEqual([
      'action', 'annotation', 'completion_callback_url', 'cpu_weight', 'disk_mb', 'domain', 'log_guid', 'log_source',
      'metrics_guid', 'memory_mb', 'result_file', 'task_guid', 'rootfs', 'privileged', 'env', 'cell_id', 'created_at',
      'failed', 'failure_reason', 'result', 'state', 'egress_rules',
    ]);
    expect(res.text).toContain(`"created_at":${CREATED_AT}`);
    // Go's encoder escapes <, > and & inside strings.
    expect(res.text).toContain('"annotation":"an annotation with \\u003c, \\u003e \\u0026 \\"quotes\\""');
  });

  it('omits annotation, env and egress_rules when empty, and always sends completion_callback_url', async () => {
    const guid = uniqueGuid('task');
    const minimal = { task_guid: guid, domain: 'tests', rootfs: 'preloaded:cflinuxfs2', action: { run: { path: 'true', user: 'vcap' } } };
    expectEmpty(await createTask(minimal), 201);
    const task = await getTask(guid);
    expect(Object.keys(task)).toEqual([
      'action', 'completion_callback_url', 'cpu_weight', 'disk_mb', 'domain', 'log_guid', 'log_source', 'metrics_guid',
      'memory_mb', 'result_file', 'task_guid', 'rootfs', 'privileged', 'cell_id', 'created_at', 'failed',
      'failure_reason', 'result', 'state',
    ]);
    expect(task).toMatchObject({ action: { run: { path: 'true', user: 'vcap' } }, completion_callback_url: '', cpu_weight: 0 });
  });

  it('answers 404 TaskNotFound for an unknown guid', async () => {
    expectError(
      await request(receptor.app).get('/v1/tasks/no-such-task'),
      404,
      'TaskNotFound',
      "task with guid 'no-such-task' not found",
    );
  });
});

describe('DeleteTask', () => {
  it('resolves and deletes a completed task: a bare 200, then the task is gone', async () => {
    const guid = uniqueGuid('task');
    expectEmpty(await createTask(taskRequest(guid)), 201);
    await receptor.bbs.startTask(guid, 'cell-1');
    await receptor.bbs.completeTask(guid, 'cell-1', false, '', 'the result');
    expect(await getTask(guid)).toMatchObject({ state: 'COMPLETED', result: 'the result', cell_id: '' });

    expectEmpty(await request(receptor.app).delete(`/v1/tasks/${guid}`), 200);
    expectError(await request(receptor.app).get(`/v1/tasks/${guid}`), 404, 'TaskNotFound');
  });

  it.each([
    ['PENDING', async (_guid: string) => undefined],
    ['RUNNING', async (guid: string) => void (await receptor.bbs.startTask(guid, 'cell-1'))],
  ])('refuses a %s task with 409 TaskNotDeletable and keeps it', async (state, prepare) => {
    const guid = uniqueGuid('task');
    expectEmpty(await createTask(taskRequest(guid)), 201);
    await prepare(guid);
    expectError(
      await request(receptor.app).delete(`/v1/tasks/${guid}`),
      409,
      'TaskNotDeletable',
      'This task has not been completed. Please retry when it is completed.',
    );
    expect((await getTask(guid)).state).toBe(state);
  });

  it('answers 404 TaskNotFound for an unknown guid', async () => {
    expectError(
      await request(receptor.app).delete('/v1/tasks/no-such-task'),
      404,
      'TaskNotFound',
      "task with guid 'no-such-task' not found",
    );
  });
});

describe('CancelTask', () => {
  it('completes a pending task as failed with "task was cancelled": a bare 200', async () => {
    const guid = uniqueGuid('task');
    expectEmpty(await createTask(taskRequest(guid)), 201);
    expectEmpty(await request(receptor.app).post(`/v1/tasks/${guid}/cancel`), 200);
    expect(await getTask(guid)).toMatchObject({
      state: 'COMPLETED',
      failed: true,
      failure_reason: 'task was cancelled',
      result: '',
      cell_id: '',
    });
  });

  it('answers 404 TaskNotFound for an unknown guid', async () => {
    expectError(
      await request(receptor.app).post('/v1/tasks/no-such-task/cancel'),
      404,
      'TaskNotFound',
      "task with guid 'no-such-task' not found",
    );
  });

  it('answers 500 UnknownError for a task that already completed (the BBS refuses the transition)', async () => {
    const guid = uniqueGuid('task');
    expectEmpty(await createTask(taskRequest(guid)), 201);
    expectEmpty(await request(receptor.app).post(`/v1/tasks/${guid}/cancel`), 200);
    expectError(
      await request(receptor.app).post(`/v1/tasks/${guid}/cancel`),
      500,
      'UnknownError',
      'Cannot transition from Completed to Completed',
    );
  });
});
