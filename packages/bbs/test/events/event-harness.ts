/**
 * Real BBS servers for the event stream tests, on a key space of the shared test etcd (or any namespace), each
 * with its own HttpBbsClient; and the reading helpers every events test uses.
 */
import type { Namespace } from 'etcd3';
import pino from 'pino';
import { EtcdDb, startBbsServer, type BbsServer, type BbsServerOptions } from '@diego/bbs';
import { HttpBbsClient, type BbsEvent, type EventSubscription } from '@diego/bbs-client';

export const silentLogger = pino({ level: 'silent' });

export interface EventsBbs {
  server: BbsServer;
  /** `http://127.0.0.1:<port>` */
  url: string;
  client: HttpBbsClient;
  stop(): Promise<void>;
}

export type EventsBbsOptions = Omit<BbsServerOptions, 'etcd' | 'listenAddress'>;

export async function startEventsBbs(etcd: Namespace, options: EventsBbsOptions = {}): Promise<EventsBbs> {
  const server = await startBbsServer({ etcd, listenAddress: '127.0.0.1:0', logger: silentLogger, ...options });
  const url = `http://${server.address}`;
  const client = new HttpBbsClient([url]);
  return {
    server,
    url,
    client,
    async stop() {
      await server.stop();
      client.close();
    },
  };
}

/** A store on the same key space, for writes no BBS route makes at the speed a test needs. */
export function storeOn(etcd: Namespace): EtcdDb {
  return new EtcdDb(etcd, { logger: silentLogger });
}


/** Every event until the stream ends (failing after `timeoutMs`). */
export async function eventsUntilEnd(events: EventSubscription, timeoutMs = 10_000): Promise<BbsEvent[]> {
  const received: BbsEvent[] = [];
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the stream did not end within ${timeoutMs} ms (${received.length} events)`)), timeoutMs);
  });
  try {
    for (let event = await Promise.race([events.next(), deadline]); event !== null; event = await Promise.race([events.next(), deadline])) {
      received.push(event);
    }
    return received;
  } finally {
    clearTimeout(timer);
  }
}

/** The record an event is about: `<kind>:<guid>` (with the index for actual LRPs). */
export function subjectOf(event: BbsEvent): string {
  switch (event.type) {
    case 'desired_lrp_created':
    case 'desired_lrp_removed':
      return `desired:${event.desired_lrp.process_guid}`;
    case 'desired_lrp_changed':
      return `desired:${event.after.process_guid}`;
    case 'actual_lrp_created':
    case 'actual_lrp_removed': {
      const lrp = event.actual_lrp_group.instance ?? event.actual_lrp_group.evacuating;
      return `actual:${lrp?.process_guid ?? ''}/${lrp?.index ?? ''}`;
    }
    case 'actual_lrp_changed': {
      const lrp = event.after.instance ?? event.after.evacuating;
      return `actual:${lrp?.process_guid ?? ''}/${lrp?.index ?? ''}`;
    }
    case 'task_created':
    case 'task_removed':
      return `task:${event.task.task_guid}`;
    case 'task_changed':
      return `task:${event.after.task_guid}`;
    case 'cell_appeared':
    case 'cell_changed':
      return `cell:${event.cell_presence.cell_id}`;
    case 'cell_disappeared':
      return `cell:${event.cell_id}`;
    case 'domain_fresh':
    case 'domain_expired':
      return `domain:${event.domain}`;
  }
}

/** An event as `revision type subject`, to compare streams in one assertion. */
export function describeEvent(event: BbsEvent): string {
  return `${event.revision} ${event.type} ${subjectOf(event)}`;
}

/** True when the revisions never go down (events of one revision share it). */
export function inRevisionOrder(events: readonly BbsEvent[]): boolean {
  return events.every((event, i) => i === 0 || BigInt(event.revision) >= BigInt(events[i - 1]?.revision ?? '0'));
}

/** Runs `work` over `items` with at most `concurrency` in flight. */
export async function inParallel<T>(items: readonly T[], concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++];
      if (item !== undefined) await work(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}
