import { isBbsError } from './errors';
import { actualLrp, cellPresence, desiredLrp, egressRule, runAction, taskDefinition } from './testdata/builders';
import type { Action, ActualLRP, SecurityGroupRule } from './types';
import {
  isValidGuid,
  MAX_ACTION_DEPTH,
  validateActionDepth,
  validateActualLrp,
  validateActualLrpCrashRequest,
  validateActualLrpInstanceRequest,
  validateActualLrpKeyRequest,
  validateActualLrpRunningRequest,
  validateCellHeartbeatRequest,
  validateCellIdRequest,
  validateCellPresence,
  validateClaimActualLrpRequest,
  validateCompletionCallbackUrl,
  validateDesiredLrp,
  validateDesiredLrpUpdate,
  validateDesireTask,
  validateDomain,
  validateFailActualLrpRequest,
  validateFailTaskRequest,
  validateProcessGuidAndIndexRequest,
  validateProcessGuidRequest,
  validateRegisterCellRequest,
  validateTaskGuidRequest,
  validateTaskOnCellRequest,
} from './validation';

/** The BbsError `validate` throws, as `<type>: <message>`; `valid` when it throws nothing. */
function outcome(validate: () => void): string {
  try {
    validate();
  } catch (err) {
    if (isBbsError(err)) return `${err.type}: ${err.message}`;
    throw err;
  }
  return 'valid';
}

const invalidRequest = (message: string): string => `InvalidRequest: ${message}`;

describe('isValidGuid', () => {
  it.each(['abc', 'A-b_9', 'c181be6b-d89c-469c-b79c-4cab1e99b8de'])('accepts %p', (guid) => {
    expect(isValidGuid(guid)).toBe(true);
  });
  it.each(['', 'a b', 'a/b', 'a,b', 'a.b', 'héllo'])('refuses %p', (guid) => {
    expect(isValidGuid(guid)).toBe(false);
  });
});

describe('validateDesireTask (receptor §7.1)', () => {
  const task = (overrides: Parameters<typeof taskDefinition>[0] = {}) => () =>
    validateDesireTask('task-guid', 'domain', taskDefinition(overrides));

  it('accepts a valid task', () => {
    expect(outcome(task())).toBe('valid');
  });

  it("reports every failure in one message, in Diego's order", () => {
    expect(outcome(() => validateDesireTask('', '', taskDefinition({ action: null })))).toBe(
      invalidRequest('Invalid field: task_guid, Invalid field: domain, invalid action type'),
    );
  });

  it.each([' ', 'a/b', 'a,b', 'a.b', 'ü'])('refuses the task guid %p', (guid) => {
    expect(outcome(() => validateDesireTask(guid, 'domain', taskDefinition()))).toBe(
      invalidRequest('Invalid field: task_guid'),
    );
  });

  it('requires a task definition', () => {
    expect(outcome(() => validateDesireTask('t', 'd', null))).toBe(invalidRequest('Invalid field: task_definition'));
  });

  it.each(['', 'cflinuxfs2', '/var/vcap/rootfs', ':cflinuxfs2', '1docker:///busybox', 'docker:///busybox#%zz'])(
    'reports the rootfs %p once',
    (rootfs) => {
      expect(outcome(task({ rootfs }))).toBe(invalidRequest('Invalid field: rootfs'));
    },
  );

  it.each(['preloaded:cflinuxfs2', 'docker:///busybox', 'docker:///org/image#tag', 'docker://registry:5000/org/image'])(
    'accepts the rootfs %p',
    (rootfs) => {
      expect(outcome(task({ rootfs }))).toBe('valid');
    },
  );

  it('names the action, then what is wrong inside it', () => {
    expect(outcome(task({ action: runAction('') }))).toBe(invalidRequest('Invalid field: action, Invalid field: path'));
  });

  it('refuses negative memory and disk', () => {
    expect(outcome(task({ memory_mb: -1, disk_mb: -1 }))).toBe(
      invalidRequest('Invalid field: memory_mb, Invalid field: disk_mb'),
    );
  });

  it('allows a cpu weight up to 100', () => {
    expect(outcome(task({ cpu_weight: 100 }))).toBe('valid');
    expect(outcome(task({ cpu_weight: 101 }))).toBe(invalidRequest('Invalid field: cpu_weight'));
  });

  it('counts the annotation in UTF-8 bytes, up to 10 KiB', () => {
    expect(outcome(task({ annotation: 'a'.repeat(10240) }))).toBe('valid');
    expect(outcome(task({ annotation: 'a'.repeat(10241) }))).toBe(invalidRequest('Invalid field: annotation'));
    expect(outcome(task({ annotation: 'é'.repeat(5121) }))).toBe(invalidRequest('Invalid field: annotation'));
  });

  it('names an invalid egress rule without the rule’s own failures', () => {
    expect(outcome(task({ egress_rules: [egressRule({ protocol: 'bogus' })] }))).toBe(
      invalidRequest('Invalid field: egress_rules'),
    );
  });

  it('requires the legacy download user and from/to of cached dependencies', () => {
    const dependency = { name: 'n', from: '', to: '', cache_key: '', log_source: '' };
    expect(outcome(task({ cached_dependencies: [dependency] }))).toBe(
      invalidRequest(
        'Invalid field: legacy_download_user, Invalid field: cached_dependency, Invalid field: from, Invalid field: to',
      ),
    );
    expect(
      outcome(task({ cached_dependencies: [{ ...dependency, from: 'http://x/y.tgz', to: '/tmp' }], legacy_download_user: 'vcap' })),
    ).toBe('valid');
  });
});

