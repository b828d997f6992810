import { loadFixture, newValidActualLrp, newValidCellPresence, newValidDesiredLrp, newValidTask } from '@diego/test-support';
import {
  actualLrpFromJson,
  actualLrpGroupResponseJson,
  actualLrpToJson,
  cellPresenceFromJson,
  cellPresenceToJson,
  cellResponseJson,
  desiredLrpFromJson,
  desiredLrpResponseJson,
  desiredLrpToJson,
  taskFromJson,
  taskResponseJson,
  taskToJson,
} from './json-codecs';
import { desiredLrpFromProto, desiredLrpToProto } from './proto-codecs';
import { models } from '../gen/proto';
import { parseJson, stringifyJson } from './json';
import type { Action, ActualLRP, DesiredLRP, SecurityGroupRule, Task } from './types';

function newTask(overrides: Partial<Task> = {}): Task {
  const { task_guid, domain, definition } = newValidTask('task-guid');
  return {
    ...definition,
    task_guid,
    domain,
    created_at: 1447700000000000001n,
    updated_at: 1447700000000000002n,
    first_completed_at: 1447700000000000003n,
    state: 'COMPLETED',
    cell_id: '',
    result: 'hi\n',
    failed: false,
    failure_reason: '',
    ...overrides,
  };
}

function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}

function asRecord(value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('not a JSON object');
  return Object.fromEntries(Object.entries(value));
}

const keysOf = (json: string): string[] => Object.keys(asRecord(parseJson(json)));

