/**
 * `npm run bench -- --scenario containers`: issue 12's container benchmarks on a real root cell. Starts etcd, a
 * leading BBS (its auctioneer places the work), a registry holding a busybox image, and one `diego cell` as a
 * child process (the default executor: images, cgroups, a network of its own in 10.215.0.0/22), all stopped and
 * removed at the end. Then:
 *
 * - start: one instance whose start pulls the image (not counted), then N one-instance DesiredLRPs desired one
 *   after the other, each timed on the bench's clock from just before DesireLRP to its RUNNING event arriving
 *   on the BBS event stream. The BBS's own `since` stamps split each start into the auction (UNCLAIMED to CLAIMED)
 *   and the cell (CLAIMED to RUNNING).
 * - fill: one DesiredLRP of the remaining instances at once, until the cell runs --containers containers; the
 *   cell process's VmRSS then (the cell is a child process of its own, so that is its memory alone).
 * - image-pull: image-pull.ts (ImageStore first pull against `skopeo copy`), after the cell has stopped.
 * - cleanup: once the cell stopped (SIGINT: it destroys every container), no process, mount or loop device of
 *   its work dir is left.
 *
 * The instances run busybox httpd on 8080 with no monitor (RUNNING once the process is started), 32 MB and a
 * 64 MB disk each.
 */
import { readdir, readFile, mkdtemp, rm } from 'node:fs/promises';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { BbsEvent, EventSubscription } from '@diego/bbs-client';
import type { DesiredLRP } from '@diego/models';
import { busyboxLayer, freePorts, newValidDesiredLrp, pushImage, startEtcd, startRegistry, type EtcdProcess, type RegistryProcess } from '@diego/test-support';
import type { ContainersArgs } from './args';
import { imagePullScenario } from './image-pull';
import { machineInfo, type MachineInfo } from './machine';
import { checkAlive, cleanUpOnSignals, spawnCli, startBbsProcess, stopAll, waitForLeader, type BbsProcess, type Child } from './processes';
import { formatNumber, formatTable, ratio, rowCells, type Row, type ScenarioResult } from './report';
import { messageOf, now, percentile, progress, waitFor } from './stats';

const CELL_ID = 'bench-containers';
const DOMAIN = 'bench-containers';
const REPOSITORY = 'bench/httpd';
const NETWORK_POOL = '10.215.0.0/22';
const INSTANCE_MEMORY_MB = 32;
const INSTANCE_DISK_MB = 64;
const TARGET_START_P50_MS = 300;
/** One start, the image pull included, may take this long; the fill gets this per container. */
const START_TIMEOUT_MS = 60_000;
/** A cell with 100 containers destroys them all on SIGINT: more than the usual 5 s before SIGKILL. */
const CELL_STOP_GRACE_MS = 120_000;

/** One instance's way to RUNNING, from the BBS event stream. */
interface InstanceTimes {
  /** `since` of the UNCLAIMED record the BBS created (Unix ns, the BBS's clock). */
  createdNs: bigint | null;
  claimedNs: bigint | null;
  runningNs: bigint | null;
  /** When the RUNNING event reached the bench (its performance clock). */
  runningSeenAt: number | null;
  hostPort: number | null;
}

/** Follows the BBS's ActualLRP events: when each instance was created, claimed and seen RUNNING, and any crash. */
class ActualLrpWatch {
  private readonly times = new Map<string, InstanceTimes>();
  private readonly waiting = new Map<string, () => void>();
  readonly crashes = new Map<string, string>();
  private ended = false;

  constructor(private readonly subscription: EventSubscription) {
    void this.read();
  }