describe('validateDesiredLrp (receptor §7.2)', () => {
  const lrp = (overrides: Parameters<typeof desiredLrp>[0] = {}) => () => validateDesiredLrp(desiredLrp(overrides));

  it('accepts a valid desired LRP', () => {
    expect(outcome(lrp())).toBe('valid');
  });

  it('requires a desired LRP', () => {
    expect(outcome(() => validateDesiredLrp(null))).toBe(invalidRequest('Invalid field: desired_lrp'));
  });

  it('reports an empty rootfs twice', () => {
    expect(outcome(lrp({ rootfs: '' }))).toBe(invalidRequest('Invalid field: rootfs, Invalid field: rootfs'));
  });

  it('reports a rootfs without a scheme once', () => {
    expect(outcome(lrp({ rootfs: 'busybox' }))).toBe(invalidRequest('Invalid field: rootfs'));
  });

  it("reports every failure in one message, in Diego's order", () => {
    const bad: Action = { serial: { actions: [], log_source: '' } };
    expect(
      outcome(
        lrp({
          domain: '', process_guid: 'a b', rootfs: '', setup: {}, action: null, monitor: bad, instances: -1,
          memory_mb: -1, disk_mb: -2, cpu_weight: 101, annotation: 'x'.repeat(10241),
          routes: { 'cf-router': `"${'r'.repeat(4095)}"` }, egress_rules: [egressRule({ ports: [] })],
          cached_dependencies: [{ name: '', from: 'f', to: 't', cache_key: '', log_source: '' }],
          env: [{ name: '', value: 'v' }],
        }),
      ),
    ).toBe(
      invalidRequest(
        [
          'Invalid field: domain',
          'Invalid field: process_guid',
          'Invalid field: rootfs',
          'Invalid field: rootfs',
          'Invalid field: setup',
          'Invalid field: inner-action',
          'invalid action type',
          'Invalid field: monitor',
          'Invalid field: actions',
          'Invalid field: instances',
          'Invalid field: memory_mb',
          'Invalid field: disk_mb',
          'Invalid field: cpu_weight',
          'Invalid field: annotation',
          'Invalid field: routes',
          'Invalid field: egress_rules',
          'Missing required field: ports or port_range',
          'Invalid field: legacy_download_user',
          'Invalid field: env',
        ].join(', '),
      ),
    );
  });

  it('accepts 0 instances', () => {
    expect(outcome(lrp({ instances: 0 }))).toBe('valid');
  });

  it('counts the JSON bytes of all route values together, up to 4 KiB', () => {
    const routes = { a: `"${'x'.repeat(2046)}"`, b: `"${'y'.repeat(2046)}"` };
    expect(outcome(lrp({ routes }))).toBe('valid');
    expect(outcome(lrp({ routes: { ...routes, c: '1' } }))).toBe(invalidRequest('Invalid field: routes'));
  });

  it('details what is wrong with an egress rule', () => {
    expect(outcome(lrp({ egress_rules: [egressRule({ protocol: 'udp', log: true })] }))).toBe(
      invalidRequest('Invalid field: egress_rules, Invalid field: log'),
    );
  });
});