describe('stored records', () => {
  it('round-trips every model through its stored JSON', () => {
    const actual = newValidActualLrp('process-guid', 3);
    const desired = newValidDesiredLrp('process-guid');
    const task = newTask();
    const cell = newValidCellPresence('cell-1');

    expect(actualLrpFromJson(actualLrpToJson(actual))).toEqual(actual);
    expect(desiredLrpFromJson(desiredLrpToJson(desired))).toEqual(desired);
    expect(taskFromJson(taskToJson(task))).toEqual(task);
    expect(cellPresenceFromJson(cellPresenceToJson(cell))).toEqual(cell);
  });

  it('writes a readable ActualLRP with every digit of since and its modification tag', () => {
    const lrp = newValidActualLrp('p', 0, { since: 9223372036854775807n });
    expect(actualLrpToJson(lrp)).toBe(
      '{"process_guid":"p","instance_guid":"some-instance-guid","cell_id":"some-cell","domain":"some-domain",' +
        '"index":0,"address":"10.0.0.1","ports":[{"container_port":8080,"host_port":60000}],"state":"RUNNING",' +
        '"crash_count":33,"crash_reason":"badness","placement_error":"","since":9223372036854775807,' +
        '"modification_tag":{"epoch":"some-epoch","index":999}}',
    );
  });

  it('keeps a task\'s internal timestamps, exactly', () => {
    const stored = taskToJson(newTask());
    expect(stored).toContain('"updated_at":1447700000000000002');
    expect(stored).toContain('"first_completed_at":1447700000000000003');
    expect(taskFromJson(stored)).toMatchObject({ updated_at: 1447700000000000002n, first_completed_at: 1447700000000000003n });
  });

  it('keeps fields only the BBS uses (cached dependencies, legacy user, certificates path)', () => {
    const desired = newValidDesiredLrp('p', {
      cached_dependencies: [{ name: 'n', from: 'http://f', to: '/t', cache_key: 'k', log_source: 'l' }],
      legacy_download_user: 'vcap',
      trusted_system_certificates_path: '/certs',
    });
    expect(desiredLrpFromJson(desiredLrpToJson(desired))).toEqual(desired);
  });

  it('fills Go zero values for absent and null keys', () => {
    expect(actualLrpFromJson('{"process_guid":"p","state":"UNCLAIMED","ports":null}')).toEqual({
      process_guid: 'p',
      index: 0,
      domain: '',
      instance_guid: '',
      cell_id: '',
      address: '',
      ports: [],
      crash_count: 0,
      crash_reason: '',
      state: 'UNCLAIMED',
      placement_error: '',
      since: 0n,
      modification_tag: { epoch: '', index: 0 },
    });
    expect(taskFromJson('{"task_guid":"t"}')).toMatchObject({ state: 'INVALID', created_at: 0n, action: null, env: [] });
    expect(desiredLrpFromJson('{}')).toMatchObject({ routes: {}, setup: null, ports: [], modification_tag: { epoch: '', index: 0 } });
    expect(cellPresenceFromJson('{"cell_id":"c"}')).toEqual({
      cell_id: 'c',
      rep_address: '',
      zone: '',
      capacity: { memory_mb: 0, disk_mb: 0, containers: 0 },
      rootfs_providers: {},
    });
  });

  it('reads int64s written as short numbers too', () => {
    expect(actualLrpFromJson('{"state":"CLAIMED","since":1138}').since).toBe(1138n);
  });

  it.each([
    ['text that is not JSON', '{"process_guid":'],
    ['an empty value', ''],
    ['an array', '[]'],
    ['null', 'null'],
    ['a string field holding a number', '{"state":"RUNNING","process_guid":1}'],
    ['a fractional index', '{"state":"RUNNING","index":1.5}'],
    ['an index beyond int32', '{"state":"RUNNING","index":2147483648}'],
    ['a since that is a string', '{"state":"RUNNING","since":"1441087965748636277"}'],
    ['a since beyond int64', '{"state":"RUNNING","since":9223372036854775808}'],
    ['a fractional since', '{"state":"RUNNING","since":1.5}'],
    ['an unknown state', '{"state":"BOGUS"}'],
    ['no state', '{"process_guid":"p"}'],
    ['ports that are an object', '{"state":"RUNNING","ports":{}}'],
    ['a negative host port', '{"state":"RUNNING","ports":[{"container_port":1,"host_port":-1}]}'],
    ['a modification tag that is a string', '{"state":"RUNNING","modification_tag":"x"}'],
  ])('rejects an ActualLRP record with %s as InvalidRecord', (_what, text) => {
    expect(thrownBy(() => actualLrpFromJson(text))).toMatchObject({ name: 'BbsError', type: 'InvalidRecord' });
  });

  it.each([
    ['routes that are a list', '{"routes":[]}'],
    ['an action that is not an object', '{"action":{"run":5}}'],
    ['a nested action of the wrong type', '{"monitor":{"timeout":{"action":{"run":{"args":"ls"}}}}}'],
    ['a null element among env', '{"env":[null]}'],
    ['a port beyond uint32', '{"ports":[4294967296]}'],
    ['a negative cpu weight', '{"cpu_weight":-1}'],
    ['an egress rule with a string log', '{"egress_rules":[{"log":"yes"}]}'],
    ['a timeout that is not an integer', '{"action":{"timeout":{"timeout":2.5}}}'],
  ])('rejects a DesiredLRP record with %s as InvalidRecord', (_what, text) => {
    expect(thrownBy(() => desiredLrpFromJson(text))).toMatchObject({ type: 'InvalidRecord' });
  });

  it('rejects malformed tasks and cells as InvalidRecord', () => {
    expect(thrownBy(() => taskFromJson('{"state":"CLAIMED"}'))).toMatchObject({ type: 'InvalidRecord' });
    expect(thrownBy(() => taskFromJson('{"failed":"true"}'))).toMatchObject({ type: 'InvalidRecord' });
    expect(thrownBy(() => cellPresenceFromJson('{"rootfs_providers":{"docker":"x"}}'))).toMatchObject({ type: 'InvalidRecord' });
    expect(thrownBy(() => cellPresenceFromJson('{"capacity":[]}'))).toMatchObject({ type: 'InvalidRecord' });
  });

  it('keeps routes as compact JSON text of any kind', () => {
    const lrp = desiredLrpFromJson('{"routes":{"b": [ 1 , {"x" : null} ], "a": "s", "n": 12345678901234567890}}');
    expect(lrp.routes).toEqual({ b: '[1,{"x":null}]', a: '"s"', n: '12345678901234567890' });
  });
});

