import { newValidCellPresence } from '@diego/test-support';
import { useBbs } from './bbs-harness';

const bbs = useBbs();

describe('UpsertDomain', () => {
  it('makes a domain fresh', async () => {
    await bbs().client.upsertDomain('cf-apps', 0);
    await bbs().client.upsertDomain('cf-tasks', 60);
    expect((await bbs().client.domains()).sort()).toEqual(['cf-apps', 'cf-tasks']);
  });

  it('refuses an empty domain in band with InvalidRequest', async () => {
    await expect(bbs().client.upsertDomain('', 0)).rejects.toMatchObject({
      type: 'InvalidRequest',
      message: 'Invalid field: domain',
    });
  });
});

describe('Domains', () => {
  it('lists no domain before any was made fresh', async () => {
    expect(await bbs().client.domains()).toEqual([]);
  });
});

describe('Cells_r1', () => {
  it('lists the registered cells', async () => {
    const cell = newValidCellPresence('cell-1');
    await bbs().db.registerCell(cell, 60);
    expect(await bbs().client.cells()).toEqual([cell]);
  });
});