describe('actions', () => {
  /** The message for an LRP whose action is `action`. */
  const actionOutcome = (action: Action): string => outcome(() => validateDesiredLrp(desiredLrp({ action })));
  const run = runAction();

  /** `run` inside `depth - 1` serial and try wrappers, alternately: `depth` levels in all. */
  const nested = (depth: number): Action => {
    let action: Action = run;
    for (let level = 1; level < depth; level++) {
      action = level % 2 === 0 ? { serial: { actions: [run, action], log_source: '' } } : { try: { action, log_source: '' } };
    }
    return action;
  };

  it(`takes actions nested ${MAX_ACTION_DEPTH} deep and refuses one level more, at the BBS and the receptor`, () => {
    expect(actionOutcome(nested(MAX_ACTION_DEPTH))).toBe('valid');
    expect(actionOutcome(nested(MAX_ACTION_DEPTH + 1))).toBe(
      invalidRequest(`Invalid field: action, actions nested deeper than ${MAX_ACTION_DEPTH}`),
    );
    expect(outcome(() => validateActionDepth({ setup: null, action: nested(MAX_ACTION_DEPTH) }))).toBe('valid');
    expect(outcome(() => validateActionDepth({ setup: null, monitor: nested(200) }))).toBe(
      invalidRequest(`Invalid field: monitor, actions nested deeper than ${MAX_ACTION_DEPTH}`),
    );
  });

  it.each<[string, Action, string]>([
    ['an empty wrapper', {}, 'Invalid field: inner-action'],
    ['two actions in one wrapper', { ...run, try: { action: run, log_source: '' } }, 'Invalid field: inner-action'],
    [
      'a download without from, to and user',
      { download: { artifact: '', from: '', to: '', cache_key: '', log_source: '', user: '' } },
      'Invalid field: from, Invalid field: to, Invalid field: user',
    ],
    [
      'an upload without to, from and user',
      { upload: { artifact: '', from: '', to: '', log_source: '', user: '' } },
      'Invalid field: to, Invalid field: from, Invalid field: user',
    ],
    [
      'a run without path and user',
      { run: { path: '', args: [], dir: '', env: [], resource_limits: null, user: '', log_source: '', suppress_log_output: false } },
      'Invalid field: path, Invalid field: user',
    ],
    ['a timeout without action or timeout', { timeout: { action: null, timeout: 0n, log_source: '' } }, 'Invalid field: action, Invalid field: timeout'],
    ['a timeout with a negative timeout', { timeout: { action: run, timeout: -1n, log_source: '' } }, 'Invalid field: timeout'],
    ['a timeout around an invalid action', { timeout: { action: runAction(''), timeout: 1n, log_source: '' } }, 'Invalid field: path'],
    [
      'an emit_progress without action',
      { emit_progress: { action: null, start_message: '', success_message: '', failure_message_prefix: '', log_source: '' } },
      'Invalid field: action',
    ],
    ['a try without action', { try: { action: null, log_source: '' } }, 'Invalid field: action'],
    ['a parallel without actions', { parallel: { actions: [], log_source: '' } }, 'Invalid field: actions'],
    ['a serial with a null entry', { serial: { actions: [run, null], log_source: '' } }, 'Invalid field: action at index 1'],
    [
      'a codependent with invalid entries',
      { codependent: { actions: [runAction(''), {}], log_source: '' } },
      'Invalid field: path, Invalid field: inner-action',
    ],
  ])('reports %s', (_what, action, nested) => {
    expect(actionOutcome(action)).toBe(invalidRequest(`Invalid field: action, ${nested}`));
  });

  it('accepts every valid action type, nested', () => {
    const download: Action = { download: { artifact: '', from: 'http://x/a.tgz', to: '/tmp', cache_key: '', log_source: '', user: 'vcap' } };
    const upload: Action = { upload: { artifact: '', from: '/tmp/out', to: 'http://x/up', log_source: '', user: 'vcap' } };
    const action: Action = {
      serial: {
        log_source: '',
        actions: [
          download,
          { parallel: { actions: [upload, { try: { action: run, log_source: '' } }], log_source: '' } },
          {
            emit_progress: {
              action: { timeout: { action: { codependent: { actions: [run], log_source: '' } }, timeout: 1n, log_source: '' } },
              start_message: '', success_message: '', failure_message_prefix: '', log_source: '',
            },
          },
        ],
      },
    };
    expect(actionOutcome(action)).toBe('valid');
  });
});

