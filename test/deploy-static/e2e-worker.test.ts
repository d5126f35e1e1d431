/**
 * A build above WORKER_ABOVE_FILES runs in a worker thread with a capped young generation
 * (actions/deploy-static/main.ts, lib/worker-thread.ts). Through the bundle, against s3rver:
 * where the run goes, and that the runner sees the same step as without the worker: its
 * cancel signal, its exit code, its annotations.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WORKER_ABOVE_FILES } from '../../actions/deploy-static/source-size.js';
import { YOUNG_GENERATION_MB } from '../../lib/worker-thread.js';
import { runBundle, type RunOptions } from '../helpers/run-bundle.js';
import { getBytes, keys, s3Client, sigintAtSitePut } from './fixtures.js';
import { s3Env, startLocalS3, type LocalS3 } from './local-s3.js';

let s3: LocalS3;
let env: Record<string, string>;
const repoRoot = join(import.meta.dirname, '../..');
const LOCK = '.deploy-static/lock.json';
const RECORD = '.deploy-static/manifest.json';

beforeAll(async () => {
  s3 = await startLocalS3(['threads', 'cancel-big']);
  env = s3Env(s3.endpoint);
});
afterAll(async () => {
  await s3?.stop();
});

/** A build of `n` small files, 100 per folder, and an index.html that is one of them. */
function build(n: number): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'big-build-')), 'dist');
  for (let i = 0; i < n; i++) {
    const folder = join(dir, `d${Math.floor(i / 100)}`);
    if (i % 100 === 0) mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, `f${i}.txt`), `file ${i}`);
  }
  writeFileSync(join(dir, 'd0', 'f0.txt'), 'file 0');
  return dir;
}

interface ThreadSeen {
  isMainThread: boolean;
  resourceLimits: { maxYoungGenerationSizeMb?: number };
}

/** Runs the bundle with the thread probe; returns the run and what each thread reported. */
async function probed(inputs: Record<string, string | number | boolean>, onSpawn?: RunOptions['onSpawn']) {
  const out = join(mkdtempSync(join(tmpdir(), 'probe-')), 'threads.jsonl');
  writeFileSync(out, '');
  const run = await runBundle('deploy-static', {
    inputs,
    env: { ...env, NODE_OPTIONS: `--import ${join(repoRoot, 'test/helpers/thread-probe.mjs')}`, THREAD_PROBE_OUT: out },
    timeoutMs: 120_000,
    ...(onSpawn ? { onSpawn } : {}),
  });
  const threads = readFileSync(out, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as ThreadSeen);
  return { run, threads };
}

describe('deploy-static: where a run goes', () => {
  it(`a build of ${WORKER_ABOVE_FILES} files runs in the runner's thread; one more file, in a worker with a capped young generation`, async () => {
    const source = build(WORKER_ABOVE_FILES);
    const small = await probed({ source, bucket: 'threads', 'dry-run': true });
    expect(small.run.code, small.run.stdout).toBe(0);
    expect(small.threads).toEqual([expect.objectContaining({ isMainThread: true })]);

    writeFileSync(join(source, 'one-more.txt'), 'one more');
    const big = await probed({ source, bucket: 'threads', 'dry-run': true });
    expect(big.run.code, big.run.stdout).toBe(0);
    expect(big.run.stdout).toMatch(/dry-run: nothing was written/);
    expect(big.threads).toHaveLength(2);
    expect(big.threads[1]).toEqual({
      isMainThread: false,
      resourceLimits: expect.objectContaining({ maxYoungGenerationSizeMb: YOUNG_GENERATION_MB }),
    });
  });

  it('a failed run in the worker fails the step with its annotation', async () => {
    const { run, threads } = await probed({ source: build(WORKER_ABOVE_FILES + 1), bucket: 'no-such-bucket' });
    expect(threads.map((t) => t.isMainThread)).toEqual([true, false]);
    expect(run.code).toBe(1);
    expect(run.errors.join('\n')).toMatch(/deploy-static failed: NoSuchBucket/);
  });

  it("cancel (the runner's SIGINT) reaches the run in the worker: the lock is released, the writes are recorded as pending", async () => {
    const source = build(WORKER_ABOVE_FILES + 1);
    // SIGINT once the third site file's PUT reaches S3, whatever the machine's speed; PUTs are held 200 ms.
    const cancel = sigintAtSitePut(s3, 'cancel-big', 3);
    const { run, threads } = await probed({ source, bucket: 'cancel-big', concurrency: 2 }, cancel.onSpawn);
    const exitedAt = Date.now();
    cancel.stop();
    const sigintAt = cancel.sigintAt();
    expect(threads.map((t) => t.isMainThread)).toEqual([true, false]);
    expect(sigintAt).toBeGreaterThan(0);
    expect(run.code).toBe(1);
    // Out before the runner's SIGTERM, which comes 7.5 s after SIGINT.
    expect(exitedAt - sigintAt).toBeLessThan(7_500);
    expect(run.stdout).toMatch(/SIGINT: cancelled; releasing the deploy lock/);
    expect(run.errors.join('\n')).toMatch(/the workflow was cancelled\. The deploy lock was released/);
    const stored = await keys(s3Client(s3.endpoint), 'cancel-big');
    expect(stored).not.toContain(LOCK);
    const record = JSON.parse((await getBytes(s3Client(s3.endpoint), 'cancel-big', RECORD)).toString()) as { pending: string[] };
    expect(record.pending.length).toBeGreaterThan(WORKER_ABOVE_FILES);
    expect(stored.filter((k) => k.startsWith('d')).length).toBeGreaterThan(0);
  });
});
