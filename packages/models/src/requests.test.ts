import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isBbsError } from './errors';
import { decodeDesiredLrpCreateRequest, decodeDesiredLrpUpdateRequest, decodeTaskCreateRequest } from './requests';
import { desiredLrp, taskDefinition } from './testdata/builders';
import { validateDesiredLrp } from './validation';

/** The InvalidJSON message `decode` throws; fails the test on any other outcome. */
function invalidJson(decode: () => unknown): string {
  try {
    decode();
  } catch (err) {
    if (isBbsError(err, 'InvalidJSON')) return err.message;
    throw err;
  }
  throw new Error('decoded without an error');
}

describe('decodeDesiredLrpCreateRequest', () => {
  it('decodes the cc-bridge fixture cleanly, into a desired LRP that passes validation', () => {
    const body = readFileSync(join(__dirname, 'testdata', 'cc-bridge-desired-lrp.json'), 'utf8');
    const lrp = decodeDesiredLrpCreateRequest(body);

    expect(lrp).toMatchObject({
      process_guid: 'c181be6b-d89c-469c-b79c-4cab1e99b8de-6eac776b-f051-4cb0-9614-5a3954d1bfd6',
      domain: 'cf-apps',
      rootfs: 'docker:///tutum/tomcat#8.0',
      instances: 2,
      env: [],
      start_timeout: 60,
      ports: [8080, 2222],
      modification_tag: { epoch: '', index: 0 },
      routes: {
        'cf-router': '[{"hostnames":["helloDocker.10.244.0.34.xip.io"],"port":8080}]',
        'diego-ssh':
          '{"container_port":2222,"host_fingerprint":"b8:d0:bf:b8:1f:06:d0:1a:d2:7c:ea:91:b5:70:43:fc","private_key":""}',
      },
    });
    expect(lrp.monitor?.timeout?.timeout).toBe(30_000_000_000n);
    expect(lrp.action?.codependent?.actions[0]?.run?.resource_limits).toEqual({ nofile: 16384 });
    expect(lrp.action?.codependent?.actions[1]?.run?.log_source).toBe('');
    expect(lrp.setup?.serial?.actions[0]?.download).toEqual({
      artifact: '',
      from: 'http://file-server.service.cf.internal:8080/v1/static/docker_app_lifecycle/docker_app_lifecycle.tgz',
      to: '/tmp/lifecycle',
      cache_key: 'docker-lifecycle',
      log_source: '',
      user: 'root',
    });
    expect(lrp.egress_rules[2]).toEqual({
      protocol: 'all', destinations: ['0.0.0.0-9.255.255.255'], ports: [], port_range: null, icmp_info: null, log: false,
    });
    expect(() => validateDesiredLrp(lrp)).not.toThrow();
  });

  it('decodes a `null` body to the all-zero desired LRP', () => {
    expect(decodeDesiredLrpCreateRequest('null')).toEqual(
      desiredLrp({ process_guid: '', domain: '', rootfs: '', instances: 0, action: null }),
    );
  });

  it('takes `null` members and `{}` routes as absent', () => {
    const lrp = decodeDesiredLrpCreateRequest(
      '{"process_guid":"p","instances":null,"routes":null,"setup":null,"ports":null,"env":[{"name":"A","value":null}]}',
    );
    expect(lrp).toMatchObject({ process_guid: 'p', instances: 0, routes: {}, setup: null, ports: [], env: [{ name: 'A', value: '' }] });
    expect(decodeDesiredLrpCreateRequest('{"routes":{}}').routes).toEqual({});
  });

  it('keeps every route value as compact JSON text, nulls and long integers included', () => {
    const lrp = decodeDesiredLrpCreateRequest(
      '{"routes":{"a": [ {"port": 8080, "x": null} ], "b": null, "c": 12345678901234567890123, "d": "s"}}',
    );
    expect(lrp.routes).toEqual({ a: '[{"port":8080,"x":null}]', b: 'null', c: '12345678901234567890123', d: '"s"' });
  });

  it.each([
    ['{"instances":"2"}', 'json: cannot unmarshal string into Go value of type int'],
    ['{"instances":1.5}', 'json: cannot unmarshal number 1.5 into Go value of type int'],
    ['{"instances":2147483648}', 'json: cannot unmarshal number 2147483648 into Go value of type int'],
    ['{"start_timeout":-1}', 'json: cannot unmarshal number -1 into Go value of type uint'],
    ['{"cpu_weight":-1}', 'json: cannot unmarshal number -1 into Go value of type uint'],
    ['{"ports":[8080,-1]}', 'json: cannot unmarshal number -1 into Go value of type uint16'],
    ['{"ports":[65536]}', 'json: cannot unmarshal number 65536 into Go value of type uint16'],
    ['{"ports":8080}', 'json: cannot unmarshal number into Go value of type []uint16'],
    ['{"routes":[]}', 'json: cannot unmarshal array into Go value of type receptor.RoutingInfo'],
    ['{"privileged":"true"}', 'json: cannot unmarshal string into Go value of type bool'],
    ['{"env":{}}', 'json: cannot unmarshal object into Go value of type []receptor.EnvironmentVariable'],
    ['{"setup":[]}', 'json: cannot unmarshal array into Go value of type models.Action'],
    ['{"action":{"run":{"env":[{"name":1}]}}}', 'json: cannot unmarshal number into Go value of type string'],
    ['{"action":{"run":{"resource_limits":{"nofile":-1}}}}', 'json: cannot unmarshal number -1 into Go value of type uint64'],
    ['{"action":{"serial":{"actions":[{"try":"x"}]}}}', 'json: cannot unmarshal string into Go value of type models.TryAction'],
    ['{"action":{"parallel":{"actions":["x"]}}}', 'json: cannot unmarshal string into Go value of type models.Action'],
    ['{"egress_rules":[{"port_range":{"start":-1}}]}', 'json: cannot unmarshal number -1 into Go value of type uint32'],
    ['{"egress_rules":[{"icmp_info":{"type":"echo"}}]}', 'json: cannot unmarshal string into Go value of type int32'],
    ['{"egress_rules":[{"destinations":"0.0.0.0/0"}]}', 'json: cannot unmarshal string into Go value of type []string'],
    ['"lrp"', 'json: cannot unmarshal string into Go value of type receptor.DesiredLRPCreateRequest'],
  ])('refuses %s', (body, message) => {
    expect(invalidJson(() => decodeDesiredLrpCreateRequest(body))).toBe(message);
  });
});

