/**
 * The fixture of the deploy-planning tests (deploy-plan*.test.ts): a source folder from a map of files, the
 * oracle's in-memory S3, the inputs and deps planAll takes, and a deploy (plan and apply) that sets up the bucket.
 */
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { memoryReporter } from '../../lib/report.js';
import { applyAll } from '../../actions/deploy-static/apply.js';
import { planAll, type Deps } from '../../actions/deploy-static/deploy.js';
import type { Inputs } from '../../actions/deploy-static/inputs.js';
import { MemoryS3 } from './oracle/memory-s3.js';

const dirs: string[] = [];
/** Removes the source folders made by `source` (each test file calls it after each test). */
export function removeSources(): void {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

export function source(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'deploy-plan-'));
  dirs.push(dir);
  for (const [rel, body] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), body);
  }
  return dir;
}

/**
 * The inputs planAll and planRollbackAll take, for tests that call them in-process (these tests, the
 * oracle's actors): one site `site`/`app/`, deletes on, no distribution, lock wait 60 s.
 */
export function staticInputs(over: Partial<Inputs> = {}): Inputs {
  return {
    source: '',
    targets: [{ bucket: 'site', prefix: 'app/' }],
    delete: 'true',
    repairRecord: false,
    purge: [],
    maxDeleteCount: 500,
    maxDeleteRatio: 1,
    forceDelete: false,
    preset: 'static',
    headers: [],
    exclude: [],
    includeDotfiles: false,
    concurrency: 2,
    multipartThresholdMb: 8,
    dryRun: false,
    invalidate: 'none',
    invalidationMaxPaths: 100,
    waitForInvalidation: false,
    waitTimeoutSeconds: 900,
    maxAttempts: 3,
    lockWaitSeconds: 60,
    ...over,
  };
}

export const SITE = { 'index.html': '<h1>1</h1>', 'about.html': '<p>about</p>', 'assets/app-Ab3dEf9h.js': 'js1', 'robots.txt': 'r' };

export function setup() {
  const mem = new MemoryS3('site');
  const s3 = { send: async (c: { input: Record<string, unknown> }) => mem.apply(c) } as unknown as S3Client;
  const reporter = memoryReporter();
  let n = 0;
  const deps: Deps = {
    s3,
    cloudfront: () => {
      throw new Error('no distribution here');
    },
    sleep: async () => {},
    now: () => Date.now(),
    reporter,
    runId: 'run',
    releaseId: 'r',
    who: { commit: 'c' },
  };
  const inputs = (src: string, over: Partial<Inputs> = {}): Inputs => staticInputs({ source: src, ...over });
  const deploy = async (src: string, over: Partial<Inputs> = {}) => {
    const i = inputs(src, over);
    await applyAll(await planAll(i, { ...deps, releaseId: `r${++n}` }), i, { ...deps, releaseId: `r${n}` });
  };
  return { mem, s3, deps, reporter, inputs, deploy };
}

/** An object written as another tool would, straight into the bucket. */
export function putKey(mem: MemoryS3, key: string, body: string): void {
  mem.apply(new PutObjectCommand({ Bucket: 'site', Key: key, Body: body }) as unknown as { input: Record<string, unknown> });
}

export function countState(mem: MemoryS3): number {
  return [...mem.objects.keys()].filter((k) => k.includes('.deploy-static/')).length;
}
