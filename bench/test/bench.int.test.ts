/**
 * The benchmark harness end to end at a tiny size: the built `bench/dist/main.js` starts its own etcd, BBSes,
 * receptor and cells, runs every scenario, and exits 0 with every correctness check passed.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SCENARIOS } from '../src/args';
import { runBench } from './run-bench';


interface JsonReport {
  ok: boolean;
  header: { lrps: number; cells: number };
  bbsPeakRssMb: number | null;
  durationSeconds: number;
  scenarios: {
    name: string;
    ok: boolean;
    error?: string;
    rows: { scenario: string; ours: number | null; cpu?: { op: string; ops: number } | null; cpuPer1000?: { ours: Record<string, number> } | null }[];
  }[];
}

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'diego-bench-'));
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});


describe('npm run bench', () => {
  it('runs every scenario at 200 LRPs on 2 cells with every check passed, and writes the JSON', async () => {
    const jsonFile = join(dir, 'bench.json');
    const { code, stdout, stderr } = await runBench(['--lrps', '200', '--cells', '2', '--json', jsonFile]);

    expect({ code, tail: code === 0 ? '' : `${stdout}\n${stderr.slice(-3000)}` }).toEqual({ code: 0, tail: '' });
    const report = JSON.parse(readFileSync(jsonFile, 'utf8')) as JsonReport;
    expect(report.ok).toBe(true);
    expect(report.header).toMatchObject({ lrps: 200, cells: 2 });
    expect(report.scenarios.map((s) => s.name)).toEqual([...SCENARIOS, 'memory']);
    for (const scenario of report.scenarios) {
      expect({ name: scenario.name, ok: scenario.ok, error: scenario.error }).toEqual({ name: scenario.name, ok: true, error: undefined });
      expect(scenario.rows.length).toBeGreaterThan(0);
      for (const row of scenario.rows) expect({ row: row.scenario, ours: typeof row.ours }).toEqual({ row: row.scenario, ours: 'number' });
      if (scenario.name === 'memory') continue;
      // Each scenario's main row has the CPU of the measured BBS and of etcd per 1,000 of its operations.
      const main = scenario.rows[0];
      expect({ row: main?.scenario, bbs: typeof main?.cpuPer1000?.ours['bbs'], etcd: typeof main?.cpuPer1000?.ours['etcd'], ops: (main?.cpu?.ops ?? 0) > 0 })
        .toEqual({ row: main?.scenario, bbs: 'number', etcd: 'number', ops: true });
    }
    expect(report.durationSeconds).toBeGreaterThan(0);
    expect(report.bbsPeakRssMb).toBeGreaterThan(0);
    expect(stdout).toContain('all correctness checks passed');
    expect(stdout).toMatch(/^seed +200 LRPs/m);
    expect(stdout).toMatch(/^scenario +what .* op +bbs +lead +rcpt +etcd +bench +raw etcd$/m);
    expect(stdout).toMatch(/, took \d+ s \(wall\)/);
  }, 120_000);

  it('explains itself with --help and refuses a bad flag with status 2', async () => {
    const help = await runBench(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--lrps N');

    const bad = await runBench(['--lrps', 'lots']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--lrps wants a positive integer');
  });
});
