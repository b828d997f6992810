// Oversized request bodies are refused in the documented error shape, store nothing, and leave the receptor serving.
import request from 'supertest';
import { stringifyJson } from '@diego/models';
import { startReceptorUnderTest, type ReceptorUnderTest } from './support/receptor-under-test';
import { expectError, expectJson, taskRequest, uniqueGuid } from './support/http';

let receptor: ReceptorUnderTest;

beforeAll(async () => {
  receptor = await startReceptorUnderTest();
});

afterAll(async () => {
  await receptor?.stop();
});

describe('request bodies over 1 MiB', () => {
  it('are answered 413 InvalidRequest without being stored, and the receptor keeps serving', async () => {
    const guid = uniqueGuid('huge-task');
    const body = stringifyJson(taskRequest(guid, { annotation: 'x'.repeat(2 * 1024 * 1024) }));
    const res = await request(receptor.app).post('/v1/tasks').send(body);
    expectError(res, 413, 'InvalidRequest', 'request body exceeds 1048576 bytes');
    expect(res.headers.connection).toBe('close');
    await expect(receptor.bbs.taskByGuid(guid)).rejects.toMatchObject({ type: 'ResourceNotFound' });

    expect(expectJson(await request(receptor.app).get('/v1/tasks'), 200)).toEqual([]);
  });

  it('do not stop a body just under the limit from being decoded (and validated) as usual', async () => {
    const guid = uniqueGuid('big-task');
    const body = stringifyJson(taskRequest(guid, { annotation: 'x'.repeat(512 * 1024) }));
    expectError(await request(receptor.app).post('/v1/tasks').send(body), 400, 'InvalidTask', 'Invalid field: annotation');
  });
});
