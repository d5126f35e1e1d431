/**
 * The built bundle, run like the runner runs it, against s3rver (behind a
 * counting proxy that records every request with its key) and the emulator's
 * CloudFront. Every claim is checked on what reached S3 / CloudFront and on
 * the stored bytes, not only on exit codes.
 */
import { readFileSync, rmSync, utimesSync, writeFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../emulator/index.js';
import { runBundle } from '../helpers/run-bundle.js';
import { SITE_FILES, getBytes, head, keys, put, s3Client, siteCopy } from './fixtures.js';
import { s3Env, startLocalS3, type LocalS3 } from './local-s3.js';

let emu: Emulator;
let s3: LocalS3;
let env: Record<string, string>;

beforeAll(async () => {
  emu = await startEmulator({ s3: false });
  s3 = await startLocalS3(['site', 'shop-eu', 'shop-us', 'guarded', 'iso', 'order', 'limits', 'dry', 'big']);
  env = { ...emu.env(), ...s3Env(s3.endpoint) };
});
afterAll(async () => {
  await s3?.stop();
  await emu?.stop();
});

const deploy = (inputs: Record<string, string | number | boolean>) => runBundle('deploy-static', { inputs, env, timeoutMs: 90_000 });
const writes = (bucket: string) => s3.requests.filter((r) => r.bucket === bucket && ['PUT', 'COPY', 'DELETE', 'MPU'].includes(r.op));

function walk(dir: string, base = dir): string[] {
  return readdirSync(dir).flatMap((n) =>
    statSync(join(dir, n)).isDirectory() ? walk(join(dir, n), base) : [join(dir, n).slice(base.length + 1)],
  );
}

describe('deploy-static against s3rver and the emulator', () => {
  const source = siteCopy();
  let dist: string;

  it('cold upload: stores the exact bytes with the right headers, assets before HTML, then one invalidation', async () => {
    dist = emu.cloudfront.createDistribution();
    s3.reset();
    const run = await deploy({ source, bucket: 'site', prefix: 'app', 'distribution-id': dist });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.outputs).toMatchObject({ uploaded: '8', 'metadata-updated': '0', deleted: '0', unchanged: '0' });
    expect(Number(run.outputs['bytes-uploaded'])).toBe(SITE_FILES.reduce((n, f) => n + statSync(join(source, f)).size, 0));
    const client = s3Client(s3.endpoint);
    for (const f of SITE_FILES) expect((await getBytes(client, 'site', `app/${f}`)).equals(readFileSync(join(source, f))), f).toBe(true);
    const js = await head(client, 'site', 'app/assets/app.3f9a1c.js');
    expect([js.ContentType, js.CacheControl]).toEqual(['text/javascript; charset=utf-8', 'public, max-age=31536000, immutable']);
    const html = await head(client, 'site', 'app/index.html');
    expect([html.ContentType, html.CacheControl]).toEqual(['text/html; charset=utf-8', 'no-cache']);
    expect((await head(client, 'site', 'app/manifest.webmanifest')).ContentType).toBe('application/manifest+json; charset=utf-8');

    const puts = s3.requests.filter((r) => r.op === 'PUT' && !r.key.includes('.deploy-static/'));
    const lastAsset = Math.max(...puts.filter((r) => !/\.html$|\.webmanifest$/.test(r.key)).map((r) => r.seq));
    const firstEntry = Math.min(...puts.filter((r) => /\.html$|\.webmanifest$/.test(r.key)).map((r) => r.seq));
    expect(lastAsset).toBeLessThan(firstEntry);
    const inv = emu.cloudfront.invalidations(dist);
    expect(inv).toHaveLength(1);
    expect(inv[0]!.paths.sort()).toEqual([
      '/',
      '/assets/app.3f9a1c.css',
      '/assets/app.3f9a1c.js',
      '/assets/app.3f9a1c.js.map',
      '/assets/logo.svg',
      '/index.html',
      '/manifest.webmanifest',
      '/robots.txt',
      '/track',
      '/track/',
      '/track/index.html',
    ]);
    expect(run.outputs['invalidation-id']).toBe(inv[0]!.id);
    expect(run.summary).toMatch(/\| s3:\/\/site\/app\/ \| 8 \| 0 \| 0 \| 0 \|/);
    expect(run.summary).toMatch(/Invalidation paths this run: 11 .*first 1,000 paths each month are free/);
  });

  it('no-op after touching every file: 0 uploads, no HEAD per file, no invalidation', async () => {
    const later = new Date(Date.now() + 3600_000);
    for (const f of walk(source)) utimesSync(join(source, f), later, later);
    s3.reset();
    const run = await deploy({ source, bucket: 'site', prefix: 'app', 'distribution-id': dist });
    expect(run.code, run.stdout).toBe(0);
    expect(run.outputs).toMatchObject({
      uploaded: '0',
      'metadata-updated': '0',
      deleted: '0',
      unchanged: '8',
      'bytes-uploaded': '0',
      'invalidation-id': '',
    });
    expect(s3.requests.map((r) => r.op).sort()).toEqual(['GET', 'LIST']);
    expect(emu.cloudfront.invalidations(dist)).toHaveLength(1);
  });

  it('detects a same-size content change and invalidates only that file', async () => {
    const css = join(source, 'assets/app.3f9a1c.css');
    const before = readFileSync(css, 'utf8');
    const after = before.replace('#0b6', '#c30');
    expect(after.length).toBe(before.length);
    writeFileSync(css, after);
    s3.reset();
    const run = await deploy({ source, bucket: 'site', prefix: 'app', 'distribution-id': dist });
    expect(run.outputs).toMatchObject({ uploaded: '1', unchanged: '7' });
    expect((await getBytes(s3Client(s3.endpoint), 'site', 'app/assets/app.3f9a1c.css')).toString()).toBe(after);
    expect(s3.requests.filter((r) => r.op === 'PUT' && !r.key.includes('.deploy-static/')).map((r) => r.key)).toEqual([
      'app/assets/app.3f9a1c.css',
    ]);
    expect(emu.cloudfront.invalidations(dist).at(-1)!.paths).toEqual(['/assets/app.3f9a1c.css']);
  });

  it('applies a header-rule change with CopyObject only, keeping the bytes', async () => {
    s3.reset();
    const run = await deploy({
      source,
      bucket: 'site',
      prefix: 'app',
      'distribution-id': dist,
      headers: '*.svg: Cache-Control: public, max-age=60',
    });
    expect(run.outputs).toMatchObject({ uploaded: '0', 'metadata-updated': '1' });
    // logo.svg has no fingerprint: the new release also keeps a server-side snapshot of it (releases).
    expect(s3.requests.filter((r) => r.op === 'COPY' && !r.key.includes('.deploy-static/')).map((r) => r.key)).toEqual([
      'app/assets/logo.svg',
    ]);
    expect(s3.requests.filter((r) => r.op === 'PUT' && r.key === 'app/assets/logo.svg')).toEqual([]);
    // No HEAD of a site object (the record's ETag is checked once the lock is held).
    expect(s3.count('HEAD', (r) => !r.key.includes('.deploy-static/'))).toBe(0);
    const client = s3Client(s3.endpoint);
    const h = await head(client, 'site', 'app/assets/logo.svg');
    expect([h.CacheControl, h.ContentType]).toEqual(['public, max-age=60', 'image/svg+xml; charset=utf-8']);
    expect((await getBytes(client, 'site', 'app/assets/logo.svg')).equals(readFileSync(join(source, 'assets/logo.svg')))).toBe(true);
    // And it converges: the same rule again changes nothing.
    s3.reset();
    const again = await deploy({
      source,
      bucket: 'site',
      prefix: 'app',
      'distribution-id': dist,
      headers: '*.svg: Cache-Control: public, max-age=60',
    });
    expect(again.outputs).toMatchObject({ uploaded: '0', 'metadata-updated': '0', unchanged: '8' });
    expect(writes('site')).toEqual([]);
  });

  it('dry-run prints and saves the plan and writes nothing', async () => {
    s3.reset();
    const before = emu.cloudfront.invalidations(dist).length;
    writeFileSync(join(source, 'new.txt'), 'new');
    const run = await deploy({
      source,
      bucket: 'site',
      prefix: 'app',
      'distribution-id': dist,
      'dry-run': true,
      headers: '*.svg: Cache-Control: public, max-age=60',
    });
    rmSync(join(source, 'new.txt'));
    expect(run.code).toBe(0);
    expect(run.outputs.uploaded).toBe('1');
    expect(writes('site')).toEqual([]);
    expect(emu.cloudfront.invalidations(dist)).toHaveLength(before);
    const plan = JSON.parse(readFileSync(run.outputs.plan!, 'utf8'));
    expect(plan.targets[0].uploads).toEqual([
      expect.objectContaining({ key: 'app/new.txt', reason: 'new', contentType: 'text/plain; charset=utf-8' }),
    ]);
    expect(plan.targets[0].invalidation.paths).toEqual(['/new.txt']);
    expect(run.stdout).toMatch(/dry-run: nothing was written/);
  });
});

