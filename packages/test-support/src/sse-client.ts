/**
 * A server-sent-events client that reads the wire as it comes, for tests of the BBS's and the receptor's event
 * streams: frames exactly as written (`id:`, `event:`, each `data:` line), comment lines (heartbeats) apart, and
 * whether the server ended the stream.
 */
import { request, type ClientRequest, type IncomingMessage } from 'node:http';

export interface SseEvent {
  id: string;
  event: string;
  /** The `data:` lines, in order. */
  dataLines: string[];
}

export class SseClient {
  /** Comment lines (without the colon), in order: the heartbeats. */
  readonly comments: string[] = [];
  private buffer = '';
  private readonly events: SseEvent[] = [];
  private waiting: (() => void) | null = null;
  private ended = false;
  private completed = false;

  private constructor(
    private readonly req: ClientRequest,
    readonly response: IncomingMessage,
  ) {
    response.setEncoding('utf8');
    response.on('data', (chunk: string) => {
      this.buffer += chunk;
      this.parse();
      this.wake();
    });
    response.on('end', () => {
      this.completed = true;
    });
    response.on('close', () => {
      this.ended = true;
      this.wake();
    });
  }

  /** Resolves once the response headers arrived (the servers flush them before any event). */
  static connect(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
    return new Promise((resolve, reject) => {
      const req = request(url, { headers: { Accept: 'text/event-stream', ...headers } }, (res) => resolve(new SseClient(req, res)));
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
      await this.until(deadline, 'no matching event before the deadline');
    }
  }

  /** Every event until the server ends the stream (rejects at the deadline, or when the connection breaks). */
  async rest(timeoutMs = 10000): Promise<SseEvent[]> {
    const deadline = Date.now() + timeoutMs;
    while (!this.ended) await this.until(deadline, 'the stream did not end before the deadline');
    if (!this.completed) throw new Error('the connection broke instead of the stream ending');
    return this.events.splice(0);
  }

  /** Waits for the next heartbeat comment (rejects at the deadline or when the stream ends). */
  async nextComment(timeoutMs = 10000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    const seen = this.comments.length;
    while (this.comments.length === seen) {
      if (this.ended) throw new Error('the event stream ended');
      await this.until(deadline, 'no comment before the deadline');
    }
    return this.comments[seen] ?? '';
  }

  /** Every event received so far and not yet taken. */
  pending(): SseEvent[] {
    return [...this.events];
  }

  /** The connection is over: the server ended the stream, or it broke. */
  get isEnded(): boolean {
    return this.ended;
  }

  /** Stops reading (the server's writes back up, as a slow client's do) until `resume()`. */
  pause(): void {
    this.response.pause();
  }

  resume(): void {
    this.response.resume();
  }

  close(): void {
    this.req.destroy();
    this.response.destroy();
  }

  private async until(deadline: number, message: string): Promise<void> {
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(message);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, left);
      this.waiting = () => {
        clearTimeout(timer);
        resolve();
      };
    });
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
      let fields = 0;
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) {
          this.comments.push(line.slice(1).trim());
          continue;
        }
        fields += 1;
        const colon = line.indexOf(': ');
        const [field, value] = colon === -1 ? [line, ''] : [line.slice(0, colon), line.slice(colon + 2)];
        if (field === 'id') event.id = value;
        else if (field === 'event') event.event = value;
        else if (field === 'data') event.dataLines.push(value);
        else throw new Error(`unexpected SSE line: ${line}`);
      }
      if (fields > 0) this.events.push(event);
    }
  }
}
