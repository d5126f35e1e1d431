/**
 * The bundle under throttling and against real-shaped distributions (
 * points 9, 12, 13): s3rver behind the counting proxy with injected 503
 * SlowDown, and the emulator's CloudFront with origins, path-pattern
 * behaviours and custom error responses as GetDistribution returns them.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../emulator/index.js';
import { runBundle } from '../helpers/run-bundle.js';
import { SITE_FILES, getBytes, s3Client, siteCopy } from './fixtures.js';
import { s3Env, startLocalS3, type LocalS3 } from './local-s3.js';

let emu: Emulator;
let s3: LocalS3;
let env: Record<string, string>;

beforeAll(async () => {
  emu = await startEmulator({ s3: false });
  s3 = await startLocalS3(['throttled', 'multi', 'spa']);
  env = { ...emu.env(), ...s3Env(s3.endpoint) };
});
afterAll(async () => {
  await s3?.stop();
  await emu?.stop();
});

const deploy = (inputs: Record<string, string | number | boolean>) => runBundle('deploy-static', { inputs, env, timeoutMs: 120_000 });
const s3Domain = (bucket: string) => `${bucket}.s3.eu-west-1.amazonaws.com`;

describe('throttling', () => {
  it('completes a cold deploy under 20 % SlowDown with every byte right (multipart included)', async () => {
    const source = siteCopy();
    const extra: string[] = [];
    for (let i = 0; i < 60; i++) {
      const rel = `assets/chunk-${i}.js`;
      writeFileSync(join(source, rel), `export const n${i} = ${'x'.repeat(500 + i)};\n`);
      extra.push(rel);
    }
    mkdirSync(join(source, 'media'), { recursive: true });
    const big = Buffer.alloc(9 * 1024 * 1024);
    for (let j = 0; j < big.length; j += 997) big[j] = j % 251;
    writeFileSync(join(source, 'media/clip.mp4'), big);
    s3.reset();
    s3.slowDown(0.2, 7);
    const run = await deploy({ source, bucket: 'throttled', 'multipart-threshold-mb': 8 });
    s3.slowDown(0);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const files = [...SITE_FILES, ...extra, 'media/clip.mp4'];
    expect(run.outputs.uploaded).toBe(String(files.length));
    // The throttling happened (and was retried), on single PUTs and multipart parts alike.
    const slowed = s3.requests.filter((r) => r.status === 503);
    expect(slowed.length).toBeGreaterThan(5);
    expect(slowed.some((r) => r.key === 'media/clip.mp4')).toBe(true);
    const client = s3Client(s3.endpoint);
    for (const f of files) expect((await getBytes(client, 'throttled', f)).equals(readFileSync(join(source, f))), f).toBe(true);
  });
});

describe('distribution config (GetDistribution)', () => {
  // The main site is served from www/ (origin path /www); /admin/* goes to the same bucket without an origin path.
  const dist = () =>
    emu.cloudfront.createDistribution({
      origins: [
        { id: 'web', domainName: s3Domain('multi'), originPath: '/www' },
        { id: 'raw', domainName: s3Domain('multi') },
      ],
      behaviors: [{ pathPattern: '/admin/*', targetOriginId: 'raw' }],
    });

  it('does not invalidate brand-new keys, then invalidates changes at the viewer paths of /admin/*', async () => {
    const id = dist();
    const source = siteCopy();
    const cold = await deploy({ source, bucket: 'multi', prefix: 'admin', 'distribution-id': id });
    expect(cold.code, cold.stdout + cold.stderr).toBe(0);
    expect(cold.outputs.uploaded).toBe(String(SITE_FILES.length));
    // Nothing was cached for keys that did not exist (only a 403/404, kept 10 s by default).
    expect(emu.cloudfront.invalidations(id)).toEqual([]);
    expect(cold.outputs['invalidation-id']).toBe('');
    expect(cold.stdout).toMatch(/new keys are not invalidated/);

    writeFileSync(join(source, 'index.html'), readFileSync(join(source, 'index.html'), 'utf8').replace('</title>', ' v2</title>'));
    writeFileSync(join(source, 'track/new page & more.html'), '<!doctype html><title>new</title>');
    const second = await deploy({ source, bucket: 'multi', prefix: 'admin', 'distribution-id': id });
    expect(second.code, second.stdout + second.stderr).toBe(0);
    const inv = emu.cloudfront.invalidations(id);
    expect(inv).toHaveLength(1);
    // Viewer paths under /admin (not /index.html, which is the www/ site); the new page is not invalidated.
    expect(inv[0]!.paths).toEqual(['/admin', '/admin/', '/admin/index.html']);
  });

  it('a distribution id that does not exist fails the run before any write, naming the input', async () => {
    s3.reset();
    const run = await deploy({ source: siteCopy(), bucket: 'spa', prefix: 'missing', 'distribution-id': 'ENOSUCHDIST' });
    expect(run.code).toBe(1);
    expect(run.stdout + run.stderr).toMatch(/distribution-id.*ENOSUCHDIST does not exist/s);
    expect(s3.requests.filter((r) => ['PUT', 'COPY', 'DELETE', 'MPU'].includes(r.op))).toEqual([]);
  });

  it('invalidates new keys too when the distribution caches 404s for long (a not-found page)', async () => {
    // The error page is not part of this build; one that is changes the invalidation to /* (e2e-surface.test.ts).
    const id = emu.cloudfront.createDistribution({
      origins: [{ id: 'spa', domainName: s3Domain('spa'), originPath: '/app' }],
      errorResponses: [{ errorCode: 404, errorCachingMinTTL: 86400, responsePagePath: '/404.html', responseCode: '404' }],
    });
    const source = siteCopy();
    const run = await deploy({ source, bucket: 'spa', prefix: 'app', 'distribution-id': id });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const inv = emu.cloudfront.invalidations(id);
    expect(inv).toHaveLength(1);
    expect(inv[0]!.paths).toContain('/track/index.html');
    expect(inv[0]!.paths).toContain('/');
    expect(run.stdout).toMatch(/caches 403\/404 answers for up to 86400 s/);
  });
});
