/** Assertions on receptor responses as a client sees them, and request bodies as CC-bridge sends them. */
import { randomUUID } from 'node:crypto';
import { parseJson } from '@diego/models';
import { parseEventId } from '@diego/bbs-client';
import type { Response } from 'supertest';

export type JsonObject = Record<string, unknown>;

function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function asObject(value: unknown): JsonObject {
  if (!isJsonObject(value)) throw new Error(`expected a JSON object, got ${JSON.stringify(String(value))}`);
  return value;
}

export function asObjects(value: unknown): JsonObject[] {
  if (!Array.isArray(value)) throw new Error(`expected a JSON array, got ${String(value)}`);
  return value.map(asObject);
}

/** A guid no other test uses. */
export function uniqueGuid(prefix: string): string {
  return `${prefix}-${randomUUID()}`;
}

/** A JSON response: its Content-Type, its exact Content-Length, its body parsed with exact int64s. */
export function expectJson(res: Response, status: number): unknown {
  expect({ status: res.status, text: res.text }).toEqual({ status, text: expect.any(String) });
  expect(res.headers['content-type']).toBe('application/json');
  expect(res.headers['content-length']).toBe(String(Buffer.byteLength(res.text, 'utf8')));
  return parseJson(res.text);
}

/** A response without a body and without a Content-Type. */
export function expectEmpty(res: Response, status: number): void {
  expect({ status: res.status, text: res.text }).toEqual({ status, text: '' });
  expect(res.headers['content-type']).toBeUndefined();
}

/** The receptor's error envelope. */
export function expectError(res: Response, status: number, name: string, message?: string): void {
  const body = asObject(expectJson(res, status));
  expect(Object.keys(body)).toEqual(['name', 'message']);
  expect(body.name).toBe(name);
  if (message !== undefined) expect(body.message).toBe(message);
}

/** A valid TaskCreateRequest (§4.1) with every field a client may set. */
export function taskRequest(taskGuid: string, overrides: JsonObject = {}): JsonObject {
  return {
    task_guid: taskGuid,
    domain: 'tests',
    rootfs: 'preloaded:cflinuxfs2',
    action: { run: { path: 'bash', args: ['-c', 'echo hi > /tmp/out'], user: 'vcap' } },
    env: [{ name: 'FOO', value: 'bar' }],
    cpu_weight: 100,
    disk_mb: 128,
    memory_mb: 256,
    privileged: true,
    result_file: '/tmp/out',
    completion_callback_url: '',
    log_guid: 'log-guid',
    log_source: 'VIZ',
    metrics_guid: 'metrics-guid',
    annotation: 'an annotation with <, > & "quotes"',
    egress_rules: [{ protocol: 'tcp', destinations: ['0.0.0.0/0'], port_range: { start: 1, end: 1024 }, log: false }],
    ...overrides,
  };
}

/** A valid DesiredLRPCreateRequest (§4.3). */
export function desiredLrpRequest(processGuid: string, overrides: JsonObject = {}): JsonObject {
  return {
    process_guid: processGuid,
    domain: 'tests',
    rootfs: 'docker:///busybox',
    instances: 1,
    action: { run: { path: 'sh', args: ['-c', 'sleep 1000'], user: 'vcap' } },
    ...overrides,
  };
}

/**
 * Whether event ids (`<revision>.<place>`) strictly increase, each after `after` when given: the order the BBS
 * gives all events, none twice.
 */
export function eventIdsIncrease(ids: readonly string[], after?: string): boolean {
  const order = (id: string): [bigint, number] => {
    const { revision, place } = parseEventId(id);
    return [revision, place ?? Number.MAX_SAFE_INTEGER];
  };
  const points = [...(after === undefined ? [] : [after]), ...ids].map(order);
  return points.every((point, i) => {
    const previous = points[i - 1];
    return previous === undefined || point[0] > previous[0] || (point[0] === previous[0] && point[1] > previous[1]);
  });
}
