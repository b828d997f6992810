/**
 * ActualLRP records as the store writes them: the codec (validated both ways, §3.1), fresh records and the
 * comparisons the lifecycle uses.
 */
import { randomUUID } from 'node:crypto';
import {
  actualLrpFromJson,
  actualLrpToJson,
  validateActualLrp,
  type ActualLRP,
  type ActualLRPInstanceKey,
  type ActualLRPKey,
  type ActualLRPNetInfo,
  type Int64,
  type ModificationTag,
} from '@diego/models';
import type { StoredAs } from './guaranteed-update';
import { memoizedDecoder } from './store';

/** Reads a stored record; throws InvalidRecord when it does not decode or validate. Remembered by the view. */
export const decodeActualLrp = memoizedDecoder((text: string): ActualLRP => {
  const lrp = actualLrpFromJson(text);
  validateActualLrp(lrp);
  return lrp;
});

/** The value to store; throws InvalidRecord for a record that must not be written. */
export function encodeActualLrp(lrp: ActualLRP): string {
  validateActualLrp(lrp);
  return actualLrpToJson(lrp);
}

/** How ActualLRP records are read and written by their updates. */
export const ACTUAL_LRP: StoredAs<ActualLRP> = { decode: decodeActualLrp, encode: encodeActualLrp };

/** The tag of a newly created record: a new UUIDv4 epoch. */
export function newModificationTag(): ModificationTag {
  return { epoch: randomUUID(), index: 0 };
}

/** The tag after one more change. */
export function incremented(tag: ModificationTag): ModificationTag {
  return { epoch: tag.epoch, index: tag.index + 1 };
}

export const EMPTY_INSTANCE_KEY: Readonly<ActualLRPInstanceKey> = Object.freeze({ instance_guid: '', cell_id: '' });

export function actualLrpKeyOf(lrp: ActualLRPKey): ActualLRPKey {
  return { process_guid: lrp.process_guid, index: lrp.index, domain: lrp.domain };
}

export function instanceKeyOf(lrp: ActualLRPInstanceKey): ActualLRPInstanceKey {
  return { instance_guid: lrp.instance_guid, cell_id: lrp.cell_id };
}

export function netInfoOf(lrp: ActualLRPNetInfo): ActualLRPNetInfo {
  return { address: lrp.address, ports: lrp.ports.map((port) => ({ ...port })) };
}

export function sameActualLrpKey(a: ActualLRPKey, b: ActualLRPKey): boolean {
  return a.process_guid === b.process_guid && a.index === b.index && a.domain === b.domain;
}

export function sameInstanceKey(a: ActualLRPInstanceKey, b: ActualLRPInstanceKey): boolean {
  return a.instance_guid === b.instance_guid && a.cell_id === b.cell_id;
}

/** Address and ports, in order (Go's reflect.DeepEqual on the ports). */
export function sameNetInfo(a: ActualLRPNetInfo, b: ActualLRPNetInfo): boolean {
  return (
    a.address === b.address &&
    a.ports.length === b.ports.length &&
    a.ports.every((port, i) => port.container_port === b.ports[i]?.container_port && port.host_port === b.ports[i]?.host_port)
  );
}

/** A record with the key only: no instance, no net info, no crash history. */
function bareRecord(key: ActualLRPKey, since: Int64, tag: ModificationTag): ActualLRP {
  return {
    ...actualLrpKeyOf(key),
    ...EMPTY_INSTANCE_KEY,
    address: '',
    ports: [],
    crash_count: 0,
    crash_reason: '',
    state: 'UNCLAIMED',
    placement_error: '',
    since,
    modification_tag: tag,
  };
}

/** An UNCLAIMED instance record as desire, scale-up and convergence create it. */
export function newUnclaimedActualLrp(key: ActualLRPKey, since: Int64): ActualLRP {
  return bareRecord(key, since, newModificationTag());
}

/** A RUNNING record: a start of a missing instance (tag index 0), or a new evacuating copy (index 1, §2.1). */
export function newRunningActualLrp(
  key: ActualLRPKey,
  instanceKey: ActualLRPInstanceKey,
  netInfo: ActualLRPNetInfo,
  since: Int64,
  tag: ModificationTag,
): ActualLRP {
  return { ...bareRecord(key, since, tag), ...instanceKeyOf(instanceKey), ...netInfoOf(netInfo), state: 'RUNNING' };
}
