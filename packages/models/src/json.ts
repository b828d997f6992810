/**
 * JSON with exact int64s. Nanosecond timestamps (`since`, `created_at`) exceed 2^53, so a plain
 * JSON.parse would round them; here they come back as `bigint` and are written with every digit.
 */
import { randomUUID } from 'node:crypto';

/**
 * How deep request JSON may nest (arrays and objects). V8's JSON.parse runs out of stack a few thousand levels
 * down, with a RangeError that says nothing about the input; no Diego request comes near this (the deepest are
 * actions, at most three levels each: see MAX_ACTION_DEPTH).
 */
export const MAX_JSON_DEPTH = 128;

/** Runs of 16+ digits: only texts with one can hold an integer a double may not represent exactly. */
const LONG_DIGIT_RUNS = /\d{16,}/g;

/** A JSON object (not an array, not null) as JSON.parse makes it. */
export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * `JSON.parse`, except that integer literals of 16 or more digits (no fraction, no exponent) come back as
 * exact `bigint`s. Texts without such a literal take the native path unchanged.
 *
 * With `maxDepth`, text whose arrays and objects nest deeper is refused before it is parsed.
 *
 * @throws SyntaxError with JSON.parse's message (positions refer to `text`) when `text` is not JSON, or
 *   `JSON nested deeper than <maxDepth>`.
 * @example
 *   parseJson('{"since":1441087965748636277}') // { since: 1441087965748636277n }
 */
export function parseJson(text: string, { maxDepth }: { maxDepth?: number } = {}): unknown {
  if (maxDepth !== undefined) assertNestingWithin(text, maxDepth);
  LONG_DIGIT_RUNS.lastIndex = 0;
  const firstRun = LONG_DIGIT_RUNS.exec(text);
  if (firstRun === null) return JSON.parse(text);

  // Swap each long integer for a marker string no input can forge (a fresh nonce per call), let the native
  // parser build the value, then turn the markers back into bigints.
  const marker = `bigint-${randomUUID()}:`;
  const { prepared, swapped } = swapLongIntegers(text, firstRun, marker);
  if (swapped === 0) return JSON.parse(text);
  let value: unknown;
  try {
    value = JSON.parse(prepared);
  } catch (err) {
    // Report the error against the text the caller gave (the markers shift positions and show a nonce).
    JSON.parse(text);
    throw err;
  }
  return restoreLongIntegers(value, marker, { remaining: swapped });
}

/**
 * Quotes every long integer literal outside strings as `"<marker><digits>"`. Only quotes and digit runs are
 * looked at (with native searches), so texts of mostly strings cost little. Runs that are part of a fraction,
 * an exponent or a key (which JSON.parse must reject), or have a leading zero, are left as they are.
 */
function swapLongIntegers(text: string, firstRun: RegExpExecArray, marker: string): { prepared: string; swapped: number } {
  let prepared = '';
  let copied = 0;
  let swapped = 0;
  let inString = false;
  let quoteScan = 0;
  // LONG_DIGIT_RUNS continues from where `firstRun` was found.
  for (let run: RegExpExecArray | null = firstRun; run !== null; run = LONG_DIGIT_RUNS.exec(text)) {
    // Bring the in-string state up to the run: toggle on every unescaped quote before it.
    for (let q = text.indexOf('"', quoteScan); q !== -1 && q < run.index; q = text.indexOf('"', quoteScan)) {
      if (!isEscaped(text, q)) inString = !inString;
      quoteScan = q + 1;
    }
    if (inString || text.charCodeAt(run.index) === ZERO) continue;
    const start = text.charCodeAt(run.index - 1) === MINUS ? run.index - 1 : run.index;
    const end = run.index + run[0].length;
    if (start > 0 && NUMBER_PART.test(text.charAt(start - 1))) continue;
    if (FRACTION_OR_EXPONENT.test(text.charAt(end)) || isFollowedByColon(text, end)) continue;
    prepared += `${text.slice(copied, start)}"${marker}${text.slice(start, end)}"`;
    copied = end;
    swapped++;
  }
  return { prepared: prepared + text.slice(copied), swapped };
}

const OPEN_BRACKET = 0x5b;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACKET = 0x5d;
const CLOSE_BRACE = 0x7d;
const QUOTE = 0x22;

