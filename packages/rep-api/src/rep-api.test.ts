import {
  RepDecodeError,
  cellStateFromJson,
  rootfsMatches,
  rootfsProvidersFromPresence,
  workFromJson,
  type RootFSProviders,
} from './rep-api';

describe('the rep API JSON', () => {
  it('decodes a cell state as Diego\'s rep encodes it', () => {
    const text = JSON.stringify({
      RootFSProviders: { preloaded: { type: 'fixed_set', set: { cflinuxfs2: {} } }, docker: { type: 'arbitrary' } },
      AvailableResources: { MemoryMB: 512, DiskMB: 1024, Containers: 3 },
      TotalResources: { MemoryMB: 1024, DiskMB: 2048, Containers: 4 },
      LRPs: [{ process_guid: 'p', index: 1, domain: 'd', MemoryMB: 512, DiskMB: 1024, RootFs: 'preloaded:cflinuxfs2' }],
      Tasks: null,
      StartingContainerCount: 1,
      Zone: 'z1',
      Evacuating: true,
      VolumeDrivers: ['a later rep field, ignored'],
    });
    expect(cellStateFromJson(text)).toEqual({
      RootFSProviders: { preloaded: { type: 'fixed_set', set: { cflinuxfs2: {} } }, docker: { type: 'arbitrary' } },
      AvailableResources: { MemoryMB: 512, DiskMB: 1024, Containers: 3 },
      TotalResources: { MemoryMB: 1024, DiskMB: 2048, Containers: 4 },
      LRPs: [{ process_guid: 'p', index: 1, domain: 'd', MemoryMB: 512, DiskMB: 1024, RootFs: 'preloaded:cflinuxfs2' }],
      Tasks: [],
      StartingContainerCount: 1,
      Zone: 'z1',
      Evacuating: true,
    });
  });

  it('gives Go zero values for missing and null members', () => {
    expect(cellStateFromJson('{"AvailableResources":null}')).toEqual({
      RootFSProviders: {},
      AvailableResources: { MemoryMB: 0, DiskMB: 0, Containers: 0 },
      TotalResources: { MemoryMB: 0, DiskMB: 0, Containers: 0 },
      LRPs: [],
      Tasks: [],
      StartingContainerCount: 0,
      Zone: '',
      Evacuating: false,
    });
    expect(workFromJson('{}')).toEqual({ LRPs: [], Tasks: [] });
  });

  it('round-trips work through JSON.stringify', () => {
    const work = {
      LRPs: [{ process_guid: 'p', index: 0, domain: 'd', MemoryMB: 1, DiskMB: 2, RootFs: 'docker:///x' }],
      Tasks: [{ TaskGuid: 't', Domain: 'd', MemoryMB: 3, DiskMB: 4, RootFs: 'preloaded:cflinuxfs2' }],
    };
    expect(workFromJson(JSON.stringify(work))).toEqual(work);
  });

  it.each([
    ['not JSON', '{'],
    ['not an object', '[]'],
    ['a string where Go has an int', '{"LRPs":[{"index":"0"}]}'],
    ['a fraction where Go has an int', '{"Tasks":[{"MemoryMB":1.5}]}'],
    ['an object where Go has a slice', '{"LRPs":{}}'],
    ['an unknown rootfs provider type', '{"RootFSProviders":{"x":{"type":"magic"}}}'],
  ])('rejects a cell state with %s', (_what, text) => {
    expect(() => cellStateFromJson(text)).toThrow(RepDecodeError);
  });

  it('rejects work that does not decode, naming where', () => {
    expect(() => workFromJson('{')).toThrow(RepDecodeError);
    expect(() => workFromJson('{"Tasks":[{"TaskGuid":7}]}')).toThrow('Work.Tasks[0].TaskGuid: expected a string');
  });
});

describe('rootfsMatches', () => {
  const providers: RootFSProviders = {
    preloaded: { type: 'fixed_set', set: { cflinuxfs2: {}, windows2012R2: {} } },
    docker: { type: 'arbitrary' },
  };

  it.each([
    ['a preloaded stack in the set', 'preloaded:cflinuxfs2', true],
    ['another stack in the set', 'preloaded:windows2012R2', true],
    ['a preloaded stack outside the set', 'preloaded:cflinuxfs3', false],
    ['a preloaded URL with a path instead of a stack', 'preloaded:///cflinuxfs2', false],
    ['any docker image', 'docker:///cloudfoundry/grace', true],
    ['a docker image with a registry and a tag', 'docker://registry.example.com/app#v1', true],
    ['an upper-case scheme (Go lower-cases it)', 'DOCKER:///x', true],
    ['a scheme no provider has', 'oci:///x', false],
    ['no scheme', 'cflinuxfs2', false],
    ['an empty rootfs', '', false],
    ['a stack followed by a query', 'preloaded:cflinuxfs2?x=y', true],
  ])('%s: %s -> %s', (_what, rootfs, expected) => {
    expect(rootfsMatches(providers, rootfs)).toBe(expected);
  });

  it('matches nothing without providers, whatever the object prototype has', () => {
    expect(rootfsMatches({}, 'toString:x')).toBe(false);
    expect(rootfsMatches({}, 'docker:///x')).toBe(false);
  });
});

describe('rootfsProvidersFromPresence', () => {
  it('makes a listed provider a fixed set and an empty one arbitrary', () => {
    expect(rootfsProvidersFromPresence({ preloaded: ['cflinuxfs2'], docker: [] })).toEqual({
      preloaded: { type: 'fixed_set', set: { cflinuxfs2: {} } },
      docker: { type: 'arbitrary' },
    });
  });
});
