/**
 * The record's layout through the bundle against s3rver: a head plus one
 * content-addressed file list per release; a deploy that changes nothing
 * reads the head only; a missing file list stops a deploy that writes, before
 * any write; a record in the one-object layout of version 2 is read and
 * rewritten in the new layout with its history whole.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteObjectsCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBundle } from '../helpers/run-bundle.js';
import { getBytes, keys, put, s3Client } from './fixtures.js';
import { s3Env, startLocalS3, type LocalS3 } from './local-s3.js';

let s3: LocalS3;
let env: Record<string, string>;

beforeAll(async () => {
  s3 = await startLocalS3(['lazy', 'repair', 'legacy']);
  env = s3Env(s3.endpoint);
});
afterAll(async () => {
  await s3?.stop();
});

const HEAD = '.deploy-static/manifest.json';
const FILES = '.deploy-static/record/';
const sha = (n: number) => `${String(n).padStart(7, '0')}${'f'.repeat(33)}`;
const run = (inputs: Record<string, string | number | boolean>, n: number) =>
  runBundle('deploy-static', {
    inputs,
    env: { ...env, GITHUB_SHA: sha(n), GITHUB_ACTOR: 'alice', GITHUB_RUN_ID: String(100 + n) },
    timeoutMs: 90_000,
  });
const client = () => s3Client(s3.endpoint);
const text = async (bucket: string, key: string) => (await getBytes(client(), bucket, key)).toString();
const writes = (bucket: string) => s3.requests.filter((r) => r.bucket === bucket && ['PUT', 'COPY', 'DELETE', 'MPU'].includes(r.op));
const removeFileLists = async (bucket: string) => {
  const lists = (await keys(client(), bucket)).filter((k) => k.startsWith(FILES));
  await client().send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: lists.map((Key) => ({ Key })) } }));
  return lists;
};

/** The pages change in place from build to build; the asset does not (so no older asset stays live beside the build). */
function build(tag: string): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'layout-')), 'dist');
  const files: Record<string, string> = {
    'index.html': `<!doctype html><title>${tag}</title><script src="/assets/index-Aa11Bb22.js"></script>`,
    'about/index.html': `<!doctype html><title>about ${tag}</title>`,
    'assets/index-Aa11Bb22.js': 'console.log(1)',
  };
  for (const [rel, body] of Object.entries(files)) {
    mkdirSync(join(dir, rel, '..'), { recursive: true });
    writeFileSync(join(dir, rel), body);
  }
  return dir;
}

/** Deploys the builds one after the other (commits 1, 2, …) and returns their release ids. */
async function deploy(bucket: string, tags: string[]): Promise<string[]> {
  const ids: string[] = [];
  for (const [n, tag] of tags.entries()) {
    const r = await run({ source: build(tag), bucket }, n + 1);
    expect(r.code, r.stdout).toBe(0);
    ids.push(r.outputs['release-id']!);
  }
  return ids;
}

