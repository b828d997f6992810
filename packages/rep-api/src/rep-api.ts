/**
 * The rep API: what a cell serves to the auctioneer and the BBS (spec/bbs.md §8.4, Diego's `rep` package of
 * 2016). Routes:
 *
 * | route | request | answer |
 * |---|---|---|
 * | `GET /state` | | 200, {@link CellState} |
 * | `POST /work` | {@link Work} to start | 200, the {@link Work} the cell could not take |
 * | `POST /v1/lrps/:process_guid/instances/:instance_guid/stop` | | 202; the cell then stops the container and calls RemoveActualLRP |
 * | `POST /v1/tasks/:task_guid/cancel` | | 202; the cell then stops the task's container |
 *
 * The JSON is Go's encoding of the rep's structs: members without json tags keep their Go names (`MemoryMB`,
 * `RootFs`, `TaskGuid`), the embedded `models.ActualLRPKey` brings its snake_case ones (`process_guid`, `index`,
 * `domain`). Decoding follows Go's encoding/json: unknown keys are ignored, a missing or null member is the zero
 * value, a member of the wrong JSON type is an error.
 */
import { FieldReader, type ActualLRPKey, type DecodeFailure } from '@diego/models';

/** What one container needs (rep.Resource). `RootFs` is the rootfs URL (`preloaded:cflinuxfs2`, `docker:///...`). */
export interface Resource {
  MemoryMB: number;
  DiskMB: number;
  RootFs: string;
}

/** A cell's capacity or what is left of it (rep.Resources). */
export interface Resources {
  MemoryMB: number;
  DiskMB: number;
  Containers: number;
}

/**
 * One instance of an LRP (rep.LRP = ActualLRPKey + Resource). The cell picks the instance guid itself when it
 * reserves the container, then claims the instance with it, and fetches the DesiredLRP by guid to run it.
 *
 * @example
 *   { "process_guid": "app-1", "index": 0, "domain": "cf-apps", "MemoryMB": 256, "DiskMB": 1024, "RootFs": "preloaded:cflinuxfs2" }
 */
export interface RepLRP extends ActualLRPKey, Resource {}

/** One task (rep.Task); the cell fetches the task by guid to run it. */
export interface RepTask extends Resource {
  TaskGuid: string;
  Domain: string;
}

/**
 * How a cell provides rootfses for one URL scheme: `arbitrary` runs any image of that scheme (`docker`),
 * `fixed_set` only the preloaded ones named in `set` (the opaque part of `preloaded:cflinuxfs2`).
 */
export type RootFSProvider = { type: 'arbitrary' } | { type: 'fixed_set'; set: Record<string, Record<string, never>> };

/** URL scheme -> its provider. @example `{ "preloaded": { "type": "fixed_set", "set": { "cflinuxfs2": {} } }, "docker": { "type": "arbitrary" } }` */
export type RootFSProviders = Record<string, RootFSProvider>;

/** `GET /state`: what a cell has and holds, for the auctioneer to score it (rep.CellState). */
export interface CellState {
  RootFSProviders: RootFSProviders;
  /** Total minus everything the cell holds or has reserved. */
  AvailableResources: Resources;
  TotalResources: Resources;
  /** The instances the cell holds (running or starting). */
  LRPs: RepLRP[];
  /** The tasks the cell holds. */
  Tasks: RepTask[];
  /** Containers reserved but not running yet: the auction spreads new work away from busy cells. */
  StartingContainerCount: number;
  Zone: string;
  /** A draining cell: the auctioneer gives it nothing. */
  Evacuating: boolean;
}

/** `POST /work`: what to start; also the answer, listing what the cell could not start. */
export interface Work {
  LRPs: RepLRP[];
  Tasks: RepTask[];
}

/** The rep's identifier of an LRP instance in a batch or a cell: `<process_guid>.<index>`. */
export function lrpIdentifier(lrp: ActualLRPKey): string {
  return `${lrp.process_guid}.${lrp.index}`;
}

/**
 * Whether a cell with these providers can run `rootfs` (rep `RootFSProviders.Match`): the URL's scheme must be
 * a provider; an `arbitrary` one takes anything, a `fixed_set` one the URL's opaque part when it is in the set.
 * A rootfs that is no URL with a scheme matches nothing.
 *
 * @example
 *   rootfsMatches({ preloaded: { type: 'fixed_set', set: { cflinuxfs2: {} } } }, 'preloaded:cflinuxfs2') // true
 */
export function rootfsMatches(providers: RootFSProviders, rootfs: string): boolean {
  const url = parseRootfsUrl(rootfs);
  if (url === null || !Object.hasOwn(providers, url.scheme)) return false;
  const provider = providers[url.scheme];
  if (provider === undefined) return false;
  return provider.type === 'arbitrary' || Object.hasOwn(provider.set, url.opaque);
}

