import {
  desiredLrpFromJson,
  desiredLrpToJson,
  isBbsError,
  type DesiredLRP,
  type DesiredLRPSchedulingInfo,
  type DesiredLRPUpdate,
} from '@diego/models';
import type { Change, DesiredLRPDb, StoredDesiredLRP } from '../db';
import type { DesiredLRPFilter, Listed } from '@diego/bbs-client';
import type { EtcdActualLRPDb } from './actual-lrp-db';
import { incremented, newModificationTag } from './actual-lrp-records';
import type { DbContext } from './context';
import { AS_TEXT, deleteExisting, updateExisting, type StoredAs } from './guaranteed-update';
import { DESIRED_LRP_PREFIX, desiredLrpKey } from './keys';
import { decodeRecord, memoizedDecoder, type Keep } from './store';

/**
 * Desired LRPs, one key each: `/v1/desired/<guid>` holds the whole DesiredLRP with its modification tag
 * (DESIGN.md; not the later schedule/run split). Desire and scale-up create the UNCLAIMED actuals too.
 *
 * @example
 *   const { desired, createdIndices } = await db.desireLRP(lrp); // auction createdIndices
 */
export class EtcdDesiredLRPDb implements DesiredLRPDb {
  constructor(
    private readonly ctx: DbContext,
    private readonly actuals: EtcdActualLRPDb,
  ) {}

  async desiredLRPs(filter: DesiredLRPFilter = {}): Promise<DesiredLRP[]> {
    return (await this.listDesiredLRPs(filter)).items;
  }

  async desiredLRPSchedulingInfos(filter: DesiredLRPFilter = {}): Promise<DesiredLRPSchedulingInfo[]> {
    return (await this.listDesiredLRPSchedulingInfos(filter)).items;
  }

  async desiredLRPSchedulingInfosOf(processGuids: Iterable<string>): Promise<DesiredLRPSchedulingInfo[]> {
    const infos: DesiredLRPSchedulingInfo[] = [];
    for (const processGuid of processGuids) {
      try {
        const found = await this.ctx.store.tryGet(desiredLrpKey(processGuid), decodeSchedulingInfo);
        if (found !== null) infos.push(found.value);
      } catch (err) {
        if (!isBbsError(err, 'InvalidRecord')) throw err;
        this.ctx.logger.error({ process_guid: processGuid, error: err.message }, 'failed-to-decode-record');
      }
    }
    return infos;
  }

  async listDesiredLRPs(filter: DesiredLRPFilter = {}): Promise<Listed<DesiredLRP>> {
    // Whole DesiredLRPs are not kept in the view (a few KiB each): this list reads etcd.
    const { items, revision } = await this.ctx.store.listDecoded(DESIRED_LRP_PREFIX, desiredLrpFromJson, inDomain(filter));
    return { items: items.map((item) => item.value), revision };
  }

  async listDesiredLRPSchedulingInfos(filter: DesiredLRPFilter = {}): Promise<Listed<DesiredLRPSchedulingInfo>> {
    const { items, revision } = await this.ctx.store.listDecoded(DESIRED_LRP_PREFIX, decodeSchedulingInfo, inDomain(filter));
    return { items: items.map((item) => item.value), revision };
  }

  async eachDesiredLRPPage(filter: DesiredLRPFilter, onPage: (lrps: DesiredLRP[], revision: string) => Promise<void>): Promise<string> {
    return this.ctx.store.eachDecodedPage(DESIRED_LRP_PREFIX, desiredLrpFromJson, inDomain(filter), onPage);
  }

  async eachStoredDesiredLRPPage(
    filter: DesiredLRPFilter,
    onPage: (records: StoredDesiredLRP[], revision: string) => Promise<void>,
  ): Promise<string> {
    const { store } = this.ctx;
    const keep = inDomain<{ domain: string }>(filter);
    return store.eachRecordPage(DESIRED_LRP_PREFIX, async (records, revision) => {
      const kept: StoredDesiredLRP[] = [];
      for (const record of records) {
        // The view decoded every write it took (for the scheduling info): whether the record decodes, and its
        // domain, are known without decoding a few KiB again.
        let known: { domain: string };
        let lrp: DesiredLRP | null = null;
        try {
          known = store.viewDecoded(record, decodeSchedulingInfo) ?? (lrp = decodeRecord(record, desiredLrpFromJson));
        } catch (err) {
          store.skipUndecodable(record, err);
          continue;
        }
        if (keep === undefined || keep(known)) kept.push({ json: record.value, lrp });
      }
      await onPage(kept, revision);
    });
  }

