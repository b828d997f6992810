/**
 * `-registerWithRouter`: the receptor announces its route to the Cloud Foundry router (gorouter) over NATS, as
 * Diego's natbeat did for the 2015 receptor. It sends `router.register` at once on every (re)connection and then at
 * the interval the router asks for (its `router.start` broadcast, or the answer to our `router.greet`), and
 * `router.unregister` when it stops. NATS being down, unreachable or refusing our credentials never stops the
 * receptor: the connection is retried for as long as the receptor runs.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { connect, Events, StringCodec, type Msg, type NatsConnection } from 'nats';
import type { Logger } from 'pino';
import { reachableHostPort } from '@diego/server-support';
import type { RouterRegistrationConfig } from './config';

/** Until a router says otherwise (gorouter's own recommendation). */
export const DEFAULT_REGISTER_INTERVAL_MS = 20_000;
/** Between connection attempts while no NATS server can be reached (nats.js's own reconnect wait). */
const CONNECT_RETRY_MS = 2_000;
/** How long a NATS server may take to answer the handshake. */
const CONNECT_TIMEOUT_MS = 5_000;
/** natbeat's NatsGreetRequestTimeout. */
const GREET_TIMEOUT_MS = 5_000;
/** How long stopping waits for the unregister message to reach the server. */
const UNREGISTER_FLUSH_MS = 2_000;

const SUBJECT_START = 'router.start';
const SUBJECT_GREET = 'router.greet';
const SUBJECT_REGISTER = 'router.register';
const SUBJECT_UNREGISTER = 'router.unregister';

/** What `router.register` and `router.unregister` carry (natbeat's RegistryMessage). */
export interface RegistryMessage {
  host: string;
  port: number;
  uris: string[];
}

/**
 * The message for a receptor listening on `listenAddress` (host:port as it really listens): its host when it listens
 * on one address, else this machine's first external IPv4 address, as the 2015 receptor announced.
 */
export function registryMessage(listenAddress: string, domainNames: string[]): RegistryMessage {
  return { ...reachableHostPort(listenAddress), uris: [...domainNames] };
}

const codec = StringCodec();

/**
 * Registers one route with the router while it runs. Construct it before the receptor listens (it refuses a
 * configuration without NATS servers or routes), `start` it with the address the receptor listens on, and `stop` it
 * before the receptor's listener closes so that the router stops sending requests first.
 */
export class RouterRegistration {
  private readonly logger: Logger;
  private readonly servers: string[];
  private message: RegistryMessage | null = null;
  private payload: Uint8Array = new Uint8Array();
  private intervalMs = DEFAULT_REGISTER_INTERVAL_MS;
  private timer: NodeJS.Timeout | undefined;
  private connection: NatsConnection | null = null;
  private connected = false;
  private readonly stopping = new AbortController();
  private running: Promise<void> | undefined;
  private stopped: Promise<void> | undefined;

  constructor(
    private readonly config: RouterRegistrationConfig,
    logger: Logger,
  ) {
    if (config.natsAddresses.length === 0) throw new Error('router registration needs at least one NATS address');
    if (config.domainNames.length === 0) throw new Error('router registration needs at least one domain name');
    this.logger = logger.child({ session: 'router-registration' });
    this.servers = config.natsAddresses.map((address) => `nats://${address}`);
  }

  /** Starts connecting and registering in the background; never throws for NATS's sake. */
  start(listenAddress: string): void {
    if (this.running !== undefined) return;
    this.message = registryMessage(listenAddress, this.config.domainNames);
    this.payload = codec.encode(JSON.stringify(this.message));
    this.logger.info(
      { nats_addresses: this.config.natsAddresses, nats_username: this.config.natsUsername, ...this.message },
      'router-registration-started',
    );
    this.running = this.run();
  }

  /** Sends `router.unregister` when connected, then closes the connection and stops retrying. Safe to call twice. */
  stop(): Promise<void> {
    this.stopped ??= (async () => {
      this.stopping.abort();
      this.clearTimer();
      const connection = this.connection;
      if (connection !== null && !connection.isClosed()) {
        if (this.connected) await this.unregister(connection);
        else this.logger.info({ ...this.message }, 'router-unregister-skipped-not-connected');
        await connection.close().catch(() => undefined);
      }
      await this.running;
      this.logger.info({ ...this.message }, 'router-registration-stopped');
    })();
    return this.stopped;
  }

  /** Connects, serves the connection until it closes for good, and starts over, until stopped. */
  private async run(): Promise<void> {
    while (!this.stopping.signal.aborted) {
      let connection: NatsConnection;
      try {
        connection = await connect({
          servers: this.servers,
          user: this.config.natsUsername,
          pass: this.config.natsPassword,
          name: 'diego-receptor',
          noRandomize: true,
          timeout: CONNECT_TIMEOUT_MS,
          // Once connected, nats.js reconnects by itself for ever; a connection it gives up on is redialled here.
          maxReconnectAttempts: -1,
          reconnectTimeWait: CONNECT_RETRY_MS,
        });
      } catch (err) {
        this.logger.warn({ nats_addresses: this.config.natsAddresses, error: this.describe(err) }, 'nats-connect-failed');
        await this.pause();
        continue;
      }
      if (this.stopping.signal.aborted) {
        await connection.close().catch(() => undefined);
        return;
      }
      this.connection = connection;
      this.connected = true;
      this.logger.info({ server: connection.getServer() }, 'nats-connected');
      const watching = this.watch(connection);
      this.onConnected(connection);
      const closedWith = await connection.closed();
      await watching;
      this.clearTimer();
      this.connected = false;
      this.connection = null;
      if (this.stopping.signal.aborted) return;
      this.logger.warn({ error: closedWith === undefined ? 'closed' : this.describe(closedWith) }, 'nats-connection-closed');
      await this.pause();
    }
  }

