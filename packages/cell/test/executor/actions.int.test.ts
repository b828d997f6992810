/**
 * The executor's actions, run for real in containers: run (exit status, dir, env, output, nofile, user),
 * timeout, try, serial, parallel, codependent, emit_progress, cancellation, and /tmp isolation.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { eventually } from '@diego/test-support';
import type { Action } from '@diego/models';
import type { Container } from '../../src';
import {
  codependent, containerSpec, env, parallel, processesRunning, run, serial, sh, startExecutor, timeout, tryAction,
  type ExecutorHarness,
} from './harness';

let harness: ExecutorHarness;
let seq = 0;

beforeEach(() => {
  harness = startExecutor();
});
afterEach(async () => {
  await harness.cleanUp();
});

async function newContainer(overrides: Parameters<typeof containerSpec>[1] = {}): Promise<Container> {
  seq += 1;
  return harness.executor.createContainer(containerSpec(`guid-${process.pid}-${seq}`, overrides));
}

/** Runs `action` as a task whose result file is /tmp/result. */
async function runTask(container: Container, action: Action, signal = new AbortController().signal) {
  return harness.executor.runTask(container, { action, resultFile: '/tmp/result' }, signal);
}

const isRoot = process.getuid?.() === 0;

describe('run', () => {
  it('succeeds on exit 0 and fails with "Exited with status N" otherwise', async () => {
    const container = await newContainer();
    expect(await runTask(container, sh('echo hi > /tmp/result'))).toEqual({ failed: false, failureReason: '', result: 'hi\n' });
    expect(await runTask(container, sh('exit 17'))).toEqual({ failed: true, failureReason: 'Exited with status 17', result: '' });
  });

  it('fails a program that does not exist, and a dir outside the container', async () => {
    const container = await newContainer();
    expect(await runTask(container, run('/no/such/program'))).toEqual({ failed: true, failureReason: 'Exited with status 127', result: '' });
    expect((await runTask(container, sh('true', { dir: '../..' }))).failureReason).toBe(
      'cannot run /bin/sh: path ../.. is outside the container',
    );
  });

  it('runs in dir, relative to the container directory', async () => {
    const container = await newContainer();
    const result = await runTask(container, serial(sh('mkdir -p app/sub'), sh('pwd > /tmp/result', { dir: 'app/sub' })));
    expect(result.result.trim()).toBe(join(harness.workDir, 'containers', container.guid, 'app', 'sub'));
  });

  it('sends every line of output to the cell log with the container tags and to the container log file', async () => {
    const container = await newContainer({ logGuid: 'my-log-guid', logSource: 'TASK' });
    const dir = join(harness.workDir, 'containers', container.guid);
    await runTask(container, serial(sh('echo out-line; echo err-line >&2', { log_source: 'STG' }), sh('echo plain')));
    const output = harness.logs.filter((l) => l.msg === 'container-output');
    expect(output).toEqual(expect.arrayContaining([
      expect.objectContaining({ log_guid: 'my-log-guid', log_source: 'STG', index: 0, stream: 'stdout', line: 'out-line' }),
      expect.objectContaining({ log_guid: 'my-log-guid', log_source: 'STG', index: 0, stream: 'stderr', line: 'err-line' }),
      expect.objectContaining({ log_guid: 'my-log-guid', log_source: 'TASK', stream: 'stdout', line: 'plain' }),
    ]));
    expect(readFileSync(join(dir, 'log'), 'utf8').split('\n')).toEqual(expect.arrayContaining(['out-line', 'err-line', 'plain']));
  });

  it('gives an LRP instance its identity and addresses, with the action env over the container env', async () => {
    const container = await newContainer({
      instance: { processGuid: 'pg', index: 3 },
      ports: [8080, 2222],
      env: env({ A: 'container', B: 'container', PORT: 'overridden-by-the-cell' }),
    });
    const [web, ssh] = container.ports;
    const result = await runTask(container, sh('env > /tmp/result', { env: env({ B: 'action', C: 'action' }) }));
    const seen = Object.fromEntries(result.result.trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    expect(web?.host_port).not.toBe(ssh?.host_port);
    expect(seen).toMatchObject({
      A: 'container', B: 'action', C: 'action',
      INSTANCE_INDEX: '3',
      INSTANCE_GUID: container.guid,
      PORT: `${web?.host_port}`,
      CF_INSTANCE_IP: '127.0.0.1',
      CF_INSTANCE_PORT: `${web?.host_port}`,
      CF_INSTANCE_ADDR: `127.0.0.1:${web?.host_port}`,
      CF_INSTANCE_PORTS: `[{"external":${web?.host_port},"internal":8080},{"external":${ssh?.host_port},"internal":2222}]`,
      HOME: join(harness.workDir, 'containers', container.guid, 'home'),
      PATH: process.env['PATH'],
    });
  });

  it('gives an instance its identity but no CF_INSTANCE_* addresses on a cell told not to export them', async () => {
    const quiet = startExecutor({ exportNetworkEnvVars: false });
    try {
      const container = await quiet.executor.createContainer(containerSpec(`guid-${process.pid}-quiet`, { instance: { processGuid: 'pg', index: 1 }, ports: [8080] }));
      const result = await quiet.executor.runTask(container, { action: sh('env > /tmp/result'), resultFile: '/tmp/result' }, new AbortController().signal);
      expect(result.result).toContain('INSTANCE_INDEX=1\n');
      expect(result.result).toContain(`INSTANCE_GUID=${container.guid}\n`);
      expect(result.result).toMatch(/^PORT=\d+$/m);
      expect(result.result).not.toContain('CF_INSTANCE');
    } finally {
      await quiet.cleanUp();
    }
  });

  it('gives a task no instance variables', async () => {
    const container = await newContainer({ env: env({ A: 'task' }) });
    const result = await runTask(container, sh('env > /tmp/result'));
    expect(result.result).toContain('A=task\n');
    expect(result.result).not.toContain('INSTANCE_INDEX');
    expect(result.result).not.toContain('CF_INSTANCE');
  });

  it('applies resource_limits.nofile', async () => {
    const container = await newContainer();
    const result = await runTask(container, sh('ulimit -n > /tmp/result', { resource_limits: { nofile: 123 } }));
    expect(result.result.trim()).toBe('123');
  });

  (isRoot ? it : it.skip)('runs as the action user when it exists, else as the cell user (logged once)', async () => {
    const container = await newContainer();
    const asNobody = await runTask(container, sh('id -u > /tmp/result', { user: 'nobody' }));
    expect(asNobody.result.trim()).toBe(readFileSync('/etc/passwd', 'utf8').match(/^nobody:[^:]*:(\d+):/m)?.[1]);
    const asVcap = await runTask(container, serial(sh('true', { user: 'no-such-user' }), sh('id -u > /tmp/result', { user: 'no-such-user' })));
    expect(asVcap.result.trim()).toBe('0');
    expect(harness.logs.filter((l) => l.msg === 'user-not-on-host-running-as-cell-user' && l['user'] === 'no-such-user')).toHaveLength(1);
  });

  (isRoot ? it : it.skip)('gives each container its own /tmp', async () => {
    const [a, b] = await Promise.all([newContainer(), newContainer()]);
    if (a === undefined || b === undefined) throw new Error('no containers');
    await Promise.all([runTask(a, sh('echo a > /tmp/out')), runTask(b, sh('echo b > /tmp/out'))]);
    expect((await runTask(a, sh('cat /tmp/out > /tmp/result'))).result).toBe('a\n');
    expect((await runTask(b, sh('cat /tmp/out > /tmp/result'))).result).toBe('b\n');
  });

  it('is cancelled through the AbortSignal, killing its process tree', async () => {
    const container = await newContainer();
    const marker = `${Date.now() % 100000 + 700000}`;
    const cancel = new AbortController();
    const running = runTask(container, sh(`sleep ${marker} & sleep ${marker}; wait`), cancel.signal);
    await eventually(() => processesRunning(`sleep ${marker}`), (pids) => pids.length === 2);
    cancel.abort();
    expect(await running).toEqual({ failed: true, failureReason: 'cancelled', result: '' });
    await eventually(() => processesRunning(`sleep ${marker}`), (pids) => pids.length === 0);
  });
});

describe('timeout', () => {
  it('fails with "exceeded <duration> timeout" and kills the sleeping process', async () => {
    const container = await newContainer();
    const marker = `${Date.now() % 100000 + 800000}`;
    const started = Date.now();
    const result = await runTask(container, timeout(300, run('sleep', [marker])));
    expect(result).toEqual({ failed: true, failureReason: 'exceeded 300ms timeout', result: '' });
    expect(Date.now() - started).toBeLessThan(5000);
    await eventually(() => processesRunning(`sleep ${marker}`), (pids) => pids.length === 0);
  });

  it('passes the inner result through when it ends in time', async () => {
    const container = await newContainer();
    expect((await runTask(container, timeout(5000, sh('exit 3')))).failureReason).toBe('Exited with status 3');
    expect((await runTask(container, timeout(5000, sh('echo ok > /tmp/result')))).result).toBe('ok\n');
  });
});

describe('try, serial, parallel, codependent', () => {
  it('try swallows the inner failure', async () => {
    const container = await newContainer();
    expect(await runTask(container, serial(tryAction(sh('exit 1')), sh('echo after > /tmp/result')))).toEqual({
      failed: false, failureReason: '', result: 'after\n',
    });
  });

  it('serial stops at the first failure', async () => {
    const container = await newContainer();
    const result = await runTask(container, serial(sh('echo 1 >> /tmp/result'), sh('exit 4'), sh('echo 3 >> /tmp/result')));
    expect(result.failureReason).toBe('Exited with status 4');
    expect((await runTask(container, sh('true'))).result).toBe('1\n');
  });

  it('parallel runs all, and fails with the first failure', async () => {
    const container = await newContainer();
    const result = await runTask(container, parallel(sh('exit 5'), sh('sleep 0.3; echo done > /tmp/result')));
    expect(result.failureReason).toBe('Exited with status 5');
    expect((await runTask(container, sh('true'))).result).toBe('done\n');
    expect((await runTask(container, parallel(sh('true'), sh('true')))).failed).toBe(false);
  });

  it('codependent ends when any child ends, as a failure, and cancels the rest', async () => {
    const container = await newContainer();
    const marker = `${Date.now() % 100000 + 900000}`;
    const started = Date.now();
    const result = await runTask(container, codependent(run('sleep', [marker]), sh('exit 0')));
    expect(result).toEqual({ failed: true, failureReason: 'Codependent step exited', result: '' });
    expect(Date.now() - started).toBeLessThan(5000);
    await eventually(() => processesRunning(`sleep ${marker}`), (pids) => pids.length === 0);
    expect((await runTask(container, codependent(run('sleep', [marker]), sh('exit 9')))).failureReason).toBe('Exited with status 9');
  });
});

describe('emit_progress', () => {
  it('logs the start and success messages, or the failure prefix with the reason', async () => {
    const container = await newContainer();
    const progress = (action: Action): Action => ({
      emit_progress: { action, start_message: 'starting', success_message: 'went fine', failure_message_prefix: 'went wrong', log_source: 'PROG' },
    });
    await runTask(container, progress(sh('true')));
    await runTask(container, progress(sh('exit 2')));
    const lines = harness.logs.filter((l) => l.msg === 'container-output' && l.log_source === 'PROG').map((l) => l.line);
    expect(lines).toEqual(['starting', 'went fine', 'starting', 'went wrong: Exited with status 2']);
  });
});