  async desiredLRPByProcessGuid(processGuid: string): Promise<DesiredLRP> {
    return (await this.ctx.store.get(desiredLrpKey(processGuid), desiredLrpFromJson)).value;
  }

  async desireLRP(lrp: DesiredLRP): Promise<{ desired: DesiredLRP; createdIndices: number[] }> {
    const desired: DesiredLRP = { ...lrp, modification_tag: newModificationTag() };
    const key = desiredLrpKey(desired.process_guid);
    let createdIndices: number[];
    try {
      createdIndices = await this.actuals.createUnclaimedActualLRPs(desired, range(0, desired.instances), {
        key,
        value: desiredLrpToJson(desired),
      });
    } catch (err) {
      if (!isBbsError(err, 'ResourceExists')) throw err;
      const stored = await this.ctx.store.tryGetFromEtcd(key, desiredLrpFromJson);
      if (stored === null || !isSameDefinition(stored.value, desired)) throw err;
      // A client's retry of a create that succeeded (its answer was lost, a BBS died): the same desire, not a
      // collision. Instances the first attempt did not create are convergence's to create.
      this.ctx.logger.info({ process_guid: desired.process_guid }, 'desired-lrp-desire-repeated');
      return { desired: stored.value, createdIndices: [] };
    }
    this.ctx.logger.info(
      { process_guid: desired.process_guid, instances: desired.instances, created: createdIndices.length },
      'desired-lrp-created',
    );
    return { desired, createdIndices };
  }

  async updateDesiredLRP(
    processGuid: string,
    update: DesiredLRPUpdate,
  ): Promise<Change<DesiredLRP> & { createdIndices: number[] }> {
    const { before, after } = await updateExisting(this.ctx, desiredLrpKey(processGuid), DESIRED_LRP, (lrp) => ({
      ...lrp,
      instances: update.instances ?? lrp.instances,
      routes: update.routes ?? lrp.routes,
      annotation: update.annotation ?? lrp.annotation,
      modification_tag: incremented(lrp.modification_tag),
    }));
    const createdIndices = await this.actuals.createUnclaimedActualLRPs(after, range(before.value.instances, after.instances));
    return { before: before.value, after, createdIndices };
  }

  async removeDesiredLRP(processGuid: string): Promise<DesiredLRP> {
    // Taken as text: a record that no longer decodes can still be removed (its decode then fails the answer).
    const removed = await deleteExisting(this.ctx, desiredLrpKey(processGuid), AS_TEXT, () => undefined);
    this.ctx.logger.info({ process_guid: processGuid }, 'desired-lrp-removed');
    return desiredLrpFromJson(removed.value);
  }
}

/** How whole DesiredLRP records are read and written by their updates. */
const DESIRED_LRP: StoredAs<DesiredLRP> = { decode: desiredLrpFromJson, encode: desiredLrpToJson };

/** The same definition, whatever the modification tags (each create stamps its own). */
function isSameDefinition(stored: DesiredLRP, requested: DesiredLRP): boolean {
  return desiredLrpToJson({ ...stored, modification_tag: requested.modification_tag }) === desiredLrpToJson(requested);
}

/** [from, to) */
function range(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from) }, (_, i) => from + i);
}

function inDomain<T extends { domain: string }>(filter: DesiredLRPFilter): Keep<T> | undefined {
  const { domain } = filter;
  return domain ? (lrp) => lrp.domain === domain : undefined;
}

/** What convergence and the auctioneer read of every DesiredLRP; small, so the view remembers it. */
export const decodeSchedulingInfo = memoizedDecoder((text: string): DesiredLRPSchedulingInfo => schedulingInfo(desiredLrpFromJson(text)));

function schedulingInfo(lrp: DesiredLRP): DesiredLRPSchedulingInfo {
  return {
    process_guid: lrp.process_guid,
    domain: lrp.domain,
    log_guid: lrp.log_guid,
    annotation: lrp.annotation,
    instances: lrp.instances,
    rootfs: lrp.rootfs,
    memory_mb: lrp.memory_mb,
    disk_mb: lrp.disk_mb,
    routes: lrp.routes,
    modification_tag: lrp.modification_tag,
  };
}
