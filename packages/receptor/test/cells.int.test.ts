// Cells through the receptor (spec/receptor-api.md §3.14, §4.7): the live presences the BBS keeps in etcd.
import request from 'supertest';
import { eventually, newValidCellPresence } from '@diego/test-support';
import { startReceptorUnderTest, type ReceptorUnderTest } from './support/receptor-under-test';
import { asObjects, expectJson } from './support/http';

let receptor: ReceptorUnderTest;

beforeAll(async () => {
  receptor = await startReceptorUnderTest();
});

afterAll(async () => {
  await receptor?.stop();
});

describe('Cells', () => {
  it('answers [] when no cell is present', async () => {
    expect(expectJson(await request(receptor.app).get('/v1/cells'), 200)).toEqual([]);
  });

  it('answers each live cell as a CellResponse: id, zone, capacity and rootfs providers, never the rep address', async () => {
    await receptor.bbs.registerCell(newValidCellPresence('cell-z1-0'), 30);
    await receptor.bbs.registerCell(
      newValidCellPresence('cell-z2-0', {
        zone: 'z2',
        capacity: { memory_mb: 512, disk_mb: 1024, containers: 124 },
        rootfs_providers: { docker: [], preloaded: ['cflinuxfs2', 'windows2012R2'] },
      }),
      30,
    );

    const cells = asObjects(expectJson(await request(receptor.app).get('/v1/cells'), 200));
    expect(cells.sort((a, b) => String(a.cell_id).localeCompare(String(b.cell_id)))).toEqual([
      {
        cell_id: 'cell-z1-0',
        zone: 'z1',
        capacity: { memory_mb: 1024, disk_mb: 4096, containers: 64 },
        rootfs_providers: { docker: [], preloaded: ['cflinuxfs2'] },
      },
      {
        cell_id: 'cell-z2-0',
        zone: 'z2',
        capacity: { memory_mb: 512, disk_mb: 1024, containers: 124 },
        rootfs_providers: { docker: [], preloaded: ['cflinuxfs2', 'windows2012R2'] },
      },
    ]);
    expect(cells.map((cell) => Object.keys(cell))).toEqual([
      ['cell_id', 'zone', 'capacity', 'rootfs_providers'],
      ['cell_id', 'zone', 'capacity', 'rootfs_providers'],
    ]);
  });

  it('lists a cell registered through the BBS while it heartbeats, and no longer once its lease expires', async () => {
    const ids = async (): Promise<unknown[]> =>
      asObjects(expectJson(await request(receptor.app).get('/v1/cells'), 200)).map((cell) => cell.cell_id);
    // etcd raises shorter TTLs to its minimum, 2 s on the test etcd.
    const lease = await receptor.bbs.registerCell(newValidCellPresence('cell-expiring'), 2);
    await receptor.bbs.cellHeartbeat('cell-expiring', lease);
    expect(await ids()).toContain('cell-expiring');
    await eventually(ids, (listed) => !listed.includes('cell-expiring'), { timeoutMs: 5000, intervalMs: 100 });
  });

  it('no longer lists a cell whose presence is gone', async () => {
    await receptor.bbs.registerCell(newValidCellPresence('cell-leaving'), 30);
    await receptor.bbs.removeCell('cell-leaving');
    const ids = asObjects(expectJson(await request(receptor.app).get('/v1/cells'), 200)).map((cell) => cell.cell_id);
    expect(ids).not.toContain('cell-leaving');
  });
});
