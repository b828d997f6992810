import { newValidActualLrp, newValidCellPresence, newValidDesiredLrp, newValidTask } from '@diego/test-support';
import { models } from '../gen/proto';
import {
  actionFromProto,
  actionToProto,
  actualLrpFromProto,
  actualLrpGroupFromProto,
  actualLrpGroupToProto,
  actualLrpInstanceKeyFromProto,
  actualLrpInstanceKeyToProto,
  actualLrpKeyFromProto,
  actualLrpKeyToProto,
  actualLrpNetInfoFromProto,
  actualLrpNetInfoToProto,
  actualLrpToProto,
  cellPresenceFromProto,
  cellPresenceToProto,
  desiredLrpFromProto,
  desiredLrpToProto,
  desiredLrpUpdateFromProto,
  desiredLrpUpdateToProto,
  schedulingInfoFromProto,
  schedulingInfoToProto,
  taskDefinitionFromProto,
  taskDefinitionToProto,
  taskFromProto,
  taskToProto,
} from './proto-codecs';
import { TASK_STATES, type Action, type DesiredLRPSchedulingInfo, type DesiredLRPUpdate, type Task } from './types';

/** A generated message type: what a BBS request or response body goes through. */
interface MessageType<P> {
  encode(message: P): { finish(): Uint8Array };
  decode(bytes: Uint8Array): P;
}

function overTheWire<P>(type: MessageType<P>, message: P): P {
  return type.decode(type.encode(message).finish());
}

function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}

function newTask(overrides: Partial<Task> = {}): Task {
  const { task_guid, domain, definition } = newValidTask('task-guid');
  return {
    ...definition,
    task_guid,
    domain,
    created_at: 1441087965748636277n,
    updated_at: 9223372036854775807n,
    first_completed_at: -9223372036854775808n,
    state: 'RUNNING',
    cell_id: 'cell-1',
    result: 'r',
    failed: true,
    failure_reason: 'exit status 1',
    ...overrides,
  };
}

const run = { path: 'p', args: ['a', ''], dir: '/d', env: [{ name: 'N', value: 'V' }], resource_limits: { nofile: 2 ** 40 }, user: 'u', log_source: 'L', suppress_log_output: true };

describe('actions', () => {
  const everyAction: Action[] = [
    { download: { artifact: 'a', from: 'f', to: 't', cache_key: 'k', log_source: 'l', user: 'u' } },
    { upload: { artifact: 'a', from: 'f', to: 't', log_source: 'l', user: 'u' } },
    { run },
    { run: { ...run, resource_limits: null, args: [], env: [] } },
    { timeout: { action: { run }, timeout: 9223372036854775807n, log_source: 'l' } },
    { timeout: { action: null, timeout: -1n, log_source: '' } },
    { emit_progress: { action: { run }, start_message: 's', success_message: 'ok', failure_message_prefix: 'f', log_source: 'l' } },
    { try: { action: { run }, log_source: 'l' } },
    { parallel: { actions: [{ run }, { serial: { actions: [{ run }], log_source: '' } }], log_source: 'l' } },
    { serial: { actions: [], log_source: '' } },
    { codependent: { actions: [{ try: { action: { run }, log_source: '' } }], log_source: 'c' } },
    {},
  ];

  it.each(everyAction.map((action) => [Object.keys(action)[0] ?? 'empty', action]))(
    'round-trips %s through proto bytes',
    (_type, action) => {
      expect(actionFromProto(overTheWire(models.Action, actionToProto(action)))).toEqual(action);
    },
  );

  it('sends a missing action in a list as an empty one (a repeated field cannot hold a nil)', () => {
    const action: Action = { serial: { actions: [null], log_source: '' } };
    expect(actionFromProto(overTheWire(models.Action, actionToProto(action)))).toEqual({ serial: { actions: [{}], log_source: '' } });
  });

  it('carries the timeout as the exact int64 on the wire', () => {
    const proto = actionToProto({ timeout: { action: null, timeout: 1441087965748636277n, log_source: '' } });
    expect(overTheWire(models.Action, proto).timeout_action?.timeout?.toString()).toBe('1441087965748636277');
  });
});