describe('the cc-bridge fixture', () => {
  const fixtureText = loadFixture('cc-bridge-desired-lrp.json');
  const fixture = asRecord(parseJson(fixtureText));
  const tag = { epoch: 'some-epoch', index: 7 };

  it('survives request JSON -> model -> stored JSON -> model -> response JSON with every field', () => {
    const desired = { ...desiredLrpFromJson(fixtureText), modification_tag: tag };
    const stored = desiredLrpFromJson(desiredLrpToJson(desired));
    const response = parseJson(desiredLrpResponseJson(stored));

    expect(response).toEqual({ ...fixture, modification_tag: tag });
  });

  it('survives the proto hop between BBS and receptor too', () => {
    const desired = { ...desiredLrpFromJson(fixtureText), modification_tag: tag };
    const bytes = models.DesiredLRP.encode(desiredLrpToProto(desired)).finish();
    const received = desiredLrpFromProto(models.DesiredLRP.decode(bytes));

    expect(received).toEqual(desired);
    expect(parseJson(desiredLrpResponseJson(received))).toEqual({ ...fixture, modification_tag: tag });
  });

  it('keeps routes["diego-ssh"] intact, as compact JSON', () => {
    const desired = desiredLrpFromJson(desiredLrpToJson(desiredLrpFromJson(fixtureText)));
    expect(desired.routes['diego-ssh']).toBe(
      '{"container_port":2222,"host_fingerprint":"b8:d0:bf:b8:1f:06:d0:1a:d2:7c:ea:91:b5:70:43:fc","private_key":""}',
    );
    expect(desired.routes['cf-router']).toBe('[{"hostnames":["helloDocker.10.244.0.34.xip.io"],"port":8080}]');
  });

  it('keeps the 30 s monitor timeout in nanoseconds', () => {
    const desired = desiredLrpFromJson(fixtureText);
    expect(desired.monitor?.timeout?.timeout).toBe(30000000000n);
  });
});

describe('the receptor actual LRPs fixture', () => {
  const text = loadFixture('receptor-actual-lrps-response.json');
  const responses = parseJson(text);

  it('is answered the same, every digit of since included', () => {
    if (!Array.isArray(responses)) throw new Error('the fixture is a list');
    const answered = responses.map((response) => {
      const lrp = actualLrpFromJson(stringifyJson(response));
      return actualLrpGroupResponseJson({ instance: actualLrpFromJson(actualLrpToJson(lrp)), evacuating: null });
    });

    expect(answered.map((json) => parseJson(json))).toEqual(responses);
    expect(`[${answered.join(',')}]`).toContain('"since":1441087965748636200,');
    expect(`[${answered.join(',')}]`).toContain('"since":1441088706589340400,');
  });
});

