// The documented answers to what used to be 500s or acted on (README "Where we differ from Diego"): JSON nested
// deeper than 128 is 400 InvalidJSON, actions nested deeper than 32 are 400 InvalidTask/InvalidLRP, and a DELETE
// or domain PUT whose body is malformed on the wire is not carried out.
import { createServer, type Server } from 'node:http';
import request from 'supertest';
import { MAX_ACTION_DEPTH, MAX_JSON_DEPTH, stringifyJson } from '@diego/models';
import { newValidTask } from '@diego/test-support';
import { startReceptorUnderTest, type ReceptorUnderTest } from '../support/receptor-under-test';
import { desiredLrpRequest, expectEmpty, expectError, taskRequest, uniqueGuid, type JsonObject } from '../support/http';
import { send } from './raw-http';

let receptor: ReceptorUnderTest;
let server: Server;
let port: number;

beforeAll(async () => {
  receptor = await startReceptorUnderTest();
  server = createServer(receptor.app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  port = address.port;
});

afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
  await receptor?.stop();
});

/** A run action inside `depth - 1` timeouts: `depth` levels, two JSON levels each. */
function actionNested(depth: number): JsonObject {
  let action: JsonObject = { run: { path: 'true', user: 'vcap' } };
  for (let level = 1; level < depth; level++) action = { timeout: { action, timeout: 1_000_000_000 } };
  return action;
}

describe('nesting limits', () => {
  it('answers JSON nested 5,000 deep 400 InvalidJSON on every route that reads JSON', async () => {
    const deep = `${'['.repeat(5000)}${']'.repeat(5000)}`;
    const message = `JSON nested deeper than ${MAX_JSON_DEPTH}`;
    expectError(await request(receptor.app).post('/v1/tasks').send(deep), 400, 'InvalidJSON', message);
    expectError(await request(receptor.app).post('/v1/desired_lrps').send(deep), 400, 'InvalidJSON', message);
    const deepRoutes = `{"routes":{"cf-router":${deep}}}`;
    expectError(await request(receptor.app).put(`/v1/desired_lrps/${uniqueGuid('any')}`).send(deepRoutes), 400, 'InvalidJSON', message);
  });

  it(`takes actions nested ${MAX_ACTION_DEPTH} deep and answers deeper ones 400 InvalidTask or InvalidLRP, storing nothing`, async () => {
    const tooDeep = `actions nested deeper than ${MAX_ACTION_DEPTH}`;
    const task = uniqueGuid('deep-task');
    const taskBody = stringifyJson(taskRequest(task, { action: actionNested(40) }));
    expectError(await request(receptor.app).post('/v1/tasks').send(taskBody), 400, 'InvalidTask', `Invalid field: action, ${tooDeep}`);
    await expect(receptor.bbs.taskByGuid(task)).rejects.toMatchObject({ type: 'ResourceNotFound' });

    const lrp = uniqueGuid('deep-lrp');
    const lrpBody = stringifyJson(desiredLrpRequest(lrp, { monitor: actionNested(MAX_ACTION_DEPTH + 1) }));
    expectError(await request(receptor.app).post('/v1/desired_lrps').send(lrpBody), 400, 'InvalidLRP', `Invalid field: monitor, ${tooDeep}`);
    await expect(receptor.bbs.desiredLRPByProcessGuid(lrp)).rejects.toMatchObject({ type: 'ResourceNotFound' });

    const deepest = uniqueGuid('deepest-task');
    expectEmpty(await request(receptor.app).post('/v1/tasks').send(stringifyJson(taskRequest(deepest, { action: actionNested(MAX_ACTION_DEPTH) }))), 201);
  });
});

describe('bodies malformed on the wire', () => {
  it('do not delete a task, delete a desired LRP or upsert a domain', async () => {
    const task = uniqueGuid('wire-task');
    await receptor.bbs.desireTask(task, 'wire', newValidTask(task).definition);
    await receptor.bbs.startTask(task, 'cell-1');
    await receptor.bbs.completeTask(task, 'cell-1', false, '', 'done');
    const lrp = uniqueGuid('wire-lrp');
    expectEmpty(await request(receptor.app).post('/v1/desired_lrps').send(stringifyJson(desiredLrpRequest(lrp))), 201);
    const domain = uniqueGuid('wire-domain');

    const malformed = { body: Buffer.from('{}'), framing: { kind: 'bad-chunked', flaw: 'size-not-hex' } as const };
    for (const [method, target, headers] of [
      ['DELETE', `/v1/tasks/${task}`, []],
      ['DELETE', `/v1/desired_lrps/${lrp}`, []],
      ['PUT', `/v1/domains/${domain}`, [['Cache-Control', 'max-age=60']]],
    ] as const) {
      const answer = await send(port, { method, target, headers, ...malformed }, 10_000);
      expect({ target, refused: answer.status === null || answer.status >= 400 }).toEqual({ target, refused: true });
    }

    expect(await receptor.bbs.taskByGuid(task)).toMatchObject({ task_guid: task, state: 'COMPLETED' });
    expect(await receptor.bbs.desiredLRPByProcessGuid(lrp)).toMatchObject({ process_guid: lrp });
    expect(await receptor.bbs.domains()).not.toContain(domain);
  });
});
