/**
 * The bundle under adverse conditions (aliasing, drift, concurrency,
 * failure, rebuilds, shared buckets, corrupt bookkeeping), against s3rver
 * behind the counting proxy, which also models S3 conditional writes
 * (test/emulator/s3-conditional.ts). Every check reads back what S3 stores.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CopyObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../emulator/index.js';
import { runBundle, type RunOptions } from '../helpers/run-bundle.js';
import { getBytes, head, keys, put, s3Client, sigintAtSitePut, siteCopy } from './fixtures.js';
import { s3Env, startLocalS3, type LocalS3 } from './local-s3.js';

let emu: Emulator;
let s3: LocalS3;
let env: Record<string, string>;
const LOCK = '.deploy-static/lock.json';
const RECORD = '.deploy-static/manifest.json';

beforeAll(async () => {
  emu = await startEmulator({ s3: false });
  s3 = await startLocalS3(['alias', 'lock', 'stale', 'cancel', 'drift', 'pend', 'vite', 'root', 'corrupt', 'dots']);
  env = { ...emu.env(), ...s3Env(s3.endpoint) };
});
afterAll(async () => {
  await s3?.stop();
  await emu?.stop();
});

const deploy = (inputs: Record<string, string | number | boolean>, onSpawn?: RunOptions['onSpawn']) =>
  runBundle('deploy-static', { inputs, env, timeoutMs: 90_000, ...(onSpawn ? { onSpawn } : {}) });
const client = () => s3Client(s3.endpoint);
const objectWrites = (bucket: string) =>
  s3.requests.filter((r) => r.bucket === bucket && ['PUT', 'COPY', 'DELETE', 'MPU'].includes(r.op) && !r.key.includes('.deploy-static/'));

/** A build folder with exactly these files. */
function bare(files: Record<string, string>): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'build-')), 'dist');
  for (const [rel, body] of Object.entries(files)) {
    mkdirSync(join(dir, rel, '..'), { recursive: true });
    writeFileSync(join(dir, rel), body);
  }
  return dir;
}

/** The example site plus these files. */
function site(files: Record<string, string>): string {
  const dir = siteCopy();
  for (const [rel, body] of Object.entries(files)) {
    mkdirSync(join(dir, rel, '..'), { recursive: true });
    writeFileSync(join(dir, rel), body);
  }
  return dir;
}

describe('directory symlinks inside the source', () => {
  it('uploads an aliased directory under both names and never deletes the real one; a loop is refused before any write', async () => {
    const source = site({ 'docs/v3/guide.html': '<h1>v3</h1>' });
    expect((await deploy({ source, bucket: 'alias' })).code).toBe(0);
    symlinkSync('v3', join(source, 'docs', 'latest'));
    const run = await deploy({ source, bucket: 'alias' });
    expect(run.code, run.stdout).toBe(0);
    expect(run.outputs).toMatchObject({ uploaded: '1', deleted: '0' });
    expect((await getBytes(client(), 'alias', 'docs/v3/guide.html')).toString()).toBe('<h1>v3</h1>');
    expect((await getBytes(client(), 'alias', 'docs/latest/guide.html')).toString()).toBe('<h1>v3</h1>');

    symlinkSync('..', join(source, 'docs', 'v3', 'up'));
    s3.reset();
    const loop = await deploy({ source, bucket: 'alias' });
    expect(loop.code).toBe(1);
    expect(loop.errors.join('\n')).toMatch(/'docs\/v3\/up' is a symlink to its own ancestor 'docs'/);
    // Only the reads started beside the scan: no lock, no record, no object written.
    expect(s3.requests.filter((r) => r.op !== 'LIST' && r.op !== 'GET')).toEqual([]);
  });
});

