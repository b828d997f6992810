import { MAX_JSON_DEPTH, parseJson, stringifyJson } from './json';

describe('parseJson', () => {
  it('refuses text nested deeper than maxDepth before parsing it, brackets inside strings not counted', () => {
    const nested = (depth: number): string => `${'['.repeat(depth)}${']'.repeat(depth)}`;
    expect(() => parseJson(nested(MAX_JSON_DEPTH), { maxDepth: MAX_JSON_DEPTH })).not.toThrow();
    expect(() => parseJson(nested(MAX_JSON_DEPTH + 1), { maxDepth: MAX_JSON_DEPTH })).toThrow(
      new SyntaxError(`JSON nested deeper than ${MAX_JSON_DEPTH}`),
    );
    expect(() => parseJson(nested(100_000), { maxDepth: MAX_JSON_DEPTH })).toThrow(SyntaxError);
    expect(parseJson(`{"a":"${'[{'.repeat(200)}\\\"["}`, { maxDepth: 2 })).toEqual({ a: `${'[{'.repeat(200)}"[` });
  });

  it('returns integers of 16+ digits as exact bigints, everything else as JSON.parse does', () => {
    const text =
      '{"since":1441087965748636277,"max":9223372036854775807,"min":-9223372036854775808,' +
      '"sixteen":1000000000000000,"small":12,"fraction":1.1234567890123456789,"exponent":1e1234567890123456,' +
      '"digits_in_string":"1441087965748636277 \\"9223372036854775807\\"","list":[12345678901234567,-1]}';

    expect(parseJson(text)).toEqual({
      since: 1441087965748636277n,
      max: 9223372036854775807n,
      min: -9223372036854775808n,
      sixteen: 1000000000000000n,
      small: 12,
      fraction: 1.1234567890123457,
      exponent: Infinity,
      digits_in_string: '1441087965748636277 "9223372036854775807"',
      list: [12345678901234567n, -1],
    });
  });

  it('tells strings from numbers around escaped quotes and backslashes', () => {
    expect(parseJson('["a\\\\",1234567890123456789,"b\\"1234567890123456789"]')).toEqual([
      'a\\',
      1234567890123456789n,
      'b"1234567890123456789',
    ]);
  });

  it('keeps a long integer under a "__proto__" key as a plain property', () => {
    const value = parseJson('{"__proto__":1234567890123456789}');
    expect(Object.getOwnPropertyDescriptor(value, '__proto__')?.value).toBe(1234567890123456789n);
  });

  it('takes the native path for texts without long integers', () => {
    expect(parseJson('{"a":[1,2.5,"x",null,true]}')).toEqual({ a: [1, 2.5, 'x', null, true] });
  });

  it.each([
    ['a long integer as a key', '{1234567890123456789:1}'],
    ['a long integer as a later key', '{"a":1, 1234567890123456789 :1}'],
    ['a leading zero', '{"a":01234567890123456}'],
    ['an unterminated array', '[1234567890123456789'],
    ['an unterminated string', '{"a":"1234567890123456789}'],
    ['an empty text', ''],
    ['trailing garbage', '1234567890123456789 x'],
  ])('throws a SyntaxError on %s', (_what, text) => {
    expect(() => parseJson(text)).toThrow(SyntaxError);
  });

  it('reports errors without its internal markers', () => {
    expect(() => parseJson('[1234567890123456789,]')).toThrow(/^(?!.*bigint-).*$/s);
  });
});

describe('stringifyJson', () => {
  it('writes bigints as plain integers with every digit', () => {
    expect(stringifyJson({ since: 1441087965748636277n, list: [9223372036854775807n, -9223372036854775808n, 0n] })).toBe(
      '{"since":1441087965748636277,"list":[9223372036854775807,-9223372036854775808,0]}',
    );
  });

  it('escapes <, >, & and line separators inside strings as Go does', () => {
    expect(stringifyJson({ 'a<b': 'x&y>z\u2028' })).toBe('{"a\\u003cb":"x\\u0026y\\u003ez\\u2028"}');
  });

  it('round-trips through parseJson exactly', () => {
    const value = { since: 1441088706589340423n, nested: { ns: [30000000000, 9007199254740993n] }, s: 'a"b\\c' };
    expect(parseJson(stringifyJson(value))).toEqual(value);
  });

  it('leaves strings that look like its markers alone', () => {
    expect(stringifyJson({ a: 'bigint-x:1', b: 1n })).toBe('{"a":"bigint-x:1","b":1}');
  });
});
