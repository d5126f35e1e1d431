/**
 * The deploy record fails closed, through the bundle against s3rver: an
 * unreadable or newer-version record stops the run before any write;
 * repair-record rebuilds it from the bucket (every snapshot kept, an older
 * release restorable again); keep-releases is stored with the history.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBundle } from '../helpers/run-bundle.js';
import { getBytes, keys, put, s3Client } from './fixtures.js';
import { s3Env, startLocalS3, type LocalS3 } from './local-s3.js';

let s3: LocalS3;
let env: Record<string, string>;

beforeAll(async () => {
  s3 = await startLocalS3(['trunc', 'newer', 'keep']);
  env = s3Env(s3.endpoint);
});
afterAll(async () => {
  await s3?.stop();
});

const RECORD = '.deploy-static/manifest.json';
const sha = (n: number) => `${String(n).padStart(7, '0')}${'f'.repeat(33)}`;
const run = (inputs: Record<string, string | number | boolean>, n = 1) =>
  runBundle('deploy-static', {
    inputs,
    env: { ...env, GITHUB_SHA: sha(n), GITHUB_ACTOR: 'alice', GITHUB_RUN_ID: String(100 + n) },
    timeoutMs: 90_000,
  });
const client = () => s3Client(s3.endpoint);
const text = async (bucket: string, key: string) => (await getBytes(client(), bucket, key)).toString();
const writes = (bucket: string) => s3.requests.filter((r) => r.bucket === bucket && ['PUT', 'COPY', 'DELETE', 'MPU'].includes(r.op));

function build(tag: string, hash: string): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'rec-')), 'dist');
  const files: Record<string, string> = {
    'index.html': `<!doctype html><title>${tag}</title><script src="/assets/index-${hash}.js"></script>`,
    [`assets/index-${hash}.js`]: `console.log(${JSON.stringify(tag)})`,
    'robots.txt': `# ${tag}`,
  };
  for (const [rel, body] of Object.entries(files)) {
    mkdirSync(join(dir, rel, '..'), { recursive: true });
    writeFileSync(join(dir, rel), body);
  }
  return dir;
}

describe('an unreadable deploy record', () => {
  it('stops deploy and rollback before any write; repair-record rebuilds it and an older release is restored', async () => {
    const ids: string[] = [];
    for (const [n, [tag, hash]] of (
      [
        ['A', 'Aa11Bb22'],
        ['B', 'Cc33Dd44'],
        ['C', 'Ee55Ff66'],
      ] as const
    ).entries()) {
      const r = await run({ source: build(tag, hash), bucket: 'trunc' }, n + 1);
      expect(r.code, r.stdout).toBe(0);
      ids.push(r.outputs['release-id']!);
    }
    const whole = await text('trunc', RECORD);
    await put(client(), 'trunc', RECORD, whole.slice(0, Math.floor(whole.length / 2)));
    const before = await keys(client(), 'trunc');
    s3.reset();
    const deploy = await run({ source: build('D', 'Gg77Hh88'), bucket: 'trunc' }, 4);
    expect(deploy.code).not.toBe(0);
    expect(deploy.stdout).toMatch(/The deploy record s3:\/\/trunc\/\.deploy-static\/manifest\.json is unreadable: not JSON/);
    expect(deploy.stdout).toMatch(/repair-record: true/);
    const back = await run({ 'rollback-to': ids[0]!, bucket: 'trunc' }, 5);
    expect(back.code).not.toBe(0);
    expect(back.stdout).toMatch(/manifest\.json is unreadable/);
    // Nothing written: no lock, no upload, no prune; the truncated record is still there to inspect.
    expect(writes('trunc')).toEqual([]);
    expect(await keys(client(), 'trunc')).toEqual(before);

    s3.reset();
    const repair = await run({ 'rollback-to': ids[0]!, bucket: 'trunc', 'repair-record': true }, 6);
    expect(repair.code, repair.stdout).toBe(0);
    expect(repair.summary).toMatch(/Deploy record repaired/);
    for (const id of ids) expect(repair.summary).toContain(id);
    expect(repair.summary).toMatch(/Could not recover: commit/);
    // Release A is live again, restored from its snapshot; its asset was never deleted.
    expect(await text('trunc', 'index.html')).toContain('<title>A</title>');
    expect(await text('trunc', 'robots.txt')).toBe('# A');
    expect(await keys(client(), 'trunc')).toEqual(
      expect.arrayContaining(['assets/index-Aa11Bb22.js', `.deploy-static/releases/${ids[1]}/index.html`]),
    );
    const record = JSON.parse(await text('trunc', RECORD)) as { releases: { id: string }[] };
    expect(record.releases.map((r) => r.id)).toEqual(expect.arrayContaining(ids));
    // And the next deploy plans from the repaired record.
    const next = await run({ source: build('D', 'Gg77Hh88'), bucket: 'trunc' }, 7);
    expect(next.code, next.stdout).toBe(0);
    expect(await text('trunc', 'index.html')).toContain('<title>D</title>');
  }, 240_000);

  it('a record of a newer version is neither overwritten by a deploy nor by a repair', async () => {
    const first = await run({ source: build('A', 'Aa11Bb22'), bucket: 'newer' });
    expect(first.code, first.stdout).toBe(0);
    const newer = JSON.stringify({ ...JSON.parse(await text('newer', RECORD)), version: 4, shards: ['x'] });
    await put(client(), 'newer', RECORD, newer);
    s3.reset();
    const deploy = await run({ source: build('B', 'Cc33Dd44'), bucket: 'newer' }, 2);
    expect(deploy.code).not.toBe(0);
    expect(deploy.stdout).toMatch(/s3:\/\/newer\/\.deploy-static\/manifest\.json was written by a newer deploy-static \(record version 4/);
    expect(deploy.stdout).toMatch(/Use the newer version of deploy-static/);
    const repair = await run({ source: build('B', 'Cc33Dd44'), bucket: 'newer', 'repair-record': true }, 3);
    expect(repair.code).not.toBe(0);
    expect(repair.stdout).toMatch(/Use the newer version of deploy-static/);
    expect(writes('newer')).toEqual([]);
    expect(await text('newer', RECORD)).toBe(newer);
  }, 120_000);
});

describe('keep-releases stored with the history', () => {
  it('a rollback without the input keeps a history kept at 10; an explicit value replaces it', async () => {
    for (let n = 1; n <= 6; n++) {
      const r = await run(
        { source: build(`R${n}`, `Rr${n}${n}Ss${n}${n}`), bucket: 'keep', 'keep-releases': 10, 'max-delete-ratio': 1 },
        n,
      );
      expect(r.code, r.stdout).toBe(0);
    }
    const back = await run({ 'rollback-to': 'previous', bucket: 'keep', 'max-delete-ratio': 1 }, 7);
    expect(back.code, back.stdout).toBe(0);
    const record = () => text('keep', RECORD).then((t) => JSON.parse(t) as { releases: unknown[]; keepReleases?: number });
    expect((await record()).releases).toHaveLength(7);
    expect((await record()).keepReleases).toBe(10);
    const fewer = await run({ source: build('R8', 'Rr88Ss88'), bucket: 'keep', 'keep-releases': 2, 'max-delete-ratio': 1 }, 8);
    expect(fewer.code, fewer.stdout).toBe(0);
    expect((await record()).releases).toHaveLength(2);
    expect((await record()).keepReleases).toBe(2);
  }, 240_000);
});
