/** What every scenario shares: the processes, the clients, the seeded LRPs and the raw twin's keys. */
import { randomUUID } from 'node:crypto';
import { HttpBbsClient } from '@diego/bbs-client';
import { actualLrpToJson, desiredLrpToJson, type ActualLRP, type ActualLRPNetInfo, type DesiredLRP } from '@diego/models';
import type { BenchArgs } from './args';
import type { CellSimulator, HeldInstance } from './cells';
import { CpuSpan, type CpuProcess } from './cpu';
import { startBbsProcess, waitForLeader, waitForWarmLeader, type BbsProcess, type ReceptorProcess } from './processes';
import { RAW_PREFIX, type RawEtcd } from './raw';
import type { RowCpu } from './report';
import { progress } from './stats';

export const DOMAIN = 'bench';
/** In-flight requests for write scenarios, ours and raw alike. */
export const CONCURRENCY = 64;

export interface LrpRecord {
  guid: string;
  cell: number;
  instanceGuid: string;
  netInfo: ActualLRPNetInfo;
}

export interface Context {
  args: BenchArgs;
  n: number;
  cellCount: number;
  etcdUrl: string;
  /** etcd's process, for its CPU time. */
  etcdPid: number;
  raw: RawEtcd;
  bbs: BbsProcess;
  /** A second client of the measured BBS, for background load. */
  background: HttpBbsClient;
  receptor: ReceptorProcess;
  leader: BbsProcess | null;
  sim: CellSimulator;
  template: DesiredLRP;
  lrps: LrpRecord[];
  byGuid: Map<string, number>;
  /** The raw twin's actual key's mod revision, per seeded LRP. */
  rawActualRev: string[];
}

export function desiredFor(ctx: Context, guid: string, domain = DOMAIN): DesiredLRP {
  return { ...ctx.template, process_guid: guid, domain, instances: 1 };
}

export function actualKey(guid: string): string {
  return `/v1/actual/${guid}/0/instance`;
}

export function desiredKey(guid: string): string {
  return `/v1/desired/${guid}`;
}

export function rawKey(key: string): string {
  return `${RAW_PREFIX}${key}`;
}

const nowNs = (): bigint => BigInt(Date.now()) * 1_000_000n;

/** The stored JSON of a DesiredLRP, as the BBS writes it. */
export function desiredJson(lrp: DesiredLRP): string {
  return desiredLrpToJson({ ...lrp, modification_tag: { epoch: randomUUID(), index: 0 } });
}

/** The stored JSON of an ActualLRP in `state`. */
export function actualJson(
  guid: string,
  domain: string,
  state: ActualLRP['state'],
  instance: { instanceGuid: string; cellId: string; netInfo: ActualLRPNetInfo } | null,
  tagIndex: number,
): string {
  return actualLrpToJson({
    process_guid: guid,
    index: 0,
    domain,
    instance_guid: instance?.instanceGuid ?? '',
    cell_id: instance?.cellId ?? '',
    address: state === 'RUNNING' ? (instance?.netInfo.address ?? '') : '',
    ports: state === 'RUNNING' ? (instance?.netInfo.ports ?? []) : [],
    crash_count: 0,
    crash_reason: '',
    state,
    placement_error: '',
    since: nowNs(),
    modification_tag: { epoch: 'bench-epoch', index: tagIndex },
  });
}

export function repLrp(ctx: Context, guid: string, domain = DOMAIN): HeldInstance['lrp'] {
  return { process_guid: guid, index: 0, domain, MemoryMB: ctx.template.memory_mb, DiskMB: ctx.template.disk_mb, RootFs: ctx.template.rootfs };
}

/** The processes a request through the BBS alone costs: the BBS, etcd, and the bench that sends and checks it. */
export const VIA_BBS: readonly CpuProcess[] = ['bbs', 'etcd', 'bench'];
/** ... and through the receptor in front of it. */
export const VIA_RECEPTOR: readonly CpuProcess[] = ['receptor', ...VIA_BBS];
/** A raw twin's: etcd and the bench. */
export const RAW_TWIN: readonly CpuProcess[] = ['etcd', 'bench'];

/**
 * A CPU span over the named processes (the leader only once started; `receptorPid`: another receptor than the
 * context's); `start` it around the measured part.
 */
export function cpuSpan(ctx: Context, names: readonly CpuProcess[], receptorPid = ctx.receptor.child.pid): CpuSpan {
  const pidOf: Record<CpuProcess, number | undefined> = {
    bbs: ctx.bbs.child.pid,
    leader: ctx.leader?.child.pid,
    receptor: receptorPid,
    etcd: ctx.etcdPid,
    bench: process.pid,
  };
  const pids = new Map<CpuProcess, number>();
  for (const name of names) {
    const pid = pidOf[name];
    if (pid !== undefined && pid > 0) pids.set(name, pid);
  }
  return new CpuSpan(pids);
}

/** A row's CPU figure: `ops` operations of kind `op`, over our span and the raw twin's. */
export function rowCpu(op: string, ops: number, ours: CpuSpan, raw: CpuSpan | null = null): RowCpu {
  return { op, ops, ours: ours.seconds(), raw: raw?.seconds() ?? null };
}

/** The leading BBS (converger, auctioneer, task callbacks), started on first need. */
export async function ensureLeader(ctx: Context): Promise<BbsProcess> {
  if (ctx.leader !== null) return ctx.leader;
  progress('starting a leading BBS (converger, auctioneer, task callbacks)');
  ctx.leader = await startBbsProcess('leader BBS', ctx.etcdUrl, ['-convergeRepeatInterval=1h']);
  await waitForLeader(ctx.leader, 60_000);
  progress('waiting for the leader to load its view and finish its first convergence pass');
  await waitForWarmLeader(ctx.leader, 900_000);
  return ctx.leader;
}

/** Instances seeded per cell, by cell index. */
export function expectedPerCell(ctx: Context): number[] {
  const counts = new Array<number>(ctx.cellCount).fill(0);
  for (const r of ctx.lrps) counts[r.cell] = (counts[r.cell] ?? 0) + 1;
  return counts;
}
