#!/usr/bin/env node
/**
 * `node bench/dist/image-pull.js [--mb N] [--rounds N]`: the cell's first pull of an image from a local
 * registry (ImageStore.provide into an empty store: manifest, verified blobs, layers applied into a root)
 * against `skopeo copy docker://... dir:...` of the same image (manifest and blobs only, nothing extracted),
 * interleaved, medians compared. Target: ours <= 1.2x skopeo. Part of `--scenario containers` (containers.ts).
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { ImageStore } from '@diego/cell';
import { busyboxLayer, fileLayer, pushImage, startRegistry } from '@diego/test-support';
import type { Row } from './report';
import { median, progress } from './stats';

export interface ImagePullOptions {
  /** Size of the image's incompressible data layer, in MiB. */
  mb: number;
  /** Pulls of each kind (interleaved, each into an empty destination). */
  rounds: number;
}

const TARGET_RATIO = 1.2;
const REPOSITORY = 'bench/image-pull';

/** Runs the scenario and returns its row (ours and skopeo's median first-pull times, in ms). */
export async function imagePullScenario(options: ImagePullOptions): Promise<Row> {
  const registry = await startRegistry();
  const work = await mkdtemp(join(tmpdir(), 'diego-bench-image-pull-'));
  try {
    // Several files, as an application layer has: random bytes, so gzip cannot shrink the transfer.
    const files = Array.from({ length: 16 }, (_, i) => ({ path: `app/data-${i}.bin`, content: randomBytes(Math.round((options.mb * 2 ** 20) / 16)) }));
    await pushImage(registry.url, REPOSITORY, 'v1', [await busyboxLayer(), await fileLayer(files)], { Cmd: ['/bin/sh'] });
    const ours: number[] = [];
    const skopeo: number[] = [];
    for (let round = 0; round < options.rounds; round++) {
      const storeDir = join(work, `store-${round}`);
      const store = new ImageStore({ dir: storeDir, defaultRegistryURL: registry.url, insecureRegistries: [], localImageDir: null, logger: pino({ level: 'silent' }) });
      let started = performance.now();
      await store.provide(`docker:///${REPOSITORY}#v1`);
      ours.push(performance.now() - started);
      const copyDir = join(work, `skopeo-${round}`);
      started = performance.now();
      await run('skopeo', ['copy', '--quiet', '--src-tls-verify=false', `docker://${registry.host}/${REPOSITORY}:v1`, `dir:${copyDir}`]);
      skopeo.push(performance.now() - started);
      await Promise.all([rm(storeDir, { recursive: true, force: true }), rm(copyDir, { recursive: true, force: true })]);
      progress(`image-pull round ${round + 1}/${options.rounds}: ours ${ours.at(-1)!.toFixed(0)} ms, skopeo ${skopeo.at(-1)!.toFixed(0)} ms`);
    }
    const oursMs = median(ours);
    const skopeoMs = median(skopeo);
    const ratio = oursMs !== null && skopeoMs !== null && skopeoMs > 0 ? oursMs / skopeoMs : null;
    return {
      scenario: 'image-pull',
      what: `first pull of a ${options.mb} MiB image (vs skopeo copy to dir:)`,
      unit: 'ms',
      ours: oursMs,
      raw: skopeoMs,
      target: { text: `<= ${TARGET_RATIO}x skopeo`, met: ratio !== null && ratio <= TARGET_RATIO },
    };
  } finally {
    await rm(work, { recursive: true, force: true });
    await registry.stop();
  }
}

function run(command: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolve() : reject(new Error(`${command} exited with status ${code ?? 'killed'}: ${stderr.trim()}`))));
  });
}

function flag(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  const value = at === -1 ? fallback : Number(process.argv[at + 1]);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} wants a positive number`);
  return value;
}

if (require.main === module) {
  imagePullScenario({ mb: flag('mb', 64), rounds: flag('rounds', 3) }).then(
    (row) => {
      const ratio = row.ours !== null && row.raw !== null ? (row.ours / row.raw).toFixed(2) : '?';
      console.log(`${row.scenario}: ${row.what}: ours ${row.ours?.toFixed(0)} ms, skopeo ${row.raw?.toFixed(0)} ms, ${ratio}x (${row.target?.text}: ${row.target?.met === true ? 'ok' : 'MISS'})`);
      console.log(JSON.stringify(row));
    },
    (err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
}
