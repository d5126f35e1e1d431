/**
 * What the bundle exposes and keeps, through the bundle against s3rver behind
 * the counting proxy and the emulator's CloudFront: cache lifetimes of
 * hand-named files, every check read back from what S3 stores.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../emulator/index.js';
import { runBundle } from '../helpers/run-bundle.js';
import { getBytes, head, keys, s3Client } from './fixtures.js';
import { s3Env, startLocalS3, type LocalS3 } from './local-s3.js';

let emu: Emulator;
let s3: LocalS3;
let env: Record<string, string>;

beforeAll(async () => {
  emu = await startEmulator({ s3: false });
  s3 = await startLocalS3(['names', 'spa', 'plain', 'precompressed', 'leak', 'exposed', 'routed', 'kms'], { kmsBuckets: ['kms'] });
  env = { ...emu.env(), ...s3Env(s3.endpoint) };
});
afterAll(async () => {
  await s3?.stop();
  await emu?.stop();
});

const SHA = {
  a: 'aaaaaaa1111111111111111111111111111111111',
  b: 'bbbbbbb2222222222222222222222222222222222',
  c: 'ccccccc3333333333333333333333333333333333',
};
const run = (inputs: Record<string, string | number | boolean>, sha = SHA.a) =>
  runBundle('deploy-static', { inputs, env: { ...env, GITHUB_SHA: sha, GITHUB_ACTOR: 'alice', GITHUB_RUN_ID: '100' }, timeoutMs: 90_000 });
const client = () => s3Client(s3.endpoint);
const text = async (bucket: string, key: string) => (await getBytes(client(), bucket, key)).toString();

/** A build folder with exactly these files. */
function build(files: Record<string, string>): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'surface-')), 'dist');
  for (const [rel, body] of Object.entries(files)) {
    mkdirSync(join(dir, rel, '..'), { recursive: true });
    writeFileSync(join(dir, rel), body);
  }
  return dir;
}

describe('versioned names are not fingerprints', () => {
  it('caches a versioned PDF briefly and rolls it back; Next.js and Nuxt outputs are immutable', async () => {
    const files = (tag: string) => ({
      'index.html': `<h1>${tag}</h1><script src="/_nuxt/BkxZ5Le2.js"></script><link rel="stylesheet" href="/_next/static/css/3f4a9b1c2d3e4f50.css">`,
      '_nuxt/BkxZ5Le2.js': 'console.log(1)',
      '_next/static/css/3f4a9b1c2d3e4f50.css': 'body{}',
      'docs/user-guide-v2.pdf': `guide ${tag}`,
      'data/covid-19-cases.csv': `cases ${tag}`,
    });
    const a = await run({ source: build(files('A')), bucket: 'names' }, SHA.a);
    expect(a.code, a.stdout).toBe(0);
    expect((await head(client(), 'names', 'docs/user-guide-v2.pdf')).CacheControl).toBe('public, max-age=3600');
    expect((await head(client(), 'names', 'data/covid-19-cases.csv')).CacheControl).toBe('public, max-age=3600');
    expect((await head(client(), 'names', '_nuxt/BkxZ5Le2.js')).CacheControl).toBe('public, max-age=31536000, immutable');
    expect((await head(client(), 'names', '_next/static/css/3f4a9b1c2d3e4f50.css')).CacheControl).toBe(
      'public, max-age=31536000, immutable',
    );

    const b = await run({ source: build(files('B')), bucket: 'names' }, SHA.b);
    expect(b.code, b.stdout).toBe(0);
    expect(await text('names', 'docs/user-guide-v2.pdf')).toBe('guide B');

    // The mutable files were kept aside with release A, so the rollback brings their old bytes back.
    const back = await run({ 'rollback-to': 'previous', bucket: 'names' }, SHA.c);
    expect(back.code, back.stdout + back.errors.join('\n')).toBe(0);
    expect(await text('names', 'docs/user-guide-v2.pdf')).toBe('guide A');
    expect(await text('names', 'data/covid-19-cases.csv')).toBe('cases A');
    expect(await text('names', 'index.html')).toMatch(/<h1>A<\/h1>/);
  });
});

