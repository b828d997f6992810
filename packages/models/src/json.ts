/**
 * JSON with exact int64s. Nanosecond timestamps (`since`, `created_at`) exceed 2^53, so a plain
 * JSON.parse would round them; here they come back as `bigint` and are written with every digit.
 */
import { randomUUID } from 'node:crypto';

/** A run of 16 digits: the only texts that can hold an integer a double may not represent exactly. */
const LONG_DIGIT_RUN = /\d{16}/;

/**
 * One token at a time, outside strings: a whole JSON string (skipped), or a number literal. Matching whole
 * numbers keeps the digits after a `.` or an `e` from being taken for an integer of their own.
 */
const STRING_OR_NUMBER = /"(?:[^"\\]|\\[\s\S])*"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/g;

/** An integer literal of 16+ digits, as JSON writes it (no leading zero, no fraction, no exponent). */
const LONG_INTEGER = /^-?[1-9]\d{15,}$/;

/**
 * `JSON.parse`, except that integer literals of 16 or more digits (no fraction, no exponent) come back as
 * exact `bigint`s. Texts without such a literal take the native path unchanged.
 *
 * @throws SyntaxError with JSON.parse's message (positions refer to `text`) when `text` is not JSON.
 * @example
 *   parseJson('{"since":1441087965748636277}') // { since: 1441087965748636277n }
 */
export function parseJson(text: string): unknown {
  if (!LONG_DIGIT_RUN.test(text)) return JSON.parse(text);

  // Swap each long integer for a marker string no input can forge (a fresh nonce per call), then turn
  // the markers back into bigints as the native parser builds the value.
  const marker = `bigint-${randomUUID()}:`;
  let swapped = false;
  const prepared = text.replace(STRING_OR_NUMBER, (token) => {
    if (!LONG_INTEGER.test(token)) return token;
    swapped = true;
    return `"${marker}${token}"`;
  });
  if (!swapped) return JSON.parse(text);

  try {
    return JSON.parse(prepared, function revive(this: unknown, key: string, value: unknown): unknown {
      // A number where a key belongs is not JSON, though its marker string would be a valid key.
      if (key.startsWith(marker)) throw new SyntaxError(`Unexpected number in JSON: ${key.slice(marker.length)}`);
      return typeof value === 'string' && value.startsWith(marker) ? BigInt(value.slice(marker.length)) : value;
    });
  } catch (err) {
    // Report the error against the text the caller gave (the markers shift positions and show a nonce).
    JSON.parse(text);
    throw err;
  }
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