/**
 * Go's url.Parse, as far as matching needs it: the scheme (lower-cased) and the opaque part, which is what
 * follows `scheme:` unless that starts with `/` (`docker:///x` has none), up to a query or fragment.
 */
function parseRootfsUrl(rootfs: string): { scheme: string; opaque: string } | null {
  const match = /^([A-Za-z][A-Za-z0-9+.-]*):([^?#]*)/.exec(rootfs);
  if (match === null) return null;
  const [, scheme = '', rest = ''] = match;
  return { scheme: scheme.toLowerCase(), opaque: rest.startsWith('/') ? '' : rest };
}

/**
 * The rep's providers from a cell presence's `rootfs_providers`, where a provider with a list of stacks is a
 * fixed set and one with an empty list (`docker: []`) takes arbitrary images.
 *
 * @example
 *   rootfsProvidersFromPresence({ preloaded: ['cflinuxfs2'], docker: [] })
 *   // { preloaded: { type: 'fixed_set', set: { cflinuxfs2: {} } }, docker: { type: 'arbitrary' } }
 */
export function rootfsProvidersFromPresence(providers: Record<string, string[]>): RootFSProviders {
  const result: RootFSProviders = {};
  for (const [scheme, stacks] of Object.entries(providers)) {
    result[scheme] =
      stacks.length === 0 ? { type: 'arbitrary' } : { type: 'fixed_set', set: Object.fromEntries(stacks.map((s) => [s, {}])) };
  }
  return result;
}

/** A rep answer or request body that does not decode into the rep's structs. */
export class RepDecodeError extends Error {
  override readonly name = 'RepDecodeError';
}

/** A rep member of the wrong JSON type. */
const repFailure: DecodeFailure = (path, expected) => new RepDecodeError(`${path}: expected ${expected}`);

/** The fields of a rep struct; `null` (in a body, a list or a map) reads as the zero struct, as Go decodes it. */
function repFields(value: unknown, path: string): FieldReader {
  return FieldReader.of(value ?? {}, path, repFailure);
}

/** A reader of list or map entries that are rep structs. */
function entries<T>(read: (fields: FieldReader) => T): (value: unknown, path: string) => T {
  return (value, path) => read(repFields(value, path));
}

/** Decodes a `GET /state` answer. @throws RepDecodeError */
export function cellStateFromJson(text: string): CellState {
  const r = repFields(parse(text), 'CellState');
  return {
    RootFSProviders: r.map('RootFSProviders', entries(readRootFSProvider)),
    AvailableResources: r.required('AvailableResources', readResources),
    TotalResources: r.required('TotalResources', readResources),
    LRPs: r.list('LRPs', entries(readLrp)),
    Tasks: r.list('Tasks', entries(readTask)),
    StartingContainerCount: r.int53('StartingContainerCount'),
    Zone: r.string('Zone'),
    Evacuating: r.bool('Evacuating'),
  };
}

/** Decodes a `POST /work` body or answer. @throws RepDecodeError */
export function workFromJson(text: string): Work {
  const r = repFields(parse(text), 'Work');
  return { LRPs: r.list('LRPs', entries(readLrp)), Tasks: r.list('Tasks', entries(readTask)) };
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new RepDecodeError(err instanceof Error ? err.message : String(err));
  }
}

function readResources(r: FieldReader): Resources {
  return { MemoryMB: r.int53('MemoryMB'), DiskMB: r.int53('DiskMB'), Containers: r.int53('Containers') };
}

function readLrp(r: FieldReader): RepLRP {
  return {
    process_guid: r.string('process_guid'),
    index: r.int53('index'),
    domain: r.string('domain'),
    MemoryMB: r.int53('MemoryMB'),
    DiskMB: r.int53('DiskMB'),
    RootFs: r.string('RootFs'),
  };
}

function readTask(r: FieldReader): RepTask {
  return {
    TaskGuid: r.string('TaskGuid'),
    Domain: r.string('Domain'),
    MemoryMB: r.int53('MemoryMB'),
    DiskMB: r.int53('DiskMB'),
    RootFs: r.string('RootFs'),
  };
}

function readRootFSProvider(r: FieldReader): RootFSProvider {
  const type = r.string('type');
  switch (type) {
    case 'arbitrary':
      return { type };
    case 'fixed_set':
      // The set's values are empty structs: each must still be an object (or null).
      return { type, set: r.map('set', entries(() => ({}))) };
    default:
      throw new RepDecodeError(`${r.path}.type: unknown rootfs provider type ${JSON.stringify(type)}`);
  }
}