describe('egress rules (receptor §6)', () => {
  const ruleOutcome = (rule: Partial<SecurityGroupRule>): string =>
    outcome(() => validateDesiredLrp(desiredLrp({ egress_rules: [egressRule(rule)] })));
  const failure = (detail: string): string => invalidRequest(`Invalid field: egress_rules, ${detail}`);

  it.each<[string, Partial<SecurityGroupRule>]>([
    ['tcp with ports', { protocol: 'tcp', ports: [80, 443] }],
    ['tcp with a port range', { protocol: 'tcp', ports: [], port_range: { start: 1, end: 1024 }, log: true }],
    ['udp with ports', { protocol: 'udp', ports: [53] }],
    ['icmp with icmp_info', { protocol: 'icmp', ports: [], icmp_info: { type: 0, code: 0 } }],
    ['all with nothing else', { protocol: 'all', ports: [], log: true }],
  ])('accepts %s', (_what, rule) => {
    expect(ruleOutcome(rule)).toBe('valid');
  });

  it.each<[string, Partial<SecurityGroupRule>, string]>([
    ['an unknown protocol', { protocol: 'TCP' }, 'Invalid field: protocol'],
    ['tcp without ports or range', { ports: [] }, 'Missing required field: ports or port_range'],
    ['tcp with ports and a range', { port_range: { start: 1, end: 2 } }, 'Invalid: ports and port_range provided'],
    ['a port 0', { ports: [0, 80] }, 'Invalid field: ports'],
    ['a range starting at 0', { ports: [], port_range: { start: 0, end: 10 } }, 'Invalid field: port_range'],
    ['a range ending before it starts', { ports: [], port_range: { start: 10, end: 5 } }, 'Invalid field: port_range'],
    ['tcp with icmp_info', { icmp_info: { type: 0, code: 0 } }, 'Invalid field: icmp_info'],
    ['udp that logs', { protocol: 'udp', log: true }, 'Invalid field: log'],
    ['icmp without icmp_info', { protocol: 'icmp', ports: [] }, 'Invalid field: icmp_info'],
    [
      'icmp with ports, a range and logging',
      { protocol: 'icmp', port_range: { start: 1, end: 2 }, icmp_info: { type: 0, code: 0 }, log: true },
      'Invalid field: port_range, Invalid field: ports, Invalid field: log',
    ],
    [
      'all with ports, a range and icmp_info',
      { protocol: 'all', port_range: { start: 1, end: 2 }, icmp_info: { type: 0, code: 0 } },
      'Invalid field: port_range, Invalid field: ports, Invalid field: icmp_info',
    ],
    ['no destination', { destinations: [] }, 'Invalid field: destinations [ Must have at least 1 destination ]'],
  ])('refuses %s', (_what, rule, detail) => {
    expect(ruleOutcome(rule)).toBe(failure(detail));
  });

  it.each(['1.2.3.4', '10.0.0.0/8', '0.0.0.0/0', '0.0.0.0-9.255.255.255', '10.0.0.1-10.0.0.1', '::1', 'fe80::/10', '::ffff:1.2.3.4', '2001:db8::1-2001:db8::ff'])(
    'accepts the destination %p',
    (destination) => {
      expect(ruleOutcome({ destinations: [destination] })).toBe('valid');
    },
  );

  it.each([
    ['garbage', 'Invalid IP'],
    ['256.0.0.1', 'Invalid IP'],
    ['1.2.3', 'Invalid IP'],
    ['10.0.0.2-10.0.0.1', 'Invalid IP'],
    ['10.0.0.1-', 'Invalid IP'],
    ['1:2:3:4:5:6:7:8:9', 'Invalid IP'],
    ['garbage/32', 'invalid CIDR address: garbage/32'],
    ['10.0.0.0/33', 'invalid CIDR address: 10.0.0.0/33'],
  ])('refuses the destination %p', (destination, reason) => {
    expect(ruleOutcome({ destinations: ['1.2.3.4', destination] })).toBe(failure(`Invalid field: destinations [ ${reason} ]`));
  });
});