describe('decodeTaskCreateRequest', () => {
  it('splits guid and domain from the definition, other fields at their zero values', () => {
    const request = decodeTaskCreateRequest(
      '{"task_guid":"t1","domain":"d","rootfs":"preloaded:cflinuxfs2","memory_mb":128,' +
        '"action":{"run":{"path":"bash","args":["-c","echo hi"],"user":"vcap"}},"completion_callback_url":"http://cb/x"}',
    );
    expect(request).toEqual({
      task_guid: 't1',
      domain: 'd',
      definition: taskDefinition({
        rootfs: 'preloaded:cflinuxfs2',
        memory_mb: 128,
        disk_mb: 0,
        cpu_weight: 0,
        completion_callback_url: 'http://cb/x',
        action: {
          run: {
            path: 'bash', args: ['-c', 'echo hi'], dir: '', env: [], resource_limits: null, user: 'vcap', log_source: '',
            suppress_log_output: false,
          },
        },
      }),
    });
  });

  it('decodes a `null` body to the all-zero request', () => {
    expect(decodeTaskCreateRequest('null')).toEqual({
      task_guid: '',
      domain: '',
      definition: taskDefinition({ rootfs: '', action: null, disk_mb: 0, memory_mb: 0, cpu_weight: 0 }),
    });
  });

  it('ignores unknown keys, matching keys case-sensitively, at every level', () => {
    const request = decodeTaskCreateRequest(
      '{"task_guid":"t","Task_Guid":"x","bogus":1,"action":{"run":{"path":"p","bogus":2},"bogus_action":{}}}',
    );
    expect(request.task_guid).toBe('t');
    expect(request).not.toHaveProperty('bogus');
    expect(request.definition).not.toHaveProperty('bogus');
    expect(request.definition.action).toEqual({
      run: { path: 'p', args: [], dir: '', env: [], resource_limits: null, user: '', log_source: '', suppress_log_output: false },
    });
  });

  it('keeps an action of unknown type as an empty wrapper, and null entries of action lists', () => {
    expect(decodeTaskCreateRequest('{"action":{"bogus":{}}}').definition.action).toEqual({});
    expect(decodeTaskCreateRequest('{"action":{"serial":{"actions":[null]}}}').definition.action).toEqual({
      serial: { actions: [null], log_source: '' },
    });
  });

  it('keeps a timeout of every int64 digit, and refuses one beyond int64 or not whole', () => {
    const timeout = (value: string) => `{"action":{"timeout":{"timeout":${value}}}}`;
    expect(decodeTaskCreateRequest(timeout('9223372036854775807')).definition.action?.timeout?.timeout).toBe(
      9_223_372_036_854_775_807n,
    );
    expect(decodeTaskCreateRequest(timeout('-5')).definition.action?.timeout?.timeout).toBe(-5n);
    expect(decodeTaskCreateRequest('{"action":{"timeout":{}}}').definition.action?.timeout).toEqual({
      action: null, timeout: 0n, log_source: '',
    });
    expect(invalidJson(() => decodeTaskCreateRequest(timeout('9223372036854775808')))).toBe(
      'json: cannot unmarshal number 9223372036854775808 into Go value of type int64',
    );
    expect(invalidJson(() => decodeTaskCreateRequest(timeout('1.5')))).toBe(
      'json: cannot unmarshal number 1.5 into Go value of type int64',
    );
    expect(invalidJson(() => decodeTaskCreateRequest(timeout('"30s"')))).toBe(
      'json: cannot unmarshal string into Go value of type int64',
    );
  });

  it.each([
    ['', 'EOF'],
    ['  \n', 'EOF'],
    ['{"task_guid":', 'unexpected EOF'],
  ])('refuses the body %p with %p', (body, message) => {
    expect(invalidJson(() => decodeTaskCreateRequest(body))).toBe(message);
  });

  it('refuses malformed JSON', () => {
    expect(invalidJson(() => decodeTaskCreateRequest('{task_guid: "t"}'))).not.toBe('');
  });

  it.each([
    ['{"task_guid":1}', 'json: cannot unmarshal number into Go value of type string'],
    ['{"cpu_weight":-1}', 'json: cannot unmarshal number -1 into Go value of type uint'],
    ['{"disk_mb":"1"}', 'json: cannot unmarshal string into Go value of type int'],
    ['{"egress_rules":[{"ports":[-53]}]}', 'json: cannot unmarshal number -53 into Go value of type uint32'],
    ['{"egress_rules":{}}', 'json: cannot unmarshal object into Go value of type []*models.SecurityGroupRule'],
    ['[]', 'json: cannot unmarshal array into Go value of type receptor.TaskCreateRequest'],
  ])('refuses %s', (body, message) => {
    expect(invalidJson(() => decodeTaskCreateRequest(body))).toBe(message);
  });
});

