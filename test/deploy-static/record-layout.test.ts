import { createHash } from 'node:crypto';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterEach, describe, expect, it } from 'vitest';
import { recordUnreadable, type Manifest, type Release } from '../../actions/deploy-static/record.js';
import { RecordStore } from '../../actions/deploy-static/record-store.js';
import { filesKey, stateOf } from '../../actions/deploy-static/state.js';
import { conditionalS3 } from './conditional-s3.js';

const HEAD = 'app/.deploy-static/manifest.json';
const md5 = 'd41d8cd98f00b204e9800998ecf8427e';
const release = (id: string, rels: string[]): Release => ({
  id,
  commit: id,
  at: '2026-12-01T10:00:00.000Z',
  kind: 'deploy',
  files: Object.fromEntries(
    rels.map((rel) => [rel, { etag: `e-${id}-${rel}`, md5, headers: 'h', ...(rel.endsWith('.html') ? { snap: id } : {}) }]),
  ),
});
const record = (releases: Release[]): Manifest => ({
  version: 3,
  entries: { 'index.html': { etag: 'e', md5, headers: 'h' } },
  releases,
});
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const fileKeys = (b: ReturnType<typeof conditionalS3>) =>
  [...b.objects.keys()].filter((k) => k.startsWith('app/.deploy-static/record/')).sort();
const puts = (b: ReturnType<typeof conditionalS3>) =>
  b.mock
    .commandCalls(PutObjectCommand)
    .map((c) => c.args[0].input as { Key: string; IfNoneMatch?: string; IfMatch?: string; ContentMD5?: string });

let bucket: ReturnType<typeof conditionalS3>;
afterEach(() => bucket.mock.restore());

