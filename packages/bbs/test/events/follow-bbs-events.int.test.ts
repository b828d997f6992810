// followBbsEvents, how the leader's auctioneer and completion workers follow the store: on the view's watch where
// the store has a view, with the events the hub sends (ids included), and on a watch of their own where it has
// none. A follower that started while the view was still loading is told (onError) once it has loaded, since the
// changes in between never came as batches; following again then goes on from the view.
import pino from 'pino';
import type { BbsEvent } from '@diego/bbs-client';
import { eventually, newValidTask, testKeySpace, type TestKeySpace } from '@diego/test-support';
import { EtcdDb } from '../../src/db/etcd/etcd-db';
import { followBbsEvents, storeFeedOf, type BbsEventWatch } from '../../src/events/watch-events';

const logger = pino({ level: 'silent' });
let keys: TestKeySpace;
const dbs: EtcdDb[] = [];
const watches: BbsEventWatch[] = [];

beforeEach(() => {
  keys = testKeySpace();
});

afterEach(async () => {
  for (const watch of watches.splice(0)) await watch.cancel();
  for (const db of dbs.splice(0)) db.close();
  await keys.cleanup();
});

function storeWithView(view: boolean): EtcdDb {
  const db = new EtcdDb(keys.namespace, { logger, view });
  dbs.push(db);
  return db;
}

async function follow(db: EtcdDb, seen: BbsEvent[], errors: Error[]): Promise<void> {
  watches.push(await followBbsEvents(storeFeedOf(db), keys.namespace, logger, (event) => seen.push(event), (err) => errors.push(err)));
}

async function desire(db: EtcdDb, guid: string): Promise<void> {
  await db.desireTask(newValidTask(guid).definition, guid, 'some-domain');
}

function subjects(events: BbsEvent[]): string[] {
  return events.map((event) => `${event.type} ${event.type === 'task_created' ? event.task.task_guid : ''}`);
}

describe('followBbsEvents', () => {
  it('is told once a view that was loading has loaded, and following again from then on misses nothing', async () => {
    const db = storeWithView(true);
    expect(db.viewStatus?.live).toBe(false);
    const seen: BbsEvent[] = [];
    const errors: Error[] = [];
    await follow(db, seen, errors);
    await eventually(async () => errors.length, (count) => count === 1);
    expect(errors[0]?.message).toMatch(/^the store's view was reloaded at revision \d+/);
    expect(db.viewStatus?.live).toBe(true);

    await follow(db, seen, errors);
    await desire(db, 'after-the-load');
    await eventually(async () => subjects(seen), (found) => found.includes('task_created after-the-load'));
    // Events as the hub sends them: with their ids.
    expect(seen.map((event) => event.id)).toEqual([`${seen[0]?.revision ?? ''}.0`]);
    expect(errors).toHaveLength(1);
  });

  it('watches etcd itself for a store without a view', async () => {
    const db = storeWithView(false);
    const seen: BbsEvent[] = [];
    const errors: Error[] = [];
    await follow(db, seen, errors);
    await desire(db, 'no-view');
    await eventually(async () => subjects(seen), (found) => found.includes('task_created no-view'));
    expect(errors).toEqual([]);
  });
});