describe('safety', () => {
  it('refuses a missing or empty source before any AWS call', async () => {
    s3.reset();
    const missing = await deploy({ source: 'does-not-exist', bucket: 'site', prefix: 'app' });
    expect(missing.code).toBe(1);
    expect(missing.errors.join('\n')).toMatch(/input 'source'.*does not exist/);
    const empty = siteCopy();
    rmSync(empty, { recursive: true });
    readdirSync(join(empty, '..'));
    const emptyDir = join(empty, '..');
    const run = await deploy({ source: emptyDir, bucket: 'site', prefix: 'app' });
    expect(run.code).toBe(1);
    expect(run.errors.join('\n')).toMatch(/has no files; refusing to deploy an empty site/);
    expect(s3.requests).toEqual([]);
  });

  it('the delete guard stops the run before any write; force-delete lets it through, deleting last', async () => {
    const source = siteCopy();
    const dist = emu.cloudfront.createDistribution();
    expect((await deploy({ source, bucket: 'guarded', 'distribution-id': dist })).code).toBe(0);
    for (const f of SITE_FILES.filter((f) => f !== 'index.html')) rmSync(join(source, f));
    writeFileSync(join(source, 'index.html'), '<p>broken build</p>');
    s3.reset();
    const stopped = await deploy({ source, bucket: 'guarded', 'distribution-id': dist });
    expect(stopped.code).toBe(1);
    expect(stopped.errors.join('\n')).toMatch(/deletes 7 of 8 objects \(ratio 0.88\), more than max-delete-ratio \(0.5\)/);
    expect(writes('guarded')).toEqual([]);
    expect(emu.cloudfront.invalidations(dist)).toHaveLength(1);

    s3.reset();
    emu.resetCounts();
    // keep-releases: 1 so the earlier release's fingerprinted assets are not kept (releases).
    const forced = await deploy({ source, bucket: 'guarded', 'distribution-id': dist, 'force-delete': true, 'keep-releases': 1 });
    expect(forced.code, forced.stdout).toBe(0);
    expect(forced.outputs).toMatchObject({ uploaded: '1', deleted: '7' });
    // The site is the record's head and index.html (release snapshots and file lists aside).
    expect(
      (await keys(s3Client(s3.endpoint), 'guarded')).filter(
        (k) => !k.startsWith('.deploy-static/releases/') && !k.startsWith('.deploy-static/record/'),
      ),
    ).toEqual(['.deploy-static/manifest.json', 'index.html']);
    // Order: the HTML, then the invalidation, then the deletes.
    const htmlPut = s3.requests.find((r) => r.op === 'PUT' && r.key === 'index.html')!;
    const del = s3.requests.find((r) => r.op === 'DELETE')!;
    const create = emu.requests().find((r) => r.operation === 'CreateInvalidation')!;
    expect(htmlPut.at).toBeLessThanOrEqual(create.wallAt);
    expect(create.wallAt).toBeLessThanOrEqual(del.at);
    expect(forced.stdout.indexOf('Phase 3: invalidate')).toBeLessThan(forced.stdout.indexOf('Phase 4: delete'));
  });

  it('never touches keys outside the prefix (app/ vs app2/, other folders)', async () => {
    const client = s3Client(s3.endpoint);
    for (const k of ['app2/index.html', 'app2/old.js', 'other/x.txt', 'app-old.js', 'apple.txt']) await put(client, 'iso', k, 'not ours');
    await put(client, 'iso', 'app/stale.js', 'ours, stale');
    const source = siteCopy();
    s3.reset();
    const run = await deploy({ source, bucket: 'iso', prefix: 'app', 'max-delete-ratio': 1, delete: 'all' });
    expect(run.code, run.stdout).toBe(0);
    expect(run.outputs).toMatchObject({ uploaded: '8', deleted: '1' });
    expect(writes('iso').every((r) => r.op === 'DELETE' || r.key.startsWith('app/'))).toBe(true);
    const all = await keys(client, 'iso');
    for (const k of ['app2/index.html', 'app2/old.js', 'other/x.txt', 'app-old.js', 'apple.txt']) expect(all).toContain(k);
    expect(all).not.toContain('app/stale.js');
    expect(s3.requests.find((r) => r.op === 'LIST')).toBeDefined();
  });

  it('rejects a symlink that leaves the source', async () => {
    const { symlinkSync } = await import('node:fs');
    const source = siteCopy();
    symlinkSync('/etc/hostname', join(source, 'host.txt'));
    s3.reset();
    const run = await deploy({ source, bucket: 'site', prefix: 'app' });
    expect(run.code).toBe(1);
    expect(run.errors.join('\n')).toMatch(/'host.txt' is a symlink that points outside the source folder/);
    expect(writes('site')).toEqual([]);
  });
});

