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
import { StreamedMessage, type DesiredLRPFilter } from '@diego/bbs-client';
import type { RpcHandlers, RpcReply } from '../router';
import { desiredLrpResponseElement, desiredLrpsPart, ReceptorJsonArrayParts } from '../spliced-lists';
import { desiredLrpToV0 } from '../v0';
import { ifPresent } from './request-parts';

type DesiredLRPRouteName =
  | 'DesiredLRPs_r1' | 'DesiredLRPByProcessGuid_r1' | 'DesiredLRPSchedulingInfos' | 'DesiredLRPs'
  | 'DesiredLRPByProcessGuid' | 'DesireDesiredLRP' | 'UpdateDesireLRP' | 'RemoveDesiredLRP' | 'DesiredLRPsReceptorJSON';

export type DesiredLRPHandlerStore = Pick<
  Db,
  'eachDesiredLRPPage' | 'eachStoredDesiredLRPPage' | 'desiredLRPByProcessGuid' | 'listDesiredLRPSchedulingInfos'
>;

function desiredLRPFilter(domain: string): DesiredLRPFilter {
  return domain === '' ? {} : { domain };
}

export function desiredLRPHandlers(
  db: DesiredLRPHandlerStore,
  controller: Pick<DesiredLRPController, 'desireDesiredLRP' | 'updateDesiredLRP' | 'removeDesiredLRP'>,
): Pick<RpcHandlers, DesiredLRPRouteName> {
  // Every DesiredLRP is encoded as its page arrives from etcd and written before the next is taken: nothing of
  // the list is held but the page in hand, the one read ahead, and what the connection has not yet taken.
  const list = async (domain: string, version: (lrp: DesiredLRP) => DesiredLRP, reply: RpcReply) =>
    new StreamedMessage('DesiredLRPsResponse', async (write) => {
      await db.eachDesiredLRPPage(desiredLRPFilter(domain), async (lrps, revision) => {
        reply.readAt(revision);
        if (lrps.length > 0) await write(desiredLrpsPart(lrps, version));
      });
    });
  const get = async (processGuid: string, version: (lrp: DesiredLRP) => DesiredLRP) => {
    validateProcessGuidRequest(processGuid);
    const lrp = await db.desiredLRPByProcessGuid(processGuid);
    return { desired_lrp: desiredLrpToProto(version(lrp)) };
  };
  const current = (lrp: DesiredLRP): DesiredLRP => lrp;

  return {
    DesiredLRPs_r1: (request, reply) => list(request.domain, current, reply),
    DesiredLRPs: (request, reply) => list(request.domain, desiredLrpToV0, reply),
    // nsync's bulk read: the stored JSON goes out as it comes, less what the response leaves out (spliced-lists.ts).
    DesiredLRPsReceptorJSON: async (request, reply) =>
      new StreamedMessage('ReceptorJSONResponse', async (write) => {
        const array = new ReceptorJsonArrayParts();
        await db.eachStoredDesiredLRPPage(desiredLRPFilter(request.domain), async (records, revision) => {
          reply.readAt(revision);
          const part = array.part(records.map(desiredLrpResponseElement));
          if (part !== null) await write(part);
        });
        await write(array.end());
      }),
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
