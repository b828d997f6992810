/**
 * Go durations (`time.ParseDuration`): a sequence of decimal numbers, each with an optional fraction and a
 * unit, e.g. `500ms`, `30s`, `1.5h`, `1h30m`; a lone `0` needs no unit. Diego's operators write timeouts
 * this way, so the CLI accepts exactly that grammar.
 */

const NANOSECONDS_PER_UNIT: Readonly<Record<string, bigint>> = {
  ns: 1n,
  us: 1_000n,
  'µs': 1_000n, // U+00B5 micro sign
  'μs': 1_000n, // U+03BC Greek mu
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};

// Go keeps a duration in an int64 of nanoseconds; anything larger is rejected there, so here too.
const MAX_NANOSECONDS = 2n ** 63n - 1n;

const EXAMPLES = 'write a Go duration such as 500ms, 30s, 2m or 1h30m';

/**
 * Parses a Go duration into milliseconds (fractional below one millisecond).
 *
 * @example parseGoDuration('1h30m') // 5_400_000
 * @throws Error with a message naming the text and what is wrong with it.
 */
export function parseGoDuration(text: string): number {
  let rest = text;
  let negative = false;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    negative = rest.startsWith('-');
    rest = rest.slice(1);
  }
  if (rest === '0') return 0;
  if (rest === '') throw new Error(`invalid duration "${text}" (${EXAMPLES})`);

  let totalNanoseconds = 0n;
  while (rest !== '') {
    const component = /^(\d*)(?:\.(\d*))?/.exec(rest);
    const whole = component?.[1] ?? '';
    const fraction = component?.[2] ?? '';
    if (whole === '' && fraction === '') throw new Error(`invalid duration "${text}" (${EXAMPLES})`);
    rest = rest.slice(component?.[0].length ?? 0);

    const unit = /^[^\d.]+/.exec(rest)?.[0];
    if (unit === undefined) throw new Error(`missing unit in duration "${text}" (${EXAMPLES})`);
    const unitNanoseconds = NANOSECONDS_PER_UNIT[unit];
    if (unitNanoseconds === undefined) {
      throw new Error(`unknown unit "${unit}" in duration "${text}" (units: ns, us, ms, s, m, h)`);
    }
    rest = rest.slice(unit.length);

    // Exact arithmetic: the fraction is scaled as an integer, digits below a nanosecond are dropped (as Go does).
    const fractionScale = 10n ** BigInt(fraction.length);
    totalNanoseconds += BigInt(whole || '0') * unitNanoseconds + (BigInt(fraction || '0') * unitNanoseconds) / fractionScale;
    if (totalNanoseconds > MAX_NANOSECONDS) throw new Error(`duration "${text}" is too long (at most about 2562047h)`);
  }
  const milliseconds = Number(totalNanoseconds) / 1e6;
  return negative ? -milliseconds : milliseconds;
}
