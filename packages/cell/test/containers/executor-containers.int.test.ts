/**
 * A root cell's containers end to end at the executor: a ProcessExecutor with a real ImageStore pulling from a
 * real registry (through a loopback proxy that counts and can corrupt), real cgroups, a real bridge with a
 * network namespace per container and its host ports forwarded. What is asserted is what a user notices: the app
 * answers on its host port, its writes are its own, limits end it with a reason that says which, egress rules
 * hold, and a bad image fails with a message naming it.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { eventually, freePorts, pushImage, busyboxLayer, fileLayer, startRegistry, type RegistryProcess } from '@diego/test-support';
import type { Action } from '@diego/models';
import { ProcessExecutor, type Container, type ContainerSpec, type ProcessExecutorOptions } from '../../src';
import { ImageStore } from '../../src/executor/images';
import { CellCgroups, CellNetwork, forwardPort } from '../../src/executor/linux';
import { containerSpec, env, sh, codependent } from '../executor/harness';
import { RegistryProxy } from '../images/registry-proxy';
import { rule, startHostServer } from '../linux/namespaces';
import { asRoot, cellFootprint, IMAGE_ETC_X, IMAGE_INDEX_HTML, listensOnHost, pushTestImages } from './root-cell';

const logger = pino({ level: 'silent' });
// Fixed: a run that dies half-way leaves what the next run's CellNetwork.open and removeLeftovers() remove.
const cellId = 'e2e-executor';
const APP = 'docker:///e2e/app#v1';

asRoot('a root cell’s containers (executor, real registry, cgroups, bridge)', () => {
  let registry: RegistryProcess;
  let proxy: RegistryProxy;
  let workDir: string;
  let cgroups: CellCgroups | null;
  let network: CellNetwork;
  let executor: ProcessExecutor;
  const executors: ProcessExecutor[] = [];

  /** An executor of this cell: its cgroups and bridge, images from `registryUrl` (the counting proxy by default). */
  async function newExecutor(name: string, options: Partial<ProcessExecutorOptions> = {}, registryUrl = `http://${proxy.host}`): Promise<ProcessExecutor> {
    const dir = join(workDir, name);
    const created = new ProcessExecutor({
      workDir: dir,
      cellAddress: '127.0.0.1',
      logger,
      images: new ImageStore({ dir: join(dir, 'images'), defaultRegistryURL: registryUrl, insecureRegistries: [], localImageDir: null, logger }),
      cgroups,
      network: {
        attach: (guid, pid, egress) => network.attach(guid, pid, egress),
        forwardPort: (port) => forwardPort({ listenHost: '127.0.0.1', ...port }),
      },
      unhealthyMonitoringIntervalMs: 50,
      ...options,
    });
    executors.push(created);
    return created;
  }

  beforeAll(async () => {
    registry = await startRegistry();
    await pushTestImages(registry.url);
    proxy = new RegistryProxy(new URL(registry.url));
    await proxy.listen();
    workDir = await mkdtemp(join(tmpdir(), 'diego-e2e-executor-'));
    cgroups = await CellCgroups.open(cellId, logger);
    await cgroups?.removeLeftovers();
    network = await CellNetwork.open({ cellId, pool: '10.214.1.0/24', logger });
    executor = await newExecutor('cell');
  });

  afterAll(async () => {
    await Promise.all(executors.map((e) => e.destroyAll()));
    await network?.close();
    await cgroups?.close();
    await proxy?.stop();
    await registry?.stop();
    if (workDir !== undefined) {
      expect(await cellFootprint(cellId, workDir)).toEqual({ mounts: 0, cgroups: 0, links: 0, rules: 0, loopDevices: 0, processes: 0 });
      await rm(workDir, { recursive: true, force: true });
    }
  });

  let serial = 0;
  const spec = (overrides: Partial<ContainerSpec>): ContainerSpec => containerSpec(`e2e-${++serial}`, { rootfs: APP, diskMB: 0, memoryMB: 64, ...overrides });

  /** Runs `action` as a task and answers its result file (or why it failed). */
  async function task(container: Container, action: Action, resultFile = '', on = executor): Promise<{ failed: boolean; failureReason: string; result: string }> {
    return on.runTask(container, { action, resultFile }, new AbortController().signal);
  }

  /** Runs `action` as an LRP instance with no monitor until it crashes; answers the crash reason. */
  async function crashReason(container: Container, action: Action): Promise<string> {
    return new Promise<string>((resolve, reject) => {
      executor
        .runLrp(container, { setup: null, action, monitor: null, startTimeoutSeconds: 0 }, { onRunning: () => undefined, onCrashed: resolve }, new AbortController().signal)
        .catch(reject);
    });
  }

  it("runs the seed's shape: the app listens on $PORT=8080 inside and answers on the host port; 8080 is not bound on the host", async () => {
    const fixture = JSON.parse(await readFile('/work/shared/fixtures/cc-bridge-desired-lrp.json', 'utf8')) as { ports: number[] };
    const container = await executor.createContainer(spec({ instance: { processGuid: 'seed', index: 0 }, ports: fixture.ports, diskMB: 64 }));
    expect(container.ports.map((p) => p.container_port)).toEqual([8080, 2222]);
    const stopped = new AbortController();
    let running = false;
    const lrp = executor.runLrp(
      container,
      {
        setup: null,
        action: codependent(
          sh('exec httpd -f -p "$PORT" -h /www', { env: env({ PORT: '8080' }) }),
          sh('exec nc -ll -p 2222 -e echo ssh-ish'),
        ),
        monitor: sh('wget -q -O /dev/null "http://127.0.0.1:$PORT/"'),
        startTimeoutSeconds: 20,
      },
      { onRunning: () => (running = true), onCrashed: (reason) => stopped.abort(new Error(reason)) },
      stopped.signal,
    );
    try {
      await eventually(() => Promise.resolve(running), (ok) => ok || stopped.signal.aborted, { timeoutMs: 15_000 });
      expect(stopped.signal.reason).toBeUndefined();
      const webPort = container.ports[0]!.host_port;
      const answer = await fetch(`http://127.0.0.1:${webPort}/index.html`);
      expect(await answer.text()).toBe(IMAGE_INDEX_HTML);
      expect(await listensOnHost(8080)).toBe(false);
      expect(await listensOnHost(webPort)).toBe(true);
    } finally {
      stopped.abort();
      await lrp;
      await container.destroy();
    }
  });

  it("gives each container its own /etc/x: two writers see only their own, a third sees the image's", async () => {
    const [a, b] = await Promise.all([executor.createContainer(spec({})), executor.createContainer(spec({}))]);
    const [wroteA, wroteB] = await Promise.all([
      task(a!, sh('echo mine-a > /etc/x'), '/etc/x'),
      task(b!, sh('echo mine-b > /etc/x'), '/etc/x'),
    ]);
    expect([wroteA.result, wroteB.result]).toEqual(['mine-a\n', 'mine-b\n']);
    const third = await executor.createContainer(spec({}));
    expect((await task(third, sh('cat /etc/x > /tmp/seen'), '/tmp/seen')).result).toBe(IMAGE_ETC_X);
    await Promise.all([a!, b!, third].map((c) => c.destroy()));
  });

  it("applies the image's config: Env under the action's env, WorkingDir as the default dir, User unless the action names one", async () => {
    const container = await executor.createContainer(spec({ rootfs: 'docker:///e2e/configured#v1', env: env({ OVERRIDDEN: 'container' }) }));
    const report = sh('echo "$FROM_IMAGE $OVERRIDDEN $(pwd) $(id -u)" > /tmp/report', { env: env({ OVERRIDDEN: 'action' }) });
    expect((await task(container, report, '/tmp/report')).result).toBe('image action /srv/app 2000\n');
    const asRootUser = sh('echo "$OVERRIDDEN $(id -u)" > /tmp/report', { user: 'root' });
    expect((await task(container, asRootUser, '/tmp/report')).result).toBe('container 0\n');
    await container.destroy();
  });

  it('runs a container whose guid is any valid Diego guid (`_`, a leading `-`) with that guid as its hostname', async () => {
    const guid = '-task_guid-with_underscores';
    const container = await executor.createContainer(containerSpec(guid, { rootfs: APP, diskMB: 0, memoryMB: 64 }));
    expect((await task(container, sh('hostname > /tmp/name'), '/tmp/name')).result).toBe(`${guid}\n`);
    await container.destroy();
  });

  describe('memory_mb', () => {
    // busybox dd allocates its block: 64 MB of /dev/zero in one block is 64 MB the process touches.
    const hog = sh('dd if=/dev/zero of=/dev/null bs=64M count=1');

    it('OOM-kills a hog over the limit: the instance crashes with a reason that says out of memory', async () => {
      const container = await executor.createContainer(spec({ memoryMB: 32, instance: { processGuid: 'hog', index: 0 } }));
      expect(await crashReason(container, hog)).toMatch(/Exited with status 137 \(out of memory\)/);
      await container.destroy();
    });

    it('fails a task the same way', async () => {
      const container = await executor.createContainer(spec({ memoryMB: 32 }));
      expect(await task(container, hog)).toMatchObject({ failed: true, failureReason: expect.stringContaining('out of memory') as string });
      await container.destroy();
    });
  });

  it('disk_mb: writing more than the limit fails and the instance crashes with a reason naming the disk limit', async () => {
    const container = await executor.createContainer(spec({ diskMB: 16, instance: { processGuid: 'filler', index: 0 } }));
    expect(await crashReason(container, sh('dd if=/dev/zero of=/big bs=1M count=32'))).toMatch(/disk limit of 16 MB exceeded/);
    await container.destroy();
  });

  it('egress: a server on the bridge address is reached only with a rule allowing it', async () => {
    const server = await startHostServer(network.bridgeAddress);
    try {
      const allow = [rule({ protocol: 'tcp', destinations: [network.bridgeAddress], ports: [server.port] })];
      const [allowed, denied] = await Promise.all([
        executor.createContainer(spec({ egressRules: allow })),
        executor.createContainer(spec({ egressRules: [] })),
      ]);
      // The server answers "<client address> sent <what it sent>" once the client ends its side.
      const connect = sh(`echo hello | nc -w 2 ${network.bridgeAddress} ${server.port} > /tmp/answer`);
      const answered = await task(allowed!, connect, '/tmp/answer');
      expect(answered.result).toMatch(/^10\.214\.1\.\d+ sent hello\n$/);
      const dropped = await task(denied!, connect, '/tmp/answer');
      expect(dropped.failed).toBe(true);
      await Promise.all([allowed!.destroy(), denied!.destroy()]);
    } finally {
      await server.close();
    }
  });

  describe('an image that cannot be had fails createContainer with a message naming it and why', () => {
    it('a blob whose bytes do not match its digest', async () => {
      const corrupt = await fileLayer([{ path: 'etc/corrupt', content: 'soon not what the digest says' }]);
      const { layerDigests } = await pushImage(registry.url, 'e2e/corrupt', 'v1', [await busyboxLayer(), corrupt], {});
      const corrupting = new RegistryProxy(new URL(registry.url), { corruptBlobs: [layerDigests[1]!] });
      await corrupting.listen();
      try {
        const fresh = await newExecutor('corrupt', {}, `http://${corrupting.host}`);
        await expect(fresh.createContainer(spec({ rootfs: 'docker:///e2e/corrupt#v1' }))).rejects.toThrow(
          `docker:///e2e/corrupt#v1: blob ${layerDigests[1]!} failed verification`,
        );
      } finally {
        await corrupting.stop();
      }
    });

    it('a tag the registry does not have', async () => {
      await expect(executor.createContainer(spec({ rootfs: 'docker:///e2e/app#nope' }))).rejects.toThrow(
        `docker:///e2e/app#nope: manifest unknown (no tag nope in ${proxy.host}/e2e/app)`,
      );
    });

    it('a registry nobody listens on', async () => {
      const [nobody] = await freePorts(1);
      const rootfs = `docker://127.0.0.1:${nobody}/e2e/app#v1`;
      const fresh = await newExecutor('unreachable', {}, `http://127.0.0.1:${nobody}`);
      await expect(fresh.createContainer(spec({ rootfs: 'docker:///e2e/app#v1' }))).rejects.toThrow(
        `docker:///e2e/app#v1: registry 127.0.0.1:${nobody} unreachable (connect ECONNREFUSED`,
      );
      await expect(fresh.createContainer(spec({ rootfs }))).rejects.toThrow(`${rootfs}: registry 127.0.0.1:${nobody} unreachable`);
    });
  });

  it('pulls each blob once for 20 containers of one image created at once, each with a host port of its own', async () => {
    const counting = new RegistryProxy(new URL(registry.url));
    await counting.listen();
    try {
      const fresh = await newExecutor('twenty', {}, `http://${counting.host}`);
      const containers = await Promise.all(Array.from({ length: 20 }, () => fresh.createContainer(spec({ memoryMB: 16, ports: [8080] }))));
      const fetches = counting.blobFetches();
      expect(fetches.size).toBe(3); // the config and two layers
      expect([...fetches.values()]).toEqual([1, 1, 1]);
      expect(new Set(containers.map((c) => c.ports[0]!.host_port)).size).toBe(20);
      await Promise.all(containers.map((c) => c.destroy()));
    } finally {
      await counting.stop();
    }
  });

  it("the copy backend isolates /etc/x too", async () => {
    const copying = await newExecutor('copy', { rootfsBackend: 'copy' });
    const writer = await copying.createContainer(spec({ diskMB: 32 }));
    expect((await task(writer, sh('echo mine > /etc/x'), '/etc/x', copying)).result).toBe('mine\n');
    const reader = await copying.createContainer(spec({ diskMB: 32 }));
    expect((await task(reader, sh('cat /etc/x > /tmp/seen'), '/tmp/seen', copying)).result).toBe(IMAGE_ETC_X);
    await Promise.all([writer.destroy(), reader.destroy()]);
  });
});
