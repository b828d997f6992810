/**
 * HTTP/1.1 requests written byte by byte, so that a test can send what no HTTP client would: malformed chunked
 * bodies, bodies shorter than their Content-Length, invalid UTF-8, any method and request target.
 */
import { connect } from 'node:net';

/** How the body goes on the wire. */
export type Framing =
  /** `Content-Length` of the body, then the body. */
  | { kind: 'length' }
  /** Valid chunked encoding, in chunks of `chunkBytes`. */
  | { kind: 'chunked'; chunkBytes: number }
  /** The body's bytes after a chunked header, framed wrong in the way `flaw` says. */
  | { kind: 'bad-chunked'; flaw: 'size-not-hex' | 'size-too-large' | 'no-crlf-after-data' | 'no-last-chunk' | 'negative-size' }
  /** A `Content-Length` larger than the body: the client then stops sending (half-close). */
  | { kind: 'short'; missingBytes: number };

export interface RawRequest {
  method: string;
  /** The request target exactly as sent (path and query). */
  target: string;
  headers: readonly (readonly [string, string])[];
  body: Buffer;
  framing: Framing;
}

export interface RawResponse {
  /** null when the connection closed without a whole status line. */
  status: number | null;
  head: string;
  body: Buffer;
}

function chunk(bytes: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`${bytes.length.toString(16)}\r\n`), bytes, Buffer.from('\r\n')]);
}

/** The request's bytes. */
export function wireBytes({ method, target, headers, body, framing }: RawRequest): Buffer {
  const lines = [`${method} ${target} HTTP/1.1`, 'Host: 127.0.0.1', 'Connection: close', ...headers.map(([name, value]) => `${name}: ${value}`)];
  let framed: Buffer;
  switch (framing.kind) {
    case 'length':
    case 'short':
      lines.push(`Content-Length: ${body.length + (framing.kind === 'short' ? framing.missingBytes : 0)}`);
      framed = body;
      break;
    case 'chunked': {
      lines.push('Transfer-Encoding: chunked');
      const chunks: Buffer[] = [];
      for (let at = 0; at < body.length; at += framing.chunkBytes) chunks.push(chunk(body.subarray(at, at + framing.chunkBytes)));
      framed = Buffer.concat([...chunks, Buffer.from('0\r\n\r\n')]);
      break;
    }
    case 'bad-chunked': {
      lines.push('Transfer-Encoding: chunked');
      const size = body.length.toString(16);
      const flawed: Record<typeof framing.flaw, string | Buffer> = {
        'size-not-hex': Buffer.concat([Buffer.from(`zz${size}\r\n`), body, Buffer.from('\r\n0\r\n\r\n')]),
        'size-too-large': Buffer.concat([Buffer.from(`${(body.length + 16).toString(16)}\r\n`), body, Buffer.from('\r\n0\r\n\r\n')]),
        'no-crlf-after-data': Buffer.concat([Buffer.from(`${size}\r\n`), body, Buffer.from('XX0\r\n\r\n')]),
        'no-last-chunk': Buffer.concat([Buffer.from(`${size}\r\n`), body, Buffer.from('\r\n')]),
        'negative-size': Buffer.concat([Buffer.from(`-${size}\r\n`), body, Buffer.from('\r\n0\r\n\r\n')]),
      };
      framed = Buffer.from(flawed[framing.flaw]);
      break;
    }
  }
  return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), framed]);
}

/**
 * Sends the request on a new connection to `port` on 127.0.0.1 and reads the answer until the server closes the
 * connection (the request says `Connection: close`). An event stream's answer is taken as soon as its head is in (the stream would not end).
 * Rejects when no answer came within `timeoutMs`.
 */
export function send(port: number, request: RawRequest, timeoutMs: number): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    const received: Buffer[] = [];
    let settled = false;
    const finish = (): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      const bytes = Buffer.concat(received);
      const headEnd = bytes.indexOf('\r\n\r\n');
      const head = bytes.subarray(0, headEnd === -1 ? bytes.length : headEnd).toString('latin1');
      const status = /^HTTP\/1\.1 (\d{3}) /.exec(head);
      resolve({ status: status?.[1] === undefined ? null : Number(status[1]), head, body: headEnd === -1 ? Buffer.alloc(0) : bytes.subarray(headEnd + 4) });
    };
    const timer = setTimeout(() => {
      if (settled) return;
      settled = true;
      socket.destroy();
      reject(new Error(`no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on('data', (data: Buffer) => {
      received.push(data);
      const soFar = Buffer.concat(received);
      if (soFar.includes('\r\n\r\n') && /content-type: text\/event-stream/i.test(soFar.toString('latin1'))) finish();
    });
    // The server may close before it read everything it was sent (a refused oversized body): that is an answer.
    socket.on('error', finish);
    socket.on('close', finish);
    // A request whose body never completes is ended from this side (the server sees EOF), a whole one is not: a
    // server drops the requests of a client that half-closes, answered or not.
    const { framing } = request;
    const incomplete = framing.kind === 'short' || (framing.kind === 'bad-chunked' && (framing.flaw === 'size-too-large' || framing.flaw === 'no-last-chunk'));
    if (incomplete) socket.end(wireBytes(request));
    else socket.write(wireBytes(request));
  });
}
