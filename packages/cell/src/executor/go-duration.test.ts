import { formatGoDuration } from './go-duration';

describe('formatGoDuration', () => {
  it.each([
    [0n, '0s'],
    [500n, '500ns'],
    [1_500n, '1.5µs'],
    [500_000_000n, '500ms'],
    [5_000_000_000n, '5s'],
    [1_250_000_000n, '1.25s'],
    [90_000_000_000n, '1m30s'],
    [3_600_000_000_000n, '1h0m0s'],
  ])('writes %s ns as Go does: %s', (ns, text) => {
    expect(formatGoDuration(ns)).toBe(text);
  });
});
