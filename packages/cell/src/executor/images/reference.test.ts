import { ImageError } from './errors';
import { parseDockerRootfs } from './reference';

describe('parseDockerRootfs', () => {
  it.each([
    ['docker:///org/image#v1', null, 'org/image', 'v1'],
    ['docker:///org/image', null, 'org/image', 'latest'],
    ['docker:///busybox', null, 'library/busybox', 'latest'],
    ['docker:///busybox#1.36', null, 'library/busybox', '1.36'],
    ['docker://127.0.0.1:5000/org/image#v2', '127.0.0.1:5000', 'org/image', 'v2'],
    ['docker://registry.example.com/a/b/c', 'registry.example.com', 'a/b/c', 'latest'],
    ['docker://localhost:5000/solo', 'localhost:5000', 'solo', 'latest'],
  ])('%s', (rootfs, registry, repository, tag) => {
    expect(parseDockerRootfs(rootfs)).toEqual({ registry, repository, tag, rootfs });
  });

  it.each([
    ['preloaded:cflinuxfs2', 'expected docker://'],
    ['docker://', 'no repository path'],
    ['docker:///', 'bad repository name'],
    ['docker:///Org/Image', 'bad repository name'],
    ['docker:///org//image', 'bad repository name'],
    ['docker:///org/image#', 'bad tag'],
    ['docker:///org/image#-x', 'bad tag'],
    ['docker:///busybox:1.36', 'give the tag after "#"'],
    ['docker:///busybox@sha256:abcd', 'by digest'],
    ['docker://bad_host:5000/org/image', 'bad registry host'],
  ])('rejects %s', (rootfs, why) => {
    expect(() => parseDockerRootfs(rootfs)).toThrow(ImageError);
    expect(() => parseDockerRootfs(rootfs)).toThrow(`${rootfs}: not a docker image URL: `);
    expect(() => parseDockerRootfs(rootfs)).toThrow(why);
  });
});
