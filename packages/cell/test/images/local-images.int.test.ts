import { mkdtemp, readFile, readlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { busyboxLayer, fileLayer, freePorts, saveImageTarball, writeOciLayout } from '@diego/test-support';
import { ImageStore } from '../../src/executor/images';

const logger = pino({ level: 'silent' });
let work: string;
let localDir: string;
let store: ImageStore;
let base: Buffer;

beforeAll(async () => {
  base = await busyboxLayer();
});
beforeEach(async () => {
  work = await mkdtemp(join(tmpdir(), 'diego-local-images-'));
  localDir = join(work, 'local');
  // Nothing listens on the default registry: every image here must come from the local directory.
  const [closedPort] = await freePorts(1);
  store = new ImageStore({ dir: join(work, 'store'), defaultRegistryURL: `http://127.0.0.1:${closedPort}`, insecureRegistries: [], localImageDir: localDir, logger });
});
afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('ImageStore from a local directory', () => {
  it('finds a docker save tarball named <repository with / as _>:<tag>.tar and applies its layers', async () => {
    const upper = await fileLayer([{ path: 'etc/motd', content: 'from a tarball\n' }, { path: 'bin/ls', whiteout: true }]);
    const saved = await saveImageTarball(join(localDir, 'org_app:v1.tar'), 'org/app:v1', [base, upper], { Cmd: ['cat', '/etc/motd'], ExposedPorts: { '7070/tcp': {} } });

    const image = await store.provide('docker:///org/app#v1');

    expect(image.digest).toBe(saved.configDigest);
    expect(image.source).toBe(join(localDir, 'org_app:v1.tar'));
    expect(image.config).toMatchObject({ cmd: ['cat', '/etc/motd'], exposedPorts: [7070] });
    expect(await readFile(join(image.rootDir, 'etc/motd'), 'utf8')).toBe('from a tarball\n');
    expect(await readlink(join(image.rootDir, 'bin/sh'))).toBe('busybox');
    await expect(readlink(join(image.rootDir, 'bin/ls'))).rejects.toThrow('ENOENT');
    expect((await store.provide('docker:///org/app#v1')).rootDir).toBe(image.rootDir);
  });

  it('finds a bare name on the default registry without its library/ prefix, in a subdirectory path too', async () => {
    await saveImageTarball(join(localDir, 'busybox:latest.tar'), 'busybox:latest', [base], {});
    await saveImageTarball(join(localDir, 'team/tool:2.tar'), 'team/tool:2', [base, await fileLayer([{ path: 'tool', content: 'two' }])], {});

    expect(await readlink(join((await store.provide('docker:///busybox')).rootDir, 'bin/sh'))).toBe('busybox');
    expect(await readFile(join((await store.provide('docker:///team/tool#2')).rootDir, 'tool'), 'utf8')).toBe('two');
  });

  it('finds an OCI image layout directory by its ref.name annotation', async () => {
    const layout = await writeOciLayout(join(localDir, 'org_layout'), 'v2', [base, await fileLayer([{ path: 'srv/index.html', content: 'oci layout' }])], { WorkingDir: '/srv' });

    const image = await store.provide('docker:///org/layout#v2');

    expect(image.digest).toBe(layout.manifestDigest);
    expect(image.config.workingDir).toBe('/srv');
    expect(await readFile(join(image.rootDir, 'srv/index.html'), 'utf8')).toBe('oci layout');
    await expect(store.provide('docker:///org/layout#v3')).rejects.toThrow(`docker:///org/layout#v3: ${join(localDir, 'org_layout')}: no manifest named v3 in index.json`);
  });

  it('falls through to the registry for an image the directory does not have, and says why that failed', async () => {
    await expect(store.provide('docker:///org/elsewhere#v1')).rejects.toThrow(/^docker:\/\/\/org\/elsewhere#v1: registry 127\.0\.0\.1:\d+ unreachable \(connect ECONNREFUSED/);
  });
});
