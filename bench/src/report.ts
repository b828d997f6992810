/** The bench's results: one row per measurement, printed as an aligned table and written as JSON. */

/** `ms`: a duration (lower is better); `/s`: a rate (higher is better); `MB`: memory (lower is better). */
export type Unit = 'ms' | '/s' | 'MB';

/** A target stated for 200k LRPs on 1,000 cells (shown at every size, as reference). */
export interface Target {
  /** e.g. `<= 2000 ms and <= 0.6x raw`. */
  text: string;
  met: boolean;
}

export interface Row {
  scenario: string;
  /** What one unit of `ours`/`raw` is, e.g. `fetch of 5000`, `starts`. */
  what: string;
  unit: Unit;
  ours: number | null;
  raw: number | null;
  p50Ms?: number | null;
  p99Ms?: number | null;
  target?: Target | null;
}

export interface ScenarioResult {
  name: string;
  ok: boolean;
  /** Why the correctness check failed. */
  error?: string;
  rows: Row[];
  /** The measured BBS's VmRSS after the scenario, MB. */
  bbsRssMbAfter?: number | null;
  details?: Record<string, unknown>;
}

export interface BenchHeader {
  date: string;
  machine: string;
  node: string;
  etcd: string;
  commit: string;
  lrps: number;
  cells: number;
}

export interface BenchReport {
  header: BenchHeader;
  scenarios: ScenarioResult[];
  bbsPeakRssMb: number | null;
  leaderPeakRssMb: number | null;
  ok: boolean;
  durationSeconds: number;
}

/** ours/raw; for durations lower is better, for rates higher is better. */
export function ratio(row: Pick<Row, 'ours' | 'raw'>): number | null {
  if (row.ours === null || row.raw === null || row.raw === 0) return null;
  return row.ours / row.raw;
}

export function formatNumber(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '-';
  const abs = Math.abs(value);
  if (abs >= 100) return Math.round(value).toLocaleString('en-US');
  if (abs >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

function formatValue(value: number | null, unit: Unit): string {
  return value === null ? '-' : `${formatNumber(value)} ${unit}`;
}

function formatRatio(row: Row): string {
  const r = ratio(row);
  if (r === null) return '-';
  return `${r.toFixed(2)}x ${row.unit === '/s' ? 'rate' : 'time'}`;
}

const COLUMNS = ['scenario', 'what', 'ours', 'raw', 'ours/raw', 'p50', 'p99', 'target', 'mark'] as const;

/** The cells of one row of the table. */
export function rowCells(row: Row): string[] {
  return [
    row.scenario,
    row.what,
    formatValue(row.ours, row.unit),
    formatValue(row.raw, row.unit),
    formatRatio(row),
    row.p50Ms === null || row.p50Ms === undefined ? '-' : `${formatNumber(row.p50Ms)} ms`,
    row.p99Ms === null || row.p99Ms === undefined ? '-' : `${formatNumber(row.p99Ms)} ms`,
    row.target?.text ?? '-',
    row.target === null || row.target === undefined ? '' : row.target.met ? 'ok' : 'MISS',
  ];
}

/** Left-aligned text columns, right-aligned numbers, separated by two spaces. */
export function formatTable(header: readonly string[], rows: readonly string[][], rightAligned: ReadonlySet<number>): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, i) => (rightAligned.has(i) ? cell.padStart(widths[i] ?? 0) : cell.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

export function formatReport(report: BenchReport): string {
  const { header } = report;
  const lines = [
    `diego bench  ${header.date}`,
    `machine: ${header.machine}`,
    `node ${header.node}, etcd ${header.etcd}, commit ${header.commit}`,
    `lrps ${header.lrps}, cells ${header.cells}; targets are stated for 200,000 LRPs on 1,000 cells (reference at other sizes)`,
    `ours/raw: for ms rows lower is better ("x time"), for /s rows higher is better ("x rate")`,
    '',
  ];
  const rows: string[][] = [];
  for (const scenario of report.scenarios) {
    for (const row of scenario.rows) rows.push(rowCells(row));
    if (!scenario.ok) rows.push([scenario.name, 'FAILED (below)', '', '', '', '', '', '', 'FAIL']);
  }
  lines.push(formatTable(COLUMNS, rows, new Set([2, 3, 4, 5, 6])));
  lines.push('');
  lines.push(
    `BBS peak RSS: ${formatValue(report.bbsPeakRssMb, 'MB')} (measured -apiOnly BBS), leader BBS ${formatValue(report.leaderPeakRssMb, 'MB')}; ` +
      `took ${Math.round(report.durationSeconds)} s`,
  );
  const failed = report.scenarios.filter((s) => !s.ok);
  if (failed.length === 0) lines.push('all correctness checks passed');
  for (const s of failed) lines.push(`FAILED ${s.name}: ${s.error ?? 'unknown'}`);
  return `${lines.join('\n')}\n`;
}

/** JSON with numbers as numbers; what the table shows plus the ratios. */
export function reportJson(report: BenchReport): string {
  return `${JSON.stringify(
    {
      ...report,
      scenarios: report.scenarios.map((s) => ({ ...s, rows: s.rows.map((r) => ({ ...r, ratio: ratio(r) })) })),
    },
    null,
    2,
  )}\n`;
}
