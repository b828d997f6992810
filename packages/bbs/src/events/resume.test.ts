import { isBbsError } from '@diego/models';
import { parseRevision, resumeRevision } from './resume';

function refusal(run: () => unknown): string {
  try {
    run();
  } catch (err) {
    if (isBbsError(err, 'InvalidRequest')) return err.message;
    throw err;
  }
  throw new Error('expected InvalidRequest');
}

describe('resumeRevision', () => {
  it('takes Last-Event-ID, else ?last_event_id=, else nothing', () => {
    expect(resumeRevision('42', null)).toBe('42');
    expect(resumeRevision(undefined, '41')).toBe('41');
    expect(resumeRevision(undefined, null)).toBeUndefined();
    expect(resumeRevision('', '')).toBeUndefined();
    expect(resumeRevision(' 42 ', undefined)).toBe('42');
  });

  it('prefers the header: an EventSource sends it when it reconnects to the URL it first opened', () => {
    expect(resumeRevision('43', '41')).toBe('43');
    expect(resumeRevision(['40', '43'], '41')).toBe('43');
  });

  it.each(['abc', '-1', '1.0', '0x10', '9223372036854775808', '１２'])('refuses %j', (id) => {
    expect(refusal(() => resumeRevision(id, null))).toBe(`invalid event id ${JSON.stringify(id)}: expected an etcd revision`);
  });
});

describe('parseRevision', () => {
  it('reads int64 revisions exactly', () => {
    expect(parseRevision('0')).toBe(0n);
    expect(parseRevision('9223372036854775807')).toBe(2n ** 63n - 1n);
  });
});