describe('the deploy lock', () => {
  it('two overlapping deploys: the second waits, re-plans, and the live HTML only references assets that exist', async () => {
    const a = site({ 'index.html': '<script src="/assets/main-Ab3dEf9h.js"></script>', 'assets/main-Ab3dEf9h.js': 'A' });
    const b = site({ 'index.html': '<script src="/assets/main-Zy8xWv1u.js"></script>', 'assets/main-Zy8xWv1u.js': 'B' });
    // They overlap by events, not by timing: B starts once A holds the lock, and A's uploads are
    // held until B has found the lock taken (its GET of lock.json after the 412; A never reads it).
    let onLockRead!: () => void;
    const lockRead = new Promise<void>((resolve) => (onLockRead = resolve));
    s3.hooks.holdUntil = (r) => {
      if (r.bucket !== 'lock') return undefined;
      if (r.op === 'GET' && r.key === LOCK) onLockRead();
      return r.op === 'PUT' && !r.key.includes('.deploy-static/') ? lockRead : undefined;
    };
    let onLocked!: () => void;
    const locked = new Promise<void>((resolve) => (onLocked = resolve));
    const aRun = deploy({ source: a, bucket: 'lock', concurrency: 1 }, (child) =>
      child.stdout?.on('data', (d: Buffer) => d.toString().includes('acquired') && onLocked()),
    );
    await locked;
    const bRun = runBundle('deploy-static', {
      inputs: { source: b, bucket: 'lock', 'keep-releases': 1 },
      env: { ...env, GITHUB_RUN_ID: '222' },
      timeoutMs: 90_000,
    });
    const [ra, rb] = await Promise.all([aRun, bRun]);
    s3.hooks.holdUntil = undefined;
    expect(ra.code, ra.stdout).toBe(0);
    expect(rb.code, rb.stdout).toBe(0);
    expect(rb.stdout).toMatch(/waiting for the deploy lock s3:\/\/lock\/\.deploy-static\/lock\.json: held by 1234567890-1/);
    expect(rb.stdout).toMatch(/the deploy record of s3:\/\/lock\/ changed while this run waited; planning again/);
    const all = await keys(client(), 'lock');
    const html = (await getBytes(client(), 'lock', 'index.html')).toString();
    const asset = /src="\/(.+?)"/.exec(html)![1]!;
    expect(all).toContain(asset);
    expect(html).toContain('main-Zy8xWv1u.js');
    expect(all).not.toContain('assets/main-Ab3dEf9h.js');
    expect(all).not.toContain(LOCK);
  });

  it('fails clearly, before any write, while another run holds a fresh lock; takes over a stale one', async () => {
    const source = siteCopy();
    const body = (ageMs: number) =>
      JSON.stringify({
        owner: '999-1',
        where: 'https://github.com/acme/other/actions/runs/999',
        acquiredAt: new Date(Date.now() - ageMs).toISOString(),
        heartbeatAt: new Date(Date.now() - ageMs).toISOString(),
      });
    await put(client(), 'stale', LOCK, body(10_000));
    s3.reset();
    const blocked = await deploy({ source, bucket: 'stale', 'lock-wait-seconds': 1 });
    expect(blocked.code).toBe(1);
    expect(blocked.errors.join('\n')).toMatch(
      /Another deploy to s3:\/\/stale\/ is running: 999-1 \(https:\/\/github.com\/acme\/other\/actions\/runs\/999\) holds .*lock-wait-seconds/,
    );
    expect(objectWrites('stale')).toEqual([]);

    // Stale on S3's clock: its LastModified is 6 minutes old (the body's heartbeatAt is the holder's clock, not read).
    await put(client(), 'stale', LOCK, body(0));
    s3.age('stale', LOCK, 6 * 60_000);
    const run = await deploy({ source, bucket: 'stale' });
    expect(run.code, run.stdout).toBe(0);
    // The age is the 6 minutes it was made older plus however long the bundle took to get there: at least 360 s.
    const takeover = run.stdout.match(
      /deploy lock s3:\/\/stale\/\.deploy-static\/lock\.json taken over from 999-1 .* unchanged for (\d+) s on S3's clock/,
    );
    expect(takeover, run.stdout).not.toBeNull();
    expect(Number(takeover![1])).toBeGreaterThanOrEqual(360);
    expect(run.outputs.uploaded).toBe('8');
    expect(await keys(client(), 'stale')).not.toContain(LOCK);
  });

  it('releases the lock on cancel (SIGINT) and the re-run invalidates what the cancelled run uploaded', async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 30; i++) files[`img/pic-${i}.txt`] = `picture ${i}`;
    const source = site(files);
    const dist = emu.cloudfront.createDistribution();
    // The runner's SIGINT arrives once a few uploads have reached S3 (the third site file's PUT),
    // whatever the machine's speed; uploads are held 200 ms so more are still in flight.
    const cancel = sigintAtSitePut(s3, 'cancel', 3);
    const cancelled = await deploy({ source, bucket: 'cancel', 'distribution-id': dist, concurrency: 2 }, cancel.onSpawn);
    const exitedAt = Date.now();
    cancel.stop();
    const sigintAt = cancel.sigintAt();
    expect(cancelled.code).toBe(1);
    expect(sigintAt).toBeGreaterThan(0);
    // Out before the runner's SIGTERM, which comes 7.5 s after SIGINT.
    expect(exitedAt - sigintAt).toBeLessThan(7_500);
    expect(cancelled.stdout).toMatch(/SIGINT: cancelled; releasing the deploy lock/);
    expect(cancelled.errors.join('\n')).toMatch(/the workflow was cancelled\. The deploy lock was released/);
    expect(await keys(client(), 'cancel')).not.toContain(LOCK);
    const record = JSON.parse((await getBytes(client(), 'cancel', RECORD)).toString()) as { pending: string[] };
    expect(record.pending).toHaveLength(38);
    const uploadedBefore = (await keys(client(), 'cancel')).filter((k) => k.startsWith('img/') || k.startsWith('assets/'));
    expect(uploadedBefore.length).toBeGreaterThan(0);

    const rerun = await deploy({ source, bucket: 'cancel', 'distribution-id': dist });
    expect(rerun.code, rerun.stdout).toBe(0);
    const paths = emu.cloudfront.invalidations(dist).at(-1)!.paths;
    for (const k of uploadedBefore)
      expect(paths.includes(`/${k}`) || paths.some((p) => p.endsWith('*') && `/${k}`.startsWith(p.slice(0, -1))), k).toBe(true);
  });
});

