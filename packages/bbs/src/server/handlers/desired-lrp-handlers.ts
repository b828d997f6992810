import {
  desiredLrpFromProto,
  desiredLrpToProto,
  desiredLrpUpdateFromProto,
  schedulingInfoToProto,
  validateDesiredLrp,
  validateDesiredLrpUpdate,
  validateProcessGuidRequest,
  type DesiredLRP,
} from '@diego/models';
import type { DesiredLRPController } from '../../controllers/desired-lrp-controller';
import type { Db } from '../../db/db';
import type { DesiredLRPFilter } from '@diego/bbs-client';
import type { RpcHandlers, RpcReply } from '../router';
import { DesiredLrpList } from '../spliced-lists';
import { desiredLrpToV0 } from '../v0';
import { ifPresent } from './request-parts';

type DesiredLRPRouteName =
  | 'DesiredLRPs_r1' | 'DesiredLRPByProcessGuid_r1' | 'DesiredLRPSchedulingInfos' | 'DesiredLRPs'
  | 'DesiredLRPByProcessGuid' | 'DesireDesiredLRP' | 'UpdateDesireLRP' | 'RemoveDesiredLRP' | 'DesiredLRPsReceptorJSON';

export type DesiredLRPHandlerStore = Pick<Db, 'eachDesiredLRP' | 'desiredLRPByProcessGuid' | 'listDesiredLRPSchedulingInfos'>;

function desiredLRPFilter(domain: string): DesiredLRPFilter {
  return domain === '' ? {} : { domain };
}

export function desiredLRPHandlers(
  db: DesiredLRPHandlerStore,
  controller: Pick<DesiredLRPController, 'desireDesiredLRP' | 'updateDesiredLRP' | 'removeDesiredLRP'>,
): Pick<RpcHandlers, DesiredLRPRouteName> {
  // Every DesiredLRP is encoded as it is read: the whole list is never held decoded.
  const list = async (domain: string, version: (lrp: DesiredLRP) => DesiredLRP, reply: RpcReply) => {
    const encoded = DesiredLrpList.protobuf(version);
    reply.readAt(await db.eachDesiredLRP(desiredLRPFilter(domain), (lrp) => encoded.add(lrp)));
    return encoded.protobufResponse();
  };
  const get = async (processGuid: string, version: (lrp: DesiredLRP) => DesiredLRP) => {
    validateProcessGuidRequest(processGuid);
    const lrp = await db.desiredLRPByProcessGuid(processGuid);
    return { desired_lrp: desiredLrpToProto(version(lrp)) };
  };
  const current = (lrp: DesiredLRP): DesiredLRP => lrp;

  return {
    DesiredLRPs_r1: (request, reply) => list(request.domain, current, reply),
    DesiredLRPs: (request, reply) => list(request.domain, desiredLrpToV0, reply),
    DesiredLRPsReceptorJSON: async (request, reply) => {
      const encoded = DesiredLrpList.receptorJson();
      reply.readAt(await db.eachDesiredLRP(desiredLRPFilter(request.domain), (lrp) => encoded.add(lrp)));
      return encoded.receptorJsonResponse();
    },
    DesiredLRPByProcessGuid_r1: (request) => get(request.process_guid, current),
    DesiredLRPByProcessGuid: (request) => get(request.process_guid, desiredLrpToV0),

    DesiredLRPSchedulingInfos: async (request, reply) => {
      const infos = await db.listDesiredLRPSchedulingInfos(desiredLRPFilter(request.domain));
      reply.readAt(infos.revision);
      return { desired_lrp_scheduling_infos: infos.items.map(schedulingInfoToProto) };
    },

    DesireDesiredLRP: async (request) => {
      const lrp = desiredLrpFromProto(request.desired_lrp ?? {});
      validateDesiredLrp(ifPresent(request.desired_lrp, lrp));
      await controller.desireDesiredLRP(lrp);
      return {};
    },

    UpdateDesireLRP: async (request) => {
      const update = desiredLrpUpdateFromProto(request.update);
      validateDesiredLrpUpdate(request.process_guid, ifPresent(request.update, update));
      await controller.updateDesiredLRP(request.process_guid, update);
      return {};
    },

    RemoveDesiredLRP: async (request) => {
      validateProcessGuidRequest(request.process_guid);
      await controller.removeDesiredLRP(request.process_guid);
      return {};
    },
  };
}
