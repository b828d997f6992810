import { parseGoDuration } from './duration';

describe('parseGoDuration', () => {
  it.each([
    ['500ms', 500],
    ['30s', 30_000],
    ['2m', 120_000],
    ['1h', 3_600_000],
    ['1h30m', 5_400_000],
    ['1.5h', 5_400_000],
    ['1.1s', 1_100],
    ['2h45m30.5s', 9_930_500],
    ['1500us', 1.5],
    ['1500µs', 1.5],
    ['250000ns', 0.25],
    ['0', 0],
    ['+5s', 5_000],
    ['-5s', -5_000],
    ['1.s', 1_000],
    ['.5s', 500],
  ])('reads %s as %d ms', (text, milliseconds) => {
    expect(parseGoDuration(text)).toBe(milliseconds);
  });

  it.each([
    ['', /invalid duration ""/],
    ['s', /invalid duration "s"/],
    ['.s', /invalid duration ".s"/],
    ['10', /missing unit in duration "10"/],
    ['1h30', /missing unit in duration "1h30"/],
    ['1d', /unknown unit "d" in duration "1d"/],
    ['5 s', /unknown unit " s"/],
    ['1h-5m', /unknown unit "h-" in duration "1h-5m"/], // as Go reads it
    ['3000000h', /too long/],
  ])('rejects %j', (text, message) => {
    expect(() => parseGoDuration(text)).toThrow(message);
  });
});
