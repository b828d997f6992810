/**
 * runLrp's monitor semantics with short intervals, runTask's result file, container refusal, destroy (no
 * process of the container left), and an HTTP app reachable on its host port through PORT.
 */
import { execFileSync } from 'node:child_process';
import {
  chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { eventually } from '@diego/test-support';
import type { Action } from '@diego/models';
import type { Container, LrpRunSpec } from '../../src';
import { containerSpec, processesRunning, run, sh, startExecutor, type ExecutorHarness } from './harness';

let harness: ExecutorHarness;

beforeEach(() => {
  harness = startExecutor({ unhealthyMonitoringIntervalMs: 50, healthyMonitoringIntervalMs: 100 });
});
afterEach(async () => {
  await harness.cleanUp();
});

const isRoot = process.getuid?.() === 0;

/** Starts runLrp and records what it reported; `done` resolves when runLrp does. */
function startLrp(container: Container, spec: Partial<LrpRunSpec> & { action: Action }) {
  const events: string[] = [];
  const stop = new AbortController();
  const done = harness.executor.runLrp(
    container,
    { setup: null, monitor: null, startTimeoutSeconds: 0, ...spec },
    { onRunning: () => events.push('running'), onCrashed: (reason) => events.push(`crashed: ${reason}`) },
    stop.signal,
  );
  return { events, stop, done };
}

const tmpFile = (container: Container, name: string): string =>
  join(harness.workDir, 'containers', container.guid, 'tmp', name);

describe('runLrp with a monitor', () => {
  it('is running once the monitor succeeds, and crashes when it fails after that', async () => {
    const container = await harness.executor.createContainer(containerSpec('lrp-monitor'));
    const lrp = startLrp(container, {
      action: sh('sleep 0.3; touch /tmp/healthy; exec sleep 1000'),
      monitor: sh('test -f /tmp/healthy'),
    });
    await eventually(async () => lrp.events, (e) => e.length > 0);
    expect(lrp.events).toEqual(['running']);
    rmSync(tmpFile(container, 'healthy'));
    await lrp.done;
    expect(lrp.events).toEqual(['running', 'crashed: Exited with status 1']);
  });

  it('crashes when the monitor never succeeds within start_timeout', async () => {
    const container = await harness.executor.createContainer(containerSpec('lrp-never-healthy'));
    const started = Date.now();
    const lrp = startLrp(container, { action: run('sleep', ['1000']), monitor: sh('exit 1'), startTimeoutSeconds: 1 });
    await lrp.done;
    expect(lrp.events).toEqual(['crashed: Instance never healthy after 1s: Exited with status 1']);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
  });

  it('keeps monitoring an action that exits (a daemon), and reports nothing when stopped', async () => {
    const container = await harness.executor.createContainer(containerSpec('lrp-daemon'));
    const lrp = startLrp(container, {
      action: sh('touch /tmp/healthy'),
      monitor: sh('test -f /tmp/healthy && echo check >> /tmp/checks'),
    });
    await eventually(async () => harness.logs.filter((l) => l.msg === 'action-exited-still-monitoring').length, (n) => n === 1);
    // Several healthy checks after the action exited: still running, never crashed.
    await eventually(async () => readFileSync(tmpFile(container, 'checks'), 'utf8').split('\n').length, (n) => n > 4);
    expect(lrp.events).toEqual(['running']);
    lrp.stop.abort();
    await lrp.done;
    expect(lrp.events).toEqual(['running']);
  });

  it('crashes with the setup failure before running the action', async () => {
    const container = await harness.executor.createContainer(containerSpec('lrp-setup'));
    const lrp = startLrp(container, { setup: sh('exit 6'), action: sh('touch /tmp/ran'), monitor: sh('true') });
    await lrp.done;
    expect(lrp.events).toEqual(['crashed: Exited with status 6']);
    expect(existsSync(tmpFile(container, 'ran'))).toBe(false);
  });
});

describe('runLrp without a monitor', () => {
  it('is running once its process is, and any exit is a crash', async () => {
    const container = await harness.executor.createContainer(containerSpec('lrp-no-monitor'));
    const failing = startLrp(container, { action: sh('until [ -f "$TMPDIR/go" ]; do sleep 0.05; done; exit 3') });
    await eventually(async () => failing.events, (events) => events.length > 0);
    expect(failing.events).toEqual(['running']);
    writeFileSync(tmpFile(container, 'go'), '');
    await failing.done;
    expect(failing.events).toEqual(['running', 'crashed: Exited with status 3']);
    const exiting = startLrp(container, { action: sh('true') });
    await exiting.done;
    expect(exiting.events).toEqual(['running', 'crashed: Exited with status 0']);
  });

  it('serves HTTP on its host port, given as PORT', async () => {
    const container = await harness.executor.createContainer(
      containerSpec('lrp-http', { instance: { processGuid: 'web', index: 0 }, ports: [8080] }),
    );
    const hostPort = container.ports[0]?.host_port;
    const server = "require('http').createServer((q, s) => s.end('hello from ' + process.env.INSTANCE_INDEX)).listen(process.env.PORT)";
    const lrp = startLrp(container, { action: run(process.execPath, ['-e', server]) });
    const body = await eventually(
      () => fetch(`http://127.0.0.1:${hostPort}/`).then((r) => r.text(), () => ''),
      (text) => text !== '',
    );
    expect(body).toBe('hello from 0');
    lrp.stop.abort();
    await lrp.done;
    expect(lrp.events).toEqual(['running']);
  });
});

describe('runTask', () => {
  it('returns the first 10 KB of the result file when the action succeeds', async () => {
    const container = await harness.executor.createContainer(containerSpec('task-result'));
    const result = await harness.executor.runTask(
      container,
      { action: sh("head -c 20000 /dev/zero | tr '\\0' x > /tmp/result"), resultFile: '/tmp/result' },
      new AbortController().signal,
    );
    expect(result).toEqual({ failed: false, failureReason: '', result: 'x'.repeat(10 * 1024) });
  });

  it('fails when the result file is missing', async () => {
    const container = await harness.executor.createContainer(containerSpec('task-no-result'));
    const result = await harness.executor.runTask(container, { action: sh('true'), resultFile: '/tmp/result' }, new AbortController().signal);
    expect(result.failed).toBe(true);
    expect(result.failureReason).toMatch(/^failed to read result file \/tmp\/result: /);
  });
});

describe('containers', () => {
  it('refuses a rootfs the cell does not have', async () => {
    await expect(harness.executor.createContainer(containerSpec('docker', { rootfs: 'docker:///busybox' })))
      .rejects.toThrow('rootfs docker:///busybox is not supported: this cell runs preloaded rootfses only');
    const mapped = startExecutor({ preloadedRootfs: { cflinuxfs2: '/no/such/rootfs', trusty: '/' } });
    try {
      await expect(mapped.executor.createContainer(containerSpec('unknown', { rootfs: 'preloaded:windows' })))
        .rejects.toThrow('preloaded rootfs windows is not on this cell');
      await expect(mapped.executor.createContainer(containerSpec('missing'))).rejects.toThrow(
        isRoot ? 'preloaded rootfs cflinuxfs2: /no/such/rootfs does not exist' : 'needs a chroot',
      );
      await expect(mapped.executor.createContainer(containerSpec('host', { rootfs: 'preloaded:trusty' }))).resolves.toBeDefined();
    } finally {
      await mapped.cleanUp();
    }
  });

  it('gives every container port a distinct host port in the range, and frees them on destroy', async () => {
    const ranged = startExecutor({ hostPortRange: { start: 61500, end: 61502 } });
    try {
      const a = await ranged.executor.createContainer(containerSpec('a', { ports: [8080, 2222] }));
      const b = await ranged.executor.createContainer(containerSpec('b', { ports: [8080] }));
      const hostPorts = [...a.ports, ...b.ports].map((p) => p.host_port);
      expect(new Set(hostPorts).size).toBe(3);
      hostPorts.forEach((p) => expect(p >= 61500 && p <= 61502).toBe(true));
      await expect(ranged.executor.createContainer(containerSpec('c', { ports: [8080] }))).rejects.toThrow('no free host port');
      await b.destroy();
      await expect(ranged.executor.createContainer(containerSpec('c', { ports: [8080] }))).resolves.toBeDefined();
    } finally {
      await ranged.cleanUp();
    }
  });

  it('destroy kills every process of the container, even a daemonised one, and removes its directory', async () => {
    const container = await harness.executor.createContainer(containerSpec('destroy'));
    const marker = `${(Date.now() % 100000) + 600000}`;
    // A child in the background, and (as root) one that left the process group with setsid.
    const daemon = isRoot ? `setsid sleep ${Number(marker) + 1} & ` : '';
    const lrp = startLrp(container, { action: sh(`${daemon}sleep ${marker} & exec sleep ${marker}`) });
    await eventually(() => processesRunning(`sleep ${marker}`), (pids) => pids.length === 2);
    if (isRoot) await eventually(() => processesRunning(`sleep ${Number(marker) + 1}`), (pids) => pids.length === 1);
    await container.destroy();
    expect(await processesRunning(`sleep ${marker}`)).toEqual([]);
    expect(await processesRunning(`sleep ${Number(marker) + 1}`)).toEqual([]);
    expect(existsSync(join(harness.workDir, 'containers', 'destroy'))).toBe(false);
    lrp.stop.abort();
    await lrp.done;
    await container.destroy(); // idempotent
  });
});

(isRoot ? describe : describe.skip)('a preloaded rootfs other than the host root', () => {
  let rootfs: string;

  /** A rootfs with only /bin/sh (and the libraries it needs) and an /etc/rootfs-name the host does not have. */
  beforeAll(() => {
    rootfs = mkdtempSync(join(tmpdir(), 'diego-rootfs-'));
    const shell = realpathSync('/bin/sh');
    const libraries = execFileSync('ldd', [shell], { encoding: 'utf8' }).match(/\/\S+/g) ?? [];
    for (const file of [...libraries, '/bin/sh']) {
      mkdirSync(join(rootfs, dirname(file)), { recursive: true });
      copyFileSync(realpathSync(file), join(rootfs, file));
    }
    chmodSync(join(rootfs, 'bin', 'sh'), 0o755);
    mkdirSync(join(rootfs, 'etc'));
    writeFileSync(join(rootfs, 'etc', 'rootfs-name'), 'tiny\n');
  });
  afterAll(() => rmSync(rootfs, { recursive: true, force: true }));

  it('runs the container in a root of its own over it, starting in / (no home), and never writes into it', async () => {
    const chrooted = startExecutor({ preloadedRootfs: { tiny: rootfs } });
    try {
      const container = await chrooted.executor.createContainer(containerSpec('chrooted', { rootfs: 'preloaded:tiny' }));
      const result = await chrooted.executor.runTask(
        container,
        { action: sh('read name < /etc/rootfs-name; echo changed > /etc/rootfs-name; echo "$name $PWD" > /tmp/result'), resultFile: '/tmp/result' },
        new AbortController().signal,
      );
      expect(result).toEqual({ failed: false, failureReason: '', result: 'tiny /\n' });
      expect(existsSync('/etc/rootfs-name')).toBe(false);
      expect(readFileSync(join(rootfs, 'etc', 'rootfs-name'), 'utf8')).toBe('tiny\n');
    } finally {
      await chrooted.cleanUp();
    }
  });
});
