/** What a bench report says about where it ran: the machine, Node, etcd and the commit. */
import { spawnSync } from 'node:child_process';
import { cpus, loadavg, totalmem, type as osType, release } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

export interface MachineInfo {
  date: string;
  machine: string;
  node: string;
  etcd: string;
  commit: string;
  /** The 1-minute load average when the run began: the machine is shared. */
  loadAtStart: number;
}

export function machineInfo(): MachineInfo {
  const cpuList = cpus();
  const etcdVersion = spawnSync('etcd', ['--version'], { encoding: 'utf8' }).stdout?.split('\n')[0]?.replace(/^etcd Version:\s*/, '') ?? '?';
  const commit = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).stdout?.trim() || '?';
  return {
    date: new Date().toISOString(),
    machine: `${cpuList[0]?.model ?? '?'} x ${cpuList.length}, ${Math.round(totalmem() / 2 ** 30)} GB, ${osType()} ${release()}`,
    node: process.version,
    etcd: etcdVersion,
    commit,
    loadAtStart: oneMinuteLoad(),
  };
}

export function oneMinuteLoad(): number {
  return loadavg()[0] ?? 0;
}