describe('a failed run converges on re-run', () => {
  it('an invalidation that failed after the upload is made by the next run, which uploads nothing', async () => {
    const source = siteCopy();
    const dist = emu.cloudfront.createDistribution();
    expect((await deploy({ source, bucket: 'dry', prefix: 'retry', 'distribution-id': dist })).code).toBe(0);
    writeFileSync(join(source, 'index.html'), readFileSync(join(source, 'index.html'), 'utf8').replace('Delivery', 'Delivery!'));
    emu.faults.set({ serverErrorBurst: 10, operations: ['CloudFront.CreateInvalidation'] });
    const failed = await deploy({ source, bucket: 'dry', prefix: 'retry', 'distribution-id': dist, 'max-attempts': 1 });
    emu.faults.clear();
    expect(failed.code).toBe(1);
    expect(emu.cloudfront.invalidations(dist)).toHaveLength(1);
    // The new HTML is live (and its assets were already there): the old site was never broken.
    expect((await getBytes(s3Client(s3.endpoint), 'dry', 'retry/index.html')).toString()).toContain('Delivery!');
    s3.reset();
    const rerun = await deploy({ source, bucket: 'dry', prefix: 'retry', 'distribution-id': dist });
    expect(rerun.code, rerun.stdout).toBe(0);
    expect(rerun.outputs).toMatchObject({ uploaded: '0', unchanged: '8' });
    expect(emu.cloudfront.invalidations(dist).at(-1)!.paths).toEqual(['/', '/index.html']);
    // And then it is settled: a third run invalidates nothing.
    const third = await deploy({ source, bucket: 'dry', prefix: 'retry', 'distribution-id': dist });
    expect(third.outputs['invalidation-id']).toBe('');
    expect(emu.cloudfront.invalidations(dist)).toHaveLength(2);
  });
});

