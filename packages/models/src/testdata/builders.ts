// Valid models for the unit tests of this package (its tests cannot use @diego/test-support, which depends on
// it). Each call returns a fresh object that tests may change freely.
import type { Action, ActualLRP, CellPresence, DesiredLRP, SecurityGroupRule, TaskDefinition } from '../types';

export function runAction(path = '/bin/true'): Action {
  return {
    run: {
      path, args: [], dir: '', env: [], resource_limits: null, user: 'vcap', log_source: '', suppress_log_output: false,
    },
  };
}

export function egressRule(overrides: Partial<SecurityGroupRule> = {}): SecurityGroupRule {
  return { protocol: 'tcp', destinations: ['0.0.0.0/0'], ports: [53], port_range: null, icmp_info: null, log: false, ...overrides };
}

export function taskDefinition(overrides: Partial<TaskDefinition> = {}): TaskDefinition {
  return {
    rootfs: 'preloaded:cflinuxfs2', env: [], action: runAction(), disk_mb: 128, memory_mb: 128, cpu_weight: 50,
    privileged: false, log_source: '', log_guid: '', metrics_guid: '', result_file: '', completion_callback_url: '',
    annotation: '', egress_rules: [], cached_dependencies: [], legacy_download_user: '',
    trusted_system_certificates_path: '',
    ...overrides,
  };
}

export function desiredLrp(overrides: Partial<DesiredLRP> = {}): DesiredLRP {
  return {
    process_guid: 'process-guid', domain: 'cf-apps', rootfs: 'docker:///busybox', instances: 1, env: [],
    setup: null, action: runAction(), monitor: null, start_timeout: 0, disk_mb: 0, memory_mb: 0, cpu_weight: 0,
    privileged: false, ports: [], routes: {}, log_guid: '', log_source: '', metrics_guid: '', annotation: '',
    egress_rules: [], modification_tag: { epoch: '', index: 0 }, cached_dependencies: [], legacy_download_user: '',
    trusted_system_certificates_path: '',
    ...overrides,
  };
}

export function actualLrp(overrides: Partial<ActualLRP> = {}): ActualLRP {
  return {
    process_guid: 'process-guid', index: 0, domain: 'cf-apps', instance_guid: '', cell_id: '', address: '',
    ports: [], crash_count: 0, crash_reason: '', state: 'UNCLAIMED', placement_error: '',
    since: 1_447_700_000_000_000_001n, modification_tag: { epoch: 'epoch', index: 0 },
    ...overrides,
  };
}

export function cellPresence(overrides: Partial<CellPresence> = {}): CellPresence {
  return {
    cell_id: 'cell-z1-0', rep_address: 'http://10.0.0.1:1800', zone: 'z1',
    capacity: { memory_mb: 1024, disk_mb: 2048, containers: 100 }, rootfs_providers: {},
    ...overrides,
  };
}