describe('validateDesiredLrpUpdate (receptor §7.3)', () => {
  it('accepts an empty update and a missing one', () => {
    expect(outcome(() => validateDesiredLrpUpdate('p', { instances: null, routes: null, annotation: null }))).toBe('valid');
    expect(outcome(() => validateDesiredLrpUpdate('p', null))).toBe('valid');
  });

  it('reports every failure', () => {
    expect(
      outcome(() =>
        validateDesiredLrpUpdate('', { instances: -1, annotation: 'a'.repeat(10241), routes: { r: `"${'x'.repeat(4095)}"` } }),
      ),
    ).toBe(
      invalidRequest('Invalid field: process_guid, Invalid field: instances, Invalid field: annotation, Invalid field: routes'),
    );
  });
});

describe('validateCompletionCallbackUrl', () => {
  it.each(['', 'http://example.com/callback', 'https://user:pw@[::1]:8080/cb?x=1', '/v1/callback', '*'])('accepts %p', (url) => {
    expect(outcome(() => validateCompletionCallbackUrl(url))).toBe('valid');
  });

  it.each([
    ['ಠ_ಠ', 'invalid URI for request'],
    ['callback/relative', 'invalid URI for request'],
    [':8080/cb', 'missing protocol scheme'],
    ['http://[::1/cb', "missing ']' in host"],
    ['http://[::1]x/cb', 'invalid port "x" after host'],
    ['http://host/%zz', 'invalid URL escape "%zz"'],
    ['http://host/a\nb', 'net/url: invalid control character in URL'],
  ])('refuses %p as Go does', (url, reason) => {
    expect(outcome(() => validateCompletionCallbackUrl(url))).toBe(invalidRequest(`parse ${url}: ${reason}`));
  });
});

describe('validateDomain', () => {
  it('accepts a domain name', () => {
    expect(outcome(() => validateDomain('cf-apps'))).toBe('valid');
  });
  it.each(['', 'cf/apps'])('refuses %p', (domain) => {
    expect(outcome(() => validateDomain(domain))).toBe(invalidRequest('Invalid field: domain'));
  });
});

