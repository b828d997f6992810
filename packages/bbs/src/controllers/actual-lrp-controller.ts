import { BbsError, convertError, type ActualLRPKey } from '@diego/models';
import type { Logger } from 'pino';
import type { Db } from '../db/db';
import type { RepClient } from '@diego/rep-api';

export type ActualLRPControllerStore = Pick<Db, 'retireActualLRP'>;

/** ActualLRP writes with a follow-up on a cell. */
export class ActualLRPController {
  constructor(
    private readonly db: ActualLRPControllerStore,
    private readonly rep: RepClient,
    private readonly logger: Logger,
  ) {}

  /**
   * Kills an instance (spec §5.2): the store removes a record no cell runs; a CLAIMED or RUNNING one is stopped
   * by its cell, whose rep then removes the record. A rep that cannot be told gives ActualLRPCannotBeStopped.
   */
  async retireActualLRP(key: ActualLRPKey): Promise<void> {
    const result = await this.db.retireActualLRP(key);
    if (result.removed) return;
    const fields = {
      process_guid: key.process_guid,
      index: key.index,
      instance_guid: result.lrp.instance_guid,
      cell_id: result.cell.cell_id,
    };
    try {
      await this.rep.stopLrpInstance(result.cell, key.process_guid, result.lrp.instance_guid);
      this.logger.info(fields, 'asked-cell-to-stop-actual-lrp');
    } catch (err) {
      this.logger.error({ ...fields, err: convertError(err).message }, 'failed-to-stop-actual-lrp');
      throw new BbsError('ActualLRPCannotBeStopped');
    }
  }
}