describe('actual LRPs', () => {
  it('round-trips an ActualLRP, since exact to the last digit', () => {
    for (const since of [1441087965748636277n, 9223372036854775807n, 1138n]) {
      const lrp = newValidActualLrp('p', 2, { since });
      const wire = overTheWire(models.ActualLRP, actualLrpToProto(lrp));
      expect(wire.since?.toString()).toBe(since.toString());
      expect(actualLrpFromProto(wire)).toEqual(lrp);
    }
  });

  it('round-trips groups with either, both or no record', () => {
    const instance = newValidActualLrp('p', 0, { state: 'CLAIMED', address: '', ports: [] });
    const evacuating = newValidActualLrp('p', 0, { cell_id: 'old' });
    for (const group of [{ instance, evacuating }, { instance, evacuating: null }, { instance: null, evacuating }, { instance: null, evacuating: null }]) {
      expect(actualLrpGroupFromProto(overTheWire(models.ActualLRPGroup, actualLrpGroupToProto(group)))).toEqual(group);
    }
  });

  it('round-trips the keys and net info on their own', () => {
    expect(actualLrpKeyFromProto(overTheWire(models.ActualLRPKey, actualLrpKeyToProto({ process_guid: 'p', index: 3, domain: 'd' })))).toEqual({
      process_guid: 'p',
      index: 3,
      domain: 'd',
    });
    expect(actualLrpInstanceKeyFromProto(overTheWire(models.ActualLRPInstanceKey, actualLrpInstanceKeyToProto({ instance_guid: 'i', cell_id: 'c' })))).toEqual({
      instance_guid: 'i',
      cell_id: 'c',
    });
    const info = { address: '1.2.3.4', ports: [{ container_port: 8080, host_port: 0 }, { container_port: 2222, host_port: 61000 }] };
    expect(actualLrpNetInfoFromProto(overTheWire(models.ActualLRPNetInfo, actualLrpNetInfoToProto(info)))).toEqual(info);
  });

  it('fills zero values for absent keys', () => {
    expect(actualLrpKeyFromProto(null)).toEqual({ process_guid: '', index: 0, domain: '' });
    expect(actualLrpInstanceKeyFromProto(undefined)).toEqual({ instance_guid: '', cell_id: '' });
    expect(actualLrpNetInfoFromProto(null)).toEqual({ address: '', ports: [] });
    expect(actualLrpFromProto(models.ActualLRP.decode(models.ActualLRP.encode({ state: 'UNCLAIMED' }).finish()))).toEqual({
      process_guid: '', index: 0, domain: '', instance_guid: '', cell_id: '', address: '', ports: [], crash_count: 0,
      crash_reason: '', state: 'UNCLAIMED', placement_error: '', since: 0n, modification_tag: { epoch: '', index: 0 },
    });
  });

  it('rejects an unknown state as InvalidProtobufMessage', () => {
    expect(thrownBy(() => actualLrpFromProto({ state: 'EXPLODED' }))).toMatchObject({ type: 'InvalidProtobufMessage' });
    expect(thrownBy(() => actualLrpFromProto({}))).toMatchObject({ type: 'InvalidProtobufMessage' });
  });
});

