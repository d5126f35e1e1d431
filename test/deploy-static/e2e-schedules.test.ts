/**
 * A few fault schedules through the bundle (the in-process oracle runs
 * hundreds: oracle.test.ts): two deploys of different builds at once against
 * s3rver behind the test S3 front, with seeded SlowDown answers and writes
 * whose answers are lost after S3 applied them. Both succeed, the live HTML
 * only ever references objects that exist, no lock is left, and a clean
 * deploy afterwards leaves exactly its build live.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../emulator/index.js';
import { runBundle } from '../helpers/run-bundle.js';
import { getBytes, keys, s3Client } from './fixtures.js';
import { s3Env, startLocalS3, type LocalS3 } from './local-s3.js';
import { makeBuilds, rng } from './oracle/actors.js';

let emu: Emulator;
let s3: LocalS3;
let env: Record<string, string>;
const SEEDS = [11, 12, 13];
const builds = makeBuilds(3);

beforeAll(async () => {
  emu = await startEmulator({ s3: false });
  s3 = await startLocalS3(SEEDS.map((s) => `sched-${s}`));
  env = { ...emu.env(), ...s3Env(s3.endpoint) };
});
afterAll(async () => {
  await s3?.stop();
  await emu?.stop();
});

const deploy = (bucket: string, source: string) =>
  runBundle('deploy-static', { inputs: { source, bucket, 'lock-wait-seconds': 120 }, env, timeoutMs: 120_000 });

/** Every live HTML file's references exist (I1 of the oracle). */
async function liveHtmlWhole(bucket: string): Promise<string[]> {
  const client = s3Client(s3.endpoint);
  const all = await keys(client, bucket);
  const missing: string[] = [];
  for (const k of all.filter((k) => k.endsWith('.html') && !k.startsWith('.deploy-static/'))) {
    const html = (await getBytes(client, bucket, k)).toString();
    for (const m of html.matchAll(/(?:src|href)="\/([^"]+)"/g)) if (!all.includes(m[1]!)) missing.push(`${k} → ${m[1]}`);
  }
  return missing;
}

describe('fault schedules through the bundle', () => {
  for (const seed of SEEDS) {
    it(`seed ${seed}: two concurrent deploys with lost answers and SlowDown both succeed and keep the site whole`, async () => {
      const bucket = `sched-${seed}`;
      const r = rng(seed);
      // A write's first attempt loses its answer with this chance (S3 applied it; the SDK retries).
      const loss = 0.1 + r.next() * 0.2;
      const seen = new Set<string>();
      s3.hooks.loseAnswer = (q) => {
        if (q.bucket !== bucket || !['PUT', 'DELETE'].includes(q.op)) return false;
        const id = `${q.method} ${q.key}`;
        const first = !seen.has(id);
        seen.add(id);
        return first && r.next() < loss;
      };
      s3.slowDown(0.05, seed);
      const checks: string[] = [];
      const [a, b] = await Promise.all([
        deploy(bucket, builds[0]!.dir),
        new Promise((resolve) => setTimeout(resolve, r.int(0, 1500))).then(() => deploy(bucket, builds[1]!.dir)),
      ]);
      s3.hooks.loseAnswer = undefined;
      s3.slowDown(0);
      expect(a.code, a.stdout + a.errors.join('\n')).toBe(0);
      expect(b.code, b.stdout + b.errors.join('\n')).toBe(0);
      checks.push(...(await liveHtmlWhole(bucket)));
      expect(checks).toEqual([]);
      const client = s3Client(s3.endpoint);
      expect(await keys(client, bucket)).not.toContain('.deploy-static/lock.json');
      // A clean deploy afterwards: its build is live, with its content.
      const clean = await deploy(bucket, builds[2]!.dir);
      expect(clean.code).toBe(0);
      for (const [k, text] of builds[2]!.files) expect((await getBytes(client, bucket, k)).toString()).toBe(text);
      expect(await liveHtmlWhole(bucket)).toEqual([]);
    });
  }
});
