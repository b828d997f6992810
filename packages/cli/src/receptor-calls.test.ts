import { serverSentEvents, type ServerSentEvent } from './receptor-calls';

async function* chunksOf(...chunks: string[]): AsyncGenerator<string> {
  for (const chunk of chunks) yield chunk;
}

async function parse(...chunks: string[]): Promise<ServerSentEvent[]> {
  const events: ServerSentEvent[] = [];
  for await (const event of serverSentEvents(chunksOf(...chunks))) events.push(event);
  return events;
}

describe('serverSentEvents', () => {
  it('reads the receptor events, split anywhere across chunks, skipping heartbeats', async () => {
    const stream = 'id: 7\nevent: desired_lrp_created\ndata: {"desired_lrp":{}}\n\n: heartbeat\n\nid: 8\nevent: actual_lrp_removed\ndata: {"a":1}\n\n';
    const expected = [
      { type: 'desired_lrp_created', id: '7', data: '{"desired_lrp":{}}' },
      { type: 'actual_lrp_removed', id: '8', data: '{"a":1}' },
    ];
    expect(await parse(stream)).toEqual(expected);
    expect(await parse(...stream.split(''))).toEqual(expected);
  });

  it('reads CRLF lines, joins data lines, and gives an event without id: (compacted) a null id', async () => {
    expect(await parse('event: compacted\r\ndata: 41\r\n\r\ndata: a\ndata: b\n\n')).toEqual([
      { type: 'compacted', id: null, data: '41' },
      { type: 'message', id: null, data: 'a\nb' },
    ]);
  });

  it('drops an event the stream ended in the middle of', async () => {
    expect(await parse('id: 9\nevent: actual_lrp_changed\ndata: {}\n')).toEqual([]);
  });
});
