/** Actual LRPs (spec/receptor-api.md §3.11–§3.13): each group is answered resolved to one record. */
import type { Logger } from 'pino';
import { actualLrpGroupResponseJson, BbsError, convertError, resolveActualLrpGroup } from '@diego/models';
import type { BbsClient } from '@diego/bbs-client';
import { indexNotANumber } from '../errors';
import { queryParam } from '../request-body';
import { relayListedJson, sendEmpty, sendJson, sendList } from '../responses';
import type { RequestSubject } from '../request-state';
import type { Handlers } from './handler';

export type ActualLrpHandlers = Pick<
  Handlers,
  'ActualLRPs' | 'ActualLRPsByProcessGuid' | 'ActualLRPByProcessGuidAndIndex' | 'KillActualLRPByProcessGuidAndIndex'
>;

/** Go's strconv.Atoi: an optional sign and decimal digits, within int64. */
const GO_INT = /^[+-]?\d+$/;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/**
 * The `:index` parameter, parsed as the receptor did (400 `index not a number` otherwise), then narrowed to the
 * proto's int32 as Go's `int32(index)` did. Negative indices go on to the BBS, which rejects them.
 */
function parseIndex(raw: string, subject: RequestSubject): number {
  if (!GO_INT.test(raw)) throw indexNotANumber();
  const value = BigInt(raw);
  if (value < INT64_MIN || value > INT64_MAX) throw indexNotANumber();
  subject.index = Number(BigInt.asIntN(32, value));
  return subject.index;
}

export function actualLrpHandlers(bbs: BbsClient, logger: Logger): ActualLrpHandlers {
  return {
    async ActualLRPs({ req, res }) {
      const domain = queryParam(req, 'domain');
      await relayListedJson(res, await bbs.actualLRPsReceptorJSONStream(domain === undefined ? undefined : { domain }));
    },

    async ActualLRPsByProcessGuid({ res, param }) {
      sendList(res, await bbs.listActualLRPGroupsByProcessGuid(param('process_guid')), actualLrpGroupResponseJson);
    },

    async ActualLRPByProcessGuidAndIndex({ res, param, subject }) {
      const index = parseIndex(param('index'), subject);
      const group = await bbs.actualLRPGroupByProcessGuidAndIndex(param('process_guid'), index);
      sendJson(res, 200, actualLrpGroupResponseJson(group));
    },

    async KillActualLRPByProcessGuidAndIndex({ res, param, subject }) {
      const processGuid = param('process_guid');
      const index = parseIndex(param('index'), subject);
      const resolved = resolveActualLrpGroup(await bbs.actualLRPGroupByProcessGuidAndIndex(processGuid, index));
      if (resolved === null) throw new BbsError('ResourceNotFound');
      const { domain } = resolved.lrp;
      // The receptor answered 204 whatever the retirement did; the convergence recreates the instance.
      await bbs.retireActualLRP({ process_guid: processGuid, index, domain }).catch((err: unknown) => {
        logger.error({ process_guid: processGuid, index, error: convertError(err).message }, 'failed-to-retire-actual-lrp');
      });
      sendEmpty(res, 204);
    },
  };
}
