/** Reading a BBS event subscription in tests: exactly so many events, or a failure that says what came. */
import type { BbsEvent, EventSubscription } from '@diego/bbs-client';

/** The next `count` events, failing after `timeoutMs` with what did arrive. */
export async function takeEvents(events: EventSubscription, count: number, timeoutMs = 10_000): Promise<BbsEvent[]> {
  const received: BbsEvent[] = [];
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`only ${received.length} of ${count} events within ${timeoutMs} ms: ${received.map((e) => e.type).join(', ')}`)),
      timeoutMs,
    );
  });
  try {
    while (received.length < count) {
      const event = await Promise.race([events.next(), deadline]);
      if (event === null) throw new Error(`the stream ended after ${received.length} of ${count} events`);
      received.push(event);
    }
    return received;
  } finally {
    clearTimeout(timer);
  }
}
