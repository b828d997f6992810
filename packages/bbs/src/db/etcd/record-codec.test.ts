import { createDecipheriv, createHash } from 'node:crypto';
import { RecordCodec } from './record-codec';

const TASK_KEY = '/v1/task/t-1';
const TASK_JSON = '{"task_guid":"t-1","domain":"d"}';

function codec(active: string | null, ...labels: string[]): RecordCodec {
  return RecordCodec.create({ keys: labels.map((label) => ({ label, passphrase: `passphrase of ${label}` })), activeKeyLabel: active });
}

function thrownBy(call: () => unknown): unknown {
  try {
    call();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}

describe('RecordCodec', () => {
  it('leaves values as they are without keys, and reads plain JSON with keys', () => {
    expect(RecordCodec.PLAIN.seal(TASK_KEY, TASK_JSON)).toBe(TASK_JSON);
    expect(codec('a', 'a').open(TASK_KEY, TASK_JSON)).toEqual({ text: TASK_JSON, label: null });
  });

  it("writes Diego's BASE64_ENCRYPTED layout around a JSON envelope, and reads it back under any configured key", () => {
    const stored = codec('a', 'a').seal(TASK_KEY, TASK_JSON);
    expect(stored.startsWith('02')).toBe(true);
    expect(stored).not.toContain('task_guid');
    // len(label) | label | nonce(12) | ciphertext | tag(16), opened here as a Go reader would.
    const bytes = Buffer.from(stored.slice(2), 'base64');
    expect(bytes[0]).toBe(1);
    expect(bytes.subarray(1, 2).toString()).toBe('a');
    const decipher = createDecipheriv('aes-256-gcm', createHash('sha256').update('passphrase of a').digest(), bytes.subarray(2, 14));
    decipher.setAuthTag(bytes.subarray(bytes.length - 16));
    const envelope = Buffer.concat([decipher.update(bytes.subarray(14, bytes.length - 16)), decipher.final()]);
    expect([...envelope.subarray(0, 2)]).toEqual([1, 1]); // JSON, Task's version 1
    expect(envelope.subarray(2).toString()).toBe(TASK_JSON);

    expect(codec('b', 'a', 'b').open(TASK_KEY, stored)).toEqual({ text: TASK_JSON, label: 'a' });
    expect(codec('a', 'a').seal(TASK_KEY, TASK_JSON)).not.toBe(stored); // a fresh nonce each time
  });

  it('encrypts records only: a domain, the election and /encryption-key stay as they are', () => {
    const encrypting = codec('a', 'a');
    expect(encrypting.seal('/v1/domain/cf-apps', '')).toBe('');
    expect(encrypting.seal('/v1/locks/bbs_lock/123', '{"id":"x"}')).toBe('{"id":"x"}');
    expect(encrypting.seal('/encryption-key', '02-label')).toBe('02-label');
    expect(encrypting.open('/encryption-key', '02-label')).toEqual({ text: '02-label', label: null });
    expect(encrypting.seal('/v1/cell/cell-1', '{}').startsWith('02')).toBe(true);
  });

  it('refuses a value under a key it was not given, or that does not decrypt, as InvalidRecord naming the label', () => {
    const stored = codec('a', 'a').seal(TASK_KEY, TASK_JSON);
    expect(thrownBy(() => codec('b', 'b').open(TASK_KEY, stored))).toMatchObject({
      type: 'InvalidRecord',
      message: expect.stringContaining('Key with label "a" was not found'),
    });
    expect(thrownBy(() => RecordCodec.PLAIN.open(TASK_KEY, stored))).toMatchObject({ type: 'InvalidRecord' });
    const otherPassphrase = RecordCodec.create({ keys: [{ label: 'a', passphrase: 'another' }], activeKeyLabel: 'a' });
    const wrong = thrownBy(() => otherPassphrase.open(TASK_KEY, stored));
    expect(wrong).toMatchObject({ type: 'InvalidRecord', message: expect.stringContaining('does not decrypt with the key labelled "a"') });
    expect(String(wrong)).not.toContain('another');
    expect(thrownBy(() => codec('a', 'a').open(TASK_KEY, '02AAAA'))).toMatchObject({ type: 'InvalidRecord' });
  });

  it('refuses an inconsistent configuration without naming a passphrase', () => {
    const create = (keys: Array<{ label: string; passphrase: string }>, activeKeyLabel: string | null) => () =>
      RecordCodec.create({ keys, activeKeyLabel });
    expect(create([{ label: 'a', passphrase: 'secret' }], 'b')).toThrow('"b" is not the label of any configured key (a)');
    expect(create([{ label: 'a', passphrase: 'secret' }], null)).toThrow('without the label of the active one');
    expect(create([], 'a')).toThrow('none are configured');
    expect(create([{ label: 'x'.repeat(128), passphrase: 'secret' }], 'a')).toThrow('1 to 127 bytes');
    expect(create([{ label: 'a:b', passphrase: 'secret' }], 'a:b')).toThrow("holds a ':'");
    expect(create([{ label: 'a', passphrase: 'secret' }, { label: 'a', passphrase: 'secret2' }], 'a')).toThrow('given twice');
    expect(create([{ label: 'a', passphrase: '' }], 'a')).toThrow('empty passphrase');
    expect(thrownBy(create([{ label: 'a', passphrase: 'secret' }], 'b'))).not.toMatchObject({ message: expect.stringContaining('secret') });
  });
});
