import { convertError } from '@diego/models';
import type { Logger } from 'pino';
import type { Db } from '../db/db';
import type { RepClient } from '@diego/rep-api';

export type TaskControllerStore = Pick<Db, 'cancelTask' | 'cellById'>;

/** Task writes with a follow-up on a cell. */
export class TaskController {
  constructor(
    private readonly db: TaskControllerStore,
    private readonly rep: RepClient,
    private readonly logger: Logger,
  ) {}

  /**
   * Completes the task as cancelled (spec §7), then tells the cell that was running it to stop. The cell call is
   * best effort: the task is already cancelled, whatever the cell answers.
   */
  async cancelTask(taskGuid: string): Promise<void> {
    const { before } = await this.db.cancelTask(taskGuid);
    if (before.cell_id === '') return;
    const fields = { task_guid: taskGuid, cell_id: before.cell_id };
    try {
      const cell = await this.db.cellById(before.cell_id);
      await this.rep.cancelTask(cell, taskGuid);
      this.logger.info(fields, 'asked-cell-to-cancel-task');
    } catch (err) {
      this.logger.error({ ...fields, err: convertError(err).message }, 'failed-to-cancel-task-on-cell');
    }
  }
}
