/** A server-sent-events client that reads the wire as it comes, to check the receptor's framing (§9.2). */
import { request, type IncomingMessage } from 'node:http';

export interface SseEvent {
  id: string;
  event: string;
  /** The `data:` lines, in order (the receptor sends exactly one). */
  dataLines: string[];
}

export class SseClient {
  private buffer = '';
  private readonly events: SseEvent[] = [];
  private waiting: (() => void) | null = null;
  private ended = false;

  private constructor(readonly response: IncomingMessage) {
    response.setEncoding('utf8');
    response.on('data', (chunk: string) => {
      this.buffer += chunk;
      this.parse();
      this.wake();
    });
    response.on('close', () => {
      this.ended = true;
      this.wake();
    });
  }

  /** Resolves once the response headers arrived (before any event: the receptor flushes them at once). */
  static connect(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
    return new Promise((resolve, reject) => {
      const req = request(url, { headers: { Accept: 'text/event-stream', ...headers } }, (res) => resolve(new SseClient(res)));
      req.on('error', reject);
      req.end();
    });
  }

  /** The next event `matches` accepts, skipping others; rejects at the deadline or when the stream ends. */
  async next(matches: (event: SseEvent) => boolean = () => true, timeoutMs = 10000): Promise<SseEvent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const event = this.events.shift();
      if (event !== undefined) {
        if (matches(event)) return event;
        continue;
      }
      if (this.ended) throw new Error('the event stream ended');
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('no matching event before the deadline');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiting = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  /** Every event received so far and not yet taken. */
  pending(): SseEvent[] {
    return [...this.events];
  }

  get isEnded(): boolean {
    return this.ended;
  }

  close(): void {
    this.response.destroy();
  }

  private wake(): void {
    const waiting = this.waiting;
    this.waiting = null;
    waiting?.();
  }

  private parse(): void {
    for (let end = this.buffer.indexOf('\n\n'); end !== -1; end = this.buffer.indexOf('\n\n')) {
      const block = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      const event: SseEvent = { id: '', event: '', dataLines: [] };
      for (const line of block.split('\n')) {
        const colon = line.indexOf(': ');
        const [field, value] = colon === -1 ? [line, ''] : [line.slice(0, colon), line.slice(colon + 2)];
        if (field === 'id') event.id = value;
        else if (field === 'event') event.event = value;
        else if (field === 'data') event.dataLines.push(value);
        else throw new Error(`unexpected SSE line: ${line}`);
      }
      this.events.push(event);
    }
  }
}
