/**
 * Releases and rollback, through the bundle against s3rver behind
 * the counting proxy: every check reads back what S3 stores, and "no asset
 * bytes uploaded" is the request log of the proxy, not the action's word.
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
  s3 = await startLocalS3(['rel', 'prune', 'bad', 'gone', 'hand', 'race', 'retry']);
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
const run = (inputs: Record<string, string | number | boolean>, sha = SHA.a, actor = 'alice', runId = '100') =>
  runBundle('deploy-static', { inputs, env: { ...env, GITHUB_SHA: sha, GITHUB_ACTOR: actor, GITHUB_RUN_ID: runId }, timeoutMs: 90_000 });
const client = () => s3Client(s3.endpoint);
const text = async (bucket: string, key: string) => (await getBytes(client(), bucket, key)).toString();
/** PUTs and multipart uploads of site objects (the bookkeeping record is not an asset). */
const uploads = (bucket: string) =>
  s3.requests.filter((r) => r.bucket === bucket && (r.op === 'PUT' || r.op === 'MPU') && !r.key.includes('.deploy-static/'));
const writes = (bucket: string) => s3.requests.filter((r) => r.bucket === bucket && ['PUT', 'COPY', 'DELETE', 'MPU'].includes(r.op));

/** A Vite-like build: HTML pointing at fingerprinted assets, plus a mutable robots.txt. */
function build(tag: string, hash: string): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'rel-')), 'dist');
  const files: Record<string, string> = {
    'index.html': `<!doctype html><title>${tag}</title><script src="/assets/index-${hash}.js"></script><link rel="stylesheet" href="/assets/style-${hash}.css">`,
    'about/index.html': `<h1>about ${tag}</h1><script src="/assets/index-${hash}.js"></script>`,
    [`assets/index-${hash}.js`]: `console.log(${JSON.stringify(tag)})`,
    [`assets/style-${hash}.css`]: `body{content:${JSON.stringify(tag)}}`,
    'assets/logo-Qm4sT7vX.svg': '<svg/>',
    'robots.txt': `# ${tag}`,
  };
  for (const [rel, body] of Object.entries(files)) {
    mkdirSync(join(dir, rel, '..'), { recursive: true });
    writeFileSync(join(dir, rel), body);
  }
  return dir;
}
const referenced = (html: string) => [...html.matchAll(/(?:src|href)="\/(.+?)"/g)].map((m) => m[1]!);