describe('several targets', () => {
  it('deploys the same build to every bucket/distribution pair', async () => {
    const source = siteCopy();
    const eu = emu.cloudfront.createDistribution();
    const us = emu.cloudfront.createDistribution();
    const run = await deploy({ source, targets: `bucket=shop-eu prefix=app distribution-id=${eu}\nbucket=shop-us distribution-id=${us}` });
    expect(run.code, run.stdout).toBe(0);
    expect(run.outputs.uploaded).toBe('16');
    const client = s3Client(s3.endpoint);
    expect((await keys(client, 'shop-eu')).filter((k) => !k.includes('.deploy-static'))).toEqual(SITE_FILES.map((f) => `app/${f}`).sort());
    expect((await keys(client, 'shop-us')).filter((k) => !k.includes('.deploy-static'))).toEqual([...SITE_FILES].sort());
    const ids = [emu.cloudfront.invalidations(eu)[0]!.id, emu.cloudfront.invalidations(us)[0]!.id];
    expect(run.outputs['invalidation-id']).toBe(ids.join(','));
    expect(run.summary).toMatch(/s3:\/\/shop-eu\/app\//);
    expect(run.summary).toMatch(/s3:\/\/shop-us\//);
  });

  it('refuses targets together with bucket', async () => {
    const run = await deploy({ source: siteCopy(), bucket: 'site', targets: 'bucket=shop-eu' });
    expect(run.code).toBe(1);
    expect(run.errors.join('\n')).toMatch(/Both 'targets' and bucket/);
  });
});

describe('invalidation limits', () => {
  it('collapses many changed paths into folder wildcards, waits for completion with its own poller', async () => {
    const source = siteCopy();
    for (let i = 0; i < 150; i++) writeFileSync(join(source, 'assets', `chunk-${i}.js`), `export const n = ${i};`);
    const dist = emu.cloudfront.createDistribution({ invalidationSeconds: 1 });
    const run = await deploy({ source, bucket: 'limits', 'distribution-id': dist, 'wait-for-invalidation': true });
    expect(run.code, run.stdout).toBe(0);
    const inv = emu.cloudfront.invalidations(dist);
    expect(inv).toHaveLength(1);
    expect(inv[0]!.paths).toContain('/assets/*');
    expect(inv[0]!.paths.length).toBeLessThanOrEqual(100);
    expect(inv[0]!.status).toBe('Completed');
    expect(run.stdout).toMatch(/invalidation I\w+: Completed/);
    expect(run.stdout).toMatch(/paths collapsed to/);
  });

  it('waits out TooManyInvalidationsInProgress when the wildcard budget is used up', async () => {
    // The 15 running invalidations last longer than the bundle's reads of them can move the
    // emulator's clock; the test lets them finish when the bundle says it is backing off.
    const dist = emu.cloudfront.createDistribution({ invalidationSeconds: 600 });
    const { CloudFrontClient, CreateInvalidationCommand } = await import('@aws-sdk/client-cloudfront');
    const cf = new CloudFrontClient({
      endpoint: emu.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
    });
    for (let i = 0; i < 15; i++)
      await cf.send(
        new CreateInvalidationCommand({
          DistributionId: dist,
          InvalidationBatch: { CallerReference: `busy-${i}`, Paths: { Quantity: 1, Items: [`/busy${i}/*`] } },
        }),
      );
    const source = siteCopy();
    let stepped = false;
    const run = await runBundle('deploy-static', {
      inputs: { source, bucket: 'order', 'distribution-id': dist, invalidate: 'all' },
      env,
      timeoutMs: 90_000,
      onSpawn: (child) => {
        let out = '';
        child.stdout?.on('data', (d) => {
          out += d;
          if (!stepped && /too many invalidations in progress/.test(out)) {
            stepped = true;
            emu.clock.advance(600);
          }
        });
      },
    });
    expect(run.code, run.stdout).toBe(0);
    expect(run.stdout).toMatch(/too many invalidations in progress on \w+; retrying in 5 s/);
    expect(emu.cloudfront.invalidations(dist).at(-1)!.paths).toEqual(['/*']);
  });
});

describe('large files', () => {
  it('uploads files over the threshold as multipart with the exact bytes, and a re-run needs no HEAD', async () => {
    const source = siteCopy();
    const big = Buffer.alloc(6 * 1024 * 1024 + 123);
    for (let i = 0; i < big.length; i++) big[i] = (i * 31) % 251;
    writeFileSync(join(source, 'video.bin'), big);
    s3.reset();
    const run = await deploy({ source, bucket: 'big', 'multipart-threshold-mb': 5 });
    expect(run.code, run.stdout).toBe(0);
    expect(s3.count('MPU')).toBeGreaterThanOrEqual(2);
    expect((await getBytes(s3Client(s3.endpoint), 'big', 'video.bin')).equals(big)).toBe(true);
    s3.reset();
    const again = await deploy({ source, bucket: 'big', 'multipart-threshold-mb': 5 });
    expect(again.outputs).toMatchObject({ uploaded: '0', unchanged: '9' });
    expect(s3.count('HEAD')).toBe(0);
    // Without the manifest, only HEADs settle it (the multipart ETag is no MD5): still no upload.
    const { DeleteObjectCommand } = await import('@aws-sdk/client-s3');
    await s3Client(s3.endpoint).send(new DeleteObjectCommand({ Bucket: 'big', Key: '.deploy-static/manifest.json' }));
    s3.reset();
    const lost = await deploy({ source, bucket: 'big', 'multipart-threshold-mb': 5 });
    expect(lost.outputs).toMatchObject({ uploaded: '0', 'metadata-updated': '0', unchanged: '9' });
    expect(s3.count('HEAD')).toBe(9);
  });
});
