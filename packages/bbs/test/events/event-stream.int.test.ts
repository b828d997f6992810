// The BBS event stream (spec/bbs.md §9, README "Event stream") on real BBS servers over the shared test etcd:
// what each change means on the stream, in revision order, from every BBS; heartbeats; lists that say the
// revision they were read at, so that a client can list and then follow without missing or repeating a change.
import type { Task } from '@diego/models';
import type { BbsEvent, EventSubscription } from '@diego/bbs-client';
import { etcdKeys } from '@diego/bbs';
import { newValidDesiredLrp, newValidTask, SseClient, takeEvents, testKeySpace, type TestKeySpace } from '@diego/test-support';
import { describeEvent, inParallel, inRevisionOrder, startEventsBbs, subjectOf, type EventsBbs } from './event-harness';

let keys: TestKeySpace;
let bbs: EventsBbs;
const opened: { close(): void }[] = [];

beforeEach(async () => {
  keys = testKeySpace();
  bbs = await startEventsBbs(keys.namespace, { eventHeartbeatIntervalMs: 50 });
});

afterEach(async () => {
  for (const stream of opened.splice(0)) stream.close();
  await bbs.stop();
  await keys.cleanup();
});

async function subscribe(on: EventsBbs = bbs, afterRevision?: string): Promise<EventSubscription> {
  const subscription = await on.client.subscribeToEvents(afterRevision === undefined ? {} : { afterRevision });
  opened.push(subscription);
  return subscription;
}

async function modRevision(key: string): Promise<string | undefined> {
  return (await keys.namespace.get(key).exec()).kvs[0]?.mod_revision;
}

const domain = 'some-domain';
const instanceKey = { instance_guid: 'ig-1', cell_id: 'cell-1' };
const netInfo = { address: '10.0.0.1', ports: [{ container_port: 8080, host_port: 61001 }] };

