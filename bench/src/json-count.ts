/**
 * Counts the elements of a top-level JSON array as its bytes stream in, without building the text or the
 * values: a receptor list of 200,000 DesiredLRPs is close to 1 GB of JSON, more than one JavaScript string holds.
 * It tracks strings (and escapes) and nesting depth, and counts each value that starts at depth 1.
 */
export class JsonArrayCounter {
  count = 0;
  private depth = 0;
  private inString = false;
  private escaped = false;
  /** At depth 1, between values: the next non-space byte starts an element. */
  private expectValue = false;
  private sawArray = false;
  private bad: string | null = null;

  push(chunk: Uint8Array): void {
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i] as number;
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (c === 0x5c) this.escaped = true;
        else if (c === 0x22) this.inString = false;
        continue;
      }
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) continue;
      if (this.depth === 0) {
        if (c === 0x5b && !this.sawArray) {
          this.sawArray = true;
          this.depth = 1;
          this.expectValue = true;
        } else {
          this.bad ??= `unexpected byte ${String.fromCharCode(c)} outside the array`;
        }
        continue;
      }
      if (this.depth === 1) {
        if (c === 0x5d) {
          this.depth = 0;
          continue;
        }
        if (c === 0x2c) {
          this.expectValue = true;
          continue;
        }
        if (this.expectValue) {
          this.count++;
          this.expectValue = false;
        }
      }
      if (c === 0x22) this.inString = true;
      else if (c === 0x7b || c === 0x5b) this.depth++;
      else if (c === 0x7d || c === 0x5d) this.depth--;
    }
  }

  /** The element count; throws when the bytes were not one complete JSON array. */
  result(): number {
    if (this.bad !== null) throw new Error(`not a JSON array: ${this.bad}`);
    if (!this.sawArray || this.depth !== 0 || this.inString) throw new Error('not a complete JSON array');
    return this.count;
  }
}
