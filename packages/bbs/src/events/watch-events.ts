/**
 * BBS events from etcd key changes (spec/bbs.md §10.6): every writer's changes, whoever made them, become
 * `*_created|changed|removed` events. A PUT that created the key is "created", any other PUT "changed" (from its
 * previous value), a DELETE (lease expiry included) "removed" (from its previous value). The events of one
 * revision (one transaction: a desired LRP with its instances, an evacuation) stay together, in write order.
 * Values are opened by the store's RecordCodec, as every read is; a rewrite that only moved a record to another
 * encryption key changes nothing a client sees and is no event. Ours besides: a cell presence's key gives
 * `cell_appeared|changed|disappeared` (its lease expiring included), a domain's `domain_fresh` (every upsert: each
 * writes a new lease) and `domain_expired`.
 */
import {
  actualLrpFromJson,
  cellPresenceFromJson,
  convertError,
  desiredLrpFromJson,
  taskFromJson,
  type ActualLRP,
  type ActualLRPGroup,
} from '@diego/models';
import type { IKeyValue, Namespace } from 'etcd3';
import type { Logger } from 'pino';
import { type BbsEvent, eventId } from '@diego/bbs-client';
import { parseKey, V1_PREFIX } from '../db/etcd/keys';
import { RecordCodec } from '../db/etcd/record-codec';
import { RevisionWatch, type KeyChange } from '../db/etcd/revision-watch';
import { EtcdDb } from '../db/etcd/etcd-db';
import type { EtcdViewStatus, ViewBatch, ViewFollower } from '../db/etcd/view';

/** The events one etcd revision produced, in the order the transaction wrote them. */
export interface EventGroup {
  revision: bigint;
  events: BbsEvent[];
}

/** An in-process follower of the store's changes; cancel() stops it (no callback after that). */
export interface BbsEventWatch {
  cancel(): Promise<void>;
}

/**
 * The store's one watch as its followers see it (an EtcdDb): each batch of changes the view applied, and each
 * (re)load. Without a view (`viewStatus` null) there is nothing to follow and each follower watches etcd itself.
 */
export interface StoreFeed {
  followView(follower: ViewFollower): (() => void) | null;
  readonly viewStatus: EtcdViewStatus | null;
}

/** The feed of a store the leader's loops were given: an EtcdDb's (with or without a view); null for any other. */
export function storeFeedOf(store: object): StoreFeed | null {
  return store instanceof EtcdDb ? store : null;
}

/** Each batch's events, decoded once for every follower in the process (the hub, the leader's loops). */
const groupsOfBatch = new WeakMap<ViewBatch, EventGroup[]>();

/** The events of a batch the view applied, grouped by revision (see `eventGroups`); the same objects for every caller. */
export function batchEventGroups(batch: ViewBatch, logger: Logger, codec: RecordCodec = RecordCodec.PLAIN): EventGroup[] {
  let groups = groupsOfBatch.get(batch);
  if (groups === undefined) {
    groups = eventGroups(batch.changes, logger, codec);
    groupsOfBatch.set(batch, groups);
  }
  return groups;
}

/**
 * `watchBbsEvents` fed by the store's own watch (the view's), so that a BBS decodes each change once whoever
 * follows it; a store without a view falls back to a watch of its own. From now means after the view's revision
 * (the view may be a few milliseconds behind etcd: those changes come too). A (re)load of the view means changes
 * it never delivered as batches (etcd compacted them away, or the view was still loading when this was called):
 * `onError`, as a compacted watch, after which the caller follows again.
 */
export async function followBbsEvents(feed: StoreFeed | null, ...watch: Parameters<typeof watchBbsEvents>): Promise<BbsEventWatch> {
  const [, logger, onEvent, onError, codec = RecordCodec.PLAIN] = watch;
  let following = true;
  const stop = feed?.followView({
    onBatch: (batch) => {
      for (const group of batchEventGroups(batch, logger, codec)) {
        for (const event of group.events) if (following) onEvent(event);
      }
    },
    onLoaded: (revision) => {
      if (!following) return;
      following = false;
      stop?.();
      // Not from within the view's round of its followers: the caller follows again from onError.
      queueMicrotask(() => onError(new Error(`the store's view was reloaded at revision ${revision}: changes before it were not followed`)));
    },
  });
  if (stop === undefined || stop === null) return watchBbsEvents(...watch);
  return {
    cancel: async () => {
      following = false;
      stop();
    },
  };
}

/**
 * Follows the store's changes from now: every change after the revision current when this is called reaches
 * `onEvent`, in revision order, none twice, across broken etcd streams (a RevisionWatch reopens from the next
 * revision). `onError` gets the end of the watch: etcd compacted the history it still had to send, or the client
 * was closed.
 */
