/**
 * Callbacks as CC-bridge sees them (spec/receptor-api.md §11.3): a task POSTed to the receptor with a
 * completion_callback_url, run and completed by a cell through a BBS, comes back to that URL as the receptor's
 * TaskResponse, and is gone afterwards. The leader's workers run on their own store over the same key space.
 */
import request from 'supertest';
import pino from 'pino';
import { parseJson, stringifyJson } from '@diego/models';
import { EtcdDb, startBbsServer, type TaskCompletionWorkers } from '@diego/bbs';
import { HttpBbsClient } from '@diego/bbs-client';
import type { RunningServer } from '@diego/server-support';
import { createReceptorApp } from '@diego/receptor';
import { eventually, testKeySpace, type TestKeySpace } from '@diego/test-support';
import type { Express } from 'express';
import { startCallbackReceiver, startWorkers, type CallbackReceiver } from './callback-harness';

/** The BBS stamps every task with this time, so the digits can be checked exactly. */
const CREATED_AT = 1_441_087_965_748_636_277n;

const silentLogger = pino({ level: 'silent' });

let keys: TestKeySpace;
let bbsServer: RunningServer;
let bbs: HttpBbsClient;
let receptor: Express;
let workers: TaskCompletionWorkers;
let cc: CallbackReceiver;

beforeEach(async () => {
  keys = testKeySpace();
  bbsServer = await startBbsServer({ etcd: keys.namespace, listenAddress: '127.0.0.1:0', logger: silentLogger, clock: () => CREATED_AT });
  bbs = new HttpBbsClient([`http://${bbsServer.address}`]);
  receptor = createReceptorApp({ bbs, username: '', password: '', corsEnabled: false, logger: silentLogger });
  workers = await startWorkers(new EtcdDb(keys.namespace, { logger: silentLogger }), keys.namespace, silentLogger);
  cc = await startCallbackReceiver();
});

afterEach(async () => {
  await workers.stop();
  await cc.close();
  bbs.close();
  await bbsServer.stop();
  await keys.cleanup();
});

/** A TaskCreateRequest (§4.1) as CC-bridge sends it. */
function taskRequest(taskGuid: string): Record<string, unknown> {
  return {
    task_guid: taskGuid,
    domain: 'cf-apps',
    rootfs: 'preloaded:cflinuxfs2',
    action: { run: { path: 'bash', args: ['-c', 'echo hi > /tmp/out'], user: 'vcap' } },
    env: [{ name: 'FOO', value: 'bar' }],
    cpu_weight: 100,
    disk_mb: 128,
    memory_mb: 256,
    privileged: false,
    result_file: '/tmp/out',
    completion_callback_url: cc.url(taskGuid),
    log_guid: 'log-guid',
    log_source: 'STG',
    metrics_guid: 'metrics-guid',
    annotation: '{"lifecycle":"buildpack","completion_callback":"secret"}',
  };
}

async function createTask(taskGuid: string): Promise<Record<string, unknown>> {
  const body = taskRequest(taskGuid);
  const res = await request(receptor).post('/v1/tasks').set('Content-Type', 'application/json').send(stringifyJson(body));
  expect(res.status).toBe(201);
  return body;
}

/** The one callback the receiver got for this task, once the task is gone from the receptor. */
async function theCallback(taskGuid: string): Promise<string> {
  await eventually(async () => (await request(receptor).get(`/v1/tasks/${taskGuid}`)).status, (status) => status === 404);
  const callbacks = cc.receivedFor(taskGuid);
  expect(callbacks.map(({ method, contentType }) => ({ method, contentType }))).toEqual([
    { method: 'POST', contentType: 'application/json' },
  ]);
  return callbacks[0]?.body ?? '';
}

it('a task created through the receptor and completed by its cell is called back once with its TaskResponse', async () => {
  const created = await createTask('staging-1');
  await bbs.startTask('staging-1', 'cell-1');
  await bbs.completeTask('staging-1', 'cell-1', false, '', 'hi\n');

  const body = await theCallback('staging-1');
  expect(parseJson(body)).toEqual({
    ...created,
    cell_id: '',
    created_at: CREATED_AT,
    failed: false,
    failure_reason: '',
    result: 'hi\n',
    state: 'COMPLETED',
  });
  expect(body).toContain(`"created_at":${CREATED_AT}`);
});

it('a task cancelled through the receptor is called back as failed with "task was cancelled"', async () => {
  await createTask('staging-2');
  const res = await request(receptor).post('/v1/tasks/staging-2/cancel');
  expect(res.status).toBe(200);

  expect(parseJson(await theCallback('staging-2'))).toMatchObject({
    task_guid: 'staging-2',
    state: 'COMPLETED',
    failed: true,
    failure_reason: 'task was cancelled',
    result: '',
  });
});
