/** Desired LRPs (spec/receptor-api.md §3.6–§3.10). */
import {
  decodeDesiredLrpCreateRequest, decodeDesiredLrpUpdateRequest, desiredLrpResponseJson, isBbsError, validateActionDepth,
  type DesiredLRPUpdate,
} from '@diego/models';
import type { BbsClient } from '@diego/bbs-client';
import { queryParam } from '../request-body';
import { relayListedJson, sendEmpty, sendJson } from '../responses';
import type { Handlers } from './handler';

export type DesiredLrpHandlers = Pick<
  Handlers,
  'CreateDesiredLRP' | 'GetDesiredLRP' | 'UpdateDesiredLRP' | 'DeleteDesiredLRP' | 'DesiredLRPs'
>;

export function desiredLrpHandlers(bbs: BbsClient): DesiredLrpHandlers {
  /** A lost compare-and-swap is tried once more, as Diego's receptor did (receptor-api §3.9); the BBS's own guaranteed update
   * re-reads on every lost race, so a conflict reaches us only after it gave up. */
  async function updateWithOneRetry(processGuid: string, update: DesiredLRPUpdate): Promise<void> {
    try {
      await bbs.updateDesiredLRP(processGuid, update);
    } catch (err) {
      if (!isBbsError(err, 'ResourceConflict')) throw err;
      await bbs.updateDesiredLRP(processGuid, update);
    }
  }

  return {
    async CreateDesiredLRP({ res, subject, body }) {
      const lrp = decodeDesiredLrpCreateRequest(body);
      subject.process_guid = lrp.process_guid;
      subject.domain = lrp.domain;
      validateActionDepth({ setup: lrp.setup, action: lrp.action, monitor: lrp.monitor });
      await bbs.desireLRP(lrp);
      sendEmpty(res, 201);
    },

    async DesiredLRPs({ req, res }) {
      const domain = queryParam(req, 'domain');
      await relayListedJson(res, await bbs.desiredLRPsReceptorJSONStream(domain === undefined ? undefined : { domain }));
    },

    async GetDesiredLRP({ res, param }) {
      sendJson(res, 200, desiredLrpResponseJson(await bbs.desiredLRPByProcessGuid(param('process_guid'))));
    },

    async UpdateDesiredLRP({ res, param, body }) {
      const update = decodeDesiredLrpUpdateRequest(body);
      await updateWithOneRetry(param('process_guid'), update);
      sendEmpty(res, 204);
    },

    async DeleteDesiredLRP({ res, param }) {
      await bbs.removeDesiredLRP(param('process_guid'));
      sendEmpty(res, 204);
    },
  };
}
