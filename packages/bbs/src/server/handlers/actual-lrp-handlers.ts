import {
  actualLrpGroupToProto,
  actualLrpInstanceKeyFromProto,
  actualLrpKeyFromProto,
  actualLrpNetInfoFromProto,
  validateActualLrpCrashRequest,
  validateActualLrpInstanceRequest,
  validateActualLrpKeyRequest,
  validateActualLrpRunningRequest,
  validateClaimActualLrpRequest,
  validateFailActualLrpRequest,
  validateProcessGuidAndIndexRequest,
  validateProcessGuidRequest,
  type ActualLRPInstanceKey,
  type ActualLRPKey,
  type ActualLRPNetInfo,
  type proto,
} from '@diego/models';
import { StreamedMessage, type ActualLRPFilter } from '@diego/bbs-client';
import type { Db } from '../../db/db';
import type { ActualLRPController } from '../../controllers/actual-lrp-controller';
import type { RpcHandlers } from '../router';
import {
  actualLrpGroupsPart, actualLrpGroupsResponse, actualLrpResponseElements, ReceptorJsonArrayParts,
} from '../spliced-lists';
import { ifPresent } from './request-parts';

type ActualLRPRouteName =
  | 'ActualLRPGroups' | 'ActualLRPsReceptorJSON' | 'ActualLRPGroupsByProcessGuid' | 'ActualLRPGroupByProcessGuidAndIndex'
  | 'ClaimActualLRP' | 'StartActualLRP' | 'CrashActualLRP' | 'FailActualLRP' | 'RemoveActualLRP' | 'RetireActualLRP'
  | 'RemoveEvacuatingActualLRP' | 'EvacuateClaimedActualLRP' | 'EvacuateCrashedActualLRP' | 'EvacuateStoppedActualLRP'
  | 'EvacuateRunningActualLRP';

export type ActualLRPHandlerStore = Pick<
  Db,
  | 'listActualLRPGroups' | 'listActualLRPGroupsByProcessGuid' | 'actualLRPGroupByProcessGuidAndIndex' | 'claimActualLRP'
  | 'startActualLRP' | 'crashActualLRP' | 'failActualLRP' | 'removeActualLRP' | 'removeEvacuatingActualLRP'
  | 'evacuateClaimedActualLRP' | 'evacuateCrashedActualLRP' | 'evacuateStoppedActualLRP' | 'evacuateRunningActualLRP'
>;

type WireKey = proto.ActualLRPKey.$Properties | null | undefined;
type WireInstanceKey = proto.ActualLRPInstanceKey.$Properties | null | undefined;
type WireNetInfo = proto.ActualLRPNetInfo.$Properties | null | undefined;

/** A request's key and instance key, validated (InvalidRequest names what is missing or empty). */
function instanceParts(wireKey: WireKey, wireInstanceKey: WireInstanceKey): [ActualLRPKey, ActualLRPInstanceKey] {
  const key = actualLrpKeyFromProto(wireKey);
  const instanceKey = actualLrpInstanceKeyFromProto(wireInstanceKey);
  validateActualLrpInstanceRequest(ifPresent(wireKey, key), ifPresent(wireInstanceKey, instanceKey));
  return [key, instanceKey];
}

function runningParts(
  wireKey: WireKey,
  wireInstanceKey: WireInstanceKey,
  wireNetInfo: WireNetInfo,
): [ActualLRPKey, ActualLRPInstanceKey, ActualLRPNetInfo] {
  const key = actualLrpKeyFromProto(wireKey);
  const instanceKey = actualLrpInstanceKeyFromProto(wireInstanceKey);
  const netInfo = actualLrpNetInfoFromProto(wireNetInfo);
  validateActualLrpRunningRequest(ifPresent(wireKey, key), ifPresent(wireInstanceKey, instanceKey), ifPresent(wireNetInfo, netInfo));
  return [key, instanceKey, netInfo];
}

function crashParts(wireKey: WireKey, wireInstanceKey: WireInstanceKey, errorMessage: string): [ActualLRPKey, ActualLRPInstanceKey] {
  const key = actualLrpKeyFromProto(wireKey);
  const instanceKey = actualLrpInstanceKeyFromProto(wireInstanceKey);
  validateActualLrpCrashRequest(ifPresent(wireKey, key), ifPresent(wireInstanceKey, instanceKey), errorMessage);
  return [key, instanceKey];
}

/** An empty filter field means "any" (proto2 strings are never absent once decoded). */
function actualLRPFilter(domain: string, cellId: string): ActualLRPFilter {
  return { ...(domain === '' ? {} : { domain }), ...(cellId === '' ? {} : { cell_id: cellId }) };
}

/** Groups per write of a streamed list: a few hundred KiB, so that writes are few and none is large. */
const GROUPS_PER_WRITE = 2_000;

function* batches<T>(items: readonly T[]): Generator<readonly T[]> {
  for (let at = 0; at < items.length; at += GROUPS_PER_WRITE) yield items.slice(at, at + GROUPS_PER_WRITE);
}