describe('EventStream_r0', () => {
  it('follows an LRP through its life: desired and actual created, changed and removed, in revision order', async () => {
    const events = await subscribe();
    await bbs.client.desireLRP(newValidDesiredLrp('web', { instances: 1, domain }));
    await bbs.client.claimActualLRP('web', 0, instanceKey);
    await bbs.client.startActualLRP({ process_guid: 'web', index: 0, domain }, instanceKey, netInfo);
    await bbs.client.updateDesiredLRP('web', { instances: null, routes: null, annotation: 'v2' });
    const updatedAt = await modRevision(etcdKeys.desiredLrpKey('web'));
    await bbs.client.removeDesiredLRP('web');

    const received = await takeEvents(events, 7);
    expect(received.map((event) => event.type)).toEqual([
      'desired_lrp_created',
      'actual_lrp_created',
      'actual_lrp_changed',
      'actual_lrp_changed',
      'desired_lrp_changed',
      'desired_lrp_removed',
      'actual_lrp_removed',
    ]);
    const [desired, actual, claimed, running, changed, removed, actualRemoved] = received;
    // The desired LRP and its instance were written in one transaction: one revision, the desired record first.
    expect(actual?.revision).toBe(desired?.revision);
    expect(claimed).toMatchObject({ before: { instance: { state: 'UNCLAIMED' } }, after: { instance: { state: 'CLAIMED' } } });
    expect(running).toMatchObject({
      before: { instance: { state: 'CLAIMED' }, evacuating: null },
      after: { instance: { state: 'RUNNING', address: '10.0.0.1' }, evacuating: null },
    });
    expect(changed).toMatchObject({ before: { annotation: 'some-annotation' }, after: { annotation: 'v2' } });
    expect(changed?.revision).toBe(updatedAt);
    expect(removed).toMatchObject({ desired_lrp: { process_guid: 'web', annotation: 'v2' } });
    expect(actualRemoved).toMatchObject({ actual_lrp_group: { instance: { state: 'RUNNING', instance_guid: 'ig-1' } } });
    expect(inRevisionOrder(received)).toBe(true);
    expect(new Set(received.map((event) => event.revision)).size).toBe(6);
  });

  it('follows a task through its life', async () => {
    const events = await subscribe();
    const { task_guid, definition } = newValidTask('task-1');
    await bbs.client.desireTask(task_guid, domain, definition);
    await bbs.client.startTask(task_guid, 'cell-1');
    await bbs.client.completeTask(task_guid, 'cell-1', false, '', 'the result');
    await bbs.client.resolvingTask(task_guid);
    await bbs.client.deleteTask(task_guid);

    const received = await takeEvents(events, 5);
    expect(received.map((event) => event.type)).toEqual(['task_created', 'task_changed', 'task_changed', 'task_changed', 'task_removed']);
    expect(received.map((event) => (event.type === 'task_changed' ? event.after.state : ''))).toEqual([
      '',
      'RUNNING',
      'COMPLETED',
      'RESOLVING',
      '',
    ]);
    expect(received[2]).toMatchObject({ after: { result: 'the result', failed: false } });
    expect(received[4]).toMatchObject({ task: { task_guid, state: 'RESOLVING' } });
    expect(inRevisionOrder(received)).toBe(true);
  });

  it('delivers 2,000 rapid changes, every one, in revision order', async () => {
    const events = await subscribe();
    const guids = Array.from({ length: 2000 }, (_, i) => `task-${i}`);
    await inParallel(guids, 32, (guid) => bbs.client.desireTask(guid, domain, newValidTask(guid).definition));

    const received = await takeEvents(events, guids.length, 30_000);
    expect(received.every((event) => event.type === 'task_created')).toBe(true);
    expect(new Set(received.map(subjectOf))).toEqual(new Set(guids.map((guid) => `task:${guid}`)));
    const revisions = received.map((event) => BigInt(event.revision));
    expect(revisions.every((revision, i) => i === 0 || revision > (revisions[i - 1] ?? 0n))).toBe(true);
  }, 60_000);

  it('shows a change made through one BBS on the streams of every BBS on the store', async () => {
    const other = await startEventsBbs(keys.namespace);
    try {
      const here = await subscribe();
      const there = await subscribe(other);
      await bbs.client.desireTask('made-here', domain, newValidTask('made-here').definition);
      await other.client.desireTask('made-there', domain, newValidTask('made-there').definition);

      const seenHere = (await takeEvents(here, 2)).map(describeEvent);
      const seenThere = (await takeEvents(there, 2)).map(describeEvent);
      expect(seenHere).toEqual(seenThere);
      expect(seenHere.map((line) => line.split(' ').slice(1).join(' '))).toEqual([
        'task_created task:made-here',
        'task_created task:made-there',
      ]);
    } finally {
      await other.stop();
    }
  });

  it('writes a heartbeat comment on an idle stream, every interval', async () => {
    const client = await SseClient.connect(`${bbs.url}/v1/events`);
    opened.push(client);
    expect(client.response.statusCode).toBe(200);
    await expect(client.nextComment(2000)).resolves.toBe('heartbeat');
    await expect(client.nextComment(2000)).resolves.toBe('heartbeat');
    // Heartbeats are comments: events still arrive as before, between them.
    await bbs.client.desireTask('task-1', domain, newValidTask('task-1').definition);
    const event = await client.next();
    expect(event).toMatchObject({ event: 'task_created', id: `${await modRevision(etcdKeys.taskKey('task-1'))}.0` });
  });

  it('refuses a Last-Event-ID that is no etcd revision with 400', async () => {
    for (const id of ['abc', '-1', '1.5.0', '1.', '99999999999999999999']) {
      const response = await fetch(`${bbs.url}/v1/events`, { headers: { 'Last-Event-ID': id } });
      expect(response.status).toBe(400);
      expect(await response.text()).toMatch(/invalid event id/);
    }
    await expect(bbs.client.subscribeToEvents({ afterRevision: 'abc' })).rejects.toMatchObject({ type: 'InvalidRequest' });
  });
});