describe('TaskResponse (§4.2)', () => {
  it('writes Go\'s key order', () => {
    const task = newTask({ cell_id: 'cell-1' });
    expect(keysOf(taskResponseJson(task))).toEqual([
      'action', 'annotation', 'completion_callback_url', 'cpu_weight', 'disk_mb', 'domain', 'log_guid',
      'log_source', 'metrics_guid', 'memory_mb', 'result_file', 'task_guid', 'rootfs', 'privileged', 'env',
      'cell_id', 'created_at', 'failed', 'failure_reason', 'result', 'state', 'egress_rules',
    ]);
  });

  it('omits annotation, env and egress_rules when empty and never shows the internal timestamps', () => {
    const task = newTask({ annotation: '', env: [], egress_rules: [], action: null });
    const json = taskResponseJson(task);
    expect(keysOf(json)).not.toEqual(expect.arrayContaining(['annotation']));
    expect(keysOf(json)).toEqual([
      'action', 'completion_callback_url', 'cpu_weight', 'disk_mb', 'domain', 'log_guid', 'log_source',
      'metrics_guid', 'memory_mb', 'result_file', 'task_guid', 'rootfs', 'privileged', 'cell_id', 'created_at',
      'failed', 'failure_reason', 'result', 'state',
    ]);
    expect(json).toContain('"action":null,"completion_callback_url":"",');
    expect(json).toContain('"created_at":1447700000000000001,');
  });

  it('writes the spec\'s example byte for byte', () => {
    const task = newTask({
      action: { run: { path: 'bash', args: ['-c', 'echo hi > /tmp/out'], dir: '', env: [], resource_limits: null, user: 'vcap', log_source: '', suppress_log_output: false } },
      annotation: '', completion_callback_url: '', cpu_weight: 100, disk_mb: 128, domain: 'd', log_guid: 'g',
      log_source: 'VIZ', metrics_guid: '', memory_mb: 128, result_file: '/tmp/out', task_guid: 't1',
      rootfs: 'preloaded:cflinuxfs2', privileged: false, env: [], cell_id: '', created_at: 1447700000000000000n,
      failed: false, failure_reason: '', result: 'hi\n', state: 'COMPLETED', egress_rules: [],
    });
    expect(taskResponseJson(task)).toBe(
      '{"action":{"run":{"path":"bash","args":["-c","echo hi \\u003e /tmp/out"],"user":"vcap"}},' +
        '"completion_callback_url":"","cpu_weight":100,"disk_mb":128,"domain":"d","log_guid":"g",' +
        '"log_source":"VIZ","metrics_guid":"","memory_mb":128,"result_file":"/tmp/out","task_guid":"t1",' +
        '"rootfs":"preloaded:cflinuxfs2","privileged":false,"cell_id":"","created_at":1447700000000000000,' +
        '"failed":false,"failure_reason":"","result":"hi\\n","state":"COMPLETED"}',
    );
  });
});

describe('DesiredLRPResponse (§4.5)', () => {
  it('writes Go\'s key order with modification_tag last', () => {
    expect(keysOf(desiredLrpResponseJson(newValidDesiredLrp('p')))).toEqual([
      'process_guid', 'domain', 'rootfs', 'instances', 'env', 'setup', 'action', 'monitor', 'start_timeout',
      'disk_mb', 'memory_mb', 'cpu_weight', 'privileged', 'ports', 'routes', 'log_guid', 'log_source',
      'metrics_guid', 'annotation', 'egress_rules', 'modification_tag',
    ]);
  });

  it('always writes setup, action, monitor and ports; omits empty env, routes, annotation and egress rules', () => {
    const lrp: DesiredLRP = newValidDesiredLrp('p', {
      env: [], setup: null, action: null, monitor: null, ports: [], routes: {}, annotation: '', egress_rules: [],
    });
    expect(desiredLrpResponseJson(lrp)).toBe(
      '{"process_guid":"p","domain":"some-domain","rootfs":"some:rootfs","instances":1,"setup":null,"action":null,' +
        '"monitor":null,"start_timeout":15,"disk_mb":512,"memory_mb":1024,"cpu_weight":42,"privileged":false,' +
        '"ports":[],"log_guid":"some-log-guid","log_source":"some-log-source","metrics_guid":"some-metrics-guid",' +
        '"modification_tag":{"epoch":"some-epoch","index":50}}',
    );
  });

  it('writes routes with sorted keys and their values raw', () => {
    const lrp = newValidDesiredLrp('p', { routes: { 'z-router': '{"a":[1,2]}', 'cf-router': '[{"port":8080}]' } });
    expect(desiredLrpResponseJson(lrp)).toContain('"routes":{"cf-router":[{"port":8080}],"z-router":{"a":[1,2]}},');
  });
});

