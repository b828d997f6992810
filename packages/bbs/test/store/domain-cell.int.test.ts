import { eventually, newValidCellPresence } from '@diego/test-support';
import { etcdKeys } from '@diego/bbs';
import { useStore } from './store-harness';

describe('domains', () => {
  const store = useStore();

  async function leaseOf(domain: string): Promise<string | undefined> {
    return (await store().raw(etcdKeys.domainKey(domain)))?.lease;
  }

  it('keeps a domain upserted with TTL 0 fresh for ever: no lease', async () => {
    const { db } = store();
    await db.upsertDomain('cf-apps', 0);
    expect(await db.domains()).toEqual(['cf-apps']);
    expect(await leaseOf('cf-apps')).toBe('0');
  });

  it('lets a domain with TTL 1 s expire within 3 s', async () => {
    const { db } = store();
    await db.upsertDomain('short', 1);
    await db.upsertDomain('forever', 0);
    expect((await db.domains()).sort()).toEqual(['forever', 'short']);
    await eventually(() => db.domains(), (domains) => !domains.includes('short'), { timeoutMs: 3000 });
    expect(await db.domains()).toEqual(['forever']);
  });

  it('moves a domain to a new lease on every upsert and revokes the old one', async () => {
    const { db, keys } = store();
    await db.upsertDomain('cf-apps', 60);
    const first = await leaseOf('cf-apps');
    await db.upsertDomain('cf-apps', 120);
    const second = await leaseOf('cf-apps');
    expect(second).not.toBe(first);
    const ttl = await keys.client.leaseClient.leaseTimeToLive({ ID: second! });
    expect(Number(ttl.TTL)).toBeGreaterThan(100);
    expect(Number((await keys.client.leaseClient.leaseTimeToLive({ ID: first! })).TTL)).toBe(-1);

    await db.upsertDomain('cf-apps', 0);
    expect(await leaseOf('cf-apps')).toBe('0');
    expect(await db.domains()).toEqual(['cf-apps']);
  });
});

describe('cells', () => {
  const store = useStore();

  it('registers a cell under a lease and reads it back', async () => {
    const { db, raw } = store();
    const cell = newValidCellPresence('cell-1');
    const lease = await db.registerCell(cell, 10);
    expect(await db.cells()).toEqual([cell]);
    expect(await db.cellById('cell-1')).toEqual(cell);
    expect((await raw(etcdKeys.cellKey('cell-1')))?.lease).toBe(lease);
    await expect(db.heartbeatCell('cell-1', lease)).resolves.toBeUndefined();
  });

  it('is ResourceNotFound for a missing cell', async () => {
    await expect(store().db.cellById('nope')).rejects.toMatchObject({ type: 'ResourceNotFound' });
  });

  it('removes a cell at once by revoking its lease; its heartbeats then fail', async () => {
    const { db, keys } = store();
    const lease = await db.registerCell(newValidCellPresence('cell-1'), 10);
    await db.registerCell(newValidCellPresence('cell-2'), 10);
    await db.removeCell('cell-1');
    await expect(db.cellById('cell-1')).rejects.toMatchObject({ type: 'ResourceNotFound' });
    expect((await db.cells()).map((cell) => cell.cell_id)).toEqual(['cell-2']);
    expect(Number((await keys.client.leaseClient.leaseTimeToLive({ ID: lease })).TTL)).toBe(-1);
    await expect(db.heartbeatCell('cell-1', lease)).rejects.toMatchObject({ type: 'ResourceNotFound' });
  });

  it('drops a cell whose lease expires without heartbeats', async () => {
    const { db } = store();
    await db.registerCell(newValidCellPresence('cell-1'), 1);
    await eventually(() => db.cells(), (cells) => cells.length === 0, { timeoutMs: 4000 });
  });

  it('ends the old lease when a cell registers again', async () => {
    const { db } = store();
    const first = await db.registerCell(newValidCellPresence('cell-1'), 10);
    const updated = newValidCellPresence('cell-1', { zone: 'z2' });
    const second = await db.registerCell(updated, 10);
    expect(second).not.toBe(first);
    expect(await db.cellById('cell-1')).toEqual(updated);
    await expect(db.heartbeatCell('cell-1', first)).rejects.toMatchObject({ type: 'ResourceNotFound' });
    await expect(db.heartbeatCell('cell-1', second)).resolves.toBeUndefined();
  });

  it('skips an undecodable presence in the list', async () => {
    const { db, keys } = store();
    const cell = newValidCellPresence('cell-1');
    await db.registerCell(cell, 10);
    await keys.namespace.put(etcdKeys.cellKey('broken')).value('not json');
    expect(await db.cells()).toEqual([cell]);
  });
});
