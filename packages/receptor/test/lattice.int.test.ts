// Lattice's routes (spec/receptor-api.md §3.19–3.20): ltc downloads from -artifactPath, release versions from
// -versionFilesPath, which the 2015 Go client's GetVersion reads.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { packageVersion } from '@diego/server-support';
import { startReceptorUnderTest, type ReceptorUnderTest } from './support/receptor-under-test';
import { expectJson } from './support/http';

const USERNAME = 'lattice-user';
const PASSWORD = 'lattice-pass';
/** An ltc binary stand-in: every byte value, so nothing re-encodes it unnoticed. */
const LTC_BYTES = Buffer.from(Array.from({ length: 1024 }, (_, i) => i % 256));

let receptor: ReceptorUnderTest;
let dir: string;
let artifactPath: string;
let versionFilesPath: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'diego-lattice-'));
  artifactPath = join(dir, 'artifacts');
  versionFilesPath = join(dir, 'versions');
  await mkdir(join(artifactPath, 'linux-amd64'), { recursive: true });
  await mkdir(versionFilesPath);
  await writeFile(join(artifactPath, 'linux-amd64', 'ltc'), LTC_BYTES);
  await writeFile(join(dir, 'secret'), 'outside the artifact path');
  receptor = await startReceptorUnderTest({ username: USERNAME, password: PASSWORD, lattice: { artifactPath, versionFilesPath } });
});

afterAll(async () => {
  await receptor?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('Download', () => {
  // GET /v1/sync/:arch/:artifact
  it('serves the file as an octet stream, without credentials even when basic auth is on', async () => {
    const res = await request(receptor.app).get('/v1/sync/linux-amd64/ltc').buffer(true).parse((stream, done) => {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => done(null, Buffer.concat(chunks)));
    });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/octet-stream');
    expect(res.headers['last-modified']).toBeUndefined();
    expect(Buffer.compare(res.body as Buffer, LTC_BYTES)).toBe(0);
  });

  it('answers a Range request with the part asked for', async () => {
    const res = await request(receptor.app).get('/v1/sync/linux-amd64/ltc').set('Range', 'bytes=10-19');
    expect(res.status).toBe(206);
    expect(res.headers['content-range']).toBe(`bytes 10-19/${LTC_BYTES.length}`);
    expect(res.headers['content-length']).toBe('10');
  });

  it.each([
    ['a file that is not there', '/v1/sync/linux-amd64/ltc-missing'],
    ['an architecture that is not there', '/v1/sync/darwin-amd64/ltc'],
    ['a directory', '/v1/sync/linux-amd64/..'],
    ['a way out of the artifact path', '/v1/sync/..%2f..%2fsecret/x'],
    ['an escaped parent directory', '/v1/sync/%2e%2e/secret'],
  ])('answers 404 for %s, never a file outside the artifact path', async (_what, path) => {
    const res = await request(receptor.app).get(path);
    expect(res.status).toBe(404);
    expect(res.text ?? '').not.toContain('outside the artifact path');
  });

  it('answers 404 when the receptor has no artifact path', async () => {
    const res = await request(receptor.appWith({})).get('/v1/sync/linux-amd64/ltc');
    expect(res.status).toBe(404);
  });
});

describe('GetVersion', () => {
  // GET /v1/version
  const auth = `Basic ${Buffer.from(`${USERNAME}:${PASSWORD}`).toString('base64')}`;

  it('needs credentials when basic auth is on', async () => {
    expect((await request(receptor.app).get('/v1/version')).status).toBe(401);
  });

  it('answers our own receptor version and nothing else when no version file is there', async () => {
    const res = await request(receptor.app).get('/v1/version').set('Authorization', auth);
    expect(expectJson(res, 200)).toEqual({ receptor: packageVersion(join(__dirname, '..', 'src')) });
  });

  it('answers the versions the files give, without their line endings', async () => {
    const files: Record<string, string> = {
      CF_RELEASE: 'v218\n', CF_ROUTING_RELEASE: 'v219\r\n', DIEGO_RELEASE: 'v220', GARDEN_LINUX_RELEASE: 'v221\n',
      LATTICE_RELEASE: 'v0.4.3\n', LATTICE_RELEASE_IMAGE: 'abc123\n', LTC: 'v0.4.3-ltc\n', RECEPTOR: 'v225\n',
    };
    for (const [name, text] of Object.entries(files)) await writeFile(join(versionFilesPath, name), text);
    try {
      const res = await request(receptor.app).get('/v1/version').set('Authorization', auth);
      expect(expectJson(res, 200)).toEqual({
        cf_release: 'v218', cf_routing_release: 'v219', diego_release: 'v220', garden_linux_release: 'v221',
        lattice_release: 'v0.4.3', lattice_release_image: 'abc123', ltc: 'v0.4.3-ltc', receptor: 'v225',
      });
    } finally {
      for (const name of Object.keys(files)) await rm(join(versionFilesPath, name));
    }
  });
});
