import type { Action, CachedDependency, DesiredLRP, Task } from '@diego/models';
import { desiredLrpToV0, eventToV0, taskToV0 } from './v0';

const run: Action = { run: { path: 'ls', args: [], dir: '', env: [], resource_limits: null, user: 'vcap', log_source: '', suppress_log_output: false } };
const setup: Action = { download: { artifact: '', from: 'http://blob/app.zip', to: '/app', cache_key: '', log_source: '', user: 'vcap' } };

const dependencies: CachedDependency[] = [
  { name: 'buildpack', from: 'http://blob/bp.zip', to: '/bp', cache_key: 'bp-key', log_source: 'STG' },
  { name: 'lifecycle', from: 'http://blob/lc.tgz', to: '/tmp/lifecycle', cache_key: 'lc-key', log_source: '' },
];

const expectedDownloads: Action = {
  parallel: {
    actions: [
      { download: { artifact: 'buildpack', from: 'http://blob/bp.zip', to: '/bp', cache_key: 'bp-key', log_source: 'STG', user: 'legacy' } },
      { download: { artifact: 'lifecycle', from: 'http://blob/lc.tgz', to: '/tmp/lifecycle', cache_key: 'lc-key', log_source: '', user: 'legacy' } },
    ],
    log_source: '',
  },
};

function desiredLrp(overrides: Partial<DesiredLRP>): DesiredLRP {
  return {
    process_guid: 'pg', domain: 'd', rootfs: 'preloaded:cflinuxfs2', instances: 1, env: [], setup: null, action: run,
    monitor: null, start_timeout: 0, disk_mb: 0, memory_mb: 0, cpu_weight: 0, privileged: false, ports: [], routes: {},
    log_guid: '', log_source: '', metrics_guid: '', annotation: '', egress_rules: [],
    modification_tag: { epoch: 'e', index: 0 }, cached_dependencies: [], legacy_download_user: 'legacy',
    trusted_system_certificates_path: '', ...overrides,
  };
}

function task(overrides: Partial<Task>): Task {
  return {
    task_guid: 'tg', domain: 'd', rootfs: 'preloaded:cflinuxfs2', env: [], action: run, disk_mb: 0, memory_mb: 0,
    cpu_weight: 0, privileged: false, log_source: '', log_guid: '', metrics_guid: '', result_file: '',
    completion_callback_url: '', annotation: '', egress_rules: [], cached_dependencies: [], legacy_download_user: 'legacy',
    trusted_system_certificates_path: '', created_at: 1n, updated_at: 1n, first_completed_at: 0n, state: 'PENDING',
    cell_id: '', result: '', failed: false, failure_reason: '', ...overrides,
  };
}

describe('desiredLrpToV0', () => {
  it('runs the cached dependencies as parallel downloads before the original setup, and drops them', () => {
    const v0 = desiredLrpToV0(desiredLrp({ setup, cached_dependencies: dependencies }));
    expect(v0.setup).toEqual({ serial: { actions: [expectedDownloads, setup], log_source: '' } });
    expect(v0.cached_dependencies).toEqual([]);
    expect(v0.action).toEqual(run);
  });

  it('makes the downloads the whole setup when there was none', () => {
    const v0 = desiredLrpToV0(desiredLrp({ setup: null, cached_dependencies: dependencies }));
    expect(v0.setup).toEqual({ serial: { actions: [expectedDownloads], log_source: '' } });
  });

  it('leaves an LRP without cached dependencies as it is', () => {
    const lrp = desiredLrp({ setup });
    expect(desiredLrpToV0(lrp)).toEqual(lrp);
  });

  it('does not touch the LRP it was given', () => {
    const lrp = desiredLrp({ setup, cached_dependencies: dependencies });
    desiredLrpToV0(lrp);
    expect(lrp.setup).toEqual(setup);
    expect(lrp.cached_dependencies).toEqual(dependencies);
  });
});

describe('taskToV0', () => {
  it('runs the cached dependencies as parallel downloads before the task action, and drops them', () => {
    const v0 = taskToV0(task({ cached_dependencies: dependencies }));
    expect(v0.action).toEqual({ serial: { actions: [expectedDownloads, run], log_source: '' } });
    expect(v0.cached_dependencies).toEqual([]);
  });

  it('leaves a task without cached dependencies as it is', () => {
    const t = task({});
    expect(taskToV0(t)).toEqual(t);
  });
});

describe('eventToV0', () => {
  const lrp = desiredLrp({ setup, cached_dependencies: dependencies });
  const v0Setup = { serial: { actions: [expectedDownloads, setup], log_source: '' } };

  it('versions down the desired LRP of created and removed events', () => {
    expect(eventToV0({ type: 'desired_lrp_created', revision: '7', desired_lrp: lrp })).toMatchObject({
      type: 'desired_lrp_created',
      revision: '7',
      desired_lrp: { setup: v0Setup, cached_dependencies: [] },
    });
    expect(eventToV0({ type: 'desired_lrp_removed', revision: '8', desired_lrp: lrp })).toMatchObject({
      desired_lrp: { setup: v0Setup, cached_dependencies: [] },
    });
  });

  it('versions down both sides of a changed event', () => {
    expect(eventToV0({ type: 'desired_lrp_changed', revision: '9', before: lrp, after: lrp })).toMatchObject({
      before: { setup: v0Setup, cached_dependencies: [] },
      after: { setup: v0Setup, cached_dependencies: [] },
    });
  });

  it('leaves task events as they are (tasks were never on the r0 stream in V0 form)', () => {
    const event = { type: 'task_created' as const, revision: '10', task: task({ cached_dependencies: dependencies }) };
    expect(eventToV0(event)).toBe(event);
  });
});