  /** Resolves with the instance's times once it is RUNNING; throws after `timeoutMs`, on a crash or a lost stream. */
  async running(processGuid: string, index: number, timeoutMs: number): Promise<InstanceTimes> {
    const key = `${processGuid}/${index}`;
    const seen = (): InstanceTimes | null => {
      const times = this.times.get(key);
      return times?.runningSeenAt === null || times === undefined ? null : times;
    };
    if (seen() === null) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, timeoutMs);
        this.waiting.set(key, () => {
          clearTimeout(timer);
          resolve();
        });
      });
      this.waiting.delete(key);
    }
    const crash = this.crashes.get(key);
    if (crash !== undefined) throw new Error(`instance ${key} crashed: ${crash}`);
    const times = seen();
    if (times !== null) return times;
    throw new Error(this.ended ? `the BBS event stream ended before ${key} was RUNNING` : `instance ${key} not RUNNING within ${timeoutMs} ms`);
  }

  close(): void {
    this.subscription.close();
  }

  private async read(): Promise<void> {
    for (;;) {
      const event = await this.subscription.next().catch(() => null);
      if (event === null) break;
      this.observe(event);
    }
    this.ended = true;
    for (const wake of this.waiting.values()) wake();
  }

  private observe(event: BbsEvent): void {
    const group = event.type === 'actual_lrp_created' ? event.actual_lrp_group : event.type === 'actual_lrp_changed' ? event.after : null;
    const lrp = group?.instance ?? null;
    if (lrp === null) return;
    const key = `${lrp.process_guid}/${lrp.index}`;
    let times = this.times.get(key);
    if (times === undefined) {
      times = { createdNs: null, claimedNs: null, runningNs: null, runningSeenAt: null, hostPort: null };
      this.times.set(key, times);
    }
    if (event.type === 'actual_lrp_created') times.createdNs ??= lrp.since;
    if (lrp.state === 'CLAIMED') times.claimedNs ??= lrp.since;
    if (lrp.state === 'CRASHED' || lrp.crash_count > 0) {
      this.crashes.set(key, lrp.crash_reason || lrp.state);
      this.waiting.get(key)?.();
    }
    if (lrp.state === 'RUNNING' && times.runningSeenAt === null) {
      times.runningSeenAt = now();
      times.runningNs = lrp.since;
      times.hostPort = lrp.ports[0]?.host_port ?? null;
      this.waiting.get(key)?.();
    }
  }
}

/** busybox httpd on 8080 from the bench's image: no monitor, so RUNNING means the container and its process started. */
function httpdLrp(processGuid: string, rootfs: string, instances: number): DesiredLRP {
  return newValidDesiredLrp(processGuid, {
    domain: DOMAIN,
    rootfs,
    instances,
    env: [],
    setup: null,
    action: {
      run: {
        path: '/bin/httpd', args: ['-f', '-p', '8080', '-h', '/tmp'], dir: '', env: [], resource_limits: null, user: 'vcap',
        log_source: 'APP', suppress_log_output: false,
      },
    },
    monitor: null,
    start_timeout: 0,
    memory_mb: INSTANCE_MEMORY_MB,
    disk_mb: INSTANCE_DISK_MB,
    ports: [8080],
    routes: {},
    egress_rules: [],
    log_guid: processGuid,
    metrics_guid: processGuid,
  });
}

const nsToMs = (from: bigint | null, to: bigint | null): number | null => (from === null || to === null ? null : Number(to - from) / 1e6);

function distributionRow(scenario: string, what: string, samples: number[], target: Row['target'] = null): Row {
  const p50 = percentile(samples, 50);
  return { scenario, what, unit: 'ms', ours: p50, raw: null, p50Ms: p50, p99Ms: percentile(samples, 99), target };
}

/**
 * An HTTP answer (any status) from the instance's host port within 5 s: the port forward reaches httpd inside.
 * RUNNING without a monitor means the process started, not that it listens yet: hence the retries.
 */
async function answers(hostPort: number | null): Promise<boolean> {
  if (hostPort === null) return false;
  return waitFor(async () => {
    try {
      const response = await fetch(`http://127.0.0.1:${hostPort}/`, { signal: AbortSignal.timeout(1000) });
      await response.arrayBuffer();
      return true;
    } catch {
      return false;
    }
  }, 5000, 100);
}

