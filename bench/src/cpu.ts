/**
 * CPU time of the processes a scenario drives, from `/proc/<pid>/stat` (utime + stime), so that a change can be
 * judged on a noisy shared machine by the work it saves and not only by wall time. Read by hand: `pidusage` and
 * its kin read the same two fields and add sampling and caching this needs none of.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** The processes a row can name: the measured BBS, the leading BBS, the receptor, etcd and the bench itself. */
export const CPU_PROCESSES = ['bbs', 'leader', 'receptor', 'etcd', 'bench'] as const;
export type CpuProcess = (typeof CPU_PROCESSES)[number];

/** CPU seconds by process. */
export type CpuSeconds = Partial<Record<CpuProcess, number>>;

let ticksPerSecond: number | null = null;

/** The kernel's clock ticks per second (`getconf CLK_TCK`, 100 on Linux everywhere in practice). */
export function clockTicksPerSecond(): number {
  if (ticksPerSecond === null) {
    const answer = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout?.trim());
    ticksPerSecond = Number.isInteger(answer) && answer > 0 ? answer : 100;
  }
  return ticksPerSecond;
}

/**
 * The CPU seconds (user + system, all threads; not its children's) `pid` has used so far; null once it is gone.
 * The command name, field 2, is in parentheses and may hold spaces and parentheses: fields are counted after
 * its last `)`, where field 3 (state) is the first, so utime (14) and stime (15) are the 12th and 13th.
 */
export function cpuSecondsOf(pid: number): number | null {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return null;
  }
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) return null;
  return (utime + stime) / clockTicksPerSecond();
}

/**
 * CPU seconds each named process spends over one or more measured stretches (`start` ... `stop`, repeated for
 * interleaved parts). A process that is gone at either end of a stretch adds nothing for it.
 */
export class CpuSpan {
  private readonly totals: CpuSeconds = {};
  private startedAt: CpuSeconds | null = null;

  constructor(private readonly pids: ReadonlyMap<CpuProcess, number>) {}

  start(): this {
    this.startedAt = this.read();
    return this;
  }

  stop(): this {
    const begin = this.startedAt;
    if (begin === null) throw new Error('CpuSpan.stop without start');
    this.startedAt = null;
    const end = this.read();
    for (const name of this.pids.keys()) {
      const a = begin[name];
      const b = end[name];
      if (a !== undefined && b !== undefined) this.totals[name] = (this.totals[name] ?? 0) + (b - a);
    }
    return this;
  }

  /** Runs `part` as one stretch. */
  async around<T>(part: () => Promise<T>): Promise<T> {
    this.start();
    try {
      return await part();
    } finally {
      this.stop();
    }
  }

  /** The seconds so far, by process (every process it was given; 0 for one that used none). */
  seconds(): CpuSeconds {
    const out: CpuSeconds = {};
    for (const name of this.pids.keys()) out[name] = this.totals[name] ?? 0;
    return out;
  }

  private read(): CpuSeconds {
    const out: CpuSeconds = {};
    for (const [name, pid] of this.pids) {
      const s = cpuSecondsOf(pid);
      if (s !== null) out[name] = s;
    }
    return out;
  }
}
