import { isBbsError } from '@diego/models';
import { eventId, parseEventId, resumeEventId } from './event-stream';

function refusal(run: () => unknown): string {
  try {
    run();
  } catch (err) {
    if (isBbsError(err, 'InvalidRequest')) return err.message;
    throw err;
  }
  throw new Error('expected InvalidRequest');
}

describe('resumeEventId', () => {
  it('takes Last-Event-ID, else ?last_event_id=, else nothing', () => {
    expect(resumeEventId('42.1', null)).toBe('42.1');
    expect(resumeEventId(undefined, '41')).toBe('41');
    expect(resumeEventId(undefined, null)).toBeUndefined();
    expect(resumeEventId('', '')).toBeUndefined();
    expect(resumeEventId(' 42 ', undefined)).toBe('42');
  });

  it('prefers the header: an EventSource sends it when it reconnects to the URL it first opened', () => {
    expect(resumeEventId('43', '41')).toBe('43');
    expect(resumeEventId(['40', '43.0'], '41')).toBe('43.0');
  });

  it.each(['abc', '-1', '1.', '.1', '1.2.3', '1.-1', '1e3', '0x10', '9223372036854775808', '1.99999999999', '１２'])('refuses %j', (id) => {
    expect(refusal(() => resumeEventId(id, null))).toBe(
      `invalid event id ${JSON.stringify(id)}: expected an event id or an etcd revision`,
    );
  });
});

describe('parseEventId', () => {
  it('reads a bare revision (after the whole revision) exactly, within int64', () => {
    expect(parseEventId('0')).toEqual({ revision: 0n, place: null });
    expect(parseEventId('9223372036854775807')).toEqual({ revision: 2n ** 63n - 1n, place: null });
  });

  it('reads an event id as its revision and its place in that revision', () => {
    expect(parseEventId('1041.0')).toEqual({ revision: 1041n, place: 0 });
    expect(parseEventId(eventId(1041n, 7))).toEqual({ revision: 1041n, place: 7 });
  });
});
