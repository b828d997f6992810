/**
 * `diego cell`: the rep + executor. The cell itself is not built yet, so this command validates its flags
 * (an operator's command line or compose file can be checked today) and then says so and exits non-zero.
 */
import { statfsSync } from 'node:fs';
import { hostname, totalmem } from 'node:os';
import { dirname, isAbsolute, resolve } from 'node:path';
import type { LogLevel } from '@diego/bbs';
import type { Command } from '../command';
import { UsageError, type FlagDef } from '../flags';
import {
  addressFlag,
  autoOrPositiveIntegerFlag,
  durationFlag,
  logLevelFlag,
  positiveIntegerFlag,
  stringFlag,
  urlListFlag,
} from '../flag-types';

/** A rootfs the cell has on disk, offered as `preloaded:<name>`. */
export interface PreloadedRootFs {
  name: string;
  /** Where it lives on the cell; null when only the name was given. */
  path: string | null;
}

/** The cell's configuration as the CLI compiles it; it moves to @diego/cell when the cell is built. */
export interface CellConfig {
  cellId: string;
  zone: string;
  listenAddress: string;
  bbsAddress: string[];
  memoryMb: number;
  diskMb: number;
  containers: number;
  preloadedRootFses: PreloadedRootFs[];
  evacuationTimeoutMs: number;
  /** Absolute. */
  workDir: string;
  logLevel: LogLevel;
}

// The cell ID is the last segment of its etcd key, /v1/cell/<cellID>.
const CELL_ID = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const ROOTFS_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const MEGABYTE = 1024 * 1024;

function cellIdFlag(): FlagDef<string> {
  return {
    usage: 'the ID this cell registers with (its key is /v1/cell/<cellID>)',
    valueName: 'id',
    defaultText: hostname(),
    parse: (written) => {
      const text = written[written.length - 1] ?? '';
      if (!CELL_ID.test(text)) throw new Error('a cell ID is letters, digits, ".", "_" and "-", starting with a letter or digit');
      return text;
    },
  };
}

function parsePreloadedRootFs(text: string): PreloadedRootFs {
  const colon = text.indexOf(':');
  const name = colon === -1 ? text : text.slice(0, colon);
  const path = colon === -1 ? null : text.slice(colon + 1);
  if (!ROOTFS_NAME.test(name)) throw new Error(`"${text}" is not name[:path] with a name of letters, digits, ".", "_", "-"`);
  if (path !== null && !isAbsolute(path)) throw new Error(`the path of rootfs "${name}" must be absolute`);
  return { name, path };
}

function preloadedRootFsFlag(): FlagDef<PreloadedRootFs[]> {
  return {
    usage: 'a rootfs this cell has on disk, offered as preloaded:<name>',
    valueName: 'name[:path]',
    defaultText: '',
    isRepeatable: true,
    parse: (written) => {
      const rootFses = written.map(parsePreloadedRootFs);
      const names = rootFses.map((rootFs) => rootFs.name);
      const repeated = names.find((name, index) => names.indexOf(name) !== index);
      if (repeated !== undefined) throw new Error(`rootfs "${repeated}" is given twice`);
      return rootFses;
    },
  };
}

export const cellFlags = {
  cellID: cellIdFlag(),
  zone: stringFlag('the availability zone of this cell (required)', '', 'zone'),
  listenAddr: addressFlag("where the cell's API (state, work) listens", '0.0.0.0:1800'),
  bbsAddress: urlListFlag('the BBS URLs, comma-separated, tried in order', 'http://127.0.0.1:8889'),
  memoryMB: autoOrPositiveIntegerFlag("the memory this cell offers; auto = this machine's total memory", 'MB'),
  diskMB: autoOrPositiveIntegerFlag('the disk this cell offers; auto = the size of the file system holding -workDir', 'MB'),
  containers: positiveIntegerFlag('how many containers this cell runs at most', '256'),
  preloadedRootFS: preloadedRootFsFlag(),
  evacuationTimeout: durationFlag('how long an evacuating cell waits for its instances to start elsewhere', '10m'),
  workDir: stringFlag("where the cell keeps its containers' files", '.diego/cell', 'dir'),
  logLevel: logLevelFlag(),
};

/** The size of the file system that holds `path`, or would hold it once created. */
function fileSystemMegabytes(path: string): number {
  for (let dir = path; ; dir = dirname(dir)) {
    try {
      const stats = statfsSync(dir);
      return Math.floor((stats.bsize * stats.blocks) / MEGABYTE);
    } catch (error) {
      if (dir === dirname(dir)) throw error;
    }
  }
}

export const cellCommand: Command<typeof cellFlags, CellConfig> = {
  name: 'cell',
  summary: 'a cell (rep + executor): not available yet, validates its flags',
  description:
    'Would run a cell: register with the BBS, accept work from the auctioneer and run it. The cell is not\n' +
    'built yet: this command checks its flags and exits with status 1.',
  flags: cellFlags,
  compile: (values) => {
    if (values.zone === '') throw new UsageError('-zone must be specified (the availability zone of this cell)');
    const workDir = resolve(values.workDir);
    return {
      cellId: values.cellID,
      zone: values.zone,
      listenAddress: values.listenAddr,
      bbsAddress: values.bbsAddress,
      memoryMb: values.memoryMB === 'auto' ? Math.floor(totalmem() / MEGABYTE) : values.memoryMB,
      diskMb: values.diskMB === 'auto' ? fileSystemMegabytes(workDir) : values.diskMB,
      containers: values.containers,
      preloadedRootFses: values.preloadedRootFS,
      evacuationTimeoutMs: values.evacuationTimeout,
      workDir,
      logLevel: values.logLevel,
    };
  },
  run: (config, io) => {
    io.stderr.write(
      `diego cell: the cell (rep + executor) is not available yet. Its flags are valid: cell "${config.cellId}" ` +
        `in zone "${config.zone}", ${config.memoryMb} MB memory, ${config.diskMb} MB disk, ` +
        `${config.containers} containers, BBS at ${config.bbsAddress.join(', ')}.\n`,
    );
    return Promise.resolve(1);
  },
};
