import { unescapeTarName } from './layers';
import { BadManifest, choosePlatform, MediaType, parseImageConfig, parseManifest } from './manifest';
import { parseBearerChallenge } from './registry-client';

const digest = (char: string): string => `sha256:${char.repeat(64)}`;

describe('parseManifest', () => {
  it('reads an OCI manifest without a mediaType field by its shape', () => {
    const body = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: digest('a'), size: 2 },
        layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: digest('b'), size: 3 }],
      }),
    );
    expect(parseManifest(body, 'application/json')).toEqual({
      kind: 'image',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: digest('a'), size: 2 },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: digest('b'), size: 3 }],
    });
  });

  it('picks linux/amd64 out of a manifest list', () => {
    const entry = (char: string, architecture: string): object => ({ mediaType: MediaType.dockerManifest, digest: digest(char), size: 1, platform: { os: 'linux', architecture } });
    const list = parseManifest(Buffer.from(JSON.stringify({ schemaVersion: 2, manifests: [entry('c', 'arm64'), entry('d', 'amd64')] })), MediaType.dockerManifestList);
    expect(list.kind === 'index' ? choosePlatform(list)?.digest : null).toBe(digest('d'));
  });

  it.each([
    ['not JSON', 'bad manifest: not JSON', MediaType.dockerManifest],
    [JSON.stringify({ schemaVersion: 1, fsLayers: [] }), 'unsupported media type application/vnd.docker.distribution.manifest.v1+json', null],
    [JSON.stringify({ config: { mediaType: 'x', digest: 'md5:00', size: 1 }, layers: [] }), 'unsupported digest "md5:00"', MediaType.ociManifest],
  ])('rejects %s', (body, message, contentType) => {
    expect(() => parseManifest(Buffer.from(body), contentType)).toThrow(BadManifest);
    expect(() => parseManifest(Buffer.from(body), contentType)).toThrow(message);
  });
});

describe('parseImageConfig', () => {
  it('takes tcp ports only and tolerates missing fields', () => {
    const config = parseImageConfig(Buffer.from(JSON.stringify({ config: { ExposedPorts: { '53/udp': {}, '443/tcp': {}, '80': {} }, Cmd: null } })));
    expect(config).toEqual({ env: [], workingDir: '', user: '', entrypoint: [], cmd: [], exposedPorts: [80, 443] });
  });
});

describe('parseBearerChallenge', () => {
  it('reads quoted parameters, commas inside quotes included', () => {
    expect(parseBearerChallenge('Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push"')).toEqual({
      realm: 'https://auth.example/token',
      service: 'registry.example',
      scope: 'repository:a/b:pull,push',
    });
    expect(parseBearerChallenge('Basic realm="x"')).toBeNull();
  });
});

describe('unescapeTarName', () => {
  it("undoes tar's escape quoting", () => {
    expect(unescapeTarName('a\\\\b\\nc\\303\\251 d')).toBe('a\\b\nc\u00e9 d');
  });
});
