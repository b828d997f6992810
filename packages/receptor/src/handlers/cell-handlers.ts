/** Cells (spec/receptor-api.md §3.14): the live cell presences the BBS knows. */
import { cellResponseJson } from '@diego/models';
import type { BbsClient } from '@diego/bbs-client';
import { jsonArray, sendJson } from '../responses';
import type { Handlers } from './handler';

export type CellHandlers = Pick<Handlers, 'Cells'>;

export function cellHandlers(bbs: BbsClient): CellHandlers {
  return {
    async Cells({ res }) {
      sendJson(res, 200, jsonArray((await bbs.cells()).map(cellResponseJson)));
    },
  };
}
