/**
 * Records encrypted at rest (`-encryptionKey label:passphrase`, `-activeKeyLabel`): what an operator's etcdctl
 * shows, what the API and the event stream answer, and what a value under a key the BBS was not given does.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import pino from 'pino';
import { startBbs } from '@diego/bbs';
import { isBbsError } from '@diego/models';
import { eventually, newValidCellPresence, newValidDesiredLrp, newValidTask, takeEvents, TEST_ETCD_ENV, testKeySpace, type TestKeySpace } from '@diego/test-support';
import { apiAnswers, isRecordKey, KEY_A, KEY_B, labelOf, rawStore, startBbsWith, type RunningBbs } from './encryption-harness';

const run = promisify(execFile);

let space: TestKeySpace;
let bbs: RunningBbs | null;

beforeEach(() => {
  space = testKeySpace();
  bbs = null;
});

afterEach(async () => {
  await bbs?.stop();
  await space.cleanup();
});

/** `etcdctl get <prefix>/v1/ --prefix`, as an operator runs it: key, value, key, value... */
async function etcdctlLines(prefix: string): Promise<string[]> {
  const { stdout } = await run('etcdctl', ['--endpoints', process.env[TEST_ETCD_ENV] ?? '', 'get', `${prefix}/v1/`, '--prefix'], {
    env: { ...process.env, ETCDCTL_API: '3' },
  });
  return stdout.split('\n').filter((line) => line !== '');
}

