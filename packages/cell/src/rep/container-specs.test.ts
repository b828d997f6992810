import { newValidDesiredLrp, newValidTask } from '@diego/test-support';
import type { Task } from '@diego/models';
import { lrpContainerSpec, lrpRunSpec, taskContainerSpec, taskRunSpec } from './container-specs';

describe('an LRP instance container', () => {
  it('carries the desired LRP env, ports, rootfs, resources, egress rules and log tags, with the instance index and guid', () => {
    const desired = newValidDesiredLrp('web', { ports: [8080, 9090], rootfs: 'preloaded:cflinuxfs2' });
    expect(lrpContainerSpec(desired, 3, 'instance-1')).toEqual({
      guid: 'instance-1',
      logGuid: 'some-log-guid',
      logSource: 'some-log-source',
      instance: { processGuid: 'web', index: 3 },
      rootfs: 'preloaded:cflinuxfs2',
      env: [{ name: 'FOO', value: 'bar' }],
      ports: [8080, 9090],
      memoryMB: 1024,
      diskMB: 512,
      cpuWeight: 42,
      egressRules: desired.egress_rules,
    });
    expect(desired.egress_rules).not.toEqual([]);
  });

  it('tags output APP when the desired LRP names no log source', () => {
    expect(lrpContainerSpec(newValidDesiredLrp('web', { log_source: '' }), 0, 'i').logSource).toBe('APP');
  });

  it('runs setup, action and monitor with the start timeout; nothing without an action', () => {
    const desired = newValidDesiredLrp('web', { start_timeout: 7 });
    expect(lrpRunSpec(desired)).toEqual({ setup: desired.setup, action: desired.action, monitor: desired.monitor, startTimeoutSeconds: 7 });
    expect(lrpRunSpec(newValidDesiredLrp('web', { action: null }))).toBeNull();
  });
});

describe('a task container', () => {
  const { task_guid, domain, definition } = newValidTask('task-1', { result_file: '/tmp/result' });
  const task: Task = {
    ...definition, task_guid, domain, created_at: 1n, updated_at: 1n, first_completed_at: 0n, state: 'RUNNING',
    cell_id: 'cell-1', result: '', failed: false, failure_reason: '',
  };

  it('is named by the task guid, with no instance and no ports', () => {
    expect(taskContainerSpec(task)).toEqual({
      guid: 'task-1', logGuid: '123', logSource: 'APP', instance: null, rootfs: task.rootfs, env: task.env, ports: [],
      memoryMB: 256, diskMB: 1024, cpuWeight: 42, egressRules: task.egress_rules,
    });
    expect(task.egress_rules).not.toEqual([]);
  });

  it('runs the action and reads the result file; nothing without an action', () => {
    expect(taskRunSpec(task)).toEqual({ action: task.action, resultFile: '/tmp/result' });
    expect(taskRunSpec({ ...task, action: null })).toBeNull();
  });
});