describe('drift, failures and rebuilds', () => {
  it('repairs headers edited out of band (same ETag, new LastModified)', async () => {
    const source = siteCopy();
    expect((await deploy({ source, bucket: 'drift' })).code).toBe(0);
    // S3 LastModified has whole-second precision: a console edit comes later than that.
    await new Promise((r) => setTimeout(r, 1100));
    await client().send(
      new CopyObjectCommand({
        Bucket: 'drift',
        Key: 'index.html',
        CopySource: 'drift/index.html',
        MetadataDirective: 'REPLACE',
        ContentType: 'text/html',
        CacheControl: 'public, max-age=86400',
      }),
    );
    const edited = await head(client(), 'drift', 'index.html');
    expect(edited.CacheControl).toBe('public, max-age=86400');
    s3.reset();
    const run = await deploy({ source, bucket: 'drift' });
    expect(run.code, run.stdout).toBe(0);
    expect(run.outputs).toMatchObject({ uploaded: '0', 'metadata-updated': '1' });
    expect(s3.requests.filter((r) => r.op === 'HEAD' && !r.key.includes('.deploy-static/')).map((r) => r.key)).toEqual(['index.html']);
    const fixed = await head(client(), 'drift', 'index.html');
    expect([fixed.CacheControl, fixed.ContentType]).toEqual(['no-cache', 'text/html; charset=utf-8']);
    expect((await getBytes(client(), 'drift', 'index.html')).equals(readFileSync(join(source, 'index.html')))).toBe(true);
  });

  it('a run that failed after uploading some files: the re-run invalidates them', async () => {
    const source = siteCopy();
    const dist = emu.cloudfront.createDistribution();
    expect((await deploy({ source, bucket: 'pend', 'distribution-id': dist })).code).toBe(0);
    writeFileSync(join(source, 'assets/logo.svg'), '<svg xmlns="http://www.w3.org/2000/svg"><circle r="2"/></svg>');
    writeFileSync(join(source, 'index.html'), '<h1>new</h1>');
    s3.hooks.fail = (r) =>
      r.bucket === 'pend' && r.op === 'PUT' && r.key === 'index.html' ? { status: 500, code: 'InternalError' } : undefined;
    const failed = await deploy({ source, bucket: 'pend', 'distribution-id': dist, 'max-attempts': 1 });
    s3.hooks.fail = undefined;
    expect(failed.code).toBe(1);
    expect((await getBytes(client(), 'pend', 'assets/logo.svg')).toString()).toContain('r="2"');
    expect(await keys(client(), 'pend')).not.toContain(LOCK);
    const rerun = await deploy({ source, bucket: 'pend', 'distribution-id': dist });
    expect(rerun.code, rerun.stdout).toBe(0);
    expect(rerun.outputs).toMatchObject({ uploaded: '1' });
    expect(emu.cloudfront.invalidations(dist).at(-1)!.paths.sort()).toEqual(['/', '/assets/logo.svg', '/index.html']);
  });

  it('an ordinary Vite rebuild (both hashed assets renamed) passes the default delete guard', async () => {
    const html = (js: string, css: string) =>
      `<link rel="stylesheet" href="/assets/${css}"><script type="module" src="/assets/${js}"></script>`;
    const v1 = bare({
      'index.html': html('index-C-HkVLXe.js', 'index-BqG5W8cL.css'),
      'assets/index-C-HkVLXe.js': 'v1',
      'assets/index-BqG5W8cL.css': 'v1',
    });
    const v2 = bare({
      'index.html': html('index-Dk8nF2qw.js', 'index-x_9TyZ1p.css'),
      'assets/index-Dk8nF2qw.js': 'v2',
      'assets/index-x_9TyZ1p.css': 'v2',
    });
    expect((await deploy({ source: v1, bucket: 'vite', prefix: 'spa' })).code).toBe(0);
    // keep-releases: 1: the old hashed assets are not kept for a rollback (releases).
    const run = await deploy({ source: v2, bucket: 'vite', prefix: 'spa', 'keep-releases': 1 });
    expect(run.code, run.stdout).toBe(0);
    expect(run.outputs).toMatchObject({ uploaded: '3', deleted: '2' });
    expect((await keys(client(), 'vite')).filter((k) => !k.includes('.deploy-static'))).toEqual([
      'spa/assets/index-Dk8nF2qw.js',
      'spa/assets/index-x_9TyZ1p.css',
      'spa/index.html',
    ]);
    expect((await head(client(), 'vite', 'spa/assets/index-Dk8nF2qw.js')).CacheControl).toBe('public, max-age=31536000, immutable');
  });
});

