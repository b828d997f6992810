import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { eventually } from '@diego/test-support';
import { ChunkedBody, RevisionScanner, RevisionStream } from './revision-stream';

function scanAll(marker: string, pieces: string[]): number[] {
  const found: number[] = [];
  const scanner = new RevisionScanner(marker, (revision) => found.push(revision));
  for (const piece of pieces) scanner.push(Buffer.from(piece, 'latin1'), 0);
  return found;
}

/** Every way of cutting `text` in two, and in single bytes. */
function cuts(text: string): string[][] {
  const all = Array.from({ length: text.length + 1 }, (_, i) => [text.slice(0, i), text.slice(i)]);
  all.push([...text]);
  return all;
}

const frame = (id: string): string => `id: ${id}\nevent: actual_lrp_changed\ndata: CgQIARABGgZjZWxsLTA=\n\n`;

describe('RevisionScanner', () => {
  it('finds each revision after the marker, however the bytes are cut', () => {
    const stream = `: heartbeat\n\n${frame('41.0')}${frame('42.0')}${frame('1234567')}`;
    for (const pieces of cuts(stream)) expect(scanAll('id: ', pieces)).toEqual([41, 42, 1234567]);
  });

  it("reads etcd's JSON watch answers by their mod_revision, not the header's or the create revision", () => {
    const answer = '{"result":{"header":{"revision":"9"},"events":[{"kv":{"key":"L2E=","create_revision":"2","mod_revision":"7","version":"3"}}]}}\n';
    for (const pieces of cuts(answer)) expect(scanAll('"mod_revision":"', pieces)).toEqual([7]);
  });

  it('ignores a marker with no digits after it', () => {
    expect(scanAll('id: ', ['id: x\n', frame('5.1')])).toEqual([5]);
  });
});

describe('ChunkedBody', () => {
  const undo = (pieces: string[]): { data: string; ended: boolean } => {
    let data = '';
    const body = new ChunkedBody((bytes) => (data += bytes.toString('latin1')));
    for (const piece of pieces) body.push(Buffer.from(piece, 'latin1'));
    return { data, ended: body.ended };
  };

  it('gives the data of every chunk, however the bytes are cut, and notes the last chunk', () => {
    const wire = '5\r\nhello\r\n1a;ext=1\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\n\r\n';
    for (const pieces of cuts(wire)) expect(undo(pieces)).toEqual({ data: 'helloabcdefghijklmnopqrstuvwxyz', ended: true });
    expect(undo(['3\r\nabc\r\n'])).toEqual({ data: 'abc', ended: false });
  });

  it('refuses what is not chunked', () => {
    expect(() => undo(['{"not":"chunked"}\r\n'])).toThrow(/not a chunked body/);
    expect(() => undo(['f'.repeat(300)])).toThrow(/more than 256 bytes/);
  });
});

describe('RevisionStream against a real server', () => {
  let server: Server;
  let respond: (res: ServerResponse) => void;
  let url: string;

  beforeEach(async () => {
    server = createServer((_req, res) => respond(res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/events`;
  });

  afterEach(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('sees every revision once, in order, from frames written whole, in batches and cut mid-line', async () => {
    let stream: ServerResponse | null = null;
    respond = (res) => {
      res.writeHead(200, { 'Content-Type': 'text/event-stream' });
      res.flushHeaders();
      stream = res;
    };
    const seen: number[] = [];
    const sub = await RevisionStream.open(url, { method: 'GET', marker: 'id: ', openOn: 'head', onRevision: (revision) => seen.push(revision) });
    const res = stream as ServerResponse | null;
    if (res === null) throw new Error('the server had no request');
    const expected: number[] = [];
    let wire = '';
    for (let r = 100; r < 400; r++) {
      expected.push(r);
      wire += frame(`${r}.0`);
    }
    // Whole frames, then a batch of many, then pieces of 7 bytes (ids cut across chunks).
    const whole = wire.slice(0, wire.indexOf('id: 150'));
    for (const part of whole.split(/(?<=\n\n)/)) res.write(part);
    const batchEnd = wire.indexOf('id: 300');
    res.write(wire.slice(whole.length, batchEnd));
    for (let i = batchEnd; i < wire.length; i += 7) res.write(wire.slice(i, i + 7));
    await eventually(async () => seen.length, (n) => n >= expected.length);
    expect(seen).toEqual(expected);
    expect(sub.error).toBeNull();
    res.end();
    await eventually(async () => sub.error, (e) => e === 'the stream ended');
    expect(seen).toEqual(expected);
    sub.close();
  });

  it('with openOn first-bytes, opens once the body has begun; refuses a non-200 answer', async () => {
    respond = (res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.write('{"result":{"created":true}}\n');
      res.write('{"result":{"events":[{"kv":{"mod_revision":"12"}}]}}\n');
    };
    const seen: number[] = [];
    const watch = await RevisionStream.open(url, { method: 'POST', body: '{"create_request":{}}', marker: '"mod_revision":"', openOn: 'first-bytes', onRevision: (revision) => seen.push(revision) });
    await eventually(async () => seen, (s) => s.length === 1);
    expect(seen).toEqual([12]);
    watch.close();

    respond = (res) => res.writeHead(503).end('busy');
    await expect(RevisionStream.open(url, { method: 'GET', marker: 'id: ', openOn: 'head', onRevision: () => undefined })).rejects.toThrow(/answered 503/);
  });
});
