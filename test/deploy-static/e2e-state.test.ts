/**
 * The deploy state (record head and release file lists, lock, release snapshots) in another bucket
 * (state-bucket / state-prefix), through the bundle against s3rver behind the
 * counting proxy: the site bucket holds the site and nothing else, and
 * rollback and purge work from the state bucket.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
  s3 = await startLocalS3(['web', 'web-state', 'bad-in', 'big', 'big-state']);
  env = { ...emu.env(), ...s3Env(s3.endpoint) };
});
afterAll(async () => {
  await s3?.stop();
  await emu?.stop();
});

const STATE = { bucket: 'web', prefix: 'app', 'state-bucket': 'web-state', 'state-prefix': 'sites/web/app' };
const run = (inputs: Record<string, string | number | boolean>, sha: string, runId: string) =>
  runBundle('deploy-static', { inputs, env: { ...env, GITHUB_SHA: sha, GITHUB_RUN_ID: runId }, timeoutMs: 90_000 });
const client = () => s3Client(s3.endpoint);
const text = async (bucket: string, key: string) => (await getBytes(client(), bucket, key)).toString();

/** A build whose HTML points at fingerprinted assets; `leak` adds a config file with a key in it. */
function build(tag: string, hash: string, leak: boolean): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'state-')), 'dist');
  const files: Record<string, string> = {
    'index.html': `<!doctype html><title>${tag}</title><script src="/app/assets/index-${hash}.js"></script>`,
    [`assets/index-${hash}.js`]: `console.log(${JSON.stringify(tag)})`,
    'robots.txt': `# ${tag}`,
    ...(leak ? { 'config/leak.json': '{"key":"sk_live_123"}' } : {}),
  };
  for (const [rel, body] of Object.entries(files)) {
    mkdirSync(join(dir, rel, '..'), { recursive: true });
    writeFileSync(join(dir, rel), body);
  }
  return dir;
}