describe('decodeDesiredLrpUpdateRequest', () => {
  it('leaves absent and null members null', () => {
    const unchanged = { instances: null, routes: null, annotation: null };
    expect(decodeDesiredLrpUpdateRequest('{}')).toEqual(unchanged);
    expect(decodeDesiredLrpUpdateRequest('null')).toEqual(unchanged);
    expect(decodeDesiredLrpUpdateRequest('{"instances":null,"routes":null,"annotation":null}')).toEqual(unchanged);
  });

  it('sets the members present, zero values included, and ignores every other key', () => {
    expect(
      decodeDesiredLrpUpdateRequest('{"instances":0,"annotation":"","routes":{"cf-router":[{"port":8080}]},"rootfs":"x"}'),
    ).toEqual({ instances: 0, annotation: '', routes: { 'cf-router': '[{"port":8080}]' } });
  });

  it('takes an empty routes object as an empty map (it clears the routes)', () => {
    expect(decodeDesiredLrpUpdateRequest('{"routes":{}}').routes).toEqual({});
  });

  it.each([
    ['{"instances":"3"}', 'json: cannot unmarshal string into Go value of type int'],
    ['{"instances":-2.5}', 'json: cannot unmarshal number -2.5 into Go value of type int'],
    ['{"annotation":7}', 'json: cannot unmarshal number into Go value of type string'],
    ['{"routes":"r"}', 'json: cannot unmarshal string into Go value of type receptor.RoutingInfo'],
    ['true', 'json: cannot unmarshal bool into Go value of type receptor.DesiredLRPUpdateRequest'],
    ['', 'EOF'],
  ])('refuses %s', (body, message) => {
    expect(invalidJson(() => decodeDesiredLrpUpdateRequest(body))).toBe(message);
  });
});
