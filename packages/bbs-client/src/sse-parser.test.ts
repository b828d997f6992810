import { SseParser } from './sse-parser';

describe('SseParser', () => {
  it('gives whole events from chunks split anywhere, skipping comments, with CRLF and multi-line data', () => {
    const parser = new SseParser();
    const wire = ': heartbeat\n\nid: 7\nevent: desired_lrp_created\ndata: a\r\ndata: b\r\n\r\nevent: compacted\ndata: 42\n\nid: 9\n';
    const frames = [...wire].flatMap((character) => parser.push(character));
    expect(frames).toEqual([
      { event: 'desired_lrp_created', id: '7', data: 'a\nb' },
      { event: 'compacted', id: null, data: '42' },
    ]);
    // The last event is not dispatched until its blank line comes.
    expect(parser.push('event: x\n\n')).toEqual([{ event: 'x', id: '9', data: null }]);
  });
});
