/**
 * download and upload against a tiny real HTTP server: a .tgz and a .zip extracted into the container (the
 * cache used the second time), a file:// archive, a missing one, and an upload the server receives.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Action } from '@diego/models';
import type { Container } from '../../src';
import { containerSpec, serial, sh, startExecutor, type ExecutorHarness } from './harness';

let harness: ExecutorHarness;
let server: Server;
let baseUrl: string;
let archives: string;
/** Requests the server saw: `GET /app.tgz`, and the bodies POSTed to /upload. */
let requests: string[];
let uploads: string[];

beforeAll(async () => {
  archives = mkdtempSync(join(tmpdir(), 'diego-archives-'));
  const source = join(archives, 'source');
  mkdirSync(join(source, 'bin'), { recursive: true });
  writeFileSync(join(source, 'bin', 'hello'), 'hello from the archive\n');
  execFileSync('tar', ['-czf', join(archives, 'app.tgz'), '-C', source, '.']);
  execFileSync('tar', ['-cf', join(archives, 'app.tar'), '-C', source, '.']);
  execFileSync('python3', ['-m', 'zipfile', '-c', join(archives, 'app.zip'), 'bin'], { cwd: source });
  server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    if (req.method === 'POST' && req.url === '/upload') {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        uploads.push(Buffer.concat(chunks).toString());
        res.writeHead(201).end();
      });
      return;
    }
    let body: Buffer;
    try {
      body = readFileSync(join(archives, (req.url ?? '').slice(1)));
    } catch {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200).end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the test server has no port');
  baseUrl = `http://127.0.0.1:${address.port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  rmSync(archives, { recursive: true, force: true });
});
beforeEach(() => {
  requests = [];
  uploads = [];
  harness = startExecutor();
});
afterEach(async () => {
  await harness.cleanUp();
});

const download = (from: string, to: string, cacheKey = ''): Action => ({
  download: { artifact: '', from, to, cache_key: cacheKey, log_source: '', user: '' },
});

async function runTask(container: Container, action: Action) {
  return harness.executor.runTask(container, { action, resultFile: '/tmp/result' }, new AbortController().signal);
}

it.each(['app.tgz', 'app.zip', 'app.tar'])('downloads %s and extracts it into the container', async (name) => {
  const container = await harness.executor.createContainer(containerSpec(`dl-${name.replace('.', '-')}`));
  const result = await runTask(container, serial(download(`${baseUrl}/${name}`, 'app'), sh('cat app/bin/hello > /tmp/result')));
  expect(result).toEqual({ failed: false, failureReason: '', result: 'hello from the archive\n' });
});

it('keeps a download with a cache_key, and uses the cache the second time', async () => {
  const first = await harness.executor.createContainer(containerSpec('cache-1'));
  const second = await harness.executor.createContainer(containerSpec('cache-2'));
  const action = serial(download(`${baseUrl}/app.tgz`, '/tmp/app', 'app-v1'), sh('cat /tmp/app/bin/hello > /tmp/result'));
  expect((await runTask(first, action)).result).toBe('hello from the archive\n');
  expect((await runTask(second, action)).result).toBe('hello from the archive\n');
  expect(requests).toEqual(['GET /app.tgz']);
});

it('downloads a file:// archive', async () => {
  const container = await harness.executor.createContainer(containerSpec('dl-file'));
  const result = await runTask(container, serial(download(`file://${join(archives, 'app.tgz')}`, '.'), sh('cat bin/hello > /tmp/result')));
  expect(result.result).toBe('hello from the archive\n');
});

it('fails a download the server does not have', async () => {
  const container = await harness.executor.createContainer(containerSpec('dl-missing'));
  const result = await runTask(container, download(`${baseUrl}/missing.tgz`, 'app'));
  expect(result).toEqual({ failed: true, failureReason: `failed to download ${baseUrl}/missing.tgz: HTTP 404`, result: '' });
});

it('uploads a container file with a POST', async () => {
  const container = await harness.executor.createContainer(containerSpec('up'));
  const upload = (to: string): Action => ({ upload: { artifact: '', from: '/tmp/droplet', to, log_source: '', user: '' } });
  const result = await runTask(container, serial(sh('echo droplet-bytes > /tmp/droplet'), upload(`${baseUrl}/upload`), sh('echo uploaded > /tmp/result')));
  expect(result).toEqual({ failed: false, failureReason: '', result: 'uploaded\n' });
  expect(uploads).toEqual(['droplet-bytes\n']);
  const refused = await runTask(container, upload(`${baseUrl}/nowhere`));
  expect(refused.failureReason).toBe('failed to upload /tmp/droplet: HTTP 404');
});
