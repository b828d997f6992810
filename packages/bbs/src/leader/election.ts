/**
 * One leader among the BBSes (spec/bbs.md §10.3): every BBS campaigns in the etcd election /v1/locks/bbs_lock
 * with a lease of 10 s; the one elected starts the leader's loops in order, and stops them all at once when
 * its leadership ends, then campaigns again. On shutdown it stops them and resigns, so that another BBS takes
 * over at once instead of after the lease's TTL.
 */
import { Campaign, type Namespace } from 'etcd3';
import { convertError } from '@diego/models';
import type { Logger } from 'pino';
import { BBS_LOCK_PREFIX } from '../db/etcd/keys';
import type { LeaderLoop } from './contracts';

/** locket's LockTTL. */
const DEFAULT_ELECTION_TTL_SECONDS = 10;
/** locket's RetryInterval: how long a failed campaign waits before the next. */
const DEFAULT_CAMPAIGN_RETRY_MS = 5_000;
/** The longest a shutdown waits for the resignation to reach etcd; the lease expires by itself otherwise. */
const RESIGN_TIMEOUT_MS = 2_000;

/** The election value: Diego's BBSPresence. */
export interface BbsPresence {
  /** A UUID per process. */
  id: string;
  /** Where this BBS's API is reached (`--advertiseURL`). */
  url: string;
}

export interface LeaderElectionOptions {
  etcd: Namespace;
  presence: BbsPresence;
  /** Started in this order when elected; stopped all at once. */
  loops: readonly LeaderLoop[];
  logger: Logger;
  /** The lease TTL of the campaign (default 10 s). */
  ttlSeconds?: number;
  /** After a failed or lost campaign (default 5 s). */
  retryIntervalMs?: number;
  /** Told each time this BBS becomes the leader (true) or stops being it (false). */
  onLeadershipChange?: (isLeader: boolean) => void;
}

/**
 * @example
 *   const election = new LeaderElection({ etcd, presence: { id: randomUUID(), url }, loops: [converger], logger });
 *   election.start();
 *   // ...
 *   await election.stop();
 */
export class LeaderElection {
  private readonly lockSpace: Namespace;
  private readonly value: string;
  private readonly ttlSeconds: number;
  private readonly retryIntervalMs: number;
  private readonly logger: Logger;
  /** The campaign in progress or won; null between campaigns. */
  private campaign: Campaign | null = null;
  private leading = false;
  private stopped = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private watchdog: NodeJS.Timeout | null = null;
  /** Becoming and ceasing to be the leader happen one at a time, in order. */
  private transitions: Promise<void> = Promise.resolve();

  constructor(private readonly options: LeaderElectionOptions) {
    this.lockSpace = options.etcd.namespace(BBS_LOCK_PREFIX);
    this.value = JSON.stringify(options.presence);
    this.ttlSeconds = options.ttlSeconds ?? DEFAULT_ELECTION_TTL_SECONDS;
    this.retryIntervalMs = options.retryIntervalMs ?? DEFAULT_CAMPAIGN_RETRY_MS;
    this.logger = options.logger.child({ session: 'leader-election', bbs_id: options.presence.id });
  }

  /** Whether this BBS leads (its loops are running or starting). */
  get isLeader(): boolean {
    return this.leading;
  }

  /** Starts campaigning; the loops start once this BBS is elected. */
  start(): void {
    this.campaignNow();
  }

