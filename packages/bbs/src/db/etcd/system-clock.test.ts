import { systemClock } from './etcd-db';

describe('systemClock', () => {
  it('reads Unix nanoseconds close to the wall clock, never going backwards', () => {
    const readings = Array.from({ length: 10 }, () => systemClock());
    const wallNs = BigInt(Date.now()) * 1_000_000n;
    for (const [i, reading] of readings.entries()) {
      expect(wallNs - reading < 1_000_000_000n && reading - wallNs < 1_000_000_000n).toBe(true);
      if (i > 0) expect(reading >= (readings[i - 1] ?? 0n)).toBe(true);
    }
  });

  it('has sub-millisecond digits (Date.now() alone would end every value in 000000)', () => {
    const readings = Array.from({ length: 10 }, () => systemClock());
    expect(readings.some((ns) => ns % 1_000_000n !== 0n)).toBe(true);
  });
});
