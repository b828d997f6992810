import { JsonArrayCounter } from './json-count';
import { formatNumber, formatReport, formatTable, ratio, reportJson, rowCells, type BenchReport, type Row } from './report';
import { percentile } from './stats';

const header = { date: '2026-01-01T00:00:00.000Z', machine: 'cpu x 2', node: 'v20', etcd: '3.4.23', commit: 'abc1234', lrps: 200, cells: 2 };

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
const rateRow: Row = { scenario: 'seed', what: '200 LRPs', unit: '/s', ours: 300, raw: 1000, target: { text: '>= 0.7x raw', met: false } };
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
    };
    const text = formatReport(report);
    expect(text).toContain('node v20, etcd 3.4.23, commit abc1234');
    expect(text).toContain('lrps 200, cells 2');
    expect(text).toMatch(/^seed +200 LRPs +300 \/s +1,000 \/s +0\.30x rate .*MISS$/m);
    expect(text).toMatch(/^events +FAILED \(below\) .*FAIL$/m);
    expect(text).toContain('BBS peak RSS: 321 MB');
    expect(text).toContain('FAILED events: 3 events lost');
    const json = JSON.parse(reportJson(report)) as { scenarios: { rows: { ratio: number | null }[] }[]; ok: boolean };
    expect(json.ok).toBe(false);
    expect(json.scenarios[1]?.rows[0]?.ratio).toBeCloseTo(0.5);
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
