import { JsonArrayCounter } from './json-count';
import { cpuCells, formatDuration, formatNumber, formatReport, formatTable, ratio, reportJson, rowCells, type BenchReport, type Row } from './report';
import { percentile } from './stats';

const header = { date: '2026-01-01T00:00:00.000Z', machine: 'cpu x 2', node: 'v20', etcd: '3.4.23', commit: 'abc1234', loadAtStart: 3.25, lrps: 200, cells: 2 };

const fetchRow: Row = {
  scenario: 'fetch-actual (receptor)',
  what: 'all 200',
  unit: 'ms',
  ours: 12.345,
  raw: 24.69,
  p50Ms: 12.345,
  p99Ms: 1500,
  target: { text: '<= 2000 ms and <= 0.6x raw', met: true },
};
const rateRow: Row = {
  scenario: 'seed',
  what: '200 LRPs',
  unit: '/s',
  ours: 300,
  raw: 1000,
  target: { text: '>= 0.7x raw', met: false },
  cpu: { op: 'LRP', ops: 200, ours: { bbs: 0.5, etcd: 0.25, bench: 0.0004 }, raw: { etcd: 0.1, bench: 0.05 } },
};
const noRaw: Row = { scenario: 'converge-dead-cell', what: '1 cell', unit: 'ms', ours: 510, raw: null };

describe('numbers and ratios', () => {
  it('formats by magnitude, with thousands separators', () => {
    expect(formatNumber(1234567.8)).toBe('1,234,568');
    expect(formatNumber(12.345)).toBe('12.3');
    expect(formatNumber(1.2345)).toBe('1.23');
    expect(formatNumber(null)).toBe('-');
    expect(formatNumber(Number.NaN)).toBe('-');
  });

  it('is ours/raw, none without a raw twin', () => {
    expect(ratio(fetchRow)).toBeCloseTo(0.5);
    expect(ratio(noRaw)).toBeNull();
    expect(ratio({ ours: 1, raw: 0 })).toBeNull();
  });

  it('takes percentiles by nearest rank', () => {
    const samples = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(percentile(samples, 50)).toBe(50);
    expect(percentile(samples, 99)).toBe(99);
    expect(percentile(samples, 100)).toBe(100);
    expect(percentile([], 50)).toBeNull();
  });
});

describe('the table', () => {
  it('shows each row with units, the ratio direction, percentiles, the target and its mark', () => {
    expect(rowCells(fetchRow)).toEqual(['fetch-actual (receptor)', 'all 200', '12.3 ms', '24.7 ms', '0.50x time', '12.3 ms', '1,500 ms', '<= 2000 ms and <= 0.6x raw', 'ok']);
    expect(rowCells(rateRow)).toEqual(['seed', '200 LRPs', '300 /s', '1,000 /s', '0.30x rate', '-', '-', '>= 0.7x raw', 'MISS']);
    expect(rowCells(noRaw)).toEqual(['converge-dead-cell', '1 cell', '510 ms', '-', '-', '-', '-', '-', '']);
  });

  it("shows each process's CPU seconds per 1,000 of the row's operations, - for a process it does not use", () => {
    expect(cpuCells(rateRow)).toEqual(['LRP', '2.50', '-', '-', '1.25', '0.002', '0.50']);
    const viaReceptor: Row = { ...noRaw, cpu: { op: 'instance', ops: 4, ours: { bbs: 1.5, leader: 0.2, receptor: 0, etcd: 0.03, bench: 0.6 }, raw: null } };
    expect(cpuCells(viaReceptor)).toEqual(['instance', '375', '50.0', '0.00', '7.50', '150', '-']);
    expect(cpuCells(noRaw)).toEqual(['', '', '', '', '', '', '']);
  });

  it('states a wall time in seconds, and in minutes from 10 of them', () => {
    expect(formatDuration(12.4)).toBe('12 s');
    expect(formatDuration(1385)).toBe('23 min 5 s');
  });

  it('aligns columns: text left, numbers right', () => {
    const table = formatTable(['name', 'n'], [['a', '1'], ['long name', '100']], new Set([1]));
    expect(table.split('\n')).toEqual(['name         n', '---------  ---', 'a            1', 'long name  100']);
  });

  it('prints the header, every row, the peak RSS and the failures', () => {
    const report: BenchReport = {
      header,
      scenarios: [
        { name: 'seed', ok: true, rows: [rateRow] },
        { name: 'fetch-actual', ok: true, rows: [fetchRow] },
        { name: 'events', ok: false, error: '3 events lost', rows: [] },
      ],
      bbsPeakRssMb: 321.4,
      leaderPeakRssMb: null,
      ok: false,
      durationSeconds: 12,
      loadAtEnd: 7.5,
    };
    const text = formatReport(report);
    expect(text).toContain('diego bench  2026-01-01T00:00:00.000Z, commit abc1234, took 12 s (wall)');
    expect(text).toContain('machine: cpu x 2; load 3.3 at start, 7.5 at end');
    expect(text).toContain('node v20, etcd 3.4.23');
    expect(text).toContain('lrps 200, cells 2');
    expect(text).toMatch(/^scenario +what +ours +raw +ours\/raw +p50 +p99 +target +mark +op +bbs +lead +rcpt +etcd +bench +raw etcd$/m);
    expect(text).toMatch(/^seed +200 LRPs +300 \/s +1,000 \/s +0\.30x rate .*MISS +LRP +2\.50 +- +- +1\.25 +0\.002 +0\.50$/m);
    expect(text).toContain('cpu: CPU seconds per 1,000 ops');
    expect(text).toMatch(/^events +FAILED \(below\) .*FAIL$/m);
    expect(text).toContain('BBS peak RSS: 321 MB');
    expect(text).toContain('FAILED events: 3 events lost');
    const json = JSON.parse(reportJson(report)) as {
      scenarios: { rows: { ratio: number | null; cpu?: unknown; cpuPer1000: { ours: Record<string, number>; raw: Record<string, number> | null } | null }[] }[];
      ok: boolean;
      durationSeconds: number;
    };
    expect(json.ok).toBe(false);
    expect(json.durationSeconds).toBe(12);
    expect(json.scenarios[1]?.rows[0]?.ratio).toBeCloseTo(0.5);
    expect(json.scenarios[0]?.rows[0]?.cpu).toEqual(rateRow.cpu);
    expect(json.scenarios[0]?.rows[0]?.cpuPer1000).toEqual({ ours: { bbs: 2.5, etcd: 1.25, bench: 0.002 }, raw: { etcd: 0.5, bench: 0.25 } });
    expect(json.scenarios[1]?.rows[0]?.cpuPer1000).toBeNull();
  });
});

describe('JsonArrayCounter', () => {
  const count = (...chunks: string[]): number => {
    const counter = new JsonArrayCounter();
    for (const chunk of chunks) counter.push(Buffer.from(chunk));
    return counter.result();
  };

  it('counts top-level elements across chunk boundaries, ignoring brackets and commas in strings', () => {
    expect(count('[]')).toBe(0);
    expect(count(' [ {"a":[1,2,{"b":"],[{"}]} , {"c":"x\\"y,"}\n]')).toBe(2);
    expect(count('[{"a":"x\\', '"]"},', '{}', ',[1,2]]')).toBe(3);
    expect(count('[1,"two",null]')).toBe(3);
  });

  it('refuses what is not one complete array', () => {
    expect(() => count('[{}')).toThrow(/complete/);
    expect(() => count('{}')).toThrow(/not a JSON array/);
    expect(() => count('')).toThrow(/complete/);
  });
});
