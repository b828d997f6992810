#!/usr/bin/env node
/**
 * `npm run bench -- --lrps N --cells N --json FILE`: starts etcd, a BBS (-apiOnly, the one measured), a
 * receptor and the simulated cells, seeds N Diego-shaped LRPs and runs every scenario through our API and as
 * its raw etcd twin. See USAGE in args.ts.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { getHeapStatistics } from 'node:v8';
import { HttpBbsClient } from '@diego/bbs-client';
import { decodeDesiredLrpCreateRequest } from '@diego/models';
import { loadFixture, startEtcd, type EtcdProcess } from '@diego/test-support';
import { ArgsError, USAGE, parseArgs, type BenchArgs } from './args';
import { CellSimulator } from './cells';
import { runContainersBench } from './containers';
import { DOMAIN, type Context } from './context';
import { closeAgents } from './http';
import { machineInfo, oneMinuteLoad } from './machine';
import { checkAlive, cleanUpOnSignals, startBbsProcess, startReceptorProcess, stopAll } from './processes';
import { RawEtcd } from './raw';
import { formatReport, reportJson, type BenchHeader, type BenchReport, type ScenarioResult } from './report';
import { SCENARIO_FUNCTIONS, ScenarioFailure } from './scenarios';
import { messageOf, progress } from './stats';

/** The bench process holds 200k records and parses large lists: give it room (the BBS children keep Node's defaults). */
const HEAP_MB = 8192;

/** etcd for 200k DesiredLRPs and their history: an 8 GB quota, and txns of one cell's 200+ gets. No compaction. */
const ETCD_ARGS = ['--quota-backend-bytes', '8589934592', '--max-txn-ops', '10000', '--max-request-bytes', '33554432'];

function header(args: BenchArgs): BenchHeader {
  return { ...machineInfo(), lrps: args.lrps, cells: args.cells };
}