  /** Answers `router.start` and follows the connection's status (registering again after every reconnection) until it closes. */
  private async watch(connection: NatsConnection): Promise<void> {
    // A router that starts asks every client to register at once (its table is empty).
    connection.subscribe(SUBJECT_START, {
      callback: (err, msg) => {
        if (err !== null || !this.applyGreeting(msg, SUBJECT_START)) return;
        this.register(connection);
        this.schedule(connection);
      },
    });
    // nats.js never ends a status iterator, not even on close: stop reading at close instead.
    const statuses = connection.status()[Symbol.asyncIterator]();
    const closed = connection.closed().then(() => null);
    for (;;) {
      const next = await Promise.race([statuses.next(), closed]);
      if (next === null || next.done === true) return;
      const status = next.value;
      switch (status.type) {
        case Events.Disconnect:
          this.connected = false;
          this.logger.warn({ server: String(status.data) }, 'nats-disconnected');
          break;
        case Events.Reconnect:
          this.connected = true;
          this.logger.info({ server: String(status.data) }, 'nats-reconnected');
          this.onConnected(connection);
          break;
        case Events.Error:
          this.logger.warn({ error: this.describe(status.data) }, 'nats-error');
          break;
        default:
          break;
      }
    }
  }

  /** Registers at once, asks any router for its interval, and registers at that interval from then on. */
  private onConnected(connection: NatsConnection): void {
    this.register(connection);
    this.schedule(connection);
    connection
      .request(SUBJECT_GREET, new Uint8Array(), { timeout: GREET_TIMEOUT_MS })
      .then((reply) => {
        if (this.applyGreeting(reply, SUBJECT_GREET)) this.schedule(connection);
      })
      .catch((err: unknown) => {
        // No router yet: its router.start will come when it starts.
        this.logger.debug({ error: this.describe(err) }, 'router-greet-unanswered');
      });
  }

  /** Takes the register interval from a `router.start` or greeting reply; false when the message is unusable. */
  private applyGreeting(msg: Msg, subject: string): boolean {
    let greeting: unknown;
    try {
      greeting = JSON.parse(codec.decode(msg.data));
    } catch (err) {
      this.logger.warn({ subject, error: this.describe(err) }, 'router-greeting-invalid');
      return false;
    }
    const seconds = field(greeting, 'minimumRegisterIntervalInSeconds');
    if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds <= 0) {
      this.logger.warn({ subject, error: 'minimumRegisterIntervalInSeconds is not a positive number' }, 'router-greeting-invalid');
      return false;
    }
    this.intervalMs = seconds * 1000;
    // gorouter has always sent the misspelt key; accept the corrected one too.
    const pruneSeconds = field(greeting, 'prunteThresholdInSeconds') ?? field(greeting, 'pruneThresholdInSeconds');
    this.logger.info(
      { subject, router_id: field(greeting, 'id'), register_interval_seconds: seconds, prune_threshold_seconds: pruneSeconds },
      'router-greeted',
    );
    return true;
  }

  private schedule(connection: NatsConnection): void {
    this.clearTimer();
    if (this.stopping.signal.aborted) return;
    this.timer = setInterval(() => this.register(connection), this.intervalMs);
  }

  private clearTimer(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One `router.register`; skipped while disconnected (nats.js would queue it and send it stale on reconnect). */
  private register(connection: NatsConnection): void {
    if (!this.connected || this.stopping.signal.aborted) return;
    try {
      connection.publish(SUBJECT_REGISTER, this.payload);
      this.logger.debug({ ...this.message }, 'router-registered');
    } catch (err) {
      this.logger.warn({ error: this.describe(err) }, 'router-register-failed');
    }
  }

  private async unregister(connection: NatsConnection): Promise<void> {
    try {
      connection.publish(SUBJECT_UNREGISTER, this.payload);
      let timer: NodeJS.Timeout | undefined;
      const flushed = await Promise.race([
        connection.flush().then(() => true),
        new Promise<boolean>((resolve) => {
          timer = setTimeout(() => resolve(false), UNREGISTER_FLUSH_MS);
        }),
      ]);
      clearTimeout(timer);
      if (flushed) this.logger.info({ ...this.message }, 'router-unregistered');
      else this.logger.warn({ ...this.message, error: 'the NATS server did not confirm in time' }, 'router-unregister-failed');
    } catch (err) {
      this.logger.warn({ ...this.message, error: this.describe(err) }, 'router-unregister-failed');
    }
  }

  /** Waits before the next connection attempt; returns at once when stopped. */
  private async pause(): Promise<void> {
    await sleep(CONNECT_RETRY_MS, undefined, { signal: this.stopping.signal }).catch(() => undefined);
  }

  /** An error's message for a log, with the NATS password cut out should a library ever echo it. */
  private describe(err: unknown): string {
    const message = err instanceof Error ? err.message : String(err);
    const password = this.config.natsPassword;
    return password === '' ? message : message.split(password).join('[redacted]');
  }
}

function field(value: unknown, key: string): unknown {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;
}