/** What of the cell's work dir outlives it: processes naming it, mounts under it, loop devices backed by it. */
async function leftovers(workDir: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes(workDir)) found.push(`process ${entry}: ${cmdline.split('\0').join(' ').slice(0, 120)}`);
  }
  const mounts = await readFile('/proc/self/mountinfo', 'utf8');
  for (const line of mounts.split('\n')) if (line.includes(workDir)) found.push(`mount ${line}`);
  const loops = spawnSync('losetup', ['--list', '--noheadings', '--output', 'NAME,BACK-FILE'], { encoding: 'utf8' }).stdout ?? '';
  for (const line of loops.split('\n')) if (line.includes(workDir)) found.push(`loop device ${line.trim()}`);
  return found;
}

async function startCellProcess(bbs: BbsProcess, registry: RegistryProcess, workDir: string, containers: number): Promise<Child> {
  const [port] = await freePorts(1);
  const cell = spawnCli('cell', [
    'cell',
    `-cellID=${CELL_ID}`,
    '-zone=z1',
    `-listenAddr=127.0.0.1:${port}`,
    `-bbsAddress=${bbs.url}`,
    `-memoryMB=${(containers + 10) * INSTANCE_MEMORY_MB}`,
    `-diskMB=${(containers + 10) * INSTANCE_DISK_MB}`,
    `-containers=${containers + 10}`,
    `-workDir=${workDir}`,
    `-dockerRegistryURL=${registry.url}`,
    `-insecureDockerRegistryList=${registry.host}`,
    `-networkPool=${NETWORK_POOL}`,
    '-evacuationTimeout=1s',
  ]);
  const registered = await waitFor(async () => {
    if (cell.exitReason !== null) return true;
    return (await bbs.client.cells().catch(() => [])).some((presence) => presence.cell_id === CELL_ID);
  }, 30_000, 100);
  if (cell.exitReason !== null || !registered) throw new Error(`the cell did not register (${cell.exitReason ?? 'not in the BBS after 30 s'}):\n${cell.stderr()}`);
  return cell;
}

