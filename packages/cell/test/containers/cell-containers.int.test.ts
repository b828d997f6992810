/**
 * The built `diego cell`, as root, as an operator runs it against a real BBS (in this process, on the test's etcd
 * key space) with images from a real registry on loopback: it offers `docker` rootfses, runs the seed's kind of
 * DesiredLRP (the app on 8080 inside, reached on its host port), serves the app's output, and a cell killed with
 * SIGKILL leaves nothing that its successor does not remove.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BbsServer } from '@diego/bbs';
import type { HttpBbsClient } from '@diego/bbs-client';
import { decodeDesiredLrpCreateRequest, type ActualLRP, type DesiredLRP } from '@diego/models';
import { eventually, loadFixture, startLeadingBbs, startRegistry, testKeySpace, type RegistryProcess, type TestKeySpace } from '@diego/test-support';
import { assertBuilt, spawnDiego, stdoutContains, stopAll, type DiegoProcess } from '../../../cli/test/diego-process';
import { env, sh } from '../executor/harness';
import { asRoot, cellFootprint, IMAGE_INDEX_HTML, pushTestImages, type CellFootprint } from './root-cell';

const NOTHING: CellFootprint = { mounts: 0, cgroups: 0, links: 0, rules: 0, loopDevices: 0, processes: 0 };
// Fixed cell IDs: should a run die half-way, the next run's cells remove what it left, as a cell does for a
// killed predecessor.

asRoot('a root `diego cell` running docker images', () => {
  let registry: RegistryProcess;
  let keys: TestKeySpace;
  let bbs: BbsServer;
  let client: HttpBbsClient;
  let workDir: string;

  beforeAll(async () => {
    assertBuilt();
    registry = await startRegistry();
    await pushTestImages(registry.url);
  });
  afterAll(async () => {
    await registry?.stop();
  });

  beforeEach(async () => {
    keys = testKeySpace();
    workDir = await mkdtemp(join(tmpdir(), 'diego-e2e-cell-'));
    ({ bbs, client } = await startLeadingBbs(keys));
  });

  const cells: DiegoProcess[] = [];
  afterEach(async () => {
    // A cell a failed test left running stops the way an operator stops it, removing its bridge and cgroups.
    for (const cell of cells.splice(0)) {
      if (cell.child.exitCode !== null || cell.child.signalCode !== null) continue;
      cell.child.kill('SIGTERM');
      await Promise.race([cell.exitCode, new Promise((resolve) => setTimeout(resolve, 10_000).unref())]);
    }
    await stopAll(); // what did not stop by then
    client.close();
    await bbs.stop();
    await keys.cleanup();
    await rm(workDir, { recursive: true, force: true });
  });

  function startDiegoCell(cellId: string, pool: string): DiegoProcess {
    const cell = spawnDiego([
      'cell', `--cellID=${cellId}`, '--zone=z1', '--listenAddr=127.0.0.1:0', `--bbsAddress=http://${bbs.address}`,
      '--memoryMB=2048', '--diskMB=4096', '--containers=8', '--preloadedRootFS=cflinuxfs2', `--workDir=${workDir}`,
      `--dockerRegistryURL=${registry.url}`, `--networkPool=${pool}`, '--evacuationTimeout=1s', '--logLevel=info',
    ]);
    cells.push(cell);
    return cell;
  }

  /**
   * The seed's DesiredLRP (CC-bridge's, with its ports, limits, env and egress rules) with its rootfs from the test
   * registry, and busybox's httpd for the lifecycle the seed downloads from a CF file server that is not here.
   */
  function seedLrp(processGuid: string): DesiredLRP {
    const seed = decodeDesiredLrpCreateRequest(loadFixture('cc-bridge-desired-lrp.json'));
    return {
      ...seed,
      process_guid: processGuid,
      log_guid: `${processGuid}-logs`,
      rootfs: 'docker:///e2e/app#v1',
      setup: null,
      action: sh('echo "app starting on $PORT as $INSTANCE_INDEX"; exec httpd -f -vv -p "$PORT" -h /www', {
        env: env({ PORT: '8080' }),
        user: 'root',
        log_source: 'APP',
      }),
      monitor: sh('wget -q -O /dev/null "http://127.0.0.1:8080/"', { user: 'root', log_source: 'HEALTH' }),
    };
  }

  async function instances(processGuid: string): Promise<ActualLRP[]> {
    const groups = await client.actualLRPGroupsByProcessGuid(processGuid);
    return groups.map((group) => group.instance).filter((lrp): lrp is ActualLRP => lrp !== null);
  }

  it("runs the seed's kind of DesiredLRP from the registry: RUNNING, answering on its host port, advertising docker, serving its output", async () => {
    const cellId = 'e2e-cell';
    const cell = startDiegoCell(cellId, '10.214.2.0/24');
    await stdoutContains(cell, 'cell-started');
    const [presence] = await client.cells();
    expect(presence?.rootfs_providers).toEqual({ docker: [], preloaded: ['cflinuxfs2'] });

    const lrp = seedLrp('seed-app');
    await client.desireLRP(lrp);
    const running = await eventually(
      () => instances('seed-app'),
      (all) => all.length === lrp.instances && all.every((one) => one.state === 'RUNNING'),
      { timeoutMs: 20_000 },
    );
    for (const one of running) {
      expect(one.ports.map((port) => port.container_port)).toEqual([8080, 2222]);
      const web = one.ports[0]!.host_port;
      expect(await (await fetch(`http://127.0.0.1:${web}/index.html`)).text()).toBe(IMAGE_INDEX_HTML);
    }

    const logs = await eventually(
      async () => (await (await fetch(`${presence!.rep_address}/v1/logs/seed-app-logs`)).text()).split('\n').filter((line) => line !== ''),
      (lines) => lines.filter((line) => line.includes('app starting')).length === lrp.instances,
      { timeoutMs: 5000 },
    );
    const starts = logs.map((line) => JSON.parse(line) as Record<string, unknown>).filter((line) => String(line['line']).includes('app starting'));
    expect(starts.map((line) => line['index']).sort()).toEqual([0, 1]);
    for (const line of starts) {
      expect(line).toMatchObject({ log_guid: 'seed-app-logs', source: 'APP', stream: 'stdout', line: `app starting on 8080 as ${String(line['index'])}` });
    }

    cell.child.kill('SIGTERM');
    expect(await cell.exitCode).toBe(0);
    expect(await cellFootprint(cellId, workDir)).toEqual(NOTHING);
  }, 45_000);

  it('killed with SIGKILL while running containers, leaves nothing behind once a successor with its ID started and stopped', async () => {
    const cellId = 'e2e-killed';
    const before = await cellFootprint(cellId, workDir);
    expect(before).toEqual(NOTHING);
    const victim = startDiegoCell(cellId, '10.214.3.0/24');
    await stdoutContains(victim, 'cell-started');
    const lrp = { ...seedLrp('doomed'), instances: 3 };
    await client.desireLRP(lrp);
    await eventually(() => instances('doomed'), (all) => all.length === 3 && all.every((one) => one.state === 'RUNNING'), { timeoutMs: 20_000 });
    const busy = await cellFootprint(cellId, workDir);
    // Each container: its cgroup dirs, its host veth, its disk's loop device, its holder and init; the cell's own
    // bridge and rules. (Its mounts live in its own mount namespace: the host never sees them.)
    expect(busy).toMatchObject({ links: 4, rules: 3, loopDevices: 3 });
    expect(busy.cgroups).toBeGreaterThan(3);
    expect(busy.processes).toBeGreaterThanOrEqual(6);

    victim.child.kill('SIGKILL');
    await victim.exitCode;
    // The containers' processes die with their cell (their inits' parent death signal).
    await eventually(() => cellFootprint(cellId, workDir), (now) => now.processes === 0 && now.mounts === 0, { timeoutMs: 10_000 });

    await client.removeDesiredLRP('doomed');
    const successor = startDiegoCell(cellId, '10.214.3.0/24');
    await stdoutContains(successor, 'cell-started');
    successor.child.kill('SIGTERM');
    expect(await successor.exitCode).toBe(0);
    expect(await cellFootprint(cellId, workDir)).toEqual(NOTHING);
  }, 60_000);
});
