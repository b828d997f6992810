/** The dashboard's reads (ours): pages of DesiredLRP and task summaries, and the fresh domains with their time left. */
import { newValidCellPresence, newValidDesiredLrp, newValidTask } from '@diego/test-support';
import { useBbs, useFakeRep } from './bbs-harness';

const bbs = useBbs();
const rep = useFakeRep();

function parsed(json: Uint8Array): unknown {
  return JSON.parse(Buffer.from(json).toString('utf8'));
}

describe('DesiredLRPSummariesReceptorJSON', () => {
  it('answers one page in process guid order, its instances counted by state, filtered by domain and guid', async () => {
    await bbs().client.desireLRP(newValidDesiredLrp('web-b', { instances: 3, domain: 'cf-apps', memory_mb: 128 }));
    await bbs().client.desireLRP(newValidDesiredLrp('web-a', { instances: 1, domain: 'cf-apps' }));
    await bbs().client.desireLRP(newValidDesiredLrp('worker', { instances: 1, domain: 'jobs' }));
    await bbs().db.registerCell(newValidCellPresence('cell-1', { rep_address: rep().url }), 60);
    await bbs().client.claimActualLRP('web-b', 0, { instance_guid: 'ig-0', cell_id: 'cell-1' });
    await bbs().client.startActualLRP(
      { process_guid: 'web-b', index: 1, domain: 'cf-apps' },
      { instance_guid: 'ig-1', cell_id: 'cell-1' },
      { address: '10.0.0.1', ports: [{ container_port: 8080, host_port: 61000 }] },
    );

    const page = await bbs().client.desiredLRPSummariesReceptorJSON({ domain: '', search: 'WEB', offset: 0, limit: 0 });
    expect(BigInt(page.revision)).toBeGreaterThan(0n);
    expect(parsed(page.json)).toEqual({
      total: 2,
      offset: 0,
      domains: ['cf-apps', 'jobs'],
      desired_lrps: [
        expect.objectContaining({ process_guid: 'web-a', domain: 'cf-apps', instances: 1, actual_lrps: { UNCLAIMED: 1, CLAIMED: 0, RUNNING: 0, CRASHED: 0 } }),
        expect.objectContaining({ process_guid: 'web-b', instances: 3, memory_mb: 128, actual_lrps: { UNCLAIMED: 1, CLAIMED: 1, RUNNING: 1, CRASHED: 0 } }),
      ],
    });

    const second = await bbs().client.desiredLRPSummariesReceptorJSON({ domain: 'cf-apps', search: '', offset: 1, limit: 1 });
    expect(parsed(second.json)).toMatchObject({ total: 2, offset: 1, desired_lrps: [{ process_guid: 'web-b' }] });
    const jobs = await bbs().client.desiredLRPSummariesReceptorJSON({ domain: 'jobs', search: '', offset: 0, limit: 10 });
    expect(parsed(jobs.json)).toMatchObject({ total: 1, desired_lrps: [{ process_guid: 'worker' }] });
  });

  it('refuses a negative offset or a limit over 1000 in band with InvalidRequest', async () => {
    await expect(bbs().client.desiredLRPSummariesReceptorJSON({ domain: '', search: '', offset: -1, limit: 10 }))
      .rejects.toMatchObject({ type: 'InvalidRequest', message: 'offset must be 0 or more' });
    await expect(bbs().client.desiredLRPSummariesReceptorJSON({ domain: '', search: '', offset: 0, limit: 1001 }))
      .rejects.toMatchObject({ type: 'InvalidRequest', message: 'limit must be between 1 and 1000' });
  });
});

describe('DomainFreshnessReceptorJSON', () => {
  it('answers each fresh domain with the seconds its lease has left, null for a domain fresh for ever', async () => {
    await bbs().client.upsertDomain('cf-apps', 120);
    await bbs().client.upsertDomain('forever', 0);
    const domains = parsed(await bbs().client.domainFreshnessReceptorJSON());
    expect(domains).toEqual([
      { domain: 'cf-apps', ttl_seconds: expect.any(Number) },
      { domain: 'forever', ttl_seconds: null },
    ]);
    const [apps] = domains as Array<{ ttl_seconds: number }>;
    expect(apps?.ttl_seconds).toBeGreaterThan(0);
    expect(apps?.ttl_seconds).toBeLessThanOrEqual(120);
  });
});

describe('TaskSummariesReceptorJSON', () => {
  it('answers one page of tasks newest first as TaskResponses, filtered by domain, state and guid', async () => {
    for (const [guid, domain] of [['job-1', 'jobs'], ['job-2', 'jobs'], ['build-1', 'builds'], ['job-3', 'jobs']] as const) {
      const task = newValidTask(guid, { domain });
      await bbs().client.desireTask(task.task_guid, task.domain, task.definition);
    }
    await bbs().client.startTask('job-2', 'cell-1');

    const page = await bbs().client.taskSummariesReceptorJSON({ domain: 'jobs', state: '', search: 'JOB', offset: 0, limit: 2 });
    expect(BigInt(page.revision)).toBeGreaterThan(0n);
    expect(parsed(page.json)).toEqual({
      total: 3,
      offset: 0,
      tasks: [
        expect.objectContaining({ task_guid: 'job-3', domain: 'jobs', state: 'PENDING', created_at: expect.any(Number) }),
        expect.objectContaining({ task_guid: 'job-2', state: 'RUNNING', cell_id: 'cell-1' }),
      ],
    });
    const second = await bbs().client.taskSummariesReceptorJSON({ domain: 'jobs', state: '', search: '', offset: 2, limit: 2 });
    expect(parsed(second.json)).toMatchObject({ total: 3, offset: 2, tasks: [{ task_guid: 'job-1' }] });
    const pending = await bbs().client.taskSummariesReceptorJSON({ domain: '', state: 'PENDING', search: '', offset: 0, limit: 0 });
    expect(parsed(pending.json)).toMatchObject({ total: 3, tasks: [{ task_guid: 'job-3' }, { task_guid: 'build-1' }, { task_guid: 'job-1' }] });
  });

  it('refuses an unknown state or bounds it cannot use in band with InvalidRequest', async () => {
    await expect(bbs().client.taskSummariesReceptorJSON({ domain: '', state: 'DONE', search: '', offset: 0, limit: 10 }))
      .rejects.toMatchObject({ type: 'InvalidRequest', message: 'state must be one of PENDING, RUNNING, COMPLETED, RESOLVING' });
    await expect(bbs().client.taskSummariesReceptorJSON({ domain: '', state: '', search: '', offset: -1, limit: 10 }))
      .rejects.toMatchObject({ type: 'InvalidRequest', message: 'offset must be 0 or more' });
  });
});
