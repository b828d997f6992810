/**
 * The route table is complete where it matters: every route is exercised by a `describe('<RouteName>'` block
 * of its server's integration tests, names are unique, and every BBS route names proto messages that exist.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { proto } from '@diego/models';
import { BbsRoutes, ReceptorRoutes } from '@diego/routes';

const ROOT = join(__dirname, '..', '..');

/** The text of every .ts file under `dir` (recursively), joined; none when `dir` does not exist yet. */
function testSources(dir: string): string {
  if (!existsSync(dir)) return '';
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.ts'))
    .map((file) => readFileSync(join(dir, file), 'utf8'))
    .join('\n');
}

function hasDescribeBlock(sources: string, name: string): boolean {
  const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`describe\\(\\s*(['"\`])${escaped}\\1`).test(sources);
}

function duplicates(names: readonly string[]): string[] {
  return names.filter((name, i) => names.indexOf(name) !== i);
}

/** A generated protobufjs message class: a constructor with static encode/decode. */
function isProtoMessage(name: string): boolean {
  const value: unknown = Reflect.get(proto, name);
  return typeof value === 'function' && typeof Reflect.get(value, 'decode') === 'function';
}

describe('ReceptorRoutes', () => {
  it('has unique names', () => {
    expect(duplicates(ReceptorRoutes.map((route) => route.name))).toEqual([]);
  });

  it('has a describe block per route in packages/receptor/test', () => {
    const sources = testSources(join(ROOT, 'packages', 'receptor', 'test'));
    const untested = ReceptorRoutes.map((route) => route.name).filter((name) => !hasDescribeBlock(sources, name));
    expect(untested).toEqual([]);
  });
});

describe('BbsRoutes', () => {
  it('has unique names', () => {
    expect(duplicates(BbsRoutes.map((route) => route.name))).toEqual([]);
  });

  it('has a describe block per route in packages/bbs/test', () => {
    const sources = testSources(join(ROOT, 'packages', 'bbs', 'test'));
    const untested = BbsRoutes.map((route) => route.name).filter((name) => !hasDescribeBlock(sources, name));
    expect(untested).toEqual([]);
  });

  it('names request and response messages that exist in the generated proto namespace', () => {
    const missing = BbsRoutes.flatMap(({ name, request, response }) =>
      [request, response].flatMap((message) =>
        message === null || isProtoMessage(message) ? [] : [`${name}: ${message}`],
      ),
    );
    expect(missing).toEqual([]);
  });
});

describe('the route name detector', () => {
  it('finds a describe block by exact name only', () => {
    expect(hasDescribeBlock("describe('GetTask', () => {", 'GetTask')).toBe(true);
    expect(hasDescribeBlock('describe("GetTask", () => {', 'GetTask')).toBe(true);
    expect(hasDescribeBlock("describe('GetTasks', () => {", 'GetTask')).toBe(false);
    expect(hasDescribeBlock("describe('Tasks_r1', () => {", 'Tasks')).toBe(false);
  });
});
