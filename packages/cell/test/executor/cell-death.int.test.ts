/**
 * The cell process dying (SIGKILL: no chance to clean up) takes its containers' processes with it: the built
 * executor runs in a child node process, which the test kills.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from '@diego/test-support';
import { processesRunning } from './harness';

const CELL_DIST = join(__dirname, '..', '..', 'dist', 'index.js');
const isRoot = process.getuid?.() === 0;

/** A node process with a ProcessExecutor running one LRP instance: `script` as its action. */
const cellScript = (workDir: string, script: string): string => `
  const { ProcessExecutor } = require(${JSON.stringify(CELL_DIST)});
  const executor = new ProcessExecutor({ workDir: ${JSON.stringify(workDir)} });
  executor.createContainer({
    guid: 'doomed', logGuid: 'doomed', logSource: 'APP', instance: { processGuid: 'pg', index: 0 },
    rootfs: 'preloaded:cflinuxfs2', env: [], ports: [], memoryMB: 64, diskMB: 64, cpuWeight: 0, egressRules: [],
  }).then((container) => executor.runLrp(container, {
    setup: null, monitor: null, startTimeoutSeconds: 0,
    action: { run: { path: '/bin/sh', args: ['-c', ${JSON.stringify(script)}], dir: '', env: [],
      resource_limits: null, user: '', log_source: '', suppress_log_output: false } },
  }, { onRunning: () => console.log('running'), onCrashed: () => {} }, new AbortController().signal));
`;

it('leaves no process of a container behind when the cell is killed', async () => {
  if (!existsSync(CELL_DIST)) throw new Error(`${CELL_DIST} is missing: run \`npm run build\` (npm test does)`);
  const workDir = mkdtempSync(join(tmpdir(), 'diego-cell-death-'));
  const marker = `${(Date.now() % 100000) + 500000}`;
  // As root the background child dies too (the container's pid namespace); without root only the direct one.
  const script = isRoot ? `sleep ${marker} & exec sleep ${marker}` : `exec sleep ${marker}`;
  const cell = spawn(process.execPath, ['-e', cellScript(workDir, script)], { stdio: 'ignore' });
  try {
    await eventually(() => processesRunning(`sleep ${marker}`), (pids) => pids.length === (isRoot ? 2 : 1));
    cell.kill('SIGKILL');
    await eventually(() => processesRunning(`sleep ${marker}`), (pids) => pids.length === 0);
  } finally {
    cell.kill('SIGKILL');
    rmSync(workDir, { recursive: true, force: true });
  }
});