describe('state-bucket and state-prefix', () => {
  it('keeps record, lock and snapshots in the state bucket; rollback and purge work from there', async () => {
    const dist = emu.cloudfront.createDistribution();
    const a = await run({ ...STATE, source: build('A', 'Ab3dEf9h', true), 'distribution-id': dist }, 'a'.repeat(40), '1');
    expect(a.code, a.stdout + a.stderr).toBe(0);
    const b = await run({ ...STATE, source: build('B', 'Zy8xWv1u', false), 'distribution-id': dist }, 'b'.repeat(40), '2');
    expect(b.code, b.stdout + b.stderr).toBe(0);

    // The site bucket holds the site only: no record, no lock, no snapshot anywhere in it.
    const site = await keys(client(), 'web');
    expect(
      site.filter((k) => k.includes('.deploy-static') || k.includes('manifest.json') || k.includes('releases/') || k.includes('record/')),
    ).toEqual([]);
    expect(site).toContain('app/index.html');
    const state = await keys(client(), 'web-state');
    expect(state).toContain('sites/web/app/manifest.json');
    expect(state).not.toContain('sites/web/app/lock.json');
    // The record's head names one content-addressed file list per release, stored beside it in the state bucket.
    const head = JSON.parse(await text('web-state', 'sites/web/app/manifest.json')) as { releases: { files: { sha256: string } }[] };
    const lists = head.releases.map((r) => `sites/web/app/record/${r.files.sha256}.json`);
    expect(lists).toHaveLength(2);
    expect(state.filter((k) => k.startsWith('sites/web/app/record/')).sort()).toEqual([...new Set(lists)].sort());
    // A's entry files and its removed leak.json were copied aside before B overwrote or deleted them.
    const aId = a.outputs['release-id']!;
    expect(state).toContain(`sites/web/app/releases/${aId}/index.html`);
    expect(state).toContain(`sites/web/app/releases/${aId}/config/leak.json`);
    expect(state.every((k) => k.startsWith('sites/web/app/'))).toBe(true);
    // State elsewhere is not behind the distribution: no exposure warning.
    expect(b.summary).not.toMatch(/serves the deploy record/);

    // Rollback restores A from the state bucket's snapshots.
    s3.reset();
    const back = await run({ ...STATE, 'rollback-to': 'previous', 'distribution-id': dist }, 'c'.repeat(40), '3');
    expect(back.code, back.stdout + back.stderr).toBe(0);
    expect(await text('web', 'app/index.html')).toContain('<title>A</title>');
    expect(await text('web', 'app/config/leak.json')).toContain('sk_live_123');
    expect(s3.requests.filter((r) => r.op === 'COPY' && r.bucket === 'web').map((r) => r.key)).toContain('app/index.html');

    // Purge removes leak.json from the live site and from every snapshot in the state bucket.
    const purge = await run({ ...STATE, purge: 'leak.json', 'distribution-id': dist }, 'd'.repeat(40), '4');
    expect(purge.code, purge.stdout + purge.stderr).toBe(0);
    expect((await keys(client(), 'web')).filter((k) => k.endsWith('leak.json'))).toEqual([]);
    expect((await keys(client(), 'web-state')).filter((k) => k.endsWith('leak.json'))).toEqual([]);
    expect(await text('web-state', 'sites/web/app/manifest.json')).not.toContain('leak.json');
    const listsAfter = (await keys(client(), 'web-state')).filter((k) => k.startsWith('sites/web/app/record/'));
    expect(listsAfter.length).toBeGreaterThan(0);
    for (const k of listsAfter) expect(await text('web-state', k)).not.toContain('leak.json');
    expect((await keys(client(), 'web')).filter((k) => k.includes('.deploy-static'))).toEqual([]);
  });

  it.each([
    [{ 'state-bucket': 'Bad_Bucket' }, /state-bucket.*not an S3 bucket name/s],
    [{ 'state-bucket': 'bad-in', 'state-prefix': 'x/../y' }, /state-prefix.*'\.\.'/s],
    [{ 'state-prefix': 'site' }, /contains the site s3:\/\/bad-in\/site\/sub\//],
  ])('refuses %o before any request, naming the input and the fix', async (state, message) => {
    s3.reset();
    const r = await run({ bucket: 'bad-in', prefix: 'site/sub', source: build('A', 'Ab3dEf9h', false), ...state }, 'a'.repeat(40), '9');
    expect(r.code).toBe(1);
    expect(r.errors.join('\n')).toMatch(message);
    expect(r.errors.join('\n')).toMatch(/state-(bucket|prefix)/);
    expect(s3.requests).toEqual([]);
  });

  it('copies objects above the CopyObject limit with UploadPartCopy: snapshots, restores and header-only changes keep the bytes', async () => {
    // The test S3's CopyObject limit (5 GiB in S3) lowered to 64 KiB, so 200 KiB files take the multipart path.
    s3.copyLimit = 64 * 1024;
    const bytes = { A: randomBytes(200 * 1024), B: randomBytes(200 * 1024) };
    const site = (tag: 'A' | 'B') => {
      const dir = join(mkdtempSync(join(tmpdir(), 'big-')), 'dist');
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'index.html'), `<title>${tag}</title>`);
      writeFileSync(join(dir, 'video.bin'), bytes[tag]);
      return dir;
    };
    const where = { bucket: 'big', 'state-bucket': 'big-state' };
    try {
      const a = await run({ ...where, source: site('A') }, 'a'.repeat(40), '11');
      expect(a.code, a.stdout + a.stderr).toBe(0);
      s3.reset();
      const b = await run({ ...where, source: site('B') }, 'b'.repeat(40), '12');
      expect(b.code, b.stdout + b.stderr).toBe(0);
      // A's video.bin was copied aside in parts before B overwrote it: the snapshot holds A's exact bytes.
      const aId = a.outputs['release-id']!;
      expect((await getBytes(client(), 'big-state', `.deploy-static/releases/${aId}/video.bin`)).equals(bytes.A)).toBe(true);
      expect(s3.count('MPU', (r) => r.bucket === 'big-state' && r.key.endsWith('video.bin'))).toBeGreaterThanOrEqual(2);
      expect(s3.count('COPY', (r) => r.bucket === 'big-state' && r.key.endsWith('video.bin'))).toBeGreaterThanOrEqual(4);

      const back = await run({ ...where, 'rollback-to': 'previous' }, 'c'.repeat(40), '13');
      expect(back.code, back.stdout + back.stderr).toBe(0);
      expect((await getBytes(client(), 'big', 'video.bin')).equals(bytes.A)).toBe(true);

      // A header-only change of the large file: copied onto itself in parts with the new header.
      const hdr = await run({ ...where, source: site('A'), headers: 'video.bin: Cache-Control: max-age=60' }, 'd'.repeat(40), '14');
      expect(hdr.code, hdr.stdout + hdr.stderr).toBe(0);
      expect(hdr.outputs.uploaded).toBe('0');
      const h = await head(client(), 'big', 'video.bin');
      expect(h.CacheControl).toBe('max-age=60');
      expect((await getBytes(client(), 'big', 'video.bin')).equals(bytes.A)).toBe(true);
    } finally {
      s3.copyLimit = 5 * 1024 ** 3;
    }
  });
});