export function actualLRPHandlers(
  db: ActualLRPHandlerStore,
  controller: Pick<ActualLRPController, 'retireActualLRP'>,
): Pick<RpcHandlers, ActualLRPRouteName> {
  return {
    // Whole lists are written a batch at a time, each waited for: their encodings are never all held at once.
    ActualLRPGroups: async (request, reply) => {
      const groups = await db.listActualLRPGroups(actualLRPFilter(request.domain, request.cell_id));
      reply.readAt(groups.revision);
      return new StreamedMessage('ActualLRPGroupsResponse', async (write) => {
        for (const batch of batches(groups.items)) await write(actualLrpGroupsPart(batch));
      });
    },

    ActualLRPsReceptorJSON: async (request, reply) => {
      const groups = await db.listActualLRPGroups(actualLRPFilter(request.domain, request.cell_id));
      reply.readAt(groups.revision);
      return new StreamedMessage('ReceptorJSONResponse', async (write) => {
        const array = new ReceptorJsonArrayParts();
        for (const batch of batches(groups.items)) {
          const part = array.part(actualLrpResponseElements(batch));
          if (part !== null) await write(part);
        }
        await write(array.end());
      });
    },

    ActualLRPGroupsByProcessGuid: async (request, reply) => {
      validateProcessGuidRequest(request.process_guid);
      const groups = await db.listActualLRPGroupsByProcessGuid(request.process_guid);
      reply.readAt(groups.revision);
      return actualLrpGroupsResponse(groups.items);
    },

    ActualLRPGroupByProcessGuidAndIndex: async (request) => {
      validateProcessGuidAndIndexRequest(request.process_guid, request.index);
      const group = await db.actualLRPGroupByProcessGuidAndIndex(request.process_guid, request.index);
      return { actual_lrp_group: actualLrpGroupToProto(group) };
    },

    ClaimActualLRP: async (request) => {
      const instanceKey = actualLrpInstanceKeyFromProto(request.actual_lrp_instance_key);
      validateClaimActualLrpRequest(request.process_guid, request.index, ifPresent(request.actual_lrp_instance_key, instanceKey));
      await db.claimActualLRP(request.process_guid, request.index, instanceKey);
      return {};
    },

    StartActualLRP: async (request) => {
      await db.startActualLRP(...runningParts(request.actual_lrp_key, request.actual_lrp_instance_key, request.actual_lrp_net_info));
      return {};
    },

    CrashActualLRP: async (request) => {
      const [key, instanceKey] = crashParts(request.actual_lrp_key, request.actual_lrp_instance_key, request.error_message);
      await db.crashActualLRP(key, instanceKey, request.error_message);
      return {};
    },

    FailActualLRP: async (request) => {
      const key = actualLrpKeyFromProto(request.actual_lrp_key);
      validateFailActualLrpRequest(ifPresent(request.actual_lrp_key, key), request.error_message);
      await db.failActualLRP(key, request.error_message);
      return {};
    },

    RemoveActualLRP: async (request) => {
      validateProcessGuidAndIndexRequest(request.process_guid, request.index);
      const instanceKey = request.actual_lrp_instance_key;
      await db.removeActualLRP(
        request.process_guid,
        request.index,
        instanceKey === null || instanceKey === undefined ? undefined : actualLrpInstanceKeyFromProto(instanceKey),
      );
      return {};
    },

    RetireActualLRP: async (request) => {
      const key = actualLrpKeyFromProto(request.actual_lrp_key);
      validateActualLrpKeyRequest(ifPresent(request.actual_lrp_key, key));
      await controller.retireActualLRP(key);
      return {};
    },

    RemoveEvacuatingActualLRP: async (request) => {
      await db.removeEvacuatingActualLRP(...instanceParts(request.actual_lrp_key, request.actual_lrp_instance_key));
      return {};
    },

    EvacuateClaimedActualLRP: async (request) => {
      const result = await db.evacuateClaimedActualLRP(...instanceParts(request.actual_lrp_key, request.actual_lrp_instance_key));
      return { keep_container: result.keepContainer };
    },

    EvacuateCrashedActualLRP: async (request) => {
      const [key, instanceKey] = crashParts(request.actual_lrp_key, request.actual_lrp_instance_key, request.error_message);
      const result = await db.evacuateCrashedActualLRP(key, instanceKey, request.error_message);
      return { keep_container: result.keepContainer };
    },

    EvacuateStoppedActualLRP: async (request) => {
      const result = await db.evacuateStoppedActualLRP(...instanceParts(request.actual_lrp_key, request.actual_lrp_instance_key));
      return { keep_container: result.keepContainer };
    },

    EvacuateRunningActualLRP: async (request) => {
      const [key, instanceKey, netInfo] = runningParts(
        request.actual_lrp_key,
        request.actual_lrp_instance_key,
        request.actual_lrp_net_info,
      );
      const result = await db.evacuateRunningActualLRP(key, instanceKey, netInfo, request.ttl.toNumber());
      return { keep_container: result.keepContainer };
    },
  };
}
