/**
 * The one codec between a record's JSON (what the store's resources read and write) and what etcd holds
 * (spec/bbs.md §1.2). Without encryption keys the two are the same text, the readable JSON operators read with
 * etcdctl. With keys, a record's value is Diego's BASE64_ENCRYPTED encoding around a JSON envelope:
 *
 *   "02" + base64std( len(label) [1 byte] | label | nonce [12 bytes] | AES-256-GCM-seal([0x01 JSON, version] + json) )
 *
 * with the key SHA-256(passphrase) and the 16-byte tag appended (Go's `aead.Seal`). Reads take plain JSON and
 * values under any configured key, whatever the active one, so that enabling encryption or rotating keys on a
 * running store works. Only records are encoded (desired, actual, task, cell); a domain's empty value, the
 * election's values (written by etcd3's Campaign) and `/encryption-key` are left as they are.
 *
 * Node's `crypto` does AES-GCM; no library is needed.
 *
 * @example
 *   const codec = RecordCodec.create({ keys: [{ label: 'k1', passphrase: 'secret' }], activeKeyLabel: 'k1' });
 *   const stored = codec.seal('/v1/task/t', '{"task_guid":"t"}'); // "02..."
 *   codec.open('/v1/task/t', stored); // '{"task_guid":"t"}'
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { BbsError } from '@diego/models';
import type { EncryptionKey } from '../../config';
import { parseKey } from './keys';

/** The encryption part of a BBS's configuration. */
export interface EncryptionOptions {
  /** Every key values may be stored under (`-encryptionKey label:passphrase`); none: values are plain JSON. */
  keys: readonly EncryptionKey[];
  /** The label new values are written with; null exactly when there are no keys. */
  activeKeyLabel: string | null;
}

/** A record's value as read: its JSON text, and the label of the key it was stored under (null: plain). */
export interface OpenedValue {
  text: string;
  label: string | null;
}

const ENCRYPTED = '02';
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const MAX_LABEL_BYTES = 127;
const CIPHER = 'aes-256-gcm';
/** Envelope format bytes (§1.2); we write JSON, the text stored today. */
const FORMAT_JSON = 1;
const FORMAT_NAMES: Record<number, string> = { 0: 'legacy JSON', 1: 'JSON', 2: 'protobuf' };

export class RecordCodec {
  /** No keys: every value is plain JSON. */
  static readonly PLAIN = new RecordCodec(new Map(), null);

  private constructor(
    private readonly keys: ReadonlyMap<string, Buffer>,
    /** The label new values are written with; null: plain JSON. */
    readonly activeLabel: string | null,
  ) {}

  /**
   * The codec of a configuration; throws (without any passphrase in the message) for one that is inconsistent:
   * a label that is empty, over 127 bytes, holds a ':' or repeats, an empty passphrase, an active label that is
   * not among the keys, or keys without an active label.
   */
  static create(options: EncryptionOptions | undefined): RecordCodec {
    const configured = options?.keys ?? [];
    const active = options?.activeKeyLabel ?? null;
    if (configured.length === 0) {
      if (active !== null) throw new Error(`the active encryption key label "${active}" names no encryption key: none are configured`);
      return RecordCodec.PLAIN;
    }
    const keys = new Map<string, Buffer>();
    for (const { label, passphrase } of configured) {
      const bytes = Buffer.byteLength(label);
      if (bytes === 0 || bytes > MAX_LABEL_BYTES) {
        throw new Error(`the encryption key label "${label}" is ${bytes} bytes long; a label is 1 to ${MAX_LABEL_BYTES} bytes`);
      }
      if (label.includes(':')) throw new Error(`the encryption key label "${label}" holds a ':', which separates a label from its passphrase`);
      if (passphrase === '') throw new Error(`the encryption key labelled "${label}" has an empty passphrase`);
      if (keys.has(label)) throw new Error(`the encryption key label "${label}" is given twice`);
      keys.set(label, createHash('sha256').update(passphrase).digest());
    }
    if (active === null) throw new Error('encryption keys are configured without the label of the active one (-activeKeyLabel)');
    if (!keys.has(active)) {
      throw new Error(`the active encryption key label "${active}" is not the label of any configured key (${[...keys.keys()].join(', ')})`);
    }
    return new RecordCodec(keys, active);
  }

  /** Whether values may be stored under `label` (null: plain JSON, readable without keys). */
  knows(label: string): boolean {
    return this.keys.has(label);
  }

  /** The configured labels, for messages. */
  get labels(): string[] {
    return [...this.keys.keys()];
  }

  /** What to store under `key` for the record `text`: under the active key for a record, else `text` as it is. */
  seal(key: string, text: string): string {
    const active = this.activeLabel;
    if (active === null) return text;
    const version = envelopeVersion(key);
    const secret = this.keys.get(active);
    if (version === null || secret === undefined) return text;
    const label = Buffer.from(active);
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv(CIPHER, secret, nonce);
    const sealed = Buffer.concat([
      Buffer.from([label.length]),
      label,
      nonce,
      cipher.update(Buffer.from([FORMAT_JSON, version])),
      cipher.update(text, 'utf8'),
      cipher.final(),
      cipher.getAuthTag(),
    ]);
    return ENCRYPTED + sealed.toString('base64');
  }

  /**
   * The record JSON of the value stored under `key`, with the label it was stored under. Throws BbsError
   * `InvalidRecord` for a value under a key this BBS was not given, or one that does not decrypt.
   */
  open(key: string, stored: string): OpenedValue {
    if (!stored.startsWith(ENCRYPTED) || envelopeVersion(key) === null) return { text: stored, label: null };
    const bytes = Buffer.from(stored.slice(ENCRYPTED.length), 'base64');
    const labelLength = bytes[0] ?? 0;
    const nonceAt = 1 + labelLength;
    const sealedAt = nonceAt + NONCE_BYTES;
    if (labelLength === 0 || bytes.length < sealedAt + TAG_BYTES + 2) {
      throw new BbsError('InvalidRecord', `the record ${key} is not a valid encrypted value: it is too short`);
    }
    const label = bytes.subarray(1, nonceAt).toString('utf8');
    const secret = this.keys.get(label);
    if (secret === undefined) {
      throw new BbsError('InvalidRecord', `Key with label "${label}" was not found: the record ${key} is encrypted with a key this BBS was not given`);
    }
    const tagAt = bytes.length - TAG_BYTES;
    let envelope: Buffer;
    try {
      const decipher = createDecipheriv(CIPHER, secret, bytes.subarray(nonceAt, sealedAt));
      decipher.setAuthTag(bytes.subarray(tagAt));
      envelope = Buffer.concat([decipher.update(bytes.subarray(sealedAt, tagAt)), decipher.final()]);
    } catch {
      throw new BbsError(
        'InvalidRecord',
        `the record ${key} does not decrypt with the key labelled "${label}": its passphrase differs from the one it was written with, or the value is corrupt`,
      );
    }
    const format = envelope[0] ?? 0;
    if (format !== FORMAT_JSON) {
      throw new BbsError('InvalidRecord', `the record ${key} holds a ${FORMAT_NAMES[format] ?? `format ${format}`} envelope; only JSON is read`);
    }
    return { text: envelope.subarray(2).toString('utf8'), label };
  }
}

/**
 * The envelope's version byte of the record a key names, as Diego's models gave it (Task and DesiredLRP V1, the
 * rest V0); null for a key that holds no record.
 */
function envelopeVersion(key: string): number | null {
  switch (parseKey(key)?.kind) {
    case 'desired':
    case 'task':
      return 1;
    case 'actual':
    case 'cell':
      return 0;
    default:
      return null;
  }
}