describe('encryption at rest', () => {
  it('stores every record encrypted under the active key, which etcdctl shows as "02..." without the JSON, and the API reads back', async () => {
    bbs = await startBbsWith(space, { keys: [KEY_A], activeKeyLabel: KEY_A.label });
    const { client } = bbs;
    const lrp = newValidDesiredLrp('secret-web', { instances: 2, domain: 'cf-apps', annotation: 'the-annotation' });
    await client.desireLRP(lrp);
    const task = newValidTask('secret-task', { domain: 'cf-apps' });
    await client.desireTask(task.task_guid, task.domain, task.definition);
    await client.registerCell(newValidCellPresence('cell-1'), 600);
    await client.upsertDomain('cf-apps', 0);

    const raw = await rawStore(space);
    const records = [...raw].filter(([key]) => isRecordKey(key));
    expect(records.map(([key]) => key).sort()).toEqual([
      '/v1/actual/secret-web/0/instance',
      '/v1/actual/secret-web/1/instance',
      '/v1/cell/cell-1',
      '/v1/desired/secret-web',
      '/v1/task/secret-task',
    ]);
    for (const [, value] of records) {
      expect(value.startsWith('02')).toBe(true);
      expect(labelOf(value)).toBe(KEY_A.label);
      for (const plain of ['secret-web', 'secret-task', 'cell-1', 'the-annotation', 'cf-apps', '{']) expect(value).not.toContain(plain);
    }
    // A domain holds no value, and is not encrypted.
    expect(raw.get('/v1/domain/cf-apps')).toBe('');
    // What etcdctl prints: the keys, and values that say nothing of the records.
    const lines = await etcdctlLines(space.prefix);
    expect(lines).toContain(`${space.prefix}/v1/desired/secret-web`);
    expect(lines.filter((line) => line.includes('process_guid') || line.includes('task_guid'))).toEqual([]);

    expect(await client.desiredLRPByProcessGuid('secret-web')).toEqual(expect.objectContaining({ process_guid: 'secret-web', annotation: 'the-annotation' }));
    expect((await client.actualLRPGroupsByProcessGuid('secret-web')).map((group) => group.instance?.index)).toEqual([0, 1]);
    expect(await client.taskByGuid('secret-task')).toEqual(expect.objectContaining({ task_guid: 'secret-task', state: 'PENDING' }));
    expect((await client.cells()).map((cell) => cell.cell_id)).toEqual(['cell-1']);
    // The receptor's JSON lists, spliced from each record's encoding.
    const receptorList = JSON.parse(Buffer.from((await client.actualLRPsReceptorJSON()).json).toString()) as Array<{ process_guid: string }>;
    expect(receptorList.map((item) => item.process_guid)).toEqual(['secret-web', 'secret-web']);
    const desiredList = JSON.parse(Buffer.from((await client.desiredLRPsReceptorJSON()).json).toString()) as Array<{ annotation: string }>;
    expect(desiredList.map((item) => item.annotation)).toEqual(['the-annotation']);
  });

  it('keeps records readable JSON without keys, as etcdctl shows them', async () => {
    bbs = await startBbsWith(space, { keys: [], activeKeyLabel: null });
    await bbs.client.desireLRP(newValidDesiredLrp('plain-web', { instances: 1 }));
    const raw = await rawStore(space);
    expect(JSON.parse(raw.get('/v1/desired/plain-web') ?? '')).toEqual(expect.objectContaining({ process_guid: 'plain-web' }));
    expect(await space.namespace.get('/encryption-key').string()).toBeNull();
  });

  it('streams events decoded from encrypted records', async () => {
    bbs = await startBbsWith(space, { keys: [KEY_A], activeKeyLabel: KEY_A.label });
    const { client } = bbs;
    const events = await client.subscribeToEvents();
    try {
      await client.desireLRP(newValidDesiredLrp('evented', { instances: 1, annotation: 'first' }));
      await client.updateDesiredLRP('evented', { instances: null, routes: null, annotation: 'changed' });
      const received = await takeEvents(events, 3);
      expect(received.map((event) => event.type)).toEqual(['desired_lrp_created', 'actual_lrp_created', 'desired_lrp_changed']);
      const [created, instance, changed] = received;
      expect(created).toMatchObject({ desired_lrp: { process_guid: 'evented', instances: 1, annotation: 'first' } });
      expect(instance).toMatchObject({ actual_lrp_group: { instance: { process_guid: 'evented', index: 0, state: 'UNCLAIMED' } } });
      expect(changed).toMatchObject({ before: { annotation: 'first' }, after: { annotation: 'changed' } });
    } finally {
      events.close();
    }
  });

  it('answers a record under a key it was not given with a clear error, logs the record and the label, and serves the rest', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(line) });
    bbs = await startBbsWith(space, { keys: [KEY_B], activeKeyLabel: KEY_B.label, logger });
    const { client } = bbs;
    const readable = newValidTask('readable-task');
    await client.desireTask(readable.task_guid, readable.domain, readable.definition);
    // Written by a BBS that was given only key A.
    const withA = await startBbsWith(space, { keys: [KEY_A], activeKeyLabel: KEY_A.label });
    try {
      const stray = newValidTask('stray-task');
      await withA.client.desireTask(stray.task_guid, stray.domain, stray.definition);
    } finally {
      await withA.stop();
    }

    // Another BBS's write reaches this one's view within the watch's latency.
    const failure = await eventually(
      () => client.taskByGuid('stray-task').then(() => null, (err: unknown) => err),
      (err) => !isBbsError(err, 'ResourceNotFound'),
    );
    expect(failure).toMatchObject({ type: 'InvalidRecord', message: expect.stringContaining(`Key with label "${KEY_A.label}" was not found`) });
    expect((await client.tasks()).map((task) => task.task_guid)).toEqual(['readable-task']);
    expect(await client.ping()).toBe(true);
    // Convergence prunes records that do not decode, never one that is only unreadable here.
    await client.convergeTasks({ kickTaskDurationMs: 30_000, expirePendingTaskDurationMs: 1_800_000, expireCompletedTaskDurationMs: 120_000 });
    expect((await rawStore(space)).has('/v1/task/stray-task')).toBe(true);

    const logged = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(logged).toContainEqual(
      expect.objectContaining({ msg: 'record-unreadable', key: '/v1/task/stray-task', error: expect.stringContaining(`"${KEY_A.label}"`) }),
    );
    for (const line of lines) {
      expect(line).not.toContain(KEY_A.passphrase);
      expect(line).not.toContain(KEY_B.passphrase);
    }
  });

  it('refuses to start with keys that do not agree, saying why', async () => {
    const etcdCluster = [process.env[TEST_ETCD_ENV] ?? ''];
    const config = { listenAddress: '127.0.0.1:0', etcdCluster, logLevel: 'error' as const, debugAddress: null, apiOnly: true };
    await expect(startBbs({ ...config, encryptionKeys: [KEY_A], activeKeyLabel: KEY_B.label })).rejects.toThrow(
      `the active encryption key label "${KEY_B.label}" is not the label of any configured key (${KEY_A.label})`,
    );
    await expect(startBbs({ ...config, encryptionKeys: [KEY_A], activeKeyLabel: null })).rejects.toThrow('without the label of the active one');
    const refusal = await startBbs({ ...config, encryptionKeys: [KEY_A, { label: KEY_A.label, passphrase: 'other' }], activeKeyLabel: KEY_A.label }).then(
      () => null,
      (err: unknown) => String(err),
    );
    expect(refusal).toContain('given twice');
    expect(refusal).not.toContain(KEY_A.passphrase);
  });

  it('answers the same through a BBS that also has the key, whatever its active key', async () => {
    bbs = await startBbsWith(space, { keys: [KEY_A], activeKeyLabel: KEY_A.label });
    await bbs.client.desireLRP(newValidDesiredLrp('shared', { instances: 1 }));
    const before = await apiAnswers(bbs.client);
    const other = await startBbsWith(space, { keys: [KEY_A, KEY_B], activeKeyLabel: KEY_B.label });
    try {
      expect(await apiAnswers(other.client)).toEqual(before);
    } finally {
      await other.stop();
    }
  });
});
