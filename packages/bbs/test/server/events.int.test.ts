import { type EventSubscription, HttpBbsClient } from '@diego/bbs-client';
import { etcdKeys } from '@diego/bbs';
import { newValidDesiredLrp, newValidTask, takeEvents } from '@diego/test-support';
import { deadPort, useBbs } from './bbs-harness';

const bbs = useBbs();

let subscription: EventSubscription | undefined;
afterEach(() => subscription?.close());

async function subscribe(): Promise<EventSubscription> {
  subscription = await bbs().client.subscribeToEvents();
  return subscription;
}


async function modRevision(key: string): Promise<string | undefined> {
  return (await bbs().keys.namespace.get(key).exec()).kvs[0]?.mod_revision;
}

describe('EventStream_r0', () => {
  it('is an SSE stream, flushed at once', async () => {
    const controller = new AbortController();
    const response = await fetch(`${bbs().url}/v1/events`, { signal: controller.signal });
    try {
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
      expect(response.headers.get('cache-control')).toBe('no-cache, no-store, must-revalidate');
      expect(response.headers.get('connection')).toBe('keep-alive');
    } finally {
      controller.abort();
    }
  });

  it('announces a desired LRP and its instance, each with the etcd revision that made it', async () => {
    const events = await subscribe();
    const lrp = newValidDesiredLrp('web', { instances: 1 });
    await bbs().client.desireLRP(lrp);

    const received = await takeEvents(events, 2, 5000);
    const desired = received.find((event) => event.type === 'desired_lrp_created');
    const actual = received.find((event) => event.type === 'actual_lrp_created');
    expect(desired).toMatchObject({ desired_lrp: { ...lrp, modification_tag: expect.anything() } });
    expect(actual).toMatchObject({
      actual_lrp_group: { instance: { process_guid: 'web', index: 0, state: 'UNCLAIMED' }, evacuating: null },
    });
    expect(desired?.revision).toBe(await modRevision(etcdKeys.desiredLrpKey('web')));
    expect(actual?.revision).toBe(await modRevision(etcdKeys.actualLrpInstanceKey('web', 0)));
  });

  it('carries desired LRPs in their V0 form: cached dependencies downloaded before the setup', async () => {
    const events = await subscribe();
    const dependency = { name: 'bp', from: 'http://blob/bp.zip', to: '/bp', cache_key: 'bp', log_source: '' };
    const lrp = newValidDesiredLrp('web', { instances: 0, cached_dependencies: [dependency], legacy_download_user: 'vcap' });
    await bbs().client.desireLRP(lrp);
    const [created] = await takeEvents(events, 1, 5000);
    expect(created).toMatchObject({
      type: 'desired_lrp_created',
      desired_lrp: { cached_dependencies: [], setup: { serial: { actions: [{ parallel: expect.anything() }, lrp.setup] } } },
    });
  });

  it('sends changes with before and after, and removals with the last value', async () => {
    await bbs().client.desireLRP(newValidDesiredLrp('web', { instances: 1 }));
    const events = await subscribe();

    await bbs().client.claimActualLRP('web', 0, { instance_guid: 'ig-1', cell_id: 'cell-1' });
    const [claimed] = await takeEvents(events, 1, 5000);
    expect(claimed).toMatchObject({
      type: 'actual_lrp_changed',
      before: { instance: { state: 'UNCLAIMED' }, evacuating: null },
      after: { instance: { state: 'CLAIMED', instance_guid: 'ig-1' }, evacuating: null },
    });

    await bbs().client.updateDesiredLRP('web', { instances: null, routes: null, annotation: 'new' });
    const [changed] = await takeEvents(events, 1, 5000);
    expect(changed).toMatchObject({ type: 'desired_lrp_changed', before: { annotation: 'some-annotation' }, after: { annotation: 'new' } });

    await bbs().client.removeActualLRP('web', 0);
    const [removed] = await takeEvents(events, 1, 5000);
    expect(removed).toMatchObject({ type: 'actual_lrp_removed', actual_lrp_group: { instance: { instance_guid: 'ig-1' } } });
  });

  it('sends an evacuating record in the evacuating side of the group only', async () => {
    const key = { process_guid: 'web', index: 0, domain: 'some-domain' };
    const instanceKey = { instance_guid: 'ig-1', cell_id: 'cell-1' };
    const netInfo = { address: '10.0.0.1', ports: [] };
    await bbs().client.desireLRP(newValidDesiredLrp('web', { instances: 1 }));
    await bbs().client.claimActualLRP('web', 0, instanceKey);
    await bbs().client.startActualLRP(key, instanceKey, netInfo);
    const events = await subscribe();

    await bbs().client.evacuateRunningActualLRP(key, instanceKey, netInfo, 60);
    const received = await takeEvents(events, 2, 5000);
    expect(received.find((event) => event.type === 'actual_lrp_created')).toMatchObject({
      actual_lrp_group: { instance: null, evacuating: { state: 'RUNNING', instance_guid: 'ig-1' } },
    });
    expect(received.find((event) => event.type === 'actual_lrp_changed')).toMatchObject({
      after: { instance: { state: 'UNCLAIMED' }, evacuating: null },
    });
  });

  it('sends task events', async () => {
    const events = await subscribe();
    const { task_guid, domain, definition } = newValidTask('task-1');
    await bbs().client.desireTask(task_guid, domain, definition);
    await bbs().client.startTask('task-1', 'cell-1');
    await bbs().client.failTask('task-1', 'it broke');
    await bbs().client.resolvingTask('task-1');
    await bbs().client.deleteTask('task-1');

    const received = await takeEvents(events, 5, 5000);
    expect(received.map((event) => event.type)).toEqual(['task_created', 'task_changed', 'task_changed', 'task_changed', 'task_removed']);
    expect(received[1]).toMatchObject({ before: { state: 'PENDING' }, after: { state: 'RUNNING', cell_id: 'cell-1' } });
    expect(received[4]).toMatchObject({ task: { task_guid: 'task-1', state: 'RESOLVING' } });
    const revisions = received.map((event) => BigInt(event.revision));
    expect([...revisions].sort((a, b) => (a < b ? -1 : 1))).toEqual(revisions);
  });

  it('starts from the moment of subscription: earlier changes are not replayed', async () => {
    await bbs().client.upsertDomain('not-an-event', 0);
    await bbs().client.desireLRP(newValidDesiredLrp('before', { instances: 0 }));
    const events = await subscribe();
    await bbs().client.desireLRP(newValidDesiredLrp('after', { instances: 0 }));
    const [first] = await takeEvents(events, 1, 5000);
    expect(first).toMatchObject({ type: 'desired_lrp_created', desired_lrp: { process_guid: 'after' } });
  });

  it('ends the stream when the BBS stops', async () => {
    const events = await subscribe();
    await bbs().server.stop();
    await expect(events.next()).resolves.toBeNull();
  });

  it('ends the subscription when the client closes it', async () => {
    const events = await subscribe();
    events.close();
    await expect(events.next()).resolves.toBeNull();
  });

  it('subscribes through the next BBS when the first cannot be reached', async () => {
    const client = new HttpBbsClient([`http://127.0.0.1:${await deadPort()}`, bbs().url]);
    try {
      subscription = await client.subscribeToEvents();
      await bbs().client.desireTask('task-1', 'some-domain', newValidTask('task-1').definition);
      const [created] = await takeEvents(subscription, 1, 5000);
      expect(created?.type).toBe('task_created');
    } finally {
      subscription?.close();
      client.close();
    }
  });

  it('rejects when no BBS can be subscribed to', async () => {
    const client = new HttpBbsClient([`http://127.0.0.1:${await deadPort()}`]);
    try {
      await expect(client.subscribeToEvents()).rejects.toMatchObject({ type: 'Unavailable' });
    } finally {
      client.close();
    }
  });
});
