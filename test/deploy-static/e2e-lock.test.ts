/**
 * The deploy lock and record protocol through the bundle, against s3rver
 * behind the test S3 front (conditional writes, Object Lock): a runner whose
 * clock is off, a lock gone stale on S3's clock, a bucket with Object Lock.
 * Generated fault schedules over the same code run in-process (oracle.test.ts).
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../emulator/index.js';
import { repoRoot, runBundle } from '../helpers/run-bundle.js';
import { keys, put, s3Client, siteCopy } from './fixtures.js';
import { s3Env, startLocalS3, type LocalS3 } from './local-s3.js';

let emu: Emulator;
let s3: LocalS3;
let env: Record<string, string>;
const LOCK = '.deploy-static/lock.json';

beforeAll(async () => {
  emu = await startEmulator({ s3: false });
  s3 = await startLocalS3(['skew', 'aged', 'locked', 'lost']);
  env = { ...emu.env(), ...s3Env(s3.endpoint) };
});
afterAll(async () => {
  await s3?.stop();
  await emu?.stop();
});

const client = () => s3Client(s3.endpoint);
/** The bundle on a runner whose clock is `skewMs` off (test/helpers/skewed-clock.mjs). */
const deploy = (inputs: Record<string, string | number | boolean>, skewMs = 0) =>
  runBundle('deploy-static', {
    inputs,
    env: {
      ...env,
      ...(skewMs ? { NODE_OPTIONS: `--import ${join(repoRoot, 'test/helpers/skewed-clock.mjs')}`, SKEWED_CLOCK_MS: String(skewMs) } : {}),
    },
    timeoutMs: 90_000,
  });
const otherRun = (at: number) =>
  JSON.stringify({
    owner: '999-1',
    token: 'theirs',
    where: 'https://github.com/acme/other/actions/runs/999',
    acquiredAt: new Date(at).toISOString(),
    heartbeatAt: new Date(at).toISOString(),
  });
const siteWrites = (bucket: string) =>
  s3.requests.filter((r) => r.bucket === bucket && ['PUT', 'COPY', 'DELETE', 'MPU'].includes(r.op) && !r.key.includes('.deploy-static/'));

describe('deploy lock on S3 clock', () => {
  it('a runner whose clock is 6 minutes ahead waits for a lock S3 saw written just now, sending each expected 412 once', async () => {
    await put(client(), 'skew', LOCK, otherRun(Date.now()));
    s3.reset();
    const run = await deploy({ source: siteCopy(), bucket: 'skew', 'lock-wait-seconds': 3 }, 6 * 60_000);
    expect(run.code, run.stdout).toBe(1);
    expect(run.errors.join('\n')).toMatch(/Another deploy to s3:\/\/skew\/ is running: 999-1/);
    expect(siteWrites('skew')).toEqual([]);
    expect(await keys(client(), 'skew')).toEqual([LOCK]);
    // One create attempt per poll (every 5 s; 3 s of waiting: one or two), not one per SDK retry of a 412
    // the SDK took for a clock-skew error.
    const creates = s3.requests.filter((r) => r.bucket === 'skew' && r.op === 'PUT' && r.key === LOCK);
    expect(creates.length).toBeLessThanOrEqual(2);
  });

  it("takes over a lock unchanged for 6 minutes on S3's clock, whatever its body says about its heartbeat", async () => {
    // The body claims a heartbeat just now (a holder whose clock runs ahead); S3 last wrote it 6 minutes ago.
    await put(client(), 'aged', LOCK, otherRun(Date.now() + 60_000));
    s3.age('aged', LOCK, 6 * 60_000);
    const run = await deploy({ source: siteCopy(), bucket: 'aged', 'lock-wait-seconds': 3 });
    expect(run.code, run.stdout).toBe(0);
    expect(run.stdout).toMatch(
      /deploy lock s3:\/\/aged\/\.deploy-static\/lock\.json taken over from 999-1 .*unchanged for 36\d s on S3's clock/,
    );
    expect(await keys(client(), 'aged')).not.toContain(LOCK);
  });
});

describe('a bucket with Object Lock (default retention)', () => {
  it('deploys: the lock and record PUTs carry a Content-MD5, as the site files do', async () => {
    s3.objectLockBuckets.add('locked');
    const run = await deploy({ source: siteCopy(), bucket: 'locked' });
    expect(run.code, run.stdout + run.errors.join('\n')).toBe(0);
    expect(s3.requests.filter((r) => r.bucket === 'locked' && r.status === 400)).toEqual([]);
    const stored = await keys(client(), 'locked');
    expect(stored).toContain('.deploy-static/manifest.json');
    expect(stored).toContain('index.html');
    expect(stored).not.toContain(LOCK);
  });
});

describe('answers lost after S3 applied the write', () => {
  it('a record write whose answer was lost (the SDK retry got 412) is read back and stands: the deploy succeeds and leaves no lock', async () => {
    let lost = 0;
    // Every first attempt at a record write: applied by S3, answered 500.
    s3.hooks.loseAnswer = (r) => r.bucket === 'lost' && r.op === 'PUT' && r.key === '.deploy-static/manifest.json' && lost++ % 2 === 0;
    const run = await deploy({ source: siteCopy(), bucket: 'lost' });
    s3.hooks.loseAnswer = undefined;
    expect(lost).toBeGreaterThan(0);
    expect(run.code, run.stdout + run.errors.join('\n')).toBe(0);
    expect(await keys(client(), 'lost')).not.toContain(LOCK);
    const again = await deploy({ source: siteCopy(), bucket: 'lost' });
    expect(again.code).toBe(0);
    expect(again.outputs.uploaded).toBe('0');
  });
});