describe('shared buckets and bookkeeping', () => {
  it("a site at the bucket root never deletes another app's admin/*; delete: all does", async () => {
    for (const k of ['admin/index.html', 'admin/app.js']) await put(client(), 'root', k, 'admin app');
    const source = siteCopy();
    const first = await deploy({ source, bucket: 'root' });
    expect(first.code, first.stdout).toBe(0);
    expect(first.outputs.deleted).toBe('0');
    expect(first.stdout).toMatch(/2 objects under the prefix are not in source and were not written by this action; left in place/);
    expect(first.summary).toMatch(/\*\*Left in place\*\* in s3:\/\/root\/: 2 objects .*`admin\/app.js`/);
    writeFileSync(join(source, 'robots.txt'), 'User-agent: *');
    rmSync(join(source, 'track'), { recursive: true });
    const second = await deploy({ source, bucket: 'root' });
    expect(second.code, second.stdout).toBe(0);
    expect(second.outputs.deleted).toBe('1');
    const all = await keys(client(), 'root');
    expect(all).toEqual(expect.arrayContaining(['admin/app.js', 'admin/index.html']));
    expect(all).not.toContain('track/index.html');
    const wipe = await deploy({ source, bucket: 'root', delete: 'all', 'force-delete': true });
    expect(wipe.outputs.deleted).toBe('2');
    expect(await keys(client(), 'root')).not.toContain('admin/app.js');
  });

  it('a corrupt record stops the run before any write; repair-record rebuilds it and the deploy goes on', async () => {
    const source = siteCopy();
    expect((await deploy({ source, bucket: 'corrupt' })).code).toBe(0);
    const corrupt = '{"version":1,"entries":{"index.html":null},"pending":"index.html"}';
    await put(client(), 'corrupt', RECORD, corrupt);
    writeFileSync(join(source, 'robots.txt'), 'User-agent: *\nDisallow: /private');
    s3.reset();
    const run = await deploy({ source, bucket: 'corrupt' });
    expect(run.code).not.toBe(0);
    expect(run.stdout).toMatch(
      /::error.*The deploy record s3:\/\/corrupt\/\.deploy-static\/manifest\.json is unreadable: entries\.index\.html: .*Nothing was written.*repair-record: true/s,
    );
    expect(s3.requests.filter((r) => r.bucket === 'corrupt' && ['PUT', 'COPY', 'DELETE', 'MPU'].includes(r.op))).toEqual([]);
    expect((await getBytes(client(), 'corrupt', RECORD)).toString()).toBe(corrupt);
    const repaired = await deploy({ source, bucket: 'corrupt', 'repair-record': true });
    expect(repaired.code, repaired.stdout).toBe(0);
    expect(repaired.summary).toMatch(/Deploy record repaired/);
    expect(repaired.outputs.uploaded).toBe('1');
    expect((await getBytes(client(), 'corrupt', 'robots.txt')).toString()).toContain('Disallow: /private');
    const record = JSON.parse((await getBytes(client(), 'corrupt', RECORD)).toString()) as {
      version: number;
      entries: Record<string, unknown>;
    };
    expect(record.version).toBe(3);
    expect(Object.keys(record.entries)).toHaveLength(8);
  });

  it('does not upload .env, .git or .DS_Store unless include-dotfiles', async () => {
    const source = site({
      '.env': 'STRIPE_KEY=sk_live_x',
      '.git/HEAD': 'ref: main',
      'assets/.DS_Store': 'x',
      '.well-known/security.txt': 'Contact: x',
    });
    const run = await deploy({ source, bucket: 'dots' });
    expect(run.code, run.stdout).toBe(0);
    const all = await keys(client(), 'dots');
    expect(all).toContain('.well-known/security.txt');
    expect(all.filter((k) => /(^|\/)\.(env|git|DS_Store)/.test(k))).toEqual([]);
    const opted = await deploy({ source, bucket: 'dots', 'include-dotfiles': true });
    expect(opted.outputs.uploaded).toBe('3');
    expect((await getBytes(client(), 'dots', '.env')).toString()).toBe('STRIPE_KEY=sk_live_x');
  });
});