describe('SPA deep links', () => {
  const spaBuild = (tag: string) =>
    build({
      'index.html': `<h1>${tag}</h1><script src="/assets/app-${tag === 'A' ? 'Ab3dEf9h' : 'Zy8xWv1u'}.js"></script>`,
      [`assets/app-${tag === 'A' ? 'Ab3dEf9h' : 'Zy8xWv1u'}.js`]: tag,
    });
  const origin = (bucket: string) => [{ id: 's3', domainName: `${bucket}.s3.eu-west-1.amazonaws.com` }];

  it('a deploy and a rollback that change the page a 404 error response serves invalidate /*, and the summary says why', async () => {
    const dist = emu.cloudfront.createDistribution({
      origins: origin('spa'),
      errorResponses: [
        { errorCode: 404, responsePagePath: '/index.html', responseCode: '200', errorCachingMinTTL: 86400 },
        { errorCode: 403, responsePagePath: '/index.html', responseCode: '200', errorCachingMinTTL: 86400 },
      ],
    });
    expect((await run({ source: spaBuild('A'), bucket: 'spa', 'distribution-id': dist }, SHA.a)).code).toBe(0);
    const b = await run({ source: spaBuild('B'), bucket: 'spa', 'distribution-id': dist }, SHA.b);
    expect(b.code, b.stdout).toBe(0);
    expect(emu.cloudfront.invalidations(dist).at(-1)!.paths).toEqual(['/*']);
    expect(b.summary).toMatch(
      /\/index\.html changed and the distribution serves it for 403\/404 \(custom error response, cached 86400 s per URL\)/,
    );

    const back = await run({ 'rollback-to': 'previous', bucket: 'spa', 'distribution-id': dist }, SHA.c);
    expect(back.code, back.stdout).toBe(0);
    expect(await text('spa', 'index.html')).toMatch(/<h1>A<\/h1>/);
    expect(emu.cloudfront.invalidations(dist).at(-1)!.paths).toEqual(['/*']);
    expect(back.summary).toMatch(/deep links cached with the old page are only reached by \/\*/);
  });

  it('without such an error response the same deploy invalidates only the changed paths', async () => {
    const dist = emu.cloudfront.createDistribution({ origins: origin('plain') });
    expect((await run({ source: spaBuild('A'), bucket: 'plain', 'distribution-id': dist }, SHA.a)).code).toBe(0);
    const b = await run({ source: spaBuild('B'), bucket: 'plain', 'distribution-id': dist }, SHA.b);
    expect(b.code, b.stdout).toBe(0);
    expect(emu.cloudfront.invalidations(dist).at(-1)!.paths.sort()).toEqual(['/', '/index.html']);
  });
});

describe('pre-compressed entry files', () => {
  it('index.html.br and index.html.gz are entry files: no-cache, uploaded after the assets they reference', async () => {
    const html = '<script src="/assets/app-Ab3dEf9h.js"></script>';
    s3.reset();
    const run1 = await run({
      source: build({ 'index.html': html, 'index.html.br': `br:${html}`, 'index.html.gz': `gz:${html}`, 'assets/app-Ab3dEf9h.js': 'A' }),
      bucket: 'precompressed',
    });
    expect(run1.code, run1.stdout).toBe(0);
    for (const key of ['index.html.br', 'index.html.gz'])
      expect((await head(client(), 'precompressed', key)).CacheControl).toBe('no-cache');
    const puts = s3.requests.filter((r) => r.bucket === 'precompressed' && r.op === 'PUT' && !r.key.includes('.deploy-static/'));
    const seq = (key: string) => puts.find((r) => r.key === key)!.seq;
    for (const key of ['index.html', 'index.html.br', 'index.html.gz']) expect(seq(key)).toBeGreaterThan(seq('assets/app-Ab3dEf9h.js'));
  });
});