async function measure(options: ContainersArgs, cleanups: Array<() => Promise<void>>): Promise<ScenarioResult[]> {
  const results: ScenarioResult[] = [];
  progress('starting etcd, a leading BBS and a registry');
  const etcd: EtcdProcess = await startEtcd();
  cleanups.push(() => etcd.stop());
  const bbs = await startBbsProcess('BBS', etcd.endpoint, ['-convergeRepeatInterval=1h']);
  cleanups.push(async () => bbs.client.close());
  await waitForLeader(bbs, 60_000);
  const registry = await startRegistry();
  cleanups.push(() => registry.stop());
  await pushImage(registry.url, REPOSITORY, 'v1', [await busyboxLayer()], { Cmd: ['/bin/httpd', '-f', '-p', '8080'] });
  const rootfs = `docker:///${REPOSITORY}#v1`;
  await bbs.client.upsertDomain(DOMAIN, 0);

  const workDir = await mkdtemp(join(tmpdir(), 'diego-bench-cell-'));
  // Runs after stopAll() has stopped the cell (see runContainersBench).
  cleanups.push(() => rm(workDir, { recursive: true, force: true }));
  progress(`starting the cell (work dir ${workDir})`);
  const cell = await startCellProcess(bbs, registry, workDir, options.containers);
  const idleRss = cell.memory()?.rssMb ?? null;
  const watch = new ActualLrpWatch(await bbs.client.subscribeToEvents());
  cleanups.push(async () => watch.close());

  const start: ScenarioResult = { name: 'start', ok: true, rows: [] };
  results.push(start);
  let firstHostPort: number | null = null;
  try {
    progress('first instance: pulls the image');
    let t0 = now();
    await bbs.client.desireLRP(httpdLrp('bench-pull', rootfs, 1));
    const pulled = await watch.running('bench-pull', 0, START_TIMEOUT_MS);
    const firstStartMs = (pulled.runningSeenAt ?? t0) - t0;
    const endToEnd: number[] = [];
    const auction: number[] = [];
    const onCell: number[] = [];
    for (let i = 0; i < options.instances; i++) {
      const guid = `bench-start-${i}`;
      t0 = now();
      await bbs.client.desireLRP(httpdLrp(guid, rootfs, 1));
      const times = await watch.running(guid, 0, START_TIMEOUT_MS);
      endToEnd.push((times.runningSeenAt ?? t0) - t0);
      const auctionMs = nsToMs(times.createdNs, times.claimedNs);
      const cellMs = nsToMs(times.claimedNs, times.runningNs);
      if (auctionMs !== null) auction.push(auctionMs);
      if (cellMs !== null) onCell.push(cellMs);
      firstHostPort ??= times.hostPort;
      if ((i + 1) % 10 === 0) progress(`  ${i + 1}/${options.instances} started, last ${endToEnd.at(-1)?.toFixed(0)} ms`);
    }
    const p50 = percentile(endToEnd, 50);
    start.rows = [
      distributionRow('cached start', `DesiredLRP to RUNNING, ${options.instances} one at a time`, endToEnd, {
        text: `p50 <= ${TARGET_START_P50_MS} ms`,
        met: p50 !== null && p50 <= TARGET_START_P50_MS,
      }),
      distributionRow('  auction', 'UNCLAIMED to CLAIMED (BBS since)', auction),
      distributionRow('  cell', 'CLAIMED to RUNNING (BBS since)', onCell),
    ];
    start.details = { firstStartWithPullMs: firstStartMs, samplesMs: endToEnd, auctionMs: auction, cellMs: onCell };
    if (!(await answers(firstHostPort))) throw new Error(`instance bench-start-0 does not answer on its host port ${firstHostPort ?? '(none)'}`);
  } catch (err) {
    start.ok = false;
    start.error = messageOf(err);
  }

  const fill: ScenarioResult = { name: 'fill', ok: true, rows: [] };
  results.push(fill);
  if (start.ok) {
    try {
      const count = options.containers - options.instances - 1;
      progress(`fill: ${count} instances of one DesiredLRP at once, to ${options.containers} containers`);
      const t0 = now();
      await bbs.client.desireLRP(httpdLrp('bench-fill', rootfs, count));
      const all = await Promise.all(Array.from({ length: count }, (_, index) => watch.running('bench-fill', index, START_TIMEOUT_MS * Math.max(1, count / 10))));
      const latencies = all.map((times) => (times.runningSeenAt ?? t0) - t0);
      const groups = await bbs.client.actualLRPGroups({ cell_id: CELL_ID });
      const running = groups.filter((group) => group.instance?.state === 'RUNNING').length;
      if (running !== options.containers) throw new Error(`${running} instances RUNNING on the cell, expected ${options.containers}`);
      if (!(await answers(all.at(-1)?.hostPort ?? null))) throw new Error('the last instance of bench-fill does not answer on its host port');
      checkAlive(cell);
      const memory = cell.memory();
      fill.rows = [
        distributionRow('burst start', `DesiredLRP to RUNNING, ${count} at once`, latencies),
        { scenario: 'cell RSS', what: `VmRSS of the cell process, ${options.containers} containers`, unit: 'MB', ours: memory?.rssMb ?? null, raw: null },
      ];
      fill.details = { cellRssMbIdle: idleRss, cellPeakRssMb: memory?.peakMb ?? null, burstSamplesMs: latencies };
    } catch (err) {
      fill.ok = false;
      fill.error = messageOf(err);
    }
  } else {
    fill.ok = false;
    fill.error = 'skipped: the start scenario failed';
  }

  progress('stopping the cell (SIGINT: it destroys every container)');
  const cleanup: ScenarioResult = { name: 'cleanup', ok: true, rows: [] };
  results.push(cleanup);
  const stopStarted = now();
  await cell.stop('SIGINT', CELL_STOP_GRACE_MS);
  cleanup.details = { cellStopMs: now() - stopStarted, cellExit: cell.exitReason };
  const left = await leftovers(workDir);
  if (left.length > 0) {
    cleanup.ok = false;
    cleanup.error = `${left.length} things of the cell outlived it, first: ${left.slice(0, 3).join('; ')}`;
  }
  if (!start.ok || !fill.ok) progress(`cell stderr (last lines):\n${cell.stderr().split('\n').slice(-10).join('\n')}`);

  const pull: ScenarioResult = { name: 'image-pull', ok: true, rows: [] };
  results.push(pull);
  try {
    progress(`image-pull: ${options.pullRounds} rounds of a ${options.pullMb} MiB image`);
    pull.rows = [await imagePullScenario({ mb: options.pullMb, rounds: options.pullRounds })];
  } catch (err) {
    pull.ok = false;
    pull.error = messageOf(err);
  }
  return results;
}

