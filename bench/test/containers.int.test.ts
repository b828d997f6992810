/**
 * `--scenario containers` end to end at a tiny size, as root: the built `bench/dist/main.js` starts its own
 * etcd, BBS, registry and `diego cell`, starts 3 instances one at a time and fills the cell to 5 containers,
 * pulls a 4 MiB image once each way, stops everything and exits 0 with every check passed.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runBench } from './run-bench';

const asRoot = process.getuid?.() === 0;

interface JsonReport {
  ok: boolean;
  header: { instances: number; containers: number };
  scenarios: { name: string; ok: boolean; error?: string; rows: { scenario: string; ours: number | null; p50Ms?: number | null }[] }[];
}

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'diego-bench-containers-'));
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});


(asRoot ? describe : describe.skip)('npm run bench -- --scenario containers', () => {
  it('starts 3 instances one at a time, fills the cell to 5 containers, times a pull, and leaves nothing behind', async () => {
    const jsonFile = join(dir, 'containers.json');
    const { code, stdout, stderr } = await runBench([
      '--scenario', 'containers', '--instances', '3', '--containers', '5', '--pull-mb', '4', '--pull-rounds', '1', '--json', jsonFile,
    ]);

    expect({ code, tail: code === 0 ? '' : `${stdout}\n${stderr.slice(-3000)}` }).toEqual({ code: 0, tail: '' });
    const report = JSON.parse(readFileSync(jsonFile, 'utf8')) as JsonReport;
    expect(report.ok).toBe(true);
    expect(report.header).toMatchObject({ instances: 3, containers: 5 });
    expect(report.scenarios.map((s) => s.name)).toEqual(['start', 'fill', 'cleanup', 'image-pull']);
    const rows = report.scenarios.flatMap((s) => s.rows);
    expect(rows.map((r) => r.scenario)).toEqual(['cached start', '  auction', '  cell', 'burst start', 'cell RSS', 'image-pull']);
    for (const row of rows) expect({ row: row.scenario, ours: typeof row.ours }).toEqual({ row: row.scenario, ours: 'number' });
    expect(stdout).toContain('all correctness checks passed');
    expect(stdout).toMatch(/^cached start +DesiredLRP to RUNNING, 3 one at a time/m);
  }, 60_000);
});