/** One pass over the text, brackets outside strings counted; malformed text is left for JSON.parse to refuse. */
function assertNestingWithin(text: string, maxDepth: number): void {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (inString) {
      if (code === BACKSLASH) i++;
      else if (code === QUOTE) inString = false;
    } else if (code === QUOTE) {
      inString = true;
    } else if (code === OPEN_BRACKET || code === OPEN_BRACE) {
      if (++depth > maxDepth) throw new SyntaxError(`JSON nested deeper than ${maxDepth}`);
    } else if (code === CLOSE_BRACKET || code === CLOSE_BRACE) {
      depth--;
    }
  }
}

const ZERO = 0x30;
const MINUS = 0x2d;
const BACKSLASH = 0x5c;
/** A character that makes the digits after it part of a longer number (a fraction or an exponent). */
const NUMBER_PART = /[\d.eE+-]/;
const FRACTION_OR_EXPONENT = /[.eE]/;
const WHITESPACE = /[ \t\n\r]/;

/** A quote preceded by an odd number of backslashes is escaped. */
function isEscaped(text: string, quote: number): boolean {
  let backslashes = 0;
  while (text.charCodeAt(quote - 1 - backslashes) === BACKSLASH) backslashes++;
  return backslashes % 2 === 1;
}

function isFollowedByColon(text: string, from: number): boolean {
  let i = from;
  while (WHITESPACE.test(text.charAt(i))) i++;
  return text.charAt(i) === ':';
}

/** Replaces the marker strings in place, and stops walking once all of them are found. */
function restoreLongIntegers(value: unknown, marker: string, left: { remaining: number }): unknown {
  if (typeof value === 'string') {
    if (!value.startsWith(marker)) return value;
    left.remaining--;
    return BigInt(value.slice(marker.length));
  }
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length && left.remaining > 0; i++) value[i] = restoreLongIntegers(value[i], marker, left);
    return value;
  }
  // for-in allocates nothing; JSON.parse objects have only own, plain keys.
  for (const key in value) {
    if (left.remaining === 0) break;
    const item: unknown = Reflect.get(value, key);
    if (typeof item !== 'object' && typeof item !== 'string') continue;
    const restored = restoreLongIntegers(item, marker, left);
    // defineProperty, not assignment: a key named "__proto__" must stay a plain property.
    if (restored !== item) Object.defineProperty(value, key, { value: restored, writable: true, enumerable: true, configurable: true });
  }
  return value;
}

/** The characters Go's encoding/json escapes inside strings (HTML-safe output). */
const GO_ESCAPED = /[<>&\u2028\u2029]/g;
const GO_ESCAPES: Readonly<Record<string, string>> = {
  '<': '\\u003c',
  '>': '\\u003e',
  '&': '\\u0026',
  '\u2028': '\\u2028',
  '\u2029': '\\u2029',
};

/** Go's escaping of `<`, `>`, `&`, U+2028 and U+2029 applied to JSON text (they only occur inside strings). */
export function goEscapeJson(json: string): string {
  return json.replace(GO_ESCAPED, (ch) => GO_ESCAPES[ch] ?? ch);
}

/**
 * `JSON.stringify` in Go's compact style: `bigint` is written as a plain integer with every digit, and
 * `<`, `>`, `&` inside strings as `\u003c`, `\u003e`, `\u0026` (as encoding/json does).
 *
 * @example
 *   stringifyJson({ since: 1441087965748636277n, url: 'a&b' }) // '{"since":1441087965748636277,"url":"a\u0026b"}'
 */
export function stringifyJson(value: unknown): string {
  let marker: string | undefined;
  const json: string | undefined = JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v !== 'bigint') return v;
    marker ??= `bigint-${randomUUID()}:`;
    return `${marker}${v.toString()}`;
  });
  if (json === undefined) throw new TypeError(`cannot serialise ${typeof value} as JSON`);
  const exact = marker === undefined ? json : json.split(`"${marker}`).map(unquoteDigits).join('');
  return goEscapeJson(exact);
}

/** After a marker split, each piece but the first starts with `<digits>"`: drop that closing quote. */
function unquoteDigits(piece: string, i: number): string {
  if (i === 0) return piece;
  const end = piece.indexOf('"');
  return piece.slice(0, end) + piece.slice(end + 1);
}