describe('ActualLRPResponse (§4.6)', () => {
  const unclaimed: ActualLRP = newValidActualLrp('p', 0, {
    instance_guid: '', cell_id: '', domain: 'd', address: '', ports: [], state: 'UNCLAIMED', crash_count: 0,
    crash_reason: '', placement_error: 'insufficient resources', since: 1447700000000000000n,
    modification_tag: { epoch: '4f1c', index: 1 },
  });

  it('writes the spec\'s unclaimed example byte for byte: ports null, crash_reason omitted', () => {
    expect(actualLrpGroupResponseJson({ instance: unclaimed, evacuating: null })).toBe(
      '{"process_guid":"p","instance_guid":"","cell_id":"","domain":"d","index":0,"address":"",' +
        '"ports":null,"state":"UNCLAIMED","crash_count":0,"placement_error":"insufficient resources",' +
        '"since":1447700000000000000,"evacuating":false,"modification_tag":{"epoch":"4f1c","index":1}}',
    );
  });

  it('writes Go\'s key order and omits host_port when 0', () => {
    const lrp = newValidActualLrp('p', 1, { ports: [{ container_port: 8080, host_port: 0 }], placement_error: 'x' });
    const json = actualLrpGroupResponseJson({ instance: lrp, evacuating: null });
    expect(keysOf(json)).toEqual([
      'process_guid', 'instance_guid', 'cell_id', 'domain', 'index', 'address', 'ports', 'state', 'crash_count',
      'crash_reason', 'placement_error', 'since', 'evacuating', 'modification_tag',
    ]);
    expect(json).toContain('"ports":[{"container_port":8080}],');
  });

  it('resolves the group: the evacuating copy until the new instance runs', () => {
    const evacuating = newValidActualLrp('p', 0, { cell_id: 'old-cell' });
    const claimed = newValidActualLrp('p', 0, { cell_id: 'new-cell', state: 'CLAIMED', address: '', ports: [] });
    const running = { ...claimed, state: 'RUNNING' as const, address: '10.0.0.2' };

    expect(parseJson(actualLrpGroupResponseJson({ instance: claimed, evacuating }))).toMatchObject({
      cell_id: 'old-cell',
      evacuating: true,
    });
    expect(parseJson(actualLrpGroupResponseJson({ instance: running, evacuating }))).toMatchObject({
      cell_id: 'new-cell',
      evacuating: false,
    });
    expect(parseJson(actualLrpGroupResponseJson({ instance: null, evacuating }))).toMatchObject({ evacuating: true });
    expect(actualLrpGroupResponseJson({ instance: null, evacuating: null })).toBe('null');
  });
});

describe('CellResponse (§4.7)', () => {
  it('writes the spec\'s example byte for byte, without rep_address, providers sorted', () => {
    const cell = newValidCellPresence('cell_z1-0', {
      capacity: { memory_mb: 512, disk_mb: 1024, containers: 124 },
      rootfs_providers: { preloaded: ['cflinuxfs2'], docker: [] },
    });
    expect(cellResponseJson(cell)).toBe(
      '{"cell_id":"cell_z1-0","zone":"z1","capacity":{"memory_mb":512,"disk_mb":1024,"containers":124},' +
        '"rootfs_providers":{"docker":[],"preloaded":["cflinuxfs2"]}}',
    );
  });
});

