import { cpuSharesFor, cpuWeightForShares, findHierarchies } from './cgroups';

/** This development machine: v1 controllers, each on its own mount, plus an empty unified hierarchy (hybrid). */
const HYBRID_MOUNTINFO = `31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw`;
const HYBRID_CGROUP = `9:name=systemd:/
8:pids:/
4:memory:/process_api/40c5
2:cpuacct:/
1:cpu:/
0::/`;

describe('findHierarchies', () => {
  it('uses the v1 controllers of a hybrid machine, each under the own path of its hierarchy', () => {
    expect(findHierarchies(HYBRID_MOUNTINFO, HYBRID_CGROUP)).toEqual([
      { version: 1, controllers: ['cpu'], ownDir: '/sys/fs/cgroup/cpu' },
      { version: 1, controllers: ['memory'], ownDir: '/sys/fs/cgroup/memory/process_api/40c5' },
      { version: 1, controllers: ['pids'], ownDir: '/sys/fs/cgroup/pids' },
    ]);
  });

  it('finds a co-mounted cpu,cpuacct hierarchy once', () => {
    const mountinfo = `30 25 0:26 / /sys/fs/cgroup/cpu,cpuacct rw shared:10 - cgroup cgroup rw,cpu,cpuacct
31 25 0:27 / /sys/fs/cgroup/memory rw shared:11 - cgroup cgroup rw,memory`;
    expect(findHierarchies(mountinfo, '5:cpu,cpuacct:/system.slice/cell.service\n4:memory:/system.slice/cell.service')).toEqual([
      { version: 1, controllers: ['cpu'], ownDir: '/sys/fs/cgroup/cpu,cpuacct/system.slice/cell.service' },
      { version: 1, controllers: ['memory'], ownDir: '/sys/fs/cgroup/memory/system.slice/cell.service' },
    ]);
  });

  it('uses the unified hierarchy on a v2 machine', () => {
    const mountinfo = '35 24 0:30 / /sys/fs/cgroup rw,nosuid shared:9 - cgroup2 cgroup2 rw,nsdelegate';
    expect(findHierarchies(mountinfo, '0::/system.slice/cell.service')).toEqual([
      { version: 2, controllers: ['memory', 'cpu', 'pids'], ownDir: '/sys/fs/cgroup/system.slice/cell.service' },
    ]);
  });

  it('finds nothing where no cgroup is mounted', () => {
    expect(findHierarchies('22 1 0:5 / /proc rw - proc proc rw', '0::/')).toEqual([]);
  });
});

describe('cpu shares', () => {
  it("maps Diego's cpu_weight to shares as the executor does", () => {
    expect([0, 1, 50, 100, 200].map((weight) => cpuSharesFor(weight))).toEqual([1024, 10, 512, 1024, 1024]);
  });

  it('scales to -containerMaxCpuShares', () => {
    expect([0, 1, 50, 100].map((weight) => cpuSharesFor(weight, 2048))).toEqual([2048, 20, 1024, 2048]);
  });

  it("maps shares to v2's cpu.weight as runc does", () => {
    expect([2, 1024, 262144].map(cpuWeightForShares)).toEqual([1, 39, 10000]);
  });
});
