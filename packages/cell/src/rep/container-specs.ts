/**
 * What the rep asks the executor for, from the BBS's records: the container of an LRP instance from its
 * DesiredLRP, the container of a task from the Task (Diego's rep `lrp_convert.go`/`task_convert.go`).
 */
import type { DesiredLRP, Task } from '@diego/models';
import type { ContainerSpec, LrpRunSpec, TaskRunSpec } from '../executor/contracts';

/** Diego's executor tags an app's output `APP` when the desired LRP names no log source. */
const DEFAULT_LOG_SOURCE = 'APP';

/**
 * @example
 *   lrpContainerSpec(desired, 0, 'f1e2...') // { guid: 'f1e2...', instance: { processGuid: desired.process_guid, index: 0 }, ports: desired.ports, ... }
 */
export function lrpContainerSpec(desired: DesiredLRP, index: number, instanceGuid: string): ContainerSpec {
  return {
    guid: instanceGuid,
    logGuid: desired.log_guid,
    logSource: desired.log_source === '' ? DEFAULT_LOG_SOURCE : desired.log_source,
    instance: { processGuid: desired.process_guid, index },
    rootfs: desired.rootfs,
    env: desired.env,
    ports: desired.ports,
    memoryMB: desired.memory_mb,
    diskMB: desired.disk_mb,
    cpuWeight: desired.cpu_weight,
    egressRules: desired.egress_rules,
  };
}

/** Null when the desired LRP has no action: there is nothing to run. */
export function lrpRunSpec(desired: DesiredLRP): LrpRunSpec | null {
  if (desired.action === null) return null;
  return { setup: desired.setup, action: desired.action, monitor: desired.monitor, startTimeoutSeconds: desired.start_timeout };
}

export function taskContainerSpec(task: Task): ContainerSpec {
  return {
    guid: task.task_guid,
    logGuid: task.log_guid,
    logSource: task.log_source,
    instance: null,
    rootfs: task.rootfs,
    env: task.env,
    ports: [],
    memoryMB: task.memory_mb,
    diskMB: task.disk_mb,
    cpuWeight: task.cpu_weight,
    egressRules: task.egress_rules,
  };
}

/** Null when the task has no action. */
export function taskRunSpec(task: Task): TaskRunSpec | null {
  if (task.action === null) return null;
  return { action: task.action, resultFile: task.result_file };
}