  /** Stops the loops (when leading) and resigns. Idempotent. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    await this.enqueue(async () => {
      const campaign = this.campaign;
      this.campaign = null;
      await this.stopLeading('leadership-resigned');
      if (campaign !== null) await resignWithin(campaign, RESIGN_TIMEOUT_MS, this.logger);
    });
  }

  private campaignNow(): void {
    if (this.stopped) return;
    const campaign = new Campaign(this.lockSpace, this.value, this.ttlSeconds);
    this.campaign = campaign;
    this.logger.info({ ttl_seconds: this.ttlSeconds }, 'campaigning');
    campaign.on('elected', () => void this.enqueue(() => this.lead(campaign)));
    campaign.on('error', (err) => void this.enqueue(() => this.endCampaign(campaign, 'campaign-failed', err)));
  }

  private async lead(campaign: Campaign): Promise<void> {
    if (this.campaign !== campaign) return;
    this.leading = true;
    this.logger.info({ url: this.options.presence.url }, 'leader-elected');
    this.options.onLeadershipChange?.(true);
    this.startWatchdog(campaign);
    for (const loop of this.options.loops) {
      // Leadership may have ended while an earlier loop was starting: the transition queued behind stops them.
      if (this.campaign !== campaign) return;
      try {
        await loop.start();
        this.logger.info({ loop: loop.name }, 'leader-loop-started');
      } catch (err) {
        this.logger.error({ loop: loop.name, err: convertError(err).message }, 'leader-loop-failed-to-start');
        void this.enqueue(() => this.endCampaign(campaign, 'leader-loop-failed-to-start', err));
        return;
      }
    }
  }

  /** Ends a campaign that failed or whose leadership ended: stops the loops, resigns, campaigns again later. */
  private async endCampaign(campaign: Campaign, reason: string, err: unknown): Promise<void> {
    if (this.campaign !== campaign) return;
    this.campaign = null;
    this.logger.error({ reason, err: convertError(err).message }, 'campaign-ended');
    await this.stopLeading('leadership-lost');
    await resignWithin(campaign, RESIGN_TIMEOUT_MS, this.logger);
    if (!this.stopped) this.retryTimer = setTimeout(() => this.campaignNow(), this.retryIntervalMs);
  }

  private async stopLeading(event: string): Promise<void> {
    if (this.watchdog !== null) clearInterval(this.watchdog);
    this.watchdog = null;
    if (!this.leading) return;
    await Promise.all(
      this.options.loops.map(async (loop) => {
        try {
          await loop.stop();
        } catch (err) {
          this.logger.error({ loop: loop.name, err: convertError(err).message }, 'leader-loop-failed-to-stop');
        }
      }),
    );
    this.leading = false;
    this.logger.info({ url: this.options.presence.url }, event);
    this.options.onLeadershipChange?.(false);
  }

  /**
   * etcd3 reports a lost lease only after twice its TTL without a keepalive; by then another BBS may have led
   * for a whole TTL. So the leader checks every fifth of the TTL that its key still leads, and steps down when
   * it could not tell for half the TTL (its lease is then at best a few seconds from expiring).
   */
  private startWatchdog(campaign: Campaign): void {
    const ttlMs = this.ttlSeconds * 1000;
    let confirmedAt = Date.now();
    let checking = false;
    const lost = (reason: string, err: unknown): void => void this.enqueue(() => this.endCampaign(campaign, reason, err));
    const unconfirmed = (): boolean => Date.now() - confirmedAt > ttlMs / 2;
    this.watchdog = setInterval(() => {
      if (unconfirmed()) {
        // Timers run before pending I/O: after the loop was busy (a pass over 200,000 records), an answer that came
        // meanwhile is handled first, and only a check still unanswered then counts against etcd.
        setImmediate(() => {
          if (this.watchdog !== null && unconfirmed()) lost('leadership-unconfirmed', new Error(`no answer from etcd for ${ttlMs / 2} ms`));
        });
        return;
      }
      if (checking) return;
      checking = true;
      this.currentLeaderValue().then(
        (leader) => {
          checking = false;
          if (leader === this.value) confirmedAt = Date.now();
          else lost('leadership-taken', new Error('the election key of this BBS no longer leads'));
        },
        () => {
          checking = false;
        },
      );
    }, ttlMs / 5);
  }

  /** The value of the key with the lowest create revision: the leader's. */
  private async currentLeaderValue(): Promise<string | undefined> {
    const result = await this.lockSpace.getAll().sort('Create', 'Ascend').limit(1).exec();
    return result.kvs[0]?.value.toString();
  }

  private enqueue(transition: () => Promise<void>): Promise<void> {
    this.transitions = this.transitions.then(transition).catch((err: unknown) => {
      this.logger.error({ err: convertError(err).message }, 'leadership-transition-failed');
    });
    return this.transitions;
  }
}

/** Revokes the campaign's lease, deleting its key; gives up after `timeoutMs` (the lease then expires by itself). */
async function resignWithin(campaign: Campaign, timeoutMs: number, logger: Logger): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timed-out'>((resolve) => {
    timer = setTimeout(() => resolve('timed-out'), timeoutMs);
  });
  try {
    const outcome = await Promise.race([campaign.resign().then((): 'resigned' => 'resigned'), timedOut]);
    if (outcome === 'timed-out') logger.error({ timeout_ms: timeoutMs }, 'resign-timed-out');
  } catch (err) {
    logger.error({ err: convertError(err).message }, 'failed-to-resign');
  } finally {
    clearTimeout(timer);
  }
}
