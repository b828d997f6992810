/**
 * The validators take a request's missing message fields as null (Go's nil), while the store takes the zero
 * value the codecs fill in. `ifPresent(wire, model)` hands the validator the model only when the wire had it.
 */
export function ifPresent<T>(wire: object | null | undefined, model: T): T | null {
  return wire === null || wire === undefined ? null : model;
}
