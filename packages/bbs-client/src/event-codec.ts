/**
 * BBS events on the wire (spec/bbs.md §9.1): the SSE `event:` name and the protobuf event message, both ways.
 * The server encodes, the client decodes; both sides use this one table.
 */
import {
  BbsError,
  actualLrpGroupFromProto,
  actualLrpGroupToProto,
  cellPresenceFromProto,
  cellPresenceToProto,
  desiredLrpFromProto,
  desiredLrpToProto,
  proto,
  taskFromProto,
  taskToProto,
} from '@diego/models';
import type { BbsEvent } from './bbs-event';

export type BbsEventType = BbsEvent['type'];

/** The protobuf event message of `event`. */
export function encodeEvent(event: BbsEvent): Uint8Array {
  switch (event.type) {
    case 'desired_lrp_created':
      return proto.DesiredLRPCreatedEvent.encode({ desired_lrp: desiredLrpToProto(event.desired_lrp) }).finish();
    case 'desired_lrp_changed':
      return proto.DesiredLRPChangedEvent.encode({
        before: desiredLrpToProto(event.before),
        after: desiredLrpToProto(event.after),
      }).finish();
    case 'desired_lrp_removed':
      return proto.DesiredLRPRemovedEvent.encode({ desired_lrp: desiredLrpToProto(event.desired_lrp) }).finish();
    case 'actual_lrp_created':
      return proto.ActualLRPCreatedEvent.encode({ actual_lrp_group: actualLrpGroupToProto(event.actual_lrp_group) }).finish();
    case 'actual_lrp_changed':
      return proto.ActualLRPChangedEvent.encode({
        before: actualLrpGroupToProto(event.before),
        after: actualLrpGroupToProto(event.after),
      }).finish();
    case 'actual_lrp_removed':
      return proto.ActualLRPRemovedEvent.encode({ actual_lrp_group: actualLrpGroupToProto(event.actual_lrp_group) }).finish();
    case 'task_created':
      return proto.TaskCreatedEvent.encode({ task: taskToProto(event.task) }).finish();
    case 'task_changed':
      return proto.TaskChangedEvent.encode({ before: taskToProto(event.before), after: taskToProto(event.after) }).finish();
    case 'task_removed':
      return proto.TaskRemovedEvent.encode({ task: taskToProto(event.task) }).finish();
    case 'cell_appeared':
      return proto.CellAppearedEvent.encode({ cell_presence: cellPresenceToProto(event.cell_presence) }).finish();
    case 'cell_changed':
      return proto.CellChangedEvent.encode({ cell_presence: cellPresenceToProto(event.cell_presence) }).finish();
    case 'cell_disappeared':
      return proto.CellDisappearedEvent.encode({ cell_id: event.cell_id }).finish();
    case 'domain_fresh':
      return proto.DomainFreshEvent.encode({ domain: event.domain }).finish();
    case 'domain_expired':
      return proto.DomainExpiredEvent.encode({ domain: event.domain }).finish();
  }
}

/**
 * The event named `type` from its protobuf message and its SSE id (`<revision>.<place>`, or a bare revision from
 * a BBS of before event ids): `revision` is the id's revision, `id` the id.
 * @throws BbsError('InvalidProtobufMessage') for an unknown name or a message that does not decode.
 */
export function decodeEvent(type: string, data: Uint8Array, id: string): BbsEvent {
  const dot = id.indexOf('.');
  try {
    return { ...decodeKnownEvent(type, data, dot === -1 ? id : id.slice(0, dot)), id };
  } catch (err) {
    if (err instanceof BbsError) throw err;
    throw new BbsError('InvalidProtobufMessage', `could not decode ${type} event: ${String(err)}`);
  }
}

function decodeKnownEvent(type: string, data: Uint8Array, revision: string): BbsEvent {
  switch (type) {
    case 'desired_lrp_created':
      return { type, revision, desired_lrp: desiredLrpFromProto(required(proto.DesiredLRPCreatedEvent.decode(data).desired_lrp, type)) };
    case 'desired_lrp_changed': {
      const message = proto.DesiredLRPChangedEvent.decode(data);
      return {
        type,
        revision,
        before: desiredLrpFromProto(required(message.before, type)),
        after: desiredLrpFromProto(required(message.after, type)),
      };
    }
    case 'desired_lrp_removed':
      return { type, revision, desired_lrp: desiredLrpFromProto(required(proto.DesiredLRPRemovedEvent.decode(data).desired_lrp, type)) };
    case 'actual_lrp_created':
      return {
        type,
        revision,
        actual_lrp_group: actualLrpGroupFromProto(required(proto.ActualLRPCreatedEvent.decode(data).actual_lrp_group, type)),
      };
    case 'actual_lrp_changed': {
      const message = proto.ActualLRPChangedEvent.decode(data);
      return {
        type,
        revision,
        before: actualLrpGroupFromProto(required(message.before, type)),
        after: actualLrpGroupFromProto(required(message.after, type)),
      };
    }
    case 'actual_lrp_removed':
      return {
        type,
        revision,
        actual_lrp_group: actualLrpGroupFromProto(required(proto.ActualLRPRemovedEvent.decode(data).actual_lrp_group, type)),
      };
    case 'task_created':
      return { type, revision, task: taskFromProto(required(proto.TaskCreatedEvent.decode(data).task, type)) };
    case 'task_changed': {
      const message = proto.TaskChangedEvent.decode(data);
      return { type, revision, before: taskFromProto(required(message.before, type)), after: taskFromProto(required(message.after, type)) };
    }
    case 'task_removed':
      return { type, revision, task: taskFromProto(required(proto.TaskRemovedEvent.decode(data).task, type)) };
    case 'cell_appeared':
      return { type, revision, cell_presence: cellPresenceFromProto(required(proto.CellAppearedEvent.decode(data).cell_presence, type)) };
    case 'cell_changed':
      return { type, revision, cell_presence: cellPresenceFromProto(required(proto.CellChangedEvent.decode(data).cell_presence, type)) };
    case 'cell_disappeared':
      return { type, revision, cell_id: required(proto.CellDisappearedEvent.decode(data).cell_id, type) };
    case 'domain_fresh':
      return { type, revision, domain: required(proto.DomainFreshEvent.decode(data).domain, type) };
    case 'domain_expired':
      return { type, revision, domain: required(proto.DomainExpiredEvent.decode(data).domain, type) };
    default:
      throw new BbsError('InvalidProtobufMessage', `unknown event type ${type}`);
  }
}

function required<T>(value: T | null | undefined, type: string): T {
  if (value === null || value === undefined) throw new BbsError('InvalidProtobufMessage', `${type} event without its record`);
  return value;
}
