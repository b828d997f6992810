import { validateDomain } from '@diego/models';
import type { Db } from '../../db/db';
import type { QueryHandlers, RpcHandlers } from '../router';

export function domainHandlers(db: Pick<Db, 'domains' | 'upsertDomain'>): Pick<QueryHandlers, 'Domains'> & Pick<RpcHandlers, 'UpsertDomain'> {
  return {
    Domains: async () => ({ domains: await db.domains() }),

    UpsertDomain: async (request) => {
      validateDomain(request.domain);
      await db.upsertDomain(request.domain, request.ttl);
      return {};
    },
  };
}
