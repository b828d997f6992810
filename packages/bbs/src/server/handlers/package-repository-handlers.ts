import type { EtcdPackageRepositoryDb } from '../../db/etcd/package-repository-db';
import type { PackageRepository } from '@diego/bbs-client';
import type { QueryHandlers, RpcHandlers } from '../router';

type PackageRepositoryRoutes = 'AddPackageRepository' | 'DeletePackageRepository' | 'InitializePackageRepositories';

/** The package service's repository list (README "Packages"); every route answers the whole list after it. */
export function packageRepositoryHandlers(
  repositories: Pick<EtcdPackageRepositoryDb, 'list' | 'add' | 'delete' | 'initialize'>,
): Pick<QueryHandlers, 'PackageRepositories'> & Pick<RpcHandlers, PackageRepositoryRoutes> {
  return {
    PackageRepositories: async () => ({ repositories: await repositories.list() }),

    AddPackageRepository: async (request) => {
      // proto2: an index the client left out is no own field of the decoded message (0 is a real index).
      const index = Object.hasOwn(request, 'index') ? request.index : undefined;
      return { repositories: await repositories.add({ name: request.name, uri: request.uri }, index) };
    },

    DeletePackageRepository: async (request) => ({
      repositories: await repositories.delete({ name: request.name, uri: request.uri }),
    }),

    InitializePackageRepositories: async (request) => {
      const defaults: PackageRepository[] = request.repositories.map((r) => ({ name: r.name ?? '', uri: r.uri ?? '' }));
      return { repositories: await repositories.initialize(defaults) };
    },
  };
}
