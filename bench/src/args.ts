/**
 * The bench's command line: `--lrps N --cells N --json FILE --scenarios a,b --help` (also `--flag=value`), or
 * `--scenario containers [--instances N --containers N --pull-mb N --pull-rounds N] [--json FILE]`.
 */

/** Every scenario, in the order they run. `seed` always runs: the others need its data. */
export const SCENARIOS = [
  'seed',
  'fetch-actual',
  'fetch-desired',
  'cell-actual',
  'idempotent-start',
  'claim-start',
  'cells',
  'dashboard-first-screen',
  'single-get',
  'events',
  'converge-noop',
  'tasks',
  'converge-dead-cell',
] as const;

export type ScenarioName = (typeof SCENARIOS)[number];

/** `--scenario containers`: a real root cell's containers (containers.ts), instead of the control plane. */
export interface ContainersArgs {
  /** Instances started one at a time, each timed from its DesiredLRP to RUNNING. */
  instances: number;
  /** Containers running on the cell when its memory is read (the rest start as one DesiredLRP). */
  containers: number;
  /** The image-pull scenario's data layer, MiB. */
  pullMb: number;
  /** Its pulls of each kind. */
  pullRounds: number;
}

export interface BenchArgs {
  lrps: number;
  cells: number;
  json: string | null;
  scenarios: ScenarioName[];
  /** Set for `--scenario containers`; null for the control-plane run. */
  containers: ContainersArgs | null;
  help: boolean;
}

export const DEFAULT_LRPS = 5000;
export const DEFAULT_CONTAINERS_ARGS: ContainersArgs = { instances: 50, containers: 100, pullMb: 64, pullRounds: 3 };

export const USAGE = `usage: npm run bench -- [--lrps N] [--cells N] [--json FILE] [--scenarios a,b,...]

Starts its own etcd, BBS (-apiOnly, measured), receptor, simulated cells (and a leading BBS for the
convergence and task scenarios), seeds N one-instance Diego-shaped LRPs, and runs each scenario through our
API and as the minimal raw etcd operations for the same work (the raw twin).

  --lrps N          DesiredLRPs (one ActualLRP each); default ${DEFAULT_LRPS}
  --cells N         simulated cells; default lrps/200 (at least 1)
  --json FILE       also write the results as JSON
  --scenarios LIST  comma-separated subset (seed always runs): ${SCENARIOS.join(', ')}
  --help            this text

npm run bench -- --scenario containers [--instances N] [--containers N] [--pull-mb N] [--pull-rounds N] [--json FILE]

As root: starts etcd, a leading BBS, a registry with a busybox image and one real \`diego cell\` (images,
cgroups, network), times N instances from DesiredLRP to RUNNING one at a time with the image cached, fills
the cell to --containers and reads its RSS, then times a first image pull against \`skopeo copy\`.

  --instances N     instances timed one at a time; default ${DEFAULT_CONTAINERS_ARGS.instances}
  --containers N    containers when the cell's memory is read (more than --instances); default ${DEFAULT_CONTAINERS_ARGS.containers}
  --pull-mb N       size of the pulled image's data layer, MiB; default ${DEFAULT_CONTAINERS_ARGS.pullMb}
  --pull-rounds N   first pulls of each kind (medians compared); default ${DEFAULT_CONTAINERS_ARGS.pullRounds}

Exit status: 0 when every correctness check passed (a missed performance target alone does not fail the
run), 1 when a scenario's check failed, 2 for a mistake in the command line.`;

export class ArgsError extends Error {
  override readonly name = 'ArgsError';
}

function positiveInt(flag: string, value: string): number {
  if (!/^[0-9]+$/.test(value.replace(/_/g, ''))) throw new ArgsError(`--${flag} wants a positive integer, not '${value}'`);
  const n = Number(value.replace(/_/g, ''));
  if (!Number.isSafeInteger(n) || n < 1) throw new ArgsError(`--${flag} wants a positive integer, not '${value}'`);
  return n;
}

/**
 * @example parseArgs(['--lrps', '20000', '--json=out.json']) // { lrps: 20000, cells: 100, json: 'out.json', ... }
 * @throws ArgsError
 */
export function parseArgs(argv: readonly string[]): BenchArgs {
  let lrps: number | null = null;
  let cells: number | null = null;
  let json: string | null = null;
  let scenarios: ScenarioName[] | null = null;
  let help = false;
  let scenario: 'control-plane' | 'containers' = 'control-plane';
  const containers: Partial<ContainersArgs> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    const match = /^--?([a-zA-Z-]+)(?:=(.*))?$/.exec(arg);
    if (match === null) throw new ArgsError(`unexpected argument '${arg}'`);
    const flag = match[1] ?? '';
    if (flag === 'help' || flag === 'h') {
      help = true;
      continue;
    }
    let value = match[2];
    if (value === undefined) {
      value = argv[++i];
      if (value === undefined) throw new ArgsError(`--${flag} needs a value`);
    }
    switch (flag) {
      case 'lrps':
        lrps = positiveInt(flag, value);
        break;
      case 'cells':
        cells = positiveInt(flag, value);
        break;
      case 'json':
        if (value === '') throw new ArgsError('--json needs a file name');
        json = value;
        break;
      case 'scenarios': {
        const names = value.split(',').map((s) => s.trim()).filter((s) => s !== '');
        const unknown = names.filter((n) => !(SCENARIOS as readonly string[]).includes(n));
        if (unknown.length > 0) throw new ArgsError(`unknown scenario ${unknown.join(', ')} (known: ${SCENARIOS.join(', ')})`);
        const wanted = new Set(['seed', ...names]);
        scenarios = SCENARIOS.filter((s) => wanted.has(s));
        break;
      }
      case 'scenario':
        if (value !== 'containers' && value !== 'control-plane') throw new ArgsError(`--scenario is containers or control-plane, not '${value}'`);
        scenario = value;
        break;
      case 'instances':
        containers.instances = positiveInt(flag, value);
        break;
      case 'containers':
        containers.containers = positiveInt(flag, value);
        break;
      case 'pull-mb':
        containers.pullMb = positiveInt(flag, value);
        break;
      case 'pull-rounds':
        containers.pullRounds = positiveInt(flag, value);
        break;
      default:
        throw new ArgsError(`unknown flag --${flag}`);
    }
  }
  if (scenario === 'containers') {
    if (lrps !== null || cells !== null || scenarios !== null) throw new ArgsError('--lrps, --cells and --scenarios are for the control-plane run, not --scenario containers');
    const chosen = { ...DEFAULT_CONTAINERS_ARGS, ...containers };
    if (chosen.containers <= chosen.instances) throw new ArgsError(`--containers ${chosen.containers} must be more than --instances ${chosen.instances}`);
    return { lrps: 0, cells: 1, json, scenarios: [], containers: chosen, help };
  }
  if (Object.keys(containers).length > 0) throw new ArgsError('--instances, --containers, --pull-mb and --pull-rounds need --scenario containers');
  const n = lrps ?? DEFAULT_LRPS;
  const c = cells ?? Math.max(1, Math.floor(n / 200));
  if (c > n) throw new ArgsError(`--cells ${c} is more than --lrps ${n}: every cell needs at least one instance`);
  return { lrps: n, cells: c, json, scenarios: scenarios ?? [...SCENARIOS], containers: null, help };
}