describe('validateActualLrp (bbs §3.1)', () => {
  const instanceKey = { instance_guid: 'instance', cell_id: 'cell' };
  const netInfo = { address: '10.0.0.1', ports: [{ container_port: 8080, host_port: 60001 }] };
  const invalidRecord = (message: string): string => `InvalidRecord: ${message}`;
  const recordOutcome = (overrides: Partial<ActualLRP>): string => outcome(() => validateActualLrp(actualLrp(overrides)));

  it.each<[string, Partial<ActualLRP>]>([
    ['UNCLAIMED', { state: 'UNCLAIMED', placement_error: 'insufficient resources' }],
    ['CLAIMED', { state: 'CLAIMED', ...instanceKey }],
    ['RUNNING', { state: 'RUNNING', ...instanceKey, ...netInfo }],
    ['CRASHED', { state: 'CRASHED', crash_count: 3, crash_reason: 'Exited with status 1' }],
  ])('accepts a valid %s record', (_state, overrides) => {
    expect(recordOutcome(overrides)).toBe('valid');
  });

  it('requires a valid key and since', () => {
    expect(recordOutcome({ process_guid: '', index: -1, domain: '', since: 0n })).toBe(
      invalidRecord('Invalid field: process_guid, Invalid field: index, Invalid field: domain, Invalid field: since'),
    );
  });

  it.each<[string, Partial<ActualLRP>, string]>([
    [
      'UNCLAIMED with an instance and net info',
      { state: 'UNCLAIMED', cell_id: 'cell', address: '10.0.0.1' },
      'instance key cannot be set when state is unclaimed, net info cannot be set when state is unclaimed',
    ],
    ['CLAIMED without an instance key', { state: 'CLAIMED' }, 'Invalid field: cell_id, Invalid field: instance_guid'],
    [
      'CLAIMED with net info and a placement error',
      { state: 'CLAIMED', ...instanceKey, ports: netInfo.ports, placement_error: 'no room' },
      'net info cannot be set when state is claimed, placement error cannot be set when state is claimed',
    ],
    [
      'RUNNING without address, with a placement error',
      { state: 'RUNNING', ...instanceKey, placement_error: 'no room' },
      'Invalid field: address, placement error cannot be set when state is running',
    ],
    [
      'CRASHED with an instance, net info and a placement error',
      { state: 'CRASHED', instance_guid: 'i', address: '10.0.0.1', placement_error: 'x' },
      'instance key cannot be set when state is crashed, net info cannot be set when state is crashed, placement error cannot be set when state is crashed',
    ],
  ])('refuses %s', (_what, overrides, message) => {
    expect(recordOutcome(overrides)).toBe(invalidRecord(message));
  });

  it('refuses a state Diego does not know', () => {
    const record = actualLrp();
    // A stored record can carry any string; the type cannot, so write it the way a decoder would.
    Reflect.set(record, 'state', 'STOPPED');
    expect(outcome(() => validateActualLrp(record))).toBe(invalidRecord('Invalid field: state'));
  });
});

describe('validateCellPresence', () => {
  it('accepts a valid cell', () => {
    expect(outcome(() => validateCellPresence(cellPresence()))).toBe('valid');
    expect(outcome(() => validateCellPresence(cellPresence({ capacity: { memory_mb: 1, disk_mb: 0, containers: 1 } })))).toBe('valid');
  });

  it('reports every failure', () => {
    const cell = cellPresence({ cell_id: '', rep_address: '', capacity: { memory_mb: 0, disk_mb: -1, containers: 0 } });
    expect(outcome(() => validateCellPresence(cell))).toBe(
      invalidRequest(
        'Invalid field: cell_id, Invalid field: rep_address, Invalid field: memory_mb, Invalid field: disk_mb, Invalid field: containers',
      ),
    );
  });
});

describe('cell presence requests', () => {
  it('accepts a registration with a presence and a TTL', () => {
    expect(outcome(() => validateRegisterCellRequest(cellPresence(), 10))).toBe('valid');
  });

  it('refuses a registration without a presence, with a cell_id that would nest its key, or without a TTL', () => {
    expect(outcome(() => validateRegisterCellRequest(null, 10))).toBe(invalidRequest('Invalid field: cell_presence'));
    expect(outcome(() => validateRegisterCellRequest(cellPresence({ cell_id: 'a/b' }), 10))).toBe(invalidRequest('Invalid field: cell_id'));
    expect(outcome(() => validateRegisterCellRequest(cellPresence({ rep_address: '' }), 0))).toBe(
      invalidRequest('Invalid field: rep_address, Invalid field: ttl'),
    );
  });

  it('wants a heartbeat to name the cell and a decimal lease id', () => {
    expect(outcome(() => validateCellHeartbeatRequest('cell-1', '7587862126958366225'))).toBe('valid');
    expect(outcome(() => validateCellHeartbeatRequest('', '0x12'))).toBe(invalidRequest('Invalid field: cell_id, Invalid field: lease_id'));
    expect(outcome(() => validateCellHeartbeatRequest('cell-1', ''))).toBe(invalidRequest('Invalid field: lease_id'));
  });

  it('wants a removal to name the cell', () => {
    expect(outcome(() => validateCellIdRequest('cell-1'))).toBe('valid');
    expect(outcome(() => validateCellIdRequest(''))).toBe(invalidRequest('Invalid field: cell_id'));
  });
});