interface ContainersReport {
  header: MachineInfo & { note: string; instances: number; containers: number };
  scenarios: ScenarioResult[];
  ok: boolean;
  durationSeconds: number;
}

function formatContainersReport(report: ContainersReport): string {
  const { header } = report;
  const lines = [
    `diego bench --scenario containers  ${header.date}`,
    `machine: ${header.machine}`,
    `node ${header.node}, etcd ${header.etcd}, commit ${header.commit}`,
    header.note,
    '',
  ];
  const rows: string[][] = [];
  for (const scenario of report.scenarios) {
    for (const row of scenario.rows) rows.push(rowCells(row));
    if (!scenario.ok) rows.push([scenario.name, 'FAILED (below)', '', '', '', '', '', '', 'FAIL']);
  }
  lines.push(formatTable(['scenario', 'what', 'ours', 'skopeo', 'ours/skopeo', 'p50', 'p99', 'target', 'mark'], rows, new Set([2, 3, 4, 5, 6])));
  lines.push('');
  const start = report.scenarios.find((s) => s.name === 'start');
  const firstStart = start?.details?.['firstStartWithPullMs'];
  if (typeof firstStart === 'number') lines.push(`first instance, image pull included: ${formatNumber(firstStart)} ms`);
  lines.push(`took ${Math.round(report.durationSeconds)} s`);
  const failed = report.scenarios.filter((s) => !s.ok);
  if (failed.length === 0) lines.push('all correctness checks passed');
  for (const s of failed) lines.push(`FAILED ${s.name}: ${s.error ?? 'unknown'}`);
  return `${lines.join('\n')}\n`;
}

/** Runs the container benchmarks, prints the table, writes `json` when given; resolves with the exit status. */
export async function runContainersBench(options: ContainersArgs, json: string | null): Promise<number> {
  if (process.getuid?.() !== 0) {
    process.stderr.write('bench: --scenario containers needs root (images, cgroups and network namespaces)\n');
    return 2;
  }
  const started = Date.now();
  const header = {
    ...machineInfo(),
    note: 'a shared 2-core machine: etcd, the BBS, the cell, its containers and the bench all share its cores',
    instances: options.instances,
    containers: options.containers,
  };
  const cleanups: Array<() => Promise<void>> = [];
  const cleanup = async (): Promise<void> => {
    await stopAll();
    for (const undo of cleanups.splice(0).reverse()) await undo().catch(() => undefined);
  };
  cleanUpOnSignals(cleanup);
  let results: ScenarioResult[];
  try {
    results = await measure(options, cleanups);
  } catch (err) {
    results = [{ name: 'setup', ok: false, error: messageOf(err), rows: [] }];
    progress(`setup FAILED: ${messageOf(err)}`);
  }
  progress('stopping everything');
  await cleanup();
  const report: ContainersReport = { header, scenarios: results, ok: results.every((r) => r.ok), durationSeconds: (Date.now() - started) / 1000 };
  process.stdout.write(formatContainersReport(report));
  if (json !== null) {
    mkdirSync(dirname(json), { recursive: true });
    const withRatios = { ...report, scenarios: report.scenarios.map((s) => ({ ...s, rows: s.rows.map((r) => ({ ...r, ratio: ratio(r) })) })) };
    writeFileSync(json, `${JSON.stringify(withRatios, null, 2)}\n`);
    progress(`wrote ${json}`);
  }
  return report.ok ? 0 : 1;
}