describe('purge', () => {
  it('removes a leaked file from the live site, the release snapshots and the record; a rollback does not bring it back', async () => {
    const dist = emu.cloudfront.createDistribution({ origins: [{ id: 's3', domainName: 'leak.s3.eu-west-1.amazonaws.com' }] });
    const page = (tag: string) => `<h1>${tag}</h1><script src="/assets/app-Ab3dEf9h.js"></script>`;
    // Release A ships config/leak.json with a key; release B no longer has it.
    const a = await run(
      {
        source: build({ 'index.html': page('A'), 'assets/app-Ab3dEf9h.js': 'A', 'config/leak.json': '{"apiKey":"sk_live_123"}' }),
        bucket: 'leak',
        'distribution-id': dist,
      },
      SHA.a,
    );
    expect(a.code, a.stdout).toBe(0);
    const b = await run(
      { source: build({ 'index.html': page('B'), 'assets/app-Ab3dEf9h.js': 'A' }), bucket: 'leak', 'distribution-id': dist },
      SHA.b,
    );
    expect(b.code, b.stdout).toBe(0);
    const kept = (await keys(client(), 'leak')).filter((k) => k.endsWith('leak.json'));
    expect(kept, 'release A keeps a snapshot copy of the leaked file').toEqual([
      `.deploy-static/releases/${a.outputs['release-id']}/config/leak.json`,
    ]);
    // It is also still live by hand (a re-upload, another tool): purge removes it there too.
    await client().send(new PutObjectCommand({ Bucket: 'leak', Key: 'config/leak.json', Body: '{"apiKey":"sk_live_123"}' }));

    const purge = await run({ purge: 'leak.json', bucket: 'leak', 'distribution-id': dist }, SHA.c);
    expect(purge.code, purge.stdout + purge.errors.join('\n')).toBe(0);
    expect((await keys(client(), 'leak')).filter((k) => k.includes('leak'))).toEqual([]);
    expect(purge.outputs.deleted).toBe('2');
    expect(emu.cloudfront.invalidations(dist).at(-1)!.paths).toEqual(['/config/leak.json']);
    expect(purge.summary).toMatch(/config\/leak\.json/);
    // Neither the record's head nor any release file list names it any more.
    const record = (await keys(client(), 'leak')).filter(
      (k) => k.startsWith('.deploy-static/') && !k.startsWith('.deploy-static/releases/'),
    );
    expect(record).toContain('.deploy-static/manifest.json');
    for (const k of record) expect(await text('leak', k), k).not.toMatch(/leak\.json/);

    const back = await run({ 'rollback-to': a.outputs['release-id']!, bucket: 'leak', 'distribution-id': dist }, SHA.c);
    expect(back.code, back.stdout + back.errors.join('\n')).toBe(0);
    expect(await text('leak', 'index.html')).toMatch(/<h1>A<\/h1>/);
    expect((await keys(client(), 'leak')).filter((k) => k.includes('leak'))).toEqual([]);
  });

  it('is refused together with source, before any write', async () => {
    s3.reset();
    const both = await run({ purge: 'leak.json', source: build({ 'index.html': 'x' }), bucket: 'leak' });
    expect(both.code).toBe(1);
    expect(both.errors.join('\n')).toMatch(/'purge' was set together with 'source'/);
    expect(s3.requests).toEqual([]);
  });
});

describe('bookkeeping served by the distribution', () => {
  const site = (tag: string) => build({ 'index.html': `<h1>${tag}</h1>`, 'robots.txt': tag });

  it('says once, in the summary and as a warning, that the record and snapshots are public, naming the bucket-policy fix', async () => {
    const dist = emu.cloudfront.createDistribution({
      origins: [{ id: 's3', domainName: 'exposed.s3.eu-west-1.amazonaws.com', originPath: '/app' }],
    });
    expect((await run({ source: site('A'), bucket: 'exposed', prefix: 'app', 'distribution-id': dist })).code).toBe(0);
    const b = await run({ source: site('B'), bucket: 'exposed', prefix: 'app', 'distribution-id': dist }, SHA.b);
    expect(b.code, b.stdout).toBe(0);
    const said = b.summary.match(/serves the deploy record, lock and release snapshots/g) ?? [];
    expect(said).toHaveLength(1);
    expect(b.summary).toMatch(/at \/\.deploy-static\/manifest\.json .*arn:aws:s3:::exposed\/app\/\.deploy-static\/\*/);
    expect(b.stdout).toMatch(/::warning[^\n]*serves the deploy record/);
  });

  it('says nothing when a cache behaviour sends /.deploy-static/* to another origin', async () => {
    const dist = emu.cloudfront.createDistribution({
      origins: [
        { id: 's3', domainName: 'routed.s3.eu-west-1.amazonaws.com' },
        { id: 'api', domainName: 'api.example.com' },
      ],
      behaviors: [{ pathPattern: '/.deploy-static/*', targetOriginId: 'api' }],
    });
    expect((await run({ source: site('A'), bucket: 'routed', 'distribution-id': dist })).code).toBe(0);
    const b = await run({ source: site('B'), bucket: 'routed', 'distribution-id': dist }, SHA.b);
    expect(b.code, b.stdout).toBe(0);
    expect(b.summary + b.stdout).not.toMatch(/serves the deploy record/);
  });
});

describe('SSE-KMS buckets', () => {
  it('an ETag that is not the MD5 does not make an unchanged file look changed: compared by the MD5 stored with the object', async () => {
    const files = {
      'index.html': '<h1>kms</h1><script src="/assets/app-Ab3dEf9h.js"></script>',
      'assets/app-Ab3dEf9h.js': 'A',
      'robots.txt': 'User-agent: *',
    };
    const first = await run({ source: build(files), bucket: 'kms' });
    expect(first.code, first.stdout).toBe(0);
    // Without a record to vouch for the objects (lost, or a first run of this action over them) only S3 can tell.
    await client().send(new DeleteObjectCommand({ Bucket: 'kms', Key: '.deploy-static/manifest.json' }));
    s3.reset();
    const again = await run({ source: build(files), bucket: 'kms' });
    expect(again.code, again.stdout).toBe(0);
    expect(again.outputs).toMatchObject({ uploaded: '0', unchanged: '3' });
    expect(s3.requests.filter((r) => r.op === 'PUT' && !r.key.includes('.deploy-static/'))).toEqual([]);
  });
});
