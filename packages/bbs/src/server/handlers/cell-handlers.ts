import { cellPresenceToProto } from '@diego/models';
import type { Db } from '../../db/db';
import type { QueryHandlers } from '../router';

export function cellHandlers(db: Pick<Db, 'cells'>): Pick<QueryHandlers, 'Cells_r1'> {
  return {
    Cells_r1: async () => ({ cells: (await db.cells()).map(cellPresenceToProto) }),
  };
}
