// CONTRACT STUB (models helper implements): exact JSON for int64.
/** JSON.parse, but integer literals beyond 2^53 (nanosecond timestamps) come back as exact `bigint`s. */
export function parseJson(text: string): unknown {
  throw new Error(`not implemented: parseJson(${text.length})`);
}
/** JSON.stringify, but `bigint` values are written as plain JSON integers with every digit. */
export function stringifyJson(value: unknown): string {
  throw new Error(`not implemented: stringifyJson(${typeof value})`);
}
