import { ArgsError, DEFAULT_CONTAINERS_ARGS, DEFAULT_LRPS, SCENARIOS, parseArgs } from './args';

describe('parseArgs', () => {
  it('defaults to 5,000 LRPs on lrps/200 cells, every scenario, no JSON', () => {
    expect(parseArgs([])).toEqual({ lrps: DEFAULT_LRPS, cells: 25, json: null, scenarios: [...SCENARIOS], containers: null, help: false });
  });

  it('takes --flag value and --flag=value, and derives the cells from the LRPs', () => {
    expect(parseArgs(['--lrps', '200000', '--json=out/r.json'])).toMatchObject({ lrps: 200_000, cells: 1000, json: 'out/r.json' });
    expect(parseArgs(['--lrps=200', '--cells', '2'])).toMatchObject({ lrps: 200, cells: 2 });
    expect(parseArgs(['--lrps', '50_000'])).toMatchObject({ lrps: 50_000, cells: 250 });
    expect(parseArgs(['--lrps', '10'])).toMatchObject({ cells: 1 });
  });

  it('runs a subset in the standard order, always with the seed', () => {
    expect(parseArgs(['--scenarios', 'events,cells']).scenarios).toEqual(['seed', 'cells', 'events']);
    expect(parseArgs(['--scenarios=seed']).scenarios).toEqual(['seed']);
  });

  it('takes --scenario containers with its own sizes, defaulting the rest', () => {
    expect(parseArgs(['--scenario', 'containers']).containers).toEqual(DEFAULT_CONTAINERS_ARGS);
    expect(parseArgs(['--scenario=containers', '--instances', '3', '--containers', '5', '--pull-mb=4', '--json', 'c.json'])).toMatchObject({
      json: 'c.json',
      containers: { instances: 3, containers: 5, pullMb: 4, pullRounds: DEFAULT_CONTAINERS_ARGS.pullRounds },
    });
  });

  it('says --help', () => {
    expect(parseArgs(['--help']).help).toBe(true);
    expect(parseArgs(['-h']).help).toBe(true);
  });

  it.each([
    [['--lrps', '0'], /positive integer/],
    [['--lrps', 'many'], /positive integer/],
    [['--lrps'], /needs a value/],
    [['--cells', '-3'], /positive integer/],
    [['--lrps', '10', '--cells', '20'], /more than --lrps/],
    [['--scenarios', 'seed,bogus'], /unknown scenario bogus/],
    [['--frobnicate', '1'], /unknown flag --frobnicate/],
    [['extra'], /unexpected argument/],
    [['--json='], /file name/],
    [['--scenario', 'gpus'], /containers or control-plane/],
    [['--instances', '3'], /need --scenario containers/],
    [['--scenario', 'containers', '--lrps', '10'], /control-plane run/],
    [['--scenario', 'containers', '--instances', '5', '--containers', '5'], /more than --instances/],
  ])('refuses %j', (argv, message) => {
    expect(() => parseArgs(argv)).toThrow(ArgsError);
    expect(() => parseArgs(argv)).toThrow(message);
  });
});
