/**
 * A streamed HTTP answer read only for the revisions it carries: the events scenario's 100 light subscribers
 * (`id: <revision>.<place>` of the BBS's server-sent events) and its raw twin's etcd watches (`"mod_revision":"N"`
 * of etcd's JSON gateway). At 1,000 events/s to 101 streams the bench reads 100,000 events a second; through
 * node:http (its parser, a readable stream and a string decoder per response) that took ~30 µs of the bench's one
 * thread per event, three cores at that rate, so the bench and not the BBS set the pace. Here each stream is a
 * plain socket: the head is read once, the chunked body is framed by hand (a size line, that many bytes, CRLF),
 * and each data part is searched natively (Buffer.indexOf) for the marker, the digits after it read as a number.
 * No library does this (SSE parsers parse every field and line as strings, which is the cost this avoids).
 */
import { connect, type Socket } from 'node:net';
import { now } from './stats';

export interface RevisionStreamOptions {
  method: 'GET' | 'POST';
  /** A JSON body, for POST. */
  body?: string;
  /** What comes right before each revision, e.g. `id: `. */
  marker: string;
  /** Each revision found, with the time its bytes were read (`now()`). */
  onRevision: (revision: number, at: number) => void;
  /**
   * When `open` resolves: on the 200 head (a BBS subscribes before it answers), or on the first body bytes (etcd's
   * gateway answers first and says `"created":true` once the watch is in place).
   */
  openOn: 'head' | 'first-bytes';
}

const LF = 10;
const ZERO = 48;
const NINE = 57;
const HEAD_END = Buffer.from('\r\n\r\n');
/** Longer than any chunk size line (hex digits, extensions): a longer one means we are not reading chunks. */
const MAX_SIZE_LINE = 256;

/** Finds each marker and the digits after it in a byte stream given in pieces; a marker may span pieces. */
export class RevisionScanner {
  private readonly marker: Buffer;
  private carry: Buffer = Buffer.alloc(0);

  constructor(
    marker: string,
    private readonly onRevision: (revision: number, at: number) => void,
  ) {
    this.marker = Buffer.from(marker, 'latin1');
  }

  push(piece: Buffer, at: number): void {
    const bytes = this.carry.length === 0 ? piece : Buffer.concat([this.carry, piece]);
    let pos = 0;
    for (;;) {
      const found = bytes.indexOf(this.marker, pos);
      if (found < 0) break;
      let i = found + this.marker.length;
      let revision = 0;
      while (i < bytes.length && (bytes[i] as number) >= ZERO && (bytes[i] as number) <= NINE) {
        revision = revision * 10 + ((bytes[i] as number) - ZERO);
        i++;
      }
      if (i === bytes.length) {
        // The digits may go on in the next piece: keep the marker and read it again then.
        this.carry = Buffer.from(bytes.subarray(found));
        return;
      }
      if (i > found + this.marker.length) this.onRevision(revision, at);
      pos = i;
    }
    // A marker cut at the end of this piece: keep what could be its start (too short to hold a whole one).
    const keep = Math.min(this.marker.length - 1, bytes.length - pos);
    this.carry = Buffer.from(bytes.subarray(bytes.length - keep));
  }
}

/**
 * HTTP/1.1 chunked transfer coding, undone piece by piece without copying the data: `onData` gets each run of
 * body bytes as a view of the socket's buffer.
 */
export class ChunkedBody {
  /** Bytes of the current chunk still to come; -1 while reading a size line, -2 while reading the CRLF after data. */
  private remaining = -1;
  private sizeLine = '';
  private crlfLeft = 0;
  ended = false;

  constructor(private readonly onData: (data: Buffer) => void) {}

