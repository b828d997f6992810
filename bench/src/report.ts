/** The bench's results: one row per measurement, printed as an aligned table and written as JSON. */
import { CPU_PROCESSES, type CpuProcess, type CpuSeconds } from './cpu';
import type { MachineInfo } from './machine';

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
  /** The CPU the row's measured part cost, by process; absent where the row has no operation count. */
  cpu?: RowCpu | null;
}

/** CPU seconds over a row's measured part, to be shown per 1,000 of its operations. */
export interface RowCpu {
  /** What one operation of the row is: `LRP`, `record`, `event`, ... (bench/README.md says per row). */
  op: string;
  /** Operations in the measured part. */
  ops: number;
  /** Each process's CPU seconds over our part: only the processes the row goes through. */
  ours: CpuSeconds;
  /** etcd's (and the bench's) over the raw twin's part, the same operations; null without a twin. */
  raw: CpuSeconds | null;
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

export interface BenchHeader extends MachineInfo {
  lrps: number;
  cells: number;
}

export interface BenchReport {
  header: BenchHeader;
  scenarios: ScenarioResult[];
  bbsPeakRssMb: number | null;
  leaderPeakRssMb: number | null;
  ok: boolean;
  /** The run's wall time, start to report. */
  durationSeconds: number;
  /** The 1-minute load average when the report was made. */
  loadAtEnd: number;
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

/** The CPU columns after them: the operation, then seconds per 1,000 of it by process, raw etcd last but one. */
const CPU_COLUMNS = ['op', 'bbs', 'lead', 'rcpt', 'etcd', 'bench', 'raw etcd'] as const;
const CPU_LEGEND =
  'cpu: CPU seconds per 1,000 ops (op) over the measured part: the measured BBS (bbs), the leading BBS (lead), ' +
  'the receptor (rcpt), etcd, the bench process itself, and etcd under the raw twin; - where the row does not use it';

/** CPU seconds per 1,000 operations; null without operations. */
export function perThousand(seconds: number | undefined, ops: number): number | null {
  if (seconds === undefined || ops <= 0) return null;
  return (seconds * 1000) / ops;
}

/** Each process's CPU seconds per 1,000 of the row's operations, ours and the raw twin's etcd (and bench). */
export function cpuPerThousand(cpu: RowCpu): { ours: CpuSeconds; raw: CpuSeconds | null } {
  const per = (seconds: CpuSeconds): CpuSeconds => {
    const out: CpuSeconds = {};
    for (const name of CPU_PROCESSES) {
      const value = perThousand(seconds[name], cpu.ops);
      if (value !== null) out[name] = value;
    }
    return out;
  };
  return { ours: per(cpu.ours), raw: cpu.raw === null ? null : per(cpu.raw) };
}

/** Seconds per 1,000 ops as formatNumber has them, and a figure below 0.01 by its first digit (not as 0.00). */
function formatCpu(value: number | undefined): string {
  if (value === undefined) return '-';
  return value > 0 && value < 0.01 ? value.toPrecision(1) : formatNumber(value);
}

/** The CPU cells of one row (CPU_COLUMNS). */
export function cpuCells(row: Row): string[] {
  if (row.cpu === null || row.cpu === undefined) return CPU_COLUMNS.map(() => '');
  const { ours, raw } = cpuPerThousand(row.cpu);
  const byProcess = (name: CpuProcess): string => formatCpu(ours[name]);
  return [row.cpu.op, byProcess('bbs'), byProcess('leader'), byProcess('receptor'), byProcess('etcd'), byProcess('bench'), formatCpu(raw?.etcd)];
}

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
    `diego bench  ${header.date}, commit ${header.commit}, took ${formatDuration(report.durationSeconds)} (wall)`,
    `machine: ${header.machine}; load ${header.loadAtStart.toFixed(1)} at start, ${report.loadAtEnd.toFixed(1)} at end`,
    `node ${header.node}, etcd ${header.etcd}`,
    `lrps ${header.lrps}, cells ${header.cells}; targets are stated for 200,000 LRPs on 1,000 cells (reference at other sizes)`,
    `ours/raw: for ms rows lower is better ("x time"), for /s rows higher is better ("x rate")`,
    CPU_LEGEND,
    '',
  ];
  const rows: string[][] = [];
  for (const scenario of report.scenarios) {
    for (const row of scenario.rows) rows.push([...rowCells(row), ...cpuCells(row)]);
    if (!scenario.ok) rows.push([scenario.name, 'FAILED (below)', '', '', '', '', '', '', 'FAIL', ...CPU_COLUMNS.map(() => '')]);
  }
  const cpuNumbers = CPU_COLUMNS.slice(1).map((_, i) => COLUMNS.length + 1 + i);
  lines.push(formatTable([...COLUMNS, ...CPU_COLUMNS], rows, new Set([2, 3, 4, 5, 6, ...cpuNumbers])));
  lines.push('');
  lines.push(
    `BBS peak RSS: ${formatValue(report.bbsPeakRssMb, 'MB')} (measured -apiOnly BBS), leader BBS ${formatValue(report.leaderPeakRssMb, 'MB')}`,
  );
  const failed = report.scenarios.filter((s) => !s.ok);
  if (failed.length === 0) lines.push('all correctness checks passed');
  for (const s of failed) lines.push(`FAILED ${s.name}: ${s.error ?? 'unknown'}`);
  return `${lines.join('\n')}\n`;
}

/** `812 s` or, from 10 minutes, `23 min 5 s`. */
export function formatDuration(seconds: number): string {
  const s = Math.round(seconds);
  return s < 600 ? `${s} s` : `${Math.floor(s / 60)} min ${s % 60} s`;
}

/** JSON with numbers as numbers; what the table shows plus the ratios and the CPU per 1,000 operations. */
export function reportJson(report: BenchReport): string {
  return `${JSON.stringify(
    {
      ...report,
      scenarios: report.scenarios.map((s) => ({
        ...s,
        rows: s.rows.map((r) => ({ ...r, ratio: ratio(r), cpuPer1000: r.cpu === null || r.cpu === undefined ? null : cpuPerThousand(r.cpu) })),
      })),
    },
    null,
    2,
  )}\n`;
}
