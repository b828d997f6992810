/**
 * Fixture builders (bbs `model_helpers/constructors.go`): valid models with every kind of field set, so a
 * test that round-trips one notices any field that gets lost. And the real payloads of fixtures/.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ActualLRP, CellPresence, DesiredLRP, RunAction, TaskDefinition } from '@diego/models';

function runAction(overrides: Partial<RunAction> = {}): RunAction {
  return {
    path: 'ls',
    args: [],
    dir: '',
    env: [],
    resource_limits: null,
    user: 'name',
    log_source: '',
    suppress_log_output: false,
    ...overrides,
  };
}

/**
 * A valid DesiredLRP: setup and action runs, a monitor nesting every composite action, routes, an egress rule.
 *
 * @example
 *   const lrp = newValidDesiredLrp('some-guid', { instances: 3 });
 */
export function newValidDesiredLrp(processGuid: string, overrides: Partial<DesiredLRP> = {}): DesiredLRP {
  return {
    process_guid: processGuid,
    domain: 'some-domain',
    rootfs: 'some:rootfs',
    instances: 1,
    env: [{ name: 'FOO', value: 'bar' }],
    setup: { run: runAction() },
    action: { run: runAction({ args: ['-la'], resource_limits: { nofile: 1024 } }) },
    monitor: {
      emit_progress: {
        action: {
          timeout: {
            action: {
              try: {
                action: { parallel: { actions: [{ serial: { actions: [{ run: runAction() }], log_source: '' } }], log_source: '' } },
                log_source: '',
              },
            },
            timeout: 10_000_000_000n,
            log_source: '',
          },
        },
        start_message: 'start-message',
        success_message: 'success-message',
        failure_message_prefix: 'failure-message',
        log_source: '',
      },
    },
    start_timeout: 15,
    disk_mb: 512,
    memory_mb: 1024,
    cpu_weight: 42,
    privileged: false,
    ports: [8080],
    routes: { 'my-router': '{"foo":"bar"}' },
    log_guid: 'some-log-guid',
    log_source: 'some-log-source',
    metrics_guid: 'some-metrics-guid',
    annotation: 'some-annotation',
    egress_rules: [
      {
        protocol: 'tcp',
        destinations: ['1.1.1.1/32', '2.2.2.2/32'],
        ports: [],
        port_range: { start: 10, end: 16000 },
        icmp_info: null,
        log: false,
      },
    ],
    modification_tag: { epoch: 'some-epoch', index: 50 },
    cached_dependencies: [],
    legacy_download_user: '',
    trusted_system_certificates_path: '',
    ...overrides,
  };
}

/** What a client desires a task with (`DesireTask(task_guid, domain, definition)`). */
export interface ValidTask {
  task_guid: string;
  domain: string;
  definition: TaskDefinition;
}

/**
 * A valid task to desire: a run action with args and resource limits, env, two egress rules, an annotation.
 * `overrides` may set the domain and any definition field.
 *
 * @example
 *   const { task_guid, domain, definition } = newValidTask('task-1', { result_file: '/tmp/out' });
 */
export function newValidTask(taskGuid: string, overrides: Partial<TaskDefinition & { domain: string }> = {}): ValidTask {
  const { domain = 'some-domain', ...definitionOverrides } = overrides;
  return {
    task_guid: taskGuid,
    domain,
    definition: {
      rootfs: 'docker:///docker.com/docker',
      env: [{ name: 'FOO', value: 'BAR' }],
      action: { run: runAction({ path: 'echo', args: ['hello world'], user: 'user', resource_limits: { nofile: 0 } }) },
      disk_mb: 1024,
      memory_mb: 256,
      cpu_weight: 42,
      privileged: true,
      log_source: 'APP',
      log_guid: '123',
      metrics_guid: '456',
      result_file: 'some-file.txt',
      completion_callback_url: '',
      annotation: '[{"anything": "you want!"}]... dude',
      egress_rules: [
        { protocol: 'tcp', destinations: ['0.0.0.0/0'], ports: [], port_range: { start: 1, end: 1024 }, icmp_info: null, log: true },
        { protocol: 'udp', destinations: ['8.8.0.0/16'], ports: [53], port_range: null, icmp_info: null, log: false },
      ],
      cached_dependencies: [],
      legacy_download_user: '',
      trusted_system_certificates_path: '',
      ...definitionOverrides,
    },
  };
}

/**
 * A valid RUNNING ActualLRP on `some-cell`, with ports, a crash history and a nanosecond `since` beyond 2^53.
 *
 * @example
 *   const unclaimed = newValidActualLrp('p', 0, { state: 'UNCLAIMED', instance_guid: '', cell_id: '', address: '', ports: [] });
 */
export function newValidActualLrp(processGuid: string, index = 0, overrides: Partial<ActualLRP> = {}): ActualLRP {
  return {
    process_guid: processGuid,
    index,
    domain: 'some-domain',
    instance_guid: 'some-instance-guid',
    cell_id: 'some-cell',
    address: '10.0.0.1',
    ports: [{ container_port: 8080, host_port: 60000 }],
    crash_count: 33,
    crash_reason: 'badness',
    state: 'RUNNING',
    placement_error: '',
    since: 1441087965748636277n,
    modification_tag: { epoch: 'some-epoch', index: 999 },
    ...overrides,
  };
}

/**
 * A valid cell presence with capacity and the preloaded and docker rootfs providers.
 *
 * @example
 *   const cell = newValidCellPresence('cell-1', { zone: 'z2' });
 */
export function newValidCellPresence(cellId: string, overrides: Partial<CellPresence> = {}): CellPresence {
  return {
    cell_id: cellId,
    rep_address: 'http://127.0.0.1:1800',
    zone: 'z1',
    capacity: { memory_mb: 1024, disk_mb: 4096, containers: 64 },
    rootfs_providers: { docker: [], preloaded: ['cflinuxfs2'] },
    ...overrides,
  };
}

/** The real payloads in packages/test-support/fixtures/ (see its README). */
export type FixtureName = 'cc-bridge-desired-lrp.json' | 'receptor-actual-lrps-response.json';

/**
 * The text of a fixture file, exactly as stored (parse it with `parseJson` to keep its int64s exact).
 *
 * @example
 *   const body = loadFixture('cc-bridge-desired-lrp.json');
 */
export function loadFixture(name: FixtureName): string {
  return readFileSync(join(__dirname, '..', 'fixtures', name), 'utf8');
}