describe('BBS lifecycle requests (bbs §11)', () => {
  const key = { process_guid: 'p', index: 0, domain: 'd' };
  const badKey = { process_guid: '', index: -1, domain: '' };
  const badKeyMessage = 'Invalid field: process_guid, Invalid field: index, Invalid field: domain';
  const instanceKey = { instance_guid: 'i', cell_id: 'c' };
  const badInstanceKey = { instance_guid: '', cell_id: '' };
  const netInfo = { address: '10.0.0.1', ports: [] };

  it.each<[string, () => void, string]>([
    ['a valid claim', () => validateClaimActualLrpRequest('p', 0, instanceKey), 'valid'],
    [
      'a claim without guid, index or instance key',
      () => validateClaimActualLrpRequest('', -1, null),
      'Invalid field: process_guid, Invalid field: index, Invalid field: actual_lrp_instance_key',
    ],
    ['a valid start', () => validateActualLrpRunningRequest(key, instanceKey, netInfo), 'valid'],
    [
      'a start with invalid parts',
      () => validateActualLrpRunningRequest(badKey, badInstanceKey, { address: '', ports: [] }),
      `${badKeyMessage}, Invalid field: cell_id, Invalid field: instance_guid, Invalid field: address`,
    ],
    [
      'a start with missing parts',
      () => validateActualLrpRunningRequest(null, null, null),
      'Invalid field: actual_lrp_key, Invalid field: actual_lrp_instance_key, Invalid field: actual_lrp_net_info',
    ],
    ['a valid crash', () => validateActualLrpCrashRequest(key, instanceKey, 'Exited with status 1'), 'valid'],
    [
      'a crash without error message',
      () => validateActualLrpCrashRequest(key, null, ''),
      'Invalid field: actual_lrp_instance_key, Invalid field: error_message',
    ],
    ['a valid fail', () => validateFailActualLrpRequest(key, 'insufficient resources'), 'valid'],
    ['a fail without error message', () => validateFailActualLrpRequest(badKey, ''), `${badKeyMessage}, Invalid field: error_message`],
    ['a valid retire', () => validateActualLrpKeyRequest(key), 'valid'],
    ['a retire without key', () => validateActualLrpKeyRequest(null), 'Invalid field: actual_lrp_key'],
    ['a valid evacuation', () => validateActualLrpInstanceRequest(key, instanceKey), 'valid'],
    [
      'an evacuation with invalid parts',
      () => validateActualLrpInstanceRequest(badKey, { instance_guid: 'i', cell_id: '' }),
      `${badKeyMessage}, Invalid field: cell_id`,
    ],
    ['a valid lookup by index', () => validateProcessGuidAndIndexRequest('p', 0), 'valid'],
    ['a lookup by negative index', () => validateProcessGuidAndIndexRequest('', -1), 'Invalid field: process_guid, Invalid field: index'],
    ['a lookup without process guid', () => validateProcessGuidRequest(''), 'Invalid field: process_guid'],
    ['a valid task start', () => validateTaskOnCellRequest('task-1', 'cell'), 'valid'],
    ['a task start without guid or cell', () => validateTaskOnCellRequest('a b', ''), 'Invalid field: task_guid, Invalid field: cell_id'],
    ['a valid task failure', () => validateFailTaskRequest('task-1', 'boom'), 'valid'],
    ['a task failure without reason', () => validateFailTaskRequest('', ''), 'Invalid field: task_guid, Invalid field: failure_reason'],
    ['a task lookup by any non-empty guid', () => validateTaskGuidRequest('not/a/valid guid'), 'valid'],
    ['a task lookup without guid', () => validateTaskGuidRequest(''), 'Invalid field: task_guid'],
  ])('%s', (_what, validate, message) => {
    expect(outcome(validate)).toBe(message === 'valid' ? 'valid' : invalidRequest(message));
  });
});
