export type { PackageServiceConfig } from './config';
export { createPackageApp, type PackageAppOptions, type PackageServiceBbs } from './app';
export { startPackageService, type StartPackageServiceOptions } from './server';
export { RepositoryIndexes, type PackageRepository, type RepositoryStatus } from './repository-indexes';
export type { UniversePackage } from './universe';
export { PACKAGE_LABEL } from './packages';
export { MARATHON_DOMAIN } from './marathon';
