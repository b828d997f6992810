import type { DomainDb, DomainFreshness } from '../db';
import type { DbContext } from './context';
import { AS_TEXT, guaranteedUpdate } from './guaranteed-update';
import { DOMAIN_PREFIX, domainKey } from './keys';

/**
 * Fresh domains: `/v1/domain/<domain>` with an empty value, under a lease of the freshness TTL (none for 0).
 *
 * @example
 *   await db.upsertDomain('cf-apps', 120); // fresh for two minutes
 */
export class EtcdDomainDb implements DomainDb {
  constructor(private readonly ctx: DbContext) {}

  async domains(): Promise<string[]> {
    const keys = await this.ctx.store.keys(DOMAIN_PREFIX);
    return keys.map((key) => key.slice(DOMAIN_PREFIX.length));
  }

  async domainFreshness(): Promise<DomainFreshness[]> {
    const { items } = await this.ctx.store.list(DOMAIN_PREFIX);
    const fresh = await Promise.all(items.map(async ({ key, lease }): Promise<DomainFreshness | null> => {
      const domain = key.slice(DOMAIN_PREFIX.length);
      if (lease === '0') return { domain, ttl_seconds: null };
      const seconds = await this.ctx.store.leaseSecondsLeft(lease);
      // Expired between the list and the lease query: no longer fresh.
      return seconds === null ? null : { domain, ttl_seconds: seconds };
    }));
    return fresh.filter((entry) => entry !== null);
  }

  async upsertDomain(domain: string, ttlSeconds: number): Promise<void> {
    // Written on every upsert (each one is an event); TTL 0 writes without a lease, fresh for ever. The lease of
    // the write it replaces is revoked only after it: revoking first would delete the key for a moment.
    await guaranteedUpdate(this.ctx, domainKey(domain), AS_TEXT, () => '', { leaseTtlSeconds: ttlSeconds });
  }
}