export async function watchBbsEvents(
  etcd: Namespace,
  logger: Logger,
  onEvent: (event: BbsEvent) => void,
  onError: (err: Error) => void,
  codec: RecordCodec = RecordCodec.PLAIN,
): Promise<BbsEventWatch> {
  // Any read says which revision the store is at; the watch starts right after it.
  const { header } = await etcd.get(V1_PREFIX).exec();
  const watch = new RevisionWatch(
    etcd,
    V1_PREFIX,
    BigInt(header.revision) + 1n,
    {
      onChanges: (changes) => {
        for (const change of changes) {
          const event = eventFromChange(change, logger, codec);
          if (event !== null) onEvent(event);
        }
      },
      onCompacted: (compactRevision) => onError(new Error(`etcd compacted the history past revision ${compactRevision}`)),
      onClosed: () => onError(new Error('the etcd client was closed')),
    },
    { logger },
  );
  return {
    cancel: async () => watch.close(),
  };
}

/**
 * The event a key change means; null for keys outside the schema, values that do not decode, and rewrites under
 * another encryption key.
 */
function eventFromChange(change: KeyChange, logger: Logger, codec: RecordCodec = RecordCodec.PLAIN): BbsEvent | null {
  const keyText = change.kv.key.toString();
  const key = parseKey(keyText);
  if (key === null) return null;
  const revision = change.kv.mod_revision;
  // A domain's value is empty: its key alone is the news, and every upsert (a new lease) is a fresh one.
  if (key.kind === 'domain') {
    return change.type === 'Put'
      ? { type: 'domain_fresh', revision, domain: key.domain }
      : { type: 'domain_expired', revision, domain: key.domain };
  }
  if (key.kind === 'cell' && change.type === 'Delete') return { type: 'cell_disappeared', revision, cell_id: key.cellId };
  const previous = change.prev_kv ?? null;
  // Judged by the key's own revisions: a missing previous value alone may only mean compaction removed it.
  const created = change.type === 'Put' && change.kv.create_revision === change.kv.mod_revision;
  try {
    const open = (kv: IKeyValue): string => codec.open(keyText, kv.value.toString()).text;
    const after = change.type === 'Put' ? open(change.kv) : '';
    const before = created ? '' : open(requirePrevious(previous));
    // The same record stored differently: moved to another encryption key (every write of a record's content
    // carries a fresh stamp, so equal texts under different bytes are nothing else).
    if (!created && change.type === 'Put' && before === after && !change.kv.value.equals(requirePrevious(previous).value)) return null;
    switch (key.kind) {
      case 'desired': {
        if (created) return { type: 'desired_lrp_created', revision, desired_lrp: desiredLrpFromJson(after) };
        const was = desiredLrpFromJson(before);
        if (change.type === 'Delete') return { type: 'desired_lrp_removed', revision, desired_lrp: was };
        return { type: 'desired_lrp_changed', revision, before: was, after: desiredLrpFromJson(after) };
      }
      case 'actual': {
        const group = (lrp: ActualLRP): ActualLRPGroup =>
          key.evacuating ? { instance: null, evacuating: lrp } : { instance: lrp, evacuating: null };
        if (created) return { type: 'actual_lrp_created', revision, actual_lrp_group: group(actualLrpFromJson(after)) };
        const was = group(actualLrpFromJson(before));
        if (change.type === 'Delete') return { type: 'actual_lrp_removed', revision, actual_lrp_group: was };
        return { type: 'actual_lrp_changed', revision, before: was, after: group(actualLrpFromJson(after)) };
      }
      case 'cell': {
        const presence = cellPresenceFromJson(after);
        return created ? { type: 'cell_appeared', revision, cell_presence: presence } : { type: 'cell_changed', revision, cell_presence: presence };
      }
      case 'task': {
        if (created) return { type: 'task_created', revision, task: taskFromJson(after) };
        const was = taskFromJson(before);
        if (change.type === 'Delete') return { type: 'task_removed', revision, task: was };
        return { type: 'task_changed', revision, before: was, after: taskFromJson(after) };
      }
    }
  } catch (err) {
    logger.error({ key: change.kv.key.toString(), revision, err: convertError(err).message }, 'failed-to-decode-event-record');
    return null;
  }
}

function requirePrevious(previous: IKeyValue | null): IKeyValue {
  // etcd leaves prev_kv out only when compaction has already removed the previous revision.
  if (previous === null) throw new Error('the previous value is no longer in etcd');
  return previous;
}

/**
 * The events of `changes` (whole revisions, in order) grouped by revision, each with its id (`<revision>.<place>`);
 * revisions without events are left out. Every BBS numbers one revision's changes alike, so ids hold across them.
 */
export function eventGroups(changes: readonly KeyChange[], logger: Logger, codec: RecordCodec = RecordCodec.PLAIN): EventGroup[] {
  const groups: EventGroup[] = [];
  for (const change of changes) {
    const event = eventFromChange(change, logger, codec);
    if (event === null) continue;
    const revision = BigInt(event.revision);
    const last = groups[groups.length - 1];
    const group = last !== undefined && last.revision === revision ? last : { revision, events: [] };
    if (group !== last) groups.push(group);
    group.events.push({ ...event, id: eventId(revision, group.events.length) });
  }
  return groups;
}
