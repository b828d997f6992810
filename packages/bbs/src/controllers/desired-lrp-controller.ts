import { convertError, type ActualLRP, type DesiredLRP, type DesiredLRPUpdate } from '@diego/models';
import type { Logger } from 'pino';
import type { Db } from '../db/db';
import type { ActualLRPController } from './actual-lrp-controller';

export type DesiredLRPControllerStore = Pick<Db, 'desireLRP' | 'updateDesiredLRP' | 'removeDesiredLRP' | 'actualLRPGroupsByProcessGuid'>;

/**
 * DesiredLRP writes and what follows them (spec §12). Auctions for new instances come with the auctioneer;
 * until then the UNCLAIMED records the store creates wait for it.
 */
export class DesiredLRPController {
  constructor(
    private readonly db: DesiredLRPControllerStore,
    private readonly actualLRPs: Pick<ActualLRPController, 'retireActualLRP'>,
    private readonly logger: Logger,
  ) {}

  async desireDesiredLRP(lrp: DesiredLRP): Promise<void> {
    await this.db.desireLRP(lrp);
  }

  /** Scaling down retires the instances at indices the LRP no longer has. */
  async updateDesiredLRP(processGuid: string, update: DesiredLRPUpdate): Promise<void> {
    const { before, after } = await this.db.updateDesiredLRP(processGuid, update);
    if (after.instances < before.instances) {
      await this.retireInstances(processGuid, (lrp) => lrp.index >= after.instances);
    }
  }

  /** Every instance record of the guid is retired; evacuating ones go away by their TTL. */
  async removeDesiredLRP(processGuid: string): Promise<void> {
    await this.db.removeDesiredLRP(processGuid);
    await this.retireInstances(processGuid, () => true);
  }

  /** A failed retire is logged, not returned: the desired change is made, and convergence retires leftovers. */
  private async retireInstances(processGuid: string, shouldRetire: (lrp: ActualLRP) => boolean): Promise<void> {
    const groups = await this.db.actualLRPGroupsByProcessGuid(processGuid);
    const instances = groups.flatMap((group) => (group.instance !== null && shouldRetire(group.instance) ? [group.instance] : []));
    await Promise.all(
      instances.map(async (lrp) => {
        try {
          await this.actualLRPs.retireActualLRP({ process_guid: lrp.process_guid, index: lrp.index, domain: lrp.domain });
        } catch (err) {
          this.logger.error({ process_guid: processGuid, index: lrp.index, err: convertError(err).message }, 'failed-to-retire-actual-lrp');
        }
      }),
    );
  }
}