describe('rollback and roll forward', () => {
  it('deploy A, deploy B, roll back to A with CopyObject only, then forward to B by id', async () => {
    const dist = emu.cloudfront.createDistribution();
    s3.reset();
    const a = await run({ source: build('A', 'Ab3dEf9h'), bucket: 'rel', 'distribution-id': dist }, SHA.a);
    expect(a.code, a.stdout).toBe(0);
    expect(a.outputs['release-id']).toMatch(/^aaaaaaa-\d{8}T\d{6}Z$/);
    // The first release copies nothing: its files are live, and copied aside only when overwritten.
    expect(s3.count('COPY', (r) => r.bucket === 'rel')).toBe(0);
    s3.reset();
    const b = await run({ source: build('B', 'Zy8xWv1u'), bucket: 'rel', 'distribution-id': dist }, SHA.b, 'bob', '200');
    expect(b.code, b.stdout).toBe(0);
    // A's three changed entry files are copied aside before B overwrites them; B's own are copied once B is live.
    const copies = s3.requests
      .filter((r) => r.bucket === 'rel' && r.op === 'COPY')
      .map((r) => r.key)
      .sort();
    expect(copies).toEqual(
      ['about/index.html', 'index.html', 'robots.txt']
        .flatMap((rel) => [
          `.deploy-static/releases/${a.outputs['release-id']}/${rel}`,
          `.deploy-static/releases/${b.outputs['release-id']}/${rel}`,
        ])
        .sort(),
    );
    const firstCopyAside = s3.requests.find((r) => r.bucket === 'rel' && r.op === 'COPY')!.seq;
    expect(s3.requests.filter((r) => r.bucket === 'rel' && r.op === 'PUT' && r.key === 'index.html')[0]!.seq).toBeGreaterThan(
      firstCopyAside,
    );
    expect(b.outputs['previous-release-id']).toBe(a.outputs['release-id']);
    // B's deploy kept A's assets: a tab still open on A keeps working.
    expect(await keys(client(), 'rel')).toEqual(
      expect.arrayContaining(['assets/index-Ab3dEf9h.js', 'assets/style-Ab3dEf9h.css', 'assets/index-Zy8xWv1u.js']),
    );
    expect(b.summary).toMatch(/Releases of s3:\/\/rel\//);
    expect(b.summary).toContain('bob (run 200)');
    expect(b.summary).toContain('alice (run 100)');

    s3.reset();
    const back = await run({ 'rollback-to': 'previous', bucket: 'rel', 'distribution-id': dist }, SHA.c, 'carol', '300');
    expect(back.code, back.stdout).toBe(0);
    // A rollback holds the deploy lock like a deploy, and releases it.
    expect(back.stdout).toMatch(/deploy lock s3:\/\/rel\/\.deploy-static\/lock\.json acquired/);
    expect(await keys(client(), 'rel')).not.toContain('.deploy-static/lock.json');
    const html = await text('rel', 'index.html');
    expect(html).toContain('<title>A</title>');
    expect(await text('rel', 'about/index.html')).toContain('about A');
    expect(await text('rel', 'robots.txt')).toBe('# A');
    const live = await keys(client(), 'rel');
    for (const asset of referenced(html)) expect(live).toContain(asset);
    // Headers come back with the bytes (the snapshot was a metadata-preserving copy).
    const h = await head(client(), 'rel', 'index.html');
    expect(h.ContentType).toBe('text/html; charset=utf-8');
    expect(h.CacheControl).toBe('no-cache');
    expect(uploads('rel')).toEqual([]);
    expect(s3.count('COPY', (r) => r.bucket === 'rel' && !r.key.includes('.deploy-static/'))).toBe(3);
    expect(back.outputs).toMatchObject({
      uploaded: '0',
      'bytes-uploaded': '0',
      'metadata-updated': '3',
      'previous-release-id': b.outputs['release-id'],
    });
    // The rollback is a release of A's commit, triggered by carol.
    expect(back.outputs['release-id']).toMatch(/^aaaaaaa-/);
    expect(back.outputs['release-id']).not.toBe(a.outputs['release-id']);
    expect(back.summary).toContain('carol (run 300)');
    expect(back.summary).toContain(`rollback to \`${a.outputs['release-id']}\``);
    expect(emu.cloudfront.invalidations(dist).at(-1)!.paths.sort()).toEqual([
      '/',
      '/about',
      '/about/',
      '/about/index.html',
      '/index.html',
      '/robots.txt',
    ]);

    s3.reset();
    const forward = await run({ 'rollback-to': b.outputs['release-id']!, bucket: 'rel', 'distribution-id': dist }, SHA.c, 'carol', '301');
    expect(forward.code, forward.stdout).toBe(0);
    const htmlB = await text('rel', 'index.html');
    expect(htmlB).toContain('<title>B</title>');
    const liveB = await keys(client(), 'rel');
    for (const asset of referenced(htmlB)) expect(liveB).toContain(asset);
    expect(uploads('rel')).toEqual([]);
    expect(forward.outputs['release-id']).toMatch(/^bbbbbbb-/);

    // A deploy after rollbacks plans against the restored state: nothing to upload.
    s3.reset();
    const again = await run({ source: build('B', 'Zy8xWv1u'), bucket: 'rel', 'distribution-id': dist }, SHA.b);
    expect(again.code, again.stdout).toBe(0);
    expect(again.outputs).toMatchObject({ uploaded: '0', deleted: '0', 'release-id': forward.outputs['release-id'] });
  });
});

describe('keep-releases', () => {
  it('prunes releases beyond keep-releases: their snapshots and assets go, kept ones stay restorable', async () => {
    const ids: string[] = [];
    for (const [tag, hash, sha] of [
      ['A', 'Ab3dEf9h', SHA.a],
      ['B', 'Zy8xWv1u', SHA.b],
      ['C', 'Cc7dEe2f', SHA.c],
    ] as const) {
      // Copies a failed run made before it could record its release: a folder no release points at.
      if (tag === 'C')
        await client().send(
          new PutObjectCommand({
            Bucket: 'prune',
            Key: '.deploy-static/releases/0000000-20261127T000000Z/index.html',
            Body: Buffer.from('orphan'),
          }),
        );
      const r = await run({ source: build(tag, hash), bucket: 'prune', 'keep-releases': 2 }, sha);
      expect(r.code, r.stdout).toBe(0);
      ids.push(r.outputs['release-id']!);
    }
    const all = await keys(client(), 'prune');
    // A (third-newest) is gone: its assets and its snapshot copies; B's are kept.
    expect(all).not.toContain('assets/index-Ab3dEf9h.js');
    expect(all.filter((k) => k.includes(ids[0]!))).toEqual([]);
    expect(all.filter((k) => k.includes('0000000-20261127T000000Z'))).toEqual([]);
    expect(all).toContain('assets/index-Zy8xWv1u.js');
    expect(all).toContain(`.deploy-static/releases/${ids[1]}/index.html`);
    // The shared, unchanged logo keeps one live copy.
    expect(all).toContain('assets/logo-Qm4sT7vX.svg');

    s3.reset();
    const gone = await run({ 'rollback-to': ids[0]!, bucket: 'prune' });
    expect(gone.code).toBe(1);
    expect(gone.errors.join('\n')).toContain(`unknown release '${ids[0]}'. Known releases, newest first: ${ids[2]} (`);
    expect(gone.errors.join('\n')).toContain(ids[1]!);
    expect(writes('prune')).toEqual([]);

    const back = await run({ 'rollback-to': 'previous', bucket: 'prune', 'keep-releases': 2 });
    expect(back.code, back.stdout).toBe(0);
    expect(await text('prune', 'index.html')).toContain('<title>B</title>');
  });
});

describe('bad input and refusals, before any write', () => {
  it('rollback-to with source, and rollback-to previous with one recorded release', async () => {
    const both = await run({ 'rollback-to': 'previous', source: build('A', 'Ab3dEf9h'), bucket: 'bad' });
    expect(both.code).toBe(1);
    expect(both.errors.join('\n')).toMatch(/'rollback-to' and 'source' were both set/);

    const first = await run({ source: build('A', 'Ab3dEf9h'), bucket: 'bad' }, SHA.a);
    expect(first.code, first.stdout).toBe(0);
    const only = await run({ 'rollback-to': 'previous', bucket: 'bad' });
    expect(only.code).toBe(1);
    expect(only.errors.join('\n')).toMatch(/only one recorded release/);
  });

  it('a dry-run rollback, and a rollback to a release whose assets were removed by hand', async () => {
    const first = await run({ source: build('A', 'Ab3dEf9h'), bucket: 'gone' }, SHA.a);
    expect(first.code, first.stdout).toBe(0);
    expect((await run({ source: build('B', 'Zy8xWv1u'), bucket: 'gone' }, SHA.b)).code).toBe(0);

    s3.reset();
    const dry = await run({ 'rollback-to': 'previous', bucket: 'gone', 'dry-run': true });
    expect(dry.code, dry.stdout).toBe(0);
    expect(dry.summary).toMatch(/Objects this rollback would change/);
    expect(dry.summary).toContain(`.deploy-static/releases/${first.outputs['release-id']}/index.html\` → \`index.html\``);
    expect(writes('gone')).toEqual([]);

    await client().send(new DeleteObjectCommand({ Bucket: 'gone', Key: 'assets/index-Ab3dEf9h.js' }));
    s3.reset();
    const refused = await run({ 'rollback-to': first.outputs['release-id']!, bucket: 'gone' });
    expect(refused.code).toBe(1);
    expect(refused.errors.join('\n')).toMatch(/cannot be restored: 1 of its files are gone from the bucket: assets\/index-Ab3dEf9h\.js/);
    expect(writes('gone')).toEqual([]);
    expect(await text('gone', 'index.html')).toContain('<title>B</title>');
  });
});

describe('changes made by hand', () => {
  it('a first-release file edited in the bucket before the next deploy is not kept: the deploy warns, the rollback refuses and names it', async () => {
    const a = await run({ source: build('A', 'Ab3dEf9h'), bucket: 'hand' }, SHA.a);
    expect(a.code, a.stdout).toBe(0);
    await client().send(
      new PutObjectCommand({ Bucket: 'hand', Key: 'robots.txt', Body: Buffer.from('# edited in the console'), ContentType: 'text/plain' }),
    );
    const b = await run({ source: build('B', 'Zy8xWv1u'), bucket: 'hand' }, SHA.b);
    expect(b.code, b.stdout).toBe(0);
    expect(b.stdout).toMatch(
      new RegExp(`::warning.*1 files of release ${a.outputs['release-id']} were changed outside deploy-static.*: robots\\.txt`),
    );
    s3.reset();
    const back = await run({ 'rollback-to': 'previous', bucket: 'hand' });
    expect(back.code).toBe(1);
    expect(back.errors.join('\n')).toMatch(/cannot be restored: 1 of its files are gone from the bucket: robots\.txt\./);
    expect(writes('hand')).toEqual([]);
    expect(await text('hand', 'index.html')).toContain('<title>B</title>');
  });

  it('another actor overwrites a first-release file after the listing, before the copy aside: the copy is refused (412), the deploy goes on and warns', async () => {
    const a = await run({ source: build('A', 'Ab3dEf9h'), bucket: 'race' }, SHA.a);
    expect(a.code, a.stdout).toBe(0);
    // When the copy aside of robots.txt arrives, someone writes robots.txt first; the copy goes on 1 s later.
    let edit: Promise<unknown> | undefined;
    s3.hooks.delayMs = (r) => {
      if (r.bucket !== 'race' || r.op !== 'COPY' || !r.key.endsWith('/robots.txt') || edit) return 0;
      edit = client().send(new PutObjectCommand({ Bucket: 'race', Key: 'robots.txt', Body: Buffer.from('# written by another actor') }));
      return 1000;
    };
    try {
      const b = await run({ source: build('B', 'Zy8xWv1u'), bucket: 'race' }, SHA.b);
      expect(b.code, b.stdout).toBe(0);
      expect(edit).toBeDefined();
      expect(b.stdout).toMatch(
        new RegExp(`::warning.*1 files of release ${a.outputs['release-id']} were changed outside deploy-static.*: robots\\.txt`),
      );
      // The copies aside that still had A's version went through.
      expect(await text('race', `.deploy-static/releases/${a.outputs['release-id']}/index.html`)).toContain('<title>A</title>');
      expect(await text('race', 'robots.txt')).toBe('# B');
    } finally {
      s3.hooks.delayMs = undefined;
    }
    const back = await run({ 'rollback-to': 'previous', bucket: 'race' });
    expect(back.code).toBe(1);
    expect(back.errors.join('\n')).toMatch(/cannot be restored: 1 of its files are gone from the bucket: robots\.txt\./);
  });

  it('a deploy that fails after copying the first release aside, then its re-run: the rollback still restores the first release', async () => {
    const a = await run({ source: build('A', 'Ab3dEf9h'), bucket: 'retry' }, SHA.a);
    expect(a.code, a.stdout).toBe(0);
    // B's first write of index.html is refused (not retried by the SDK): the run fails after A's files were copied aside.
    let refused = 0;
    s3.hooks.fail = (r) =>
      r.bucket === 'retry' && r.op === 'PUT' && r.key === 'index.html' && refused++ === 0
        ? { status: 403, code: 'AccessDenied' }
        : undefined;
    try {
      const failed = await run({ source: build('B', 'Zy8xWv1u'), bucket: 'retry' }, SHA.b);
      expect(failed.code).toBe(1);
      expect(failed.stdout).toMatch(/copied aside/);
    } finally {
      s3.hooks.fail = undefined;
    }
    expect(await text('retry', 'index.html')).toContain('<title>A</title>');
    const b = await run({ source: build('B', 'Zy8xWv1u'), bucket: 'retry' }, SHA.b);
    expect(b.code, b.stdout).toBe(0);
    expect(await text('retry', 'index.html')).toContain('<title>B</title>');
    const back = await run({ 'rollback-to': a.outputs['release-id']!, bucket: 'retry' });
    expect(back.code, back.stdout).toBe(0);
    expect(await text('retry', 'index.html')).toContain('<title>A</title>');
    expect(await text('retry', 'robots.txt')).toBe('# A');
    const live = await keys(client(), 'retry');
    for (const asset of referenced(await text('retry', 'index.html'))) expect(live).toContain(asset);
  });
});
