import {
  actualLrpEvacuatingKey,
  actualLrpIndexPrefix,
  actualLrpInstanceKey,
  actualLrpProcessPrefix,
  cellKey,
  desiredLrpKey,
  domainKey,
  parseKey,
  taskKey,
} from './keys';

describe('keys', () => {
  it('builds the schema of DESIGN.md', () => {
    expect(desiredLrpKey('web')).toBe('/v1/desired/web');
    expect(actualLrpInstanceKey('web', 10)).toBe('/v1/actual/web/10/instance');
    expect(actualLrpEvacuatingKey('web', 0)).toBe('/v1/actual/web/0/evacuating');
    expect(taskKey('t')).toBe('/v1/task/t');
    expect(domainKey('cf-apps')).toBe('/v1/domain/cf-apps');
    expect(cellKey('cell-1')).toBe('/v1/cell/cell-1');
  });

  it('ends prefixes with a slash so one guid never matches a longer one', () => {
    expect(actualLrpInstanceKey('web2', 0).startsWith(actualLrpProcessPrefix('web'))).toBe(false);
    expect(actualLrpInstanceKey('web', 10).startsWith(actualLrpIndexPrefix('web', 1))).toBe(false);
  });

  it('parses every key it builds back', () => {
    expect(parseKey(desiredLrpKey('web'))).toEqual({ kind: 'desired', guid: 'web' });
    expect(parseKey(actualLrpInstanceKey('web', 10))).toEqual({ kind: 'actual', guid: 'web', index: 10, evacuating: false });
    expect(parseKey(actualLrpEvacuatingKey('web', 0))).toEqual({ kind: 'actual', guid: 'web', index: 0, evacuating: true });
    expect(parseKey(taskKey('t'))).toEqual({ kind: 'task', guid: 't' });
    expect(parseKey(domainKey('a/b'))).toEqual({ kind: 'domain', domain: 'a/b' });
    expect(parseKey(cellKey('cell-1'))).toEqual({ kind: 'cell', cellId: 'cell-1' });
  });

  it.each([
    '/v1/desired/',
    '/v1/desired/a/b',
    '/v1/actual/web/0',
    '/v1/actual/web/01/instance',
    '/v1/actual/web/-1/instance',
    '/v1/actual/web/0/other',
    '/v1/locks/bbs_lock',
    '/version',
  ])('rejects %s', (key) => {
    expect(parseKey(key)).toBeNull();
  });
});
