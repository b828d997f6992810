/** The package service's repository list (README "Packages"): ordered, compare-and-swapped, readable in etcd. */
import { HttpBbsClient } from '@diego/bbs-client';
import { startBbsServer } from '@diego/bbs';
import { silentLogger, useBbs } from './bbs-harness';

const bbs = useBbs();

const repo = (name: string): { name: string; uri: string } => ({ name, uri: `http://127.0.0.1:8000/${name}/repo.json` });

describe('package repositories', () => {
  describe('PackageRepositories', () => {
    it('lists as empty before anything is written, then inserts at an index or at the end, stored as plain JSON', async () => {
      const { client, keys } = bbs();
      expect(await client.packageRepositories()).toEqual([]);
      await client.addPackageRepository(repo('b'));
      await client.addPackageRepository(repo('c'));
      expect(await client.addPackageRepository(repo('a'), 0)).toEqual([repo('a'), repo('b'), repo('c')]);
      expect(await client.addPackageRepository(repo('d'), 3)).toEqual([repo('a'), repo('b'), repo('c'), repo('d')]);
      expect(JSON.parse(String(await keys.namespace.get('/v1/package_repositories').string()))).toEqual(await client.packageRepositories());
    });
  });

  describe('AddPackageRepository', () => {
    it('refuses a present name or URI, an index past the end, and a malformed repository, changing nothing', async () => {
      const { client } = bbs();
      await client.addPackageRepository(repo('a'));
      await expect(client.addPackageRepository({ name: 'a', uri: 'http://elsewhere/' }))
        .rejects.toMatchObject({ type: 'ResourceExists', message: 'Repository name [a] is already present in the list' });
      await expect(client.addPackageRepository({ name: 'other', uri: repo('a').uri }))
        .rejects.toMatchObject({ type: 'ResourceExists', message: `Repository URI [${repo('a').uri}] is already present in the list` });
      await expect(client.addPackageRepository(repo('b'), 2))
        .rejects.toMatchObject({ type: 'InvalidRequest', message: 'Index (2) is out of range. Index value must be between 0 and 1 inclusive.' });
      await expect(client.addPackageRepository({ name: 'f', uri: 'file:///tmp/repo.json' })).rejects.toMatchObject({ type: 'InvalidRequest' });
      await expect(client.addPackageRepository({ name: '', uri: 'http://x/' })).rejects.toMatchObject({ type: 'InvalidRequest' });
      expect(await client.packageRepositories()).toEqual([repo('a')]);
    });

    it('loses none of 50 adds made at once through two BBSes, nor deletes made among them', async () => {
      const { client, keys } = bbs();
      const second = await startBbsServer({ etcd: keys.namespace, listenAddress: '127.0.0.1:0', logger: silentLogger });
      const other = new HttpBbsClient([`http://${second.address}`]);
      try {
        for (const name of ['gone-1', 'gone-2']) await client.addPackageRepository(repo(name));
        const names = Array.from({ length: 50 }, (_, i) => `r${i}`);
        await Promise.all([
          ...names.map((name, i) => (i % 2 === 0 ? client : other).addPackageRepository(repo(name))),
          other.deletePackageRepository({ name: 'gone-1', uri: '' }),
          client.deletePackageRepository({ name: '', uri: repo('gone-2').uri }),
        ]);
        const listed = await client.packageRepositories();
        expect(listed.map((r) => r.name).sort()).toEqual([...names].sort());
      } finally {
        other.close();
        await second.stop();
      }
    });
  });

  describe('DeletePackageRepository', () => {
    it('deletes by name, by URI, or by both naming the same one; ResourceNotFound otherwise', async () => {
      const { client } = bbs();
      for (const name of ['a', 'b', 'c']) await client.addPackageRepository(repo(name));
      expect(await client.deletePackageRepository({ name: 'b', uri: '' })).toEqual([repo('a'), repo('c')]);
      expect(await client.deletePackageRepository({ name: '', uri: repo('c').uri })).toEqual([repo('a')]);
      await expect(client.deletePackageRepository({ name: 'a', uri: repo('c').uri })).rejects.toMatchObject({ type: 'ResourceNotFound' });
      await expect(client.deletePackageRepository({ name: 'zz', uri: '' }))
        .rejects.toMatchObject({ type: 'ResourceNotFound', message: 'Repository name [zz] is not present in the list' });
      await expect(client.deletePackageRepository({ name: '', uri: '' })).rejects.toMatchObject({ type: 'InvalidRequest' });
      expect(await client.deletePackageRepository({ name: 'a', uri: repo('a').uri })).toEqual([]);
    });
  });

  describe('InitializePackageRepositories', () => {
    it('writes the default list only when none exists, even an emptied one', async () => {
      const { client } = bbs();
      expect(await client.initializePackageRepositories([repo('x'), repo('y')])).toEqual([repo('x'), repo('y')]);
      expect(await client.initializePackageRepositories([repo('z')])).toEqual([repo('x'), repo('y')]);
      await client.deletePackageRepository({ name: 'x', uri: '' });
      await client.deletePackageRepository({ name: 'y', uri: '' });
      expect(await client.initializePackageRepositories([repo('z')])).toEqual([]);
    });
  });
});
