/**
 * A cell's side of its presence (DESIGN.md "Cells never touch etcd"; spec/bbs.md §10.5): register through the
 * BBS, heartbeat every third of the TTL, register again when the BBS says the lease is gone, remove on stop.
 */
import { convertError, isBbsError, type CellPresence } from '@diego/models';
import type { Logger } from 'pino';
import type { BbsClient } from '@diego/bbs-client';

/** locket's presence TTL (the rep's lock TTL). */
const DEFAULT_CELL_PRESENCE_TTL_SECONDS = 10;
/** locket's RetryInterval: how long a failed registration waits before the next. */
const DEFAULT_CELL_REGISTRATION_RETRY_MS = 5_000;
/**
 * After a heartbeat fails for a reason other than a lost lease (a BBS or etcd briefly slow or away), the next is
 * sent this soon, then twice as late each time up to the heartbeat interval: the lease is kept alive for as long as
 * it lasts, rather than left two whole intervals from expiry.
 */
const FIRST_HEARTBEAT_RETRY_MS = 250;

export interface CellPresenceMaintainerOptions {
  bbs: Pick<BbsClient, 'registerCell' | 'cellHeartbeat' | 'removeCell'>;
  presence: CellPresence;
  /** The cell's logger, which already names the cell (cell_id); the maintainer adds its session. */
  logger: Logger;
  /** How long the presence outlives the last heartbeat (default 10 s). */
  ttlSeconds?: number;
  /** Default: a third of the TTL, so that two heartbeats may fail before the presence expires. */
  heartbeatIntervalMs?: number;
  /** After a failed registration (default 5 s). */
  retryIntervalMs?: number;
}

/**
 * @example
 *   const presence = new CellPresenceMaintainer({ bbs, presence: { cell_id: 'cell-1', ... }, logger });
 *   await presence.start(); // registered
 *   // ...
 *   await presence.stop();  // gone from GET /v1/cells at once
 */
export class CellPresenceMaintainer {
  private readonly ttlSeconds: number;
  private readonly heartbeatIntervalMs: number;
  private readonly retryIntervalMs: number;
  private readonly logger: Logger;
  private lease: string | null = null;
  /** Heartbeats failed in a row since the lease was last renewed. */
  private failedBeats = 0;
  /** When the lease was last granted or renewed (ms since the epoch). */
  private renewedAt = 0;
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  /** Ends the wait between failed registrations of `start()`, when stopped during it. */
  private wakeUp: (() => void) | null = null;
  /** The registration or heartbeat in flight. */
  private inFlight: Promise<void> = Promise.resolve();

  constructor(private readonly options: CellPresenceMaintainerOptions) {
    this.ttlSeconds = options.ttlSeconds ?? DEFAULT_CELL_PRESENCE_TTL_SECONDS;
    this.heartbeatIntervalMs = options.heartbeatIntervalMs ?? (this.ttlSeconds * 1000) / 3;
    this.retryIntervalMs = options.retryIntervalMs ?? DEFAULT_CELL_REGISTRATION_RETRY_MS;
    this.logger = options.logger.child({ session: 'cell-presence' });
  }

  /** The lease holding the presence; null until registered. */
  get leaseId(): string | null {
    return this.lease;
  }

  /** Resolves once registered; a failed registration is retried every retry interval until `stop()`. */
  async start(): Promise<void> {
    this.running = true;
    for (;;) {
      this.inFlight = this.register();
      await this.inFlight;
      if (this.lease !== null || !this.running) break;
      await new Promise<void>((resolve) => {
        this.wakeUp = resolve;
        this.timer = setTimeout(resolve, this.retryIntervalMs);
      });
      this.wakeUp = null;
      if (!this.running) return;
    }
    this.scheduleHeartbeat();
  }

  /** Stops heartbeating and removes the presence (best effort: otherwise it expires with its lease). */
  async stop(): Promise<void> {
    const wasRunning = this.running;
    this.running = false;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.wakeUp?.();
    await this.inFlight;
    if (!wasRunning || this.lease === null) return;
    this.lease = null;
    try {
      await this.options.bbs.removeCell(this.options.presence.cell_id);
      this.logger.info('cell-presence-removed');
    } catch (err) {
      if (!isBbsError(err, 'ResourceNotFound')) this.logger.error({ err: convertError(err).message }, 'failed-to-remove-cell-presence');
    }
  }

  private async register(): Promise<void> {
    try {
      this.lease = await this.options.bbs.registerCell(this.options.presence, this.ttlSeconds);
      this.renewed();
      this.logger.info({ lease_id: this.lease, ttl_seconds: this.ttlSeconds }, 'cell-presence-registered');
    } catch (err) {
      this.lease = null;
      this.logger.error({ err: convertError(err).message }, 'failed-to-register-cell-presence');
    }
  }

  private scheduleHeartbeat(): void {
    if (!this.running) return;
    this.timer = setTimeout(() => {
      this.inFlight = this.beat().then(() => this.scheduleHeartbeat());
    }, this.nextWait());
  }

  private nextWait(): number {
    if (this.lease === null) return this.retryIntervalMs;
    if (this.failedBeats === 0) return this.heartbeatIntervalMs;
    return Math.min(this.heartbeatIntervalMs, FIRST_HEARTBEAT_RETRY_MS * 2 ** (this.failedBeats - 1));
  }

  private renewed(): void {
    this.failedBeats = 0;
    this.renewedAt = Date.now();
  }

  /** One heartbeat; a lease the BBS says is gone means registering again, at once. */
  private async beat(): Promise<void> {
    const lease = this.lease;
    if (lease === null) return this.register();
    try {
      await this.options.bbs.cellHeartbeat(this.options.presence.cell_id, lease);
      if (this.failedBeats > 0) this.logger.info({ lease_id: lease, failed_beats: this.failedBeats }, 'cell-presence-heartbeat-recovered');
      this.renewed();
    } catch (err) {
      if (!isBbsError(err, 'ResourceNotFound')) {
        // The BBS or etcd may be briefly away: retried soon, until the BBS says the lease is gone.
        this.failedBeats += 1;
        const leaseLeftMs = this.renewedAt + this.ttlSeconds * 1000 - Date.now();
        this.logger.error(
          { lease_id: lease, err: convertError(err).message, failed_beats: this.failedBeats, lease_left_ms: leaseLeftMs },
          'failed-to-heartbeat-cell-presence',
        );
        return;
      }
      this.logger.error({ lease_id: lease }, 'cell-presence-lost');
      if (this.running) await this.register();
    }
  }
}
