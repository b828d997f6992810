/** The cell's image provisioner: docker:// root file systems from v2 registries and local directories. */
export { ImageError } from './errors';
export { ImageStore, type ImageStoreOptions, type ProvidedImage } from './image-store';
export type { ImageConfig } from './manifest';
export { parseDockerRootfs, type ImageReference } from './reference';
