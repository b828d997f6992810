/**
 * A cell that is not root: the built executor in a node process running as `nobody`. No namespaces: a process's
 * TMPDIR is the container's tmp (and /tmp paths the executor reads map there), it runs as the cell's user
 * whatever the action says, and destroy still kills its process group.
 */
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { processesRunning } from './harness';

const CELL_DIST = join(__dirname, '..', '..', 'dist', 'index.js');
const NOBODY_ENTRY = readFileSync('/etc/passwd', 'utf8').match(/^nobody:[^:]*:(\d+):(\d+):/m);

// The cell loads its code as root and then becomes nobody, so the checkout's own permissions (a clone in a 0700
// temp dir) do not decide whether the test can run.
const cellScript = (workDir: string, marker: string, uid: string, gid: string): string => `
  const { ProcessExecutor } = require(${JSON.stringify(CELL_DIST)});
  process.setgroups([]);
  process.setgid(${gid});
  process.setuid(${uid});
  const executor = new ProcessExecutor({ workDir: ${JSON.stringify(workDir)} });
  const run = (script, user) => ({ run: { path: '/bin/sh', args: ['-c', script], dir: '', env: [],
    resource_limits: null, user, log_source: '', suppress_log_output: false } });
  const spec = (guid) => ({ guid, logGuid: guid, logSource: 'APP', instance: null, rootfs: 'preloaded:cflinuxfs2',
    env: [], ports: [], memoryMB: 64, diskMB: 64, cpuWeight: 0, egressRules: [] });
  (async () => {
    const container = await executor.createContainer(spec('task'));
    const task = await executor.runTask(container,
      { action: run('echo "$(id -u) $TMPDIR" > "$TMPDIR/result"', 'vcap'), resultFile: '/tmp/result' },
      new AbortController().signal);
    const lrp = await executor.createContainer(spec('lrp'));
    executor.runLrp(lrp, { setup: null, monitor: null, startTimeoutSeconds: 0, action: run('sleep ${marker} & exec sleep ${marker}', '') },
      { onRunning: () => {}, onCrashed: () => {} }, new AbortController().signal);
    const deadline = Date.now() + 5000;
    const { readdirSync, readFileSync } = require('fs');
    const sleeping = () => readdirSync('/proc').filter((p) => /^\\d+$/.test(p)).filter((p) => {
      try { return readFileSync('/proc/' + p + '/cmdline', 'utf8').replace(/\\0/g, ' ').trim() === 'sleep ${marker}'; } catch { return false; }
    }).length;
    while (sleeping() < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const before = sleeping();
    await executor.destroyAll();
    console.log(JSON.stringify({ task, before, after: sleeping() }));
  })();
`;

(NOBODY_ENTRY !== null && process.getuid?.() === 0 ? it : it.skip)('runs containers without isolation, and destroy still kills them', async () => {
  if (!existsSync(CELL_DIST)) throw new Error(`${CELL_DIST} is missing: run \`npm run build\` (npm test does)`);
  const workDir = mkdtempSync(join(tmpdir(), 'diego-no-root-'));
  chmodSync(workDir, 0o777);
  const marker = `${(Date.now() % 100000) + 400000}`;
  try {
    const [, uid = '', gid = ''] = NOBODY_ENTRY ?? [];
    const { stdout } = await promisify(execFile)(process.execPath, ['-e', cellScript(workDir, marker, uid, gid)], {
      timeout: 20_000,
      cwd: workDir,
    });
    const containerTmp = join(workDir, 'containers', 'task', 'tmp');
    expect(JSON.parse(stdout)).toEqual({
      task: { failed: false, failureReason: '', result: `${NOBODY_ENTRY?.[1]} ${containerTmp}\n` },
      before: 2,
      after: 0,
    });
    expect(await processesRunning(`sleep ${marker}`)).toEqual([]);
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
});
