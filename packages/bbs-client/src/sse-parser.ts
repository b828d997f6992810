/**
 * Server-sent events, read incrementally: text chunks in (split anywhere), whole events out. One parser serves
 * the BBS client's subscription and the CLI's `diego events`.
 */

/** One event: its `event:` name and its `id:` (null when absent), its `data:` lines joined by "\n" (null when it
 *  had none). */
export interface SseFrame {
  event: string | null;
  id: string | null;
  data: string | null;
}

/** Fields are dispatched at a blank line; comments (`: heartbeat`) and unknown fields are skipped; CRLF is fine. */
export class SseParser {
  private partial = '';
  private event: string | null = null;
  private id: string | null = null;
  private data: string[] = [];
  private hasFields = false;

  /** The events `chunk` completes; a trailing partial line waits for the next chunk. */
  push(chunk: string): SseFrame[] {
    const lines = (this.partial + chunk).split('\n');
    this.partial = lines.pop() ?? '';
    const frames: SseFrame[] = [];
    for (const rawLine of lines) {
      const line = rawLine.endsWith('\r') ? rawLine.slice(0, -1) : rawLine;
      if (line === '') {
        if (this.hasFields) frames.push({ event: this.event, id: this.id, data: this.data.length > 0 ? this.data.join('\n') : null });
        this.event = null;
        this.id = null;
        this.data = [];
        this.hasFields = false;
        continue;
      }
      const colon = line.indexOf(':');
      const field = colon === -1 ? line : line.slice(0, colon);
      const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'event') this.event = value;
      else if (field === 'id') this.id = value;
      else if (field === 'data') this.data.push(value);
      else continue;
      this.hasFields = true;
    }
    return frames;
  }
}