describe('actions (§5) and egress rules (§6)', () => {
  const taskWith = (action: Action, egress_rules: SecurityGroupRule[] = []): Record<string, unknown> => {
    return asRecord(parseJson(taskResponseJson(newTask({ action, egress_rules }))));
  };
  const run = { path: './grace', args: [], dir: '', env: [], resource_limits: null, user: 'vcap', log_source: '', suppress_log_output: false };

  it('writes the spec\'s example action byte for byte', () => {
    const action: Action = {
      serial: {
        actions: [
          { download: { artifact: '', from: 'http://x/grace.tar.gz', to: '.', cache_key: 'grace', log_source: '', user: 'vcap' } },
          {
            emit_progress: {
              action: { run },
              start_message: 'starting',
              success_message: 'ok',
              failure_message_prefix: 'failed',
              log_source: '',
            },
          },
        ],
        log_source: '',
      },
    };
    expect(taskResponseJson(newTask({ action }))).toMatch(
      /^\{"action":\{"serial":\{"actions":\[\{"download":\{"from":"http:\/\/x\/grace.tar.gz","to":".","cache_key":"grace","user":"vcap"\}\},\{"emit_progress":\{"action":\{"run":\{"path":".\/grace","user":"vcap"\}\},"start_message":"starting","success_message":"ok","failure_message_prefix":"failed"\}\}\]\}\},/,
    );
  });

  it('always writes the fields §5 marks always, and every field when set', () => {
    expect(taskWith({ download: { artifact: '', from: 'f', to: 't', cache_key: '', log_source: '', user: '' } }).action).toEqual({
      download: { from: 'f', to: 't', cache_key: '', user: '' },
    });
    expect(taskWith({ timeout: { action: null, timeout: 0n, log_source: '' } }).action).toEqual({ timeout: { timeout: 0 } });
    expect(
      taskWith({ emit_progress: { action: null, start_message: '', success_message: '', failure_message_prefix: '', log_source: '' } })
        .action,
    ).toEqual({ emit_progress: { start_message: '', success_message: '', failure_message_prefix: '' } });
    expect(taskWith({ try: { action: null, log_source: '' } }).action).toEqual({ try: {} });
    expect(taskWith({ parallel: { actions: [null], log_source: '' } }).action).toEqual({ parallel: { actions: [null] } });
    expect(taskWith({ run: { ...run, resource_limits: { nofile: 0 } } }).action).toEqual({
      run: { path: './grace', resource_limits: {}, user: 'vcap' },
    });
    const fullRun = {
      path: 'p', args: ['a'], dir: '/d', env: [{ name: 'N', value: '' }], resource_limits: { nofile: 16 }, user: 'u',
      log_source: 'L', suppress_log_output: true,
    };
    expect(taskWith({ run: fullRun }).action).toEqual({ run: fullRun });
    expect(
      taskWith({ upload: { artifact: 'a', from: 'f', to: 't', log_source: 'l', user: 'u' } }).action,
    ).toEqual({ upload: { artifact: 'a', from: 'f', to: 't', log_source: 'l', user: 'u' } });
    expect(taskWith({ codependent: { actions: [], log_source: 'x' } }).action).toEqual({ codependent: { actions: [], log_source: 'x' } });
  });

  it('writes egress rules per §6: log always, the rest when set', () => {
    const rules: SecurityGroupRule[] = [
      { protocol: 'tcp', destinations: ['0.0.0.0/0'], ports: [], port_range: { start: 1, end: 1024 }, icmp_info: null, log: false },
      { protocol: 'icmp', destinations: ['10.0.0.0/8'], ports: [], port_range: null, icmp_info: { type: 0, code: 0 }, log: false },
      { protocol: '', destinations: [], ports: [], port_range: null, icmp_info: null, log: true },
    ];
    expect(taskResponseJson(newTask({ egress_rules: rules }))).toMatch(
      /"egress_rules":\[\{"protocol":"tcp","destinations":\["0.0.0.0\/0"\],"port_range":\{"start":1,"end":1024\},"log":false\},\{"protocol":"icmp","destinations":\["10.0.0.0\/8"\],"icmp_info":\{"type":0,"code":0\},"log":false\},\{"log":true\}\]\}$/,
    );
  });

  it('escapes <, > and & inside strings as Go does, and reads them back', () => {
    const task = newTask({ annotation: '<a href="x">&</a>' });
    expect(taskResponseJson(task)).toContain('"annotation":"\\u003ca href=\\"x\\"\\u003e\\u0026\\u003c/a\\u003e"');
    expect(taskFromJson(taskToJson(task)).annotation).toBe('<a href="x">&</a>');
  });
});
