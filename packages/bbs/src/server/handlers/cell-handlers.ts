import {
  cellPresenceFromProto,
  cellPresenceToProto,
  validateCellHeartbeatRequest,
  validateCellIdRequest,
  validateRegisterCellRequest,
} from '@diego/models';
import type { Db } from '../../db/db';
import type { QueryHandlers, RpcHandlers } from '../router';
import { ifPresent } from './request-parts';

type CellRouteName = 'RegisterCell' | 'CellHeartbeat' | 'RemoveCell';

export type CellHandlerStore = Pick<Db, 'cells' | 'registerCell' | 'heartbeatCell' | 'removeCell'>;

export function cellHandlers(db: CellHandlerStore): Pick<QueryHandlers, 'Cells_r1'> & Pick<RpcHandlers, CellRouteName> {
  return {
    Cells_r1: async () => ({ cells: (await db.cells()).map(cellPresenceToProto) }),

    RegisterCell: async (request) => {
      const cell = cellPresenceFromProto(request.cell_presence ?? {});
      validateRegisterCellRequest(ifPresent(request.cell_presence, cell), request.ttl);
      return { lease_id: await db.registerCell(cell, request.ttl) };
    },

    CellHeartbeat: async (request) => {
      validateCellHeartbeatRequest(request.cell_id, request.lease_id);
      await db.heartbeatCell(request.cell_id, request.lease_id);
      return {};
    },

    RemoveCell: async (request) => {
      validateCellIdRequest(request.cell_id);
      await db.removeCell(request.cell_id);
      return {};
    },
  };
}