describe('the deploy record in S3', () => {
  it('is a head naming one file list per release by its SHA-256; a no-op deploy reads the head only, a deploy that writes reads them all', async () => {
    const ids = await deploy('lazy', ['A', 'B']);
    const head = JSON.parse(await text('lazy', HEAD));
    expect(head.version).toBe(3);
    expect(head.releases.map((r: { id: string }) => r.id)).toEqual(ids);
    expect(JSON.stringify(head.releases)).not.toContain('about/index.html');
    const lists = (await keys(client(), 'lazy')).filter((k) => k.startsWith(FILES));
    expect(lists.sort()).toEqual(head.releases.map((r: { files: { sha256: string } }) => `${FILES}${r.files.sha256}.json`).sort());
    for (const key of lists) {
      const body = await text('lazy', key);
      expect(`${FILES}${createHash('sha256').update(body).digest('hex')}.json`).toBe(key);
      expect(JSON.parse(body).files).toHaveProperty(['about/index.html']);
    }

    // Without the file lists, the same build again is still a no-op: it never asked for them.
    await removeFileLists('lazy');
    s3.reset();
    const same = await run({ source: build('B'), bucket: 'lazy' }, 3);
    expect(same.code, same.stdout).toBe(0);
    expect(same.outputs.uploaded).toBe('0');
    expect(same.outputs['release-id']).toBe(ids[1]);
    expect(s3.requests.filter((r) => r.bucket === 'lazy' && r.op === 'GET').map((r) => r.key)).toEqual([HEAD]);
    expect(writes('lazy')).toEqual([]);

    // A deploy that writes needs every release's files: it stops before any write, naming the missing list.
    s3.reset();
    const changed = await run({ source: build('D'), bucket: 'lazy' }, 4);
    expect(changed.code).not.toBe(0);
    expect(changed.stdout).toMatch(
      /The deploy record s3:\/\/lazy\/\.deploy-static\/manifest\.json is unreadable: the file list of release .*\.deploy-static\/record\/[0-9a-f]{64}\.json, is missing/,
    );
    expect(changed.stdout).toMatch(/repair-record: true/);
    expect(writes('lazy')).toEqual([]);
  });

  it('repair-record rebuilds the file lists from the snapshots, keeping who made each release; an older release is restorable after it', async () => {
    const ids = await deploy('repair', ['A', 'B']);
    await removeFileLists('repair');
    // repair-record rebuilds the lists from the snapshots, keeps who made each release (the head was readable),
    // and leaves no list the head does not name; then the deploy goes ahead and an older release is restorable.
    await put(client(), 'repair', `${FILES}${'0'.repeat(64)}.json`, '{"files":{}}');
    const repair = await run({ source: build('D'), bucket: 'repair', 'repair-record': true }, 3);
    expect(repair.code, repair.stdout).toBe(0);
    const repaired = JSON.parse(await text('repair', HEAD));
    expect(
      repaired.releases
        .filter((r: { id: string }) => ids.includes(r.id))
        .map((r: { commit: string; actor?: string }) => [r.commit, r.actor]),
    ).toEqual([1, 2].map((n) => [sha(n), 'alice']));
    expect(repair.summary).not.toMatch(/actor and run of every release/);
    const named = repaired.releases.map((r: { files: { sha256: string } }) => `${FILES}${r.files.sha256}.json`).sort();
    expect((await keys(client(), 'repair')).filter((k) => k.startsWith(FILES)).sort()).toEqual([...new Set(named)].sort());
    const back = await run({ 'rollback-to': ids[0]!, bucket: 'repair' }, 4);
    expect(back.code, back.stdout).toBe(0);
    expect(await text('repair', 'about/index.html')).toContain('about A');
  });

  it('a version 2 record (one object) is read and rewritten as a head and file lists; every release stays restorable', async () => {
    const ids = await deploy('legacy', ['A', 'B']);
    // The same history as version 2 wrote it: every release's files inline in the one object.
    const head = JSON.parse(await text('legacy', HEAD));
    const releases = [];
    for (const r of head.releases) releases.push({ ...r, files: JSON.parse(await text('legacy', `${FILES}${r.files.sha256}.json`)).files });
    await put(client(), 'legacy', HEAD, JSON.stringify({ ...head, version: 2, releases }));
    await removeFileLists('legacy');

    const next = await run({ source: build('C'), bucket: 'legacy' }, 3);
    expect(next.code, next.stdout).toBe(0);
    const migrated = JSON.parse(await text('legacy', HEAD));
    expect(migrated.version).toBe(3);
    expect(migrated.releases.map((r: { id: string }) => r.id)).toEqual([...ids, next.outputs['release-id']]);
    expect((await keys(client(), 'legacy')).filter((k) => k.startsWith(FILES))).toHaveLength(3);

    const back = await run({ 'rollback-to': ids[0]!, bucket: 'legacy' }, 4);
    expect(back.code, back.stdout).toBe(0);
    expect(await text('legacy', 'index.html')).toContain('<title>A</title>');
    expect(await text('legacy', 'about/index.html')).toContain('about A');
  });
});