async function run(args: BenchArgs): Promise<number> {
  const started = Date.now();
  const head = header(args);
  progress(`lrps ${args.lrps}, cells ${args.cells}; scenarios: ${args.scenarios.join(', ')}`);
  let etcd: EtcdProcess | null = null;
  let raw: RawEtcd | null = null;
  let sim: CellSimulator | null = null;
  const clients: HttpBbsClient[] = [];
  const results: ScenarioResult[] = [];
  let ctx: Context | null = null;
  const cleanup = async (): Promise<void> => {
    await sim?.close().catch(() => undefined);
    for (const client of clients) client.close();
    ctx?.bbs.client.close();
    ctx?.leader?.client.close();
    closeAgents();
    raw?.close();
    await stopAll();
    await etcd?.stop();
  };
  const interrupted = cleanUpOnSignals(cleanup);

  try {
    progress('starting etcd');
    etcd = await startEtcd({ extraArgs: ETCD_ARGS });
    raw = new RawEtcd(etcd.endpoint);
    progress('starting the BBS (-apiOnly) and the receptor');
    const bbs = await startBbsProcess('BBS', etcd.endpoint, ['-apiOnly']);
    const receptor = await startReceptorProcess(bbs.url);
    const cellClient = new HttpBbsClient([bbs.url], { timeoutMs: 120_000 });
    const background = new HttpBbsClient([bbs.url], { timeoutMs: 120_000 });
    clients.push(cellClient, background);
    const template = decodeDesiredLrpCreateRequest(loadFixture('cc-bridge-desired-lrp.json'));
    sim = new CellSimulator(args.cells, cellClient, { docker: [] });
    await sim.listen();
    progress(`registering ${args.cells} simulated cells`);
    await sim.register();
    await bbs.client.upsertDomain(DOMAIN, 0);
    const context: Context = {
      args,
      n: args.lrps,
      cellCount: args.cells,
      etcdUrl: etcd.endpoint,
      etcdPid: etcd.pid,
      raw,
      bbs,
      background,
      receptor,
      leader: null,
      sim,
      template,
      lrps: [],
      byGuid: new Map(),
      rawActualRev: [],
    };
    ctx = context;
    sim.onStarted = (cell, held) => {
      const i = context.byGuid.get(held.lrp.process_guid);
      const record = i === undefined ? undefined : context.lrps[i];
      if (record === undefined) return;
      record.cell = cell.index;
      record.instanceGuid = held.instanceGuid;
      record.netInfo = held.netInfo;
    };

    for (const name of args.scenarios) {
      if (interrupted()) break;
      progress(`== ${name}`);
      const result: ScenarioResult = { name, ok: true, rows: [] };
      const t0 = Date.now();
      try {
        const outcome = await SCENARIO_FUNCTIONS[name](context);
        result.rows = outcome.rows;
        if (outcome.details !== undefined) result.details = outcome.details;
        await sim.settled(30_000);
        const cellErrors = sim.errors.splice(0);
        if (cellErrors.length > 0) throw new ScenarioFailure(`${cellErrors.length} calls of the simulated cells failed, first: ${cellErrors[0] ?? ''}`);
        checkAlive(bbs.child, receptor.child, context.leader?.child);
      } catch (err) {
        result.ok = false;
        result.error = messageOf(err);
        const cellErrors = sim.errors.splice(0);
        progress(`${name} FAILED: ${result.error}`);
        if (cellErrors.length > 0) progress(`  and ${cellErrors.length} calls of the simulated cells failed, first: ${cellErrors.slice(0, 3).join('; ')}`);
        for (const child of [bbs.child, receptor.child, context.leader?.child]) {
          const tail = child?.stderr() ?? '';
          if (tail !== '') progress(`  ${child?.name ?? ''} stderr (last lines):\n${tail.split('\n').slice(-10).join('\n')}`);
        }
      }
      result.details = { ...result.details, seconds: (Date.now() - t0) / 1000 };
      result.bbsRssMbAfter = bbs.child.memory()?.rssMb ?? null;
      results.push(result);
      for (const row of result.rows) progress(`  ${row.scenario}: ours ${row.ours?.toFixed(1) ?? '-'} ${row.unit}, raw ${row.raw?.toFixed(1) ?? '-'} ${row.unit}`);
      if (name === 'seed' && !result.ok) {
        progress('the seed failed: nothing else can run');
        break;
      }
    }
  } catch (err) {
    results.push({ name: 'setup', ok: false, error: messageOf(err), rows: [] });
    progress(`setup FAILED: ${messageOf(err)}`);
  }

  const bbsPeak = ctx?.bbs.child.memory()?.peakMb ?? null;
  const leaderPeak = ctx?.leader?.child.memory()?.peakMb ?? null;
  if (bbsPeak !== null) {
    results.push({
      name: 'memory',
      ok: true,
      rows: [
        {
          scenario: 'bbs peak RSS',
          what: 'VmHWM of the measured BBS',
          unit: 'MB',
          ours: bbsPeak,
          raw: null,
          target: { text: '<= 1536 MB', met: bbsPeak <= 1536 },
        },
      ],
      details: { leaderPeakRssMb: leaderPeak },
    });
  }
  const report: BenchReport = {
    header: head,
    scenarios: results,
    bbsPeakRssMb: bbsPeak,
    leaderPeakRssMb: leaderPeak,
    ok: results.every((r) => r.ok),
    durationSeconds: (Date.now() - started) / 1000,
    loadAtEnd: oneMinuteLoad(),
  };
  progress('stopping everything');
  await cleanup();
  process.stdout.write(formatReport(report));
  if (args.json !== null) {
    mkdirSync(dirname(args.json), { recursive: true });
    writeFileSync(args.json, reportJson(report));
    progress(`wrote ${args.json}`);
  }
  return report.ok ? 0 : 1;
}

/** Runs again with a bigger heap unless it already has one. */
function reexecWithHeap(): boolean {
  if (getHeapStatistics().heap_size_limit >= (HEAP_MB - 512) * 2 ** 20 || process.env['DIEGO_BENCH_CHILD'] === '1') return false;
  const child = spawn(process.execPath, [`--max-old-space-size=${HEAP_MB}`, __filename, ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...process.env, DIEGO_BENCH_CHILD: '1' },
  });
  // The child gets the terminal's SIGINT itself; forward a SIGTERM.
  process.on('SIGINT', () => undefined);
  process.on('SIGTERM', () => child.kill('SIGTERM'));
  child.on('exit', (code, signal) => process.exit(code ?? (signal === null ? 1 : 130)));
  return true;
}

function main(): void {
  let args: BenchArgs;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (err) {
    if (err instanceof ArgsError) {
      process.stderr.write(`bench: ${err.message}\n${USAGE}\n`);
      process.exit(2);
    }
    throw err;
  }
  if (args.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (args.containers !== null) {
    exitWith(runContainersBench(args.containers, args.json));
    return;
  }
  if (reexecWithHeap()) return;
  exitWith(run(args));
}

function exitWith(work: Promise<number>): void {
  work.then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
}

main();