describe('list routes', () => {
  it('answer with the etcd revision they read at in X-Diego-Revision', async () => {
    await bbs.client.desireLRP(newValidDesiredLrp('web', { instances: 1, domain }));
    await bbs.client.desireTask('task-1', domain, newValidTask('task-1').definition);
    const written = BigInt((await modRevision(etcdKeys.taskKey('task-1'))) ?? '0');

    const revisions = [
      (await bbs.client.callListing('ActualLRPGroups', { domain: '', cell_id: '' })).revision,
      (await bbs.client.callListing('ActualLRPGroupsByProcessGuid', { process_guid: 'web' })).revision,
      (await bbs.client.callListing('DesiredLRPs_r1', { domain: '' })).revision,
      (await bbs.client.callListing('DesiredLRPs', { domain: '' })).revision,
      (await bbs.client.callListing('DesiredLRPSchedulingInfos', { domain: '' })).revision,
      (await bbs.client.callListing('Tasks_r1', { domain: '', cell_id: '' })).revision,
      (await bbs.client.callListing('Tasks', { domain: '', cell_id: '' })).revision,
    ];
    for (const revision of revisions) {
      expect(revision).toMatch(/^[1-9]\d*$/);
      expect(BigInt(revision)).toBeGreaterThanOrEqual(written);
    }
    const listed = await bbs.client.listDesiredLRPs();
    expect(listed.items.map((lrp) => lrp.process_guid)).toEqual(['web']);
  });

  it('let a client list, then follow from the list revision, and apply every change exactly once', async () => {
    const guids = Array.from({ length: 40 }, (_, i) => `task-${i}`);
    const lifecycle = async (guid: string): Promise<void> => {
      await bbs.client.desireTask(guid, domain, newValidTask(guid).definition);
      await bbs.client.startTask(guid, 'cell-1');
      await bbs.client.failTask(guid, 'it broke');
      await bbs.client.resolvingTask(guid);
      if (Number(guid.split('-')[1]) % 2 === 0) await bbs.client.deleteTask(guid);
    };
    const writing = inParallel(guids, 8, lifecycle);

    // List in the middle of the writes, then follow from the list's revision, as a route emitter does.
    await bbs.client.desireTask('before-the-list', domain, newValidTask('before-the-list').definition);
    const listed = await bbs.client.listTasks();
    const model = new Map<string, Task>(listed.items.map((task) => [task.task_guid, task]));
    const events = await subscribe(bbs, listed.revision);
    await writing;
    const final = await bbs.client.tasks();

    const apply = (event: BbsEvent): void => {
      const subject = subjectOf(event);
      if (event.type === 'task_created') {
        expect({ subject, present: model.has(event.task.task_guid) }).toEqual({ subject, present: false });
        model.set(event.task.task_guid, event.task);
      } else if (event.type === 'task_changed') {
        expect({ subject, before: model.get(event.before.task_guid) }).toEqual({ subject, before: event.before });
        model.set(event.after.task_guid, event.after);
      } else if (event.type === 'task_removed') {
        expect({ subject, before: model.get(event.task.task_guid) }).toEqual({ subject, before: event.task });
        model.delete(event.task.task_guid);
      }
    };
    const matchesFinal = (): boolean =>
      model.size === final.length && final.every((task) => JSON.stringify(model.get(task.task_guid), bigints) === JSON.stringify(task, bigints));
    const deadline = Date.now() + 15_000;
    while (!matchesFinal()) {
      if (Date.now() > deadline) throw new Error('the followed state never matched the store');
      const [event] = await takeEvents(events, 1, deadline - Date.now());
      if (event !== undefined) apply(event);
    }
    expect(model.has('before-the-list')).toBe(true);
    // Whatever else was on the way would be a change applied twice: read on up to a marker written now.
    await bbs.client.desireTask('marker', domain, newValidTask('marker').definition);
    while (!model.has('marker')) {
      const [event] = await takeEvents(events, 1);
      if (event !== undefined) apply(event);
    }
    expect(model.size).toBe(final.length + 1);
  }, 30_000);
});

function bigints(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}