describe('desired LRPs', () => {
  it('round-trips a DesiredLRP with every field set', () => {
    const lrp = newValidDesiredLrp('p', {
      routes: { 'cf-router': '[{"hostnames":["ü.example.com"],"port":8080}]', 'diego-ssh': '{"private_key":"-----BEGIN"}' },
      cached_dependencies: [{ name: 'n', from: 'f', to: 't', cache_key: 'k', log_source: 'l' }],
      legacy_download_user: 'vcap',
      trusted_system_certificates_path: '/certs',
      privileged: true,
    });
    expect(desiredLrpFromProto(overTheWire(models.DesiredLRP, desiredLrpToProto(lrp)))).toEqual(lrp);
  });

  it('carries each route as the UTF-8 bytes of its JSON', () => {
    const proto = overTheWire(models.DesiredLRP, desiredLrpToProto(newValidDesiredLrp('p', { routes: { r: '"ü"' } })));
    expect(Buffer.from(proto.routes?.routes?.r ?? []).toString('hex')).toBe(Buffer.from('"ü"', 'utf8').toString('hex'));
  });

  it('compacts route JSON from other clients and rejects bytes that are not JSON', () => {
    const spaced = { routes: { routes: { r: Buffer.from('{ "a" : [1, 2] }') } } };
    expect(desiredLrpFromProto(spaced).routes).toEqual({ r: '{"a":[1,2]}' });
    const broken = { routes: { routes: { r: Buffer.from('{"a":') } } };
    expect(thrownBy(() => desiredLrpFromProto(broken))).toMatchObject({ type: 'InvalidProtobufMessage' });
  });

  it('fills zero values for an empty message', () => {
    expect(desiredLrpFromProto(models.DesiredLRP.decode(new Uint8Array()))).toEqual({
      process_guid: '', domain: '', rootfs: '', instances: 0, env: [], setup: null, action: null, monitor: null,
      start_timeout: 0, disk_mb: 0, memory_mb: 0, cpu_weight: 0, privileged: false, ports: [], routes: {},
      log_guid: '', log_source: '', metrics_guid: '', annotation: '', egress_rules: [],
      modification_tag: { epoch: '', index: 0 }, cached_dependencies: [], legacy_download_user: '',
      trusted_system_certificates_path: '',
    });
  });

  it.each<[string, DesiredLRPUpdate]>([
    ['nothing', { instances: null, routes: null, annotation: null }],
    ['zero values', { instances: 0, routes: {}, annotation: '' }],
    ['everything', { instances: 5, routes: { a: '{"x":1}' }, annotation: 'note' }],
    ['only routes', { instances: null, routes: { a: '[]' }, annotation: null }],
  ])('round-trips an update of %s, telling absent from zero', (_what, update) => {
    expect(desiredLrpUpdateFromProto(overTheWire(models.DesiredLRPUpdate, desiredLrpUpdateToProto(update)))).toEqual(update);
  });

  it('round-trips scheduling info', () => {
    const info: DesiredLRPSchedulingInfo = {
      process_guid: 'p', domain: 'd', log_guid: 'l', annotation: 'a', instances: 3, rootfs: 'preloaded:cflinuxfs2',
      memory_mb: 256, disk_mb: 1024, routes: { 'cf-router': '[]' }, modification_tag: { epoch: 'e', index: 4 },
    };
    expect(schedulingInfoFromProto(overTheWire(models.DesiredLRPSchedulingInfo, schedulingInfoToProto(info)))).toEqual(info);
  });
});

describe('tasks', () => {
  it.each(TASK_STATES)('round-trips a %s task, int64 timestamps exact', (state) => {
    const task = newTask({ state });
    expect(taskFromProto(overTheWire(models.Task, taskToProto(task)))).toEqual(task);
  });

  it('writes the state as the proto enum', () => {
    expect(taskToProto(newTask({ state: 'COMPLETED' })).state).toBe(models.Task.State.Completed);
    expect(taskToProto(newTask({ state: 'PENDING' })).state).toBe(models.Task.State.Pending);
  });

  it('round-trips a task definition and fills zero values for an absent one', () => {
    const { definition } = newValidTask('t', { completion_callback_url: 'http://cb', annotation: 'a' });
    expect(taskDefinitionFromProto(overTheWire(models.TaskDefinition, taskDefinitionToProto(definition)))).toEqual(definition);
    expect(taskFromProto(models.Task.decode(new Uint8Array()))).toMatchObject({
      rootfs: '', action: null, env: [], egress_rules: [], state: 'INVALID', created_at: 0n, failed: false,
    });
  });

  it('reads a state number this schema does not know as INVALID (proto2 enums are closed)', () => {
    const fromNewerPeer = models.Task.decode(Uint8Array.of(0x12, 1, 0x74, 0x38, 9)); // task_guid "t", state 9
    expect(taskFromProto(fromNewerPeer)).toMatchObject({ task_guid: 't', state: 'INVALID' });
  });
});

describe('cells', () => {
  it('round-trips a presence, its providers through repeated Provider', () => {
    const cell = newValidCellPresence('cell-1', { rootfs_providers: { preloaded: ['cflinuxfs2', 'windows2012R2'], docker: [] } });
    const wire = overTheWire(models.CellPresence, cellPresenceToProto(cell));
    expect(wire.rootfs_providers?.map((p) => [p.name, p.properties])).toEqual([
      ['preloaded', ['cflinuxfs2', 'windows2012R2']],
      ['docker', []],
    ]);
    expect(cellPresenceFromProto(wire)).toEqual(cell);
  });

  it('fills zero values for an empty message', () => {
    expect(cellPresenceFromProto(models.CellPresence.decode(new Uint8Array()))).toEqual({
      cell_id: '', rep_address: '', zone: '', capacity: { memory_mb: 0, disk_mb: 0, containers: 0 }, rootfs_providers: {},
    });
  });
});