  push(bytes: Buffer): void {
    let pos = 0;
    while (pos < bytes.length && !this.ended) {
      if (this.crlfLeft > 0) {
        const skip = Math.min(this.crlfLeft, bytes.length - pos);
        this.crlfLeft -= skip;
        pos += skip;
        if (this.crlfLeft === 0) this.remaining = -1;
      } else if (this.remaining === -1) {
        const lf = bytes.indexOf(LF, pos);
        const end = lf < 0 ? bytes.length : lf;
        this.sizeLine += bytes.toString('latin1', pos, end);
        if (this.sizeLine.length > MAX_SIZE_LINE) throw new Error('not a chunked body: a chunk size line of more than 256 bytes');
        pos = end;
        if (lf < 0) break;
        pos = lf + 1;
        const digits = /^[0-9a-fA-F]+/.exec(this.sizeLine);
        if (digits === null) throw new Error(`not a chunked body: chunk size line ${JSON.stringify(this.sizeLine)}`);
        const size = Number.parseInt(digits[0], 16);
        this.sizeLine = '';
        if (size === 0) this.ended = true;
        else this.remaining = size;
      } else {
        const take = Math.min(this.remaining, bytes.length - pos);
        this.onData(bytes.subarray(pos, pos + take));
        this.remaining -= take;
        pos += take;
        if (this.remaining === 0) this.crlfLeft = 2;
      }
    }
  }
}

/** One streamed answer on a socket of its own; `close` ends it. */
export class RevisionStream {
  private failure: string | null = null;
  private closed = false;
  private constructor(private readonly socket: Socket) {}

  /** Resolves once the answer's head says 200 and its first body bytes have come (a watch is then in place). */
  static open(url: string, options: RevisionStreamOptions): Promise<RevisionStream> {
    const target = new URL(url);
    return new Promise((resolve, reject) => {
      const socket = connect(Number(target.port), target.hostname);
      socket.setNoDelay(true);
      const stream = new RevisionStream(socket);
      const scanner = new RevisionScanner(options.marker, options.onRevision);
      let readAt = 0;
      const body = new ChunkedBody((data) => scanner.push(data, readAt));
      let head: Buffer | null = Buffer.alloc(0);
      let opened = false;
      const fail = (message: string): void => {
        stream.failure ??= message;
        if (!opened) reject(new Error(`${options.method} ${url}: ${message}`));
        socket.destroy();
      };
      socket.on('error', (err) => fail(err.message));
      socket.on('close', () => {
        if (!stream.closed) stream.failure ??= 'the stream ended';
        if (!opened) reject(new Error(`${options.method} ${url}: closed before answering`));
      });
      socket.on('data', (bytes: Buffer) => {
        readAt = now();
        try {
          let rest = bytes;
          if (head !== null) {
            head = Buffer.concat([head, bytes]);
            const end = head.indexOf(HEAD_END);
            if (end < 0) return;
            const text = head.toString('latin1', 0, end);
            rest = head.subarray(end + HEAD_END.length);
            head = null;
            const status = /^HTTP\/1\.1 (\d{3})/.exec(text)?.[1];
            if (status !== '200') throw new Error(`answered ${status ?? text.split('\r\n')[0] ?? ''}`);
            if (!/^transfer-encoding:\s*chunked\s*$/im.test(text)) throw new Error('answered without chunked transfer coding');
          }
          if (rest.length > 0) body.push(rest);
          if (body.ended) {
            stream.failure ??= 'the stream ended';
            socket.destroy();
          }
          if (!opened && (options.openOn === 'head' || rest.length > 0)) {
            opened = true;
            resolve(stream);
          }
        } catch (err) {
          fail(err instanceof Error ? err.message : String(err));
        }
      });
      const payload = options.body ?? '';
      socket.write(
        `${options.method} ${target.pathname}${target.search} HTTP/1.1\r\nHost: ${target.host}\r\n` +
          (options.method === 'POST' ? `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(payload)}\r\n` : '') +
          `\r\n${payload}`,
      );
    });
  }

  /** Why the stream failed or ended before `close`; null while it runs. */
  get error(): string | null {
    return this.failure;
  }

  close(): void {
    this.closed = true;
    this.socket.destroy();
  }
}