describe('the record is a small head plus one content-addressed file list per release', () => {
  it('the head names each release file list by the SHA-256 of its bytes; each is written once, If-None-Match: *, with Content-MD5', async () => {
    bucket = conditionalS3();
    const store = new RecordStore(bucket.client, { bucket: 'site', prefix: 'app/' });
    await store.read();
    const a = release('A', ['index.html', 'a.js']);
    const b = release('B', ['index.html', 'b.js']);
    await store.write(record([a, b]));
    const head = JSON.parse(bucket.objects.get(HEAD)!.body);
    expect(head.version).toBe(3);
    expect(head.releases.map((r: { id: string; files: unknown }) => [r.id, r.files])).toEqual([
      ['A', { sha256: expect.stringMatching(/^[0-9a-f]{64}$/), count: 2, snapshots: 1 }],
      ['B', { sha256: expect.stringMatching(/^[0-9a-f]{64}$/), count: 2, snapshots: 1 }],
    ]);
    expect(JSON.stringify(head)).not.toContain('a.js');
    for (const r of head.releases) {
      const body = bucket.objects.get(filesKey(stateOf({ bucket: 'site', prefix: 'app/' }), r.files.sha256))!.body;
      expect(sha256(body)).toBe(r.files.sha256);
    }
    for (const p of puts(bucket)) expect(p.ContentMD5).toMatch(/^[A-Za-z0-9+/]{22}==$/);
    expect(
      puts(bucket)
        .filter((p) => p.Key !== HEAD)
        .every((p) => p.IfNoneMatch === '*'),
    ).toBe(true);
    // A rewrite that keeps both releases writes the head only.
    bucket.mock.resetHistory();
    await store.write({ ...record([a, b]), pending: ['index.html'] });
    expect(puts(bucket).map((p) => p.Key)).toEqual([HEAD]);
    // A fresh reader gets the same record back.
    const again = new RecordStore(bucket.client, { bucket: 'site', prefix: 'app/' });
    await again.read();
    expect(again.parsed()).toEqual({ ok: true, manifest: { ...record([a, b]), pending: ['index.html'] } });
  });

  it('readHead reads the head only; the file lists come with loadReleases (or read)', async () => {
    bucket = conditionalS3();
    await new RecordStore(bucket.client, { bucket: 'site', prefix: 'app/' }).write(record([release('A', ['index.html'])]));
    bucket.mock.resetHistory();
    const store = new RecordStore(bucket.client, { bucket: 'site', prefix: 'app/' });
    await store.readHead();
    expect(bucket.mock.commandCalls(GetObjectCommand).map((c) => c.args[0].input.Key)).toEqual([HEAD]);
    expect(store.loaded).toBe(false);
    expect(store.releaseList().map((r) => [r.id, r.files.count])).toEqual([['A', 1]]);
    expect(() => store.parsed()).toThrow(/file list of release A was not read/);
    await store.loadReleases();
    expect(store.parsed()).toEqual({ ok: true, manifest: record([release('A', ['index.html'])]) });
  });

  it('a file list that is missing or does not hash to its name makes the record unreadable, naming it and repair-record', async () => {
    bucket = conditionalS3();
    await new RecordStore(bucket.client, { bucket: 'site', prefix: 'app/' }).write(
      record([release('A', ['index.html']), release('B', ['index.html'])]),
    );
    const [first, second] = fileKeys(bucket);
    bucket.objects.delete(first!);
    const store = new RecordStore(bucket.client, { bucket: 'site', prefix: 'app/' });
    await store.read();
    const parsed = store.parsed()!;
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.problem).toContain(`s3://site/${first}, is missing`);
    expect(recordUnreadable(store, parsed).fix).toMatch(/repair-record: true/);
    bucket.others.put(first!, '{"files":{}}');
    bucket.others.put(second!, bucket.objects.get(second!)!.body.replace('"h"', '"x"'));
    await store.read();
    const bad = store.parsed()!;
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.problem).toMatch(/its SHA-256 is not its name/);
  });

  it('a file list missing because another run rewrote the head since is read from the new head', async () => {
    bucket = conditionalS3();
    const writer = new RecordStore(bucket.client, { bucket: 'site', prefix: 'app/' });
    await writer.write(record([release('A', ['index.html'])]));
    const reader = new RecordStore(bucket.client, { bucket: 'site', prefix: 'app/' });
    await reader.readHead();
    await writer.write(record([release('B', ['index.html'])]));
    await reader.loadReleases();
    expect(reader.parsed()).toEqual({ ok: true, manifest: record([release('B', ['index.html'])]) });
  });

  it('the file lists of releases a write drops are deleted after the head is written', async () => {
    bucket = conditionalS3();
    const store = new RecordStore(bucket.client, { bucket: 'site', prefix: 'app/' });
    const a = release('A', ['index.html', 'secret.json']);
    const b = release('B', ['index.html']);
    await store.write(record([a, b]));
    expect(fileKeys(bucket)).toHaveLength(2);
    await store.write(record([b, release('C', ['index.html'])]));
    const left = fileKeys(bucket).map((k) => bucket.objects.get(k)!.body);
    expect(left).toHaveLength(2);
    expect(left.join()).not.toContain('secret.json');
  });
});

describe('a version 2 record (one object) is read as it is and rewritten in the new layout', () => {
  it('the next write moves each release file list out of the head; the history is unchanged', async () => {
    bucket = conditionalS3();
    const v2 = { ...record([release('A', ['index.html', 'a.js']), release('B', ['index.html'])]), version: 2, keepReleases: 7 };
    bucket.others.put(HEAD, JSON.stringify(v2));
    const store = new RecordStore(bucket.client, { bucket: 'site', prefix: 'app/' });
    await store.read();
    expect(store.parsed()).toEqual({ ok: true, manifest: v2 });
    expect(store.loaded).toBe(true);
    await store.write(store.parsed()!.ok ? (store.parsed() as { manifest: Manifest }).manifest : v2);
    const head = JSON.parse(bucket.objects.get(HEAD)!.body);
    expect(head.version).toBe(3);
    expect(head.keepReleases).toBe(7);
    expect(fileKeys(bucket)).toHaveLength(2);
    const fresh = new RecordStore(bucket.client, { bucket: 'site', prefix: 'app/' });
    await fresh.read();
    expect(fresh.parsed()).toEqual({ ok: true, manifest: { ...v2, version: 3 } });
  });
});
