/**
 * Release snapshots (snapshots.ts): which live files are copied aside before an overwrite, the
 * conditional copies and what the record then says, snapshot copies no kept release uses, and the
 * small helpers (CopySource encoding, the ACL parameter).
 */
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import type { Manifest, Release } from '../../actions/deploy-static/record.js';
import {
  aclParam,
  copySource,
  needsSnapshot,
  planPreserve,
  preserveLive,
  snapshotKeys,
  staleSnapshots,
  type PreservePlan,
} from '../../actions/deploy-static/snapshots.js';
import { MemoryS3, S3Error } from './oracle/memory-s3.js';

const T = Date.parse('2026-12-01T10:00:00.000Z');
const file = (etag: string, snap?: string, headers = 'h') => ({ etag, md5: '0'.repeat(32), headers, ...(snap ? { snap } : {}) });
const release = (id: string, files: Release['files']): Release => ({
  id,
  commit: 'c',
  at: '2026-12-01T10:00:00.000Z',
  kind: 'deploy',
  files,
});
const manifestOf = (releases: Release[], entries: Manifest['entries']): Manifest => ({ version: 3, entries, releases });
const entry = (etag: string, lastModified?: string, headers = 'h') => ({
  etag,
  md5: '0'.repeat(32),
  headers,
  ...(lastModified ? { lastModified } : {}),
});

function bucket(objects: Record<string, string>) {
  const mem = new MemoryS3('site');
  for (const [key, etag] of Object.entries(objects)) mem.objects.set(key, { body: Buffer.from(key), etag, lastModified: T });
  const s3 = { send: async (c: { input: Record<string, unknown> }) => mem.apply(c) } as unknown as S3Client;
  return { mem, s3 };
}

describe('needsSnapshot', () => {
  it('is true for entry files and files without a content hash in the name, false for fingerprinted assets', () => {
    expect(needsSnapshot('index.html')).toBe(true);
    expect(needsSnapshot('robots.txt')).toBe(true);
    expect(needsSnapshot('assets/app-Ab3dEf9h.js')).toBe(false);
  });
});

describe('planPreserve', () => {
  const listed = (etag: string, lastModified?: string) => () => ({ etag, ...(lastModified ? { lastModified } : {}) });

  it('copies into the newest release that recorded the file without a snapshot, once per file, in path order', () => {
    const a = release('a', { 'robots.txt': file('r'), 'b.txt': file('b') });
    const b = release('b', { 'robots.txt': file('r'), 'b.txt': file('b') });
    const c = release('c', { 'robots.txt': file('r'), 'b.txt': file('b') });
    const m = manifestOf([a, b, c], { 'robots.txt': entry('r'), 'b.txt': entry('b') });
    const plan = planPreserve(m, ['robots.txt', 'b.txt', 'robots.txt'], 5, (rel) => ({ etag: rel === 'b.txt' ? 'b' : 'r' }));
    expect(plan.copies).toEqual([
      { rel: 'b.txt', etag: 'b', snap: 'c', releases: ['a', 'b', 'c'] },
      { rel: 'robots.txt', etag: 'r', snap: 'c', releases: ['a', 'b', 'c'] },
    ]);
    // Changed by hand: named against the newest release that has it.
    expect(planPreserve(m, ['b.txt'], 5, () => ({ etag: 'edited' })).changed).toEqual([{ rel: 'b.txt', release: 'c' }]);
  });

  it('needs nothing for a release that recorded other headers or another ETag than the live entry, or a file not live', () => {
    // Release b does not have the files at all.
    const m = manifestOf([release('a', { 'x.txt': file('x', undefined, 'other'), 'y.txt': file('old') }), release('b', {})], {
      'x.txt': entry('x'),
      'y.txt': entry('y'),
    });
    expect(planPreserve(m, ['x.txt', 'y.txt', 'z.txt'], 5, listed('x'))).toEqual({ copies: [], changed: [] });
    expect(planPreserve(undefined, ['x.txt'], 5, listed('x'))).toEqual({ copies: [], changed: [] });
  });

  it('copies no fingerprinted asset: a later build never overwrites it under the same name', () => {
    const a = release('a', { 'assets/app-Ab3dEf9h.js': file('x'), 'robots.txt': file('r') });
    const m = manifestOf([a], { 'assets/app-Ab3dEf9h.js': entry('x'), 'robots.txt': entry('r') });
    const plan = planPreserve(m, ['assets/app-Ab3dEf9h.js', 'robots.txt'], 5, (rel) => ({ etag: rel === 'robots.txt' ? 'r' : 'x' }));
    expect(plan.copies.map((c) => c.rel)).toEqual(['robots.txt']);
    expect(plan.changed).toEqual([]);
  });

  it('matches a quoted listed ETag; without a recorded LastModified the ETag alone decides', () => {
    const m = manifestOf([release('a', { 'x.txt': file('x') })], { 'x.txt': entry('x') });
    expect(planPreserve(m, ['x.txt'], 5, listed('"x"', '2026-12-01T11:00:00.000Z')).copies).toHaveLength(1);
    expect(planPreserve(m, ['x.txt'], 5, () => undefined)).toEqual({ copies: [], changed: [{ rel: 'x.txt', release: 'a' }] });
  });

  it('keeps a file whose listing matches the recorded LastModified', () => {
    const m = manifestOf([release('a', { 'x.txt': file('x') })], { 'x.txt': entry('x', '2026-12-01T10:00:00.000Z') });
    expect(planPreserve(m, ['x.txt'], 5, listed('x', '2026-12-01T10:00:00.000Z')).copies).toHaveLength(1);
  });
});

describe('preserveLive', () => {
  const where = { bucket: 'site', prefix: 'app/' };
  const run = async (s3: S3Client, m: Manifest, plan: PreservePlan) => {
    const log: string[] = [];
    const warn: string[] = [];
    const out = await preserveLive(
      s3,
      where,
      m,
      plan,
      2,
      (l) => log.push(l),
      (l) => warn.push(l),
    );
    return { out, log, warn };
  };

  it('copies each file on its recorded ETag and sets the snapshot on the releases that recorded it', async () => {
    const { s3: inner, mem } = bucket({ 'app/robots.txt': 'r', 'app/a b.txt': 's' });
    const sent: Record<string, unknown>[] = [];
    const s3 = {
      send: async (c: { input: Record<string, unknown> }) => {
        sent.push(c.input);
        return inner.send(c as never);
      },
    } as unknown as S3Client;
    const a = release('a', { 'robots.txt': file('r'), 'a b.txt': file('s') });
    const b = release('b', { 'robots.txt': file('r'), 'a b.txt': file('s2') });
    const m = manifestOf([a, b], {});
    const { out, log, warn } = await run(s3, m, {
      copies: [
        { rel: 'robots.txt', etag: 'r', snap: 'b', releases: ['a', 'b'] },
        { rel: 'a b.txt', etag: 's', snap: 'a', releases: ['a'] },
      ],
      changed: [],
    });
    // MetadataDirective COPY: the snapshot keeps Content-Type and Cache-Control; the copy only of the recorded version.
    expect(sent.find((i) => i.Key === 'app/.deploy-static/releases/b/robots.txt')).toEqual({
      Bucket: 'site',
      Key: 'app/.deploy-static/releases/b/robots.txt',
      CopySource: 'site/app/robots.txt',
      MetadataDirective: 'COPY',
      CopySourceIfMatch: '"r"',
    });
    expect(mem.objects.get('app/.deploy-static/releases/b/robots.txt')?.etag).toBe('r');
    expect(mem.objects.get('app/.deploy-static/releases/a/a b.txt')?.etag).toBe('s');
    expect(out.releases).toEqual([
      release('a', { 'robots.txt': file('r', 'b'), 'a b.txt': file('s', 'a') }),
      release('b', { 'robots.txt': file('r', 'b'), 'a b.txt': file('s2') }),
    ]);
    expect(m.releases![0]!.files['robots.txt']!.snap).toBeUndefined();
    expect(log).toEqual([
      '2 files of earlier releases copied aside to s3://site/app/.deploy-static/releases/ before they are overwritten (server-side)',
    ]);
    expect(warn).toEqual([]);
  });

  it('names a file changed since the listing (the copy fails its precondition) and does not mark it; other errors stop', async () => {
    const { s3 } = bucket({ 'app/robots.txt': 'edited' });
    const m = manifestOf([release('a', { 'robots.txt': file('r') })], {});
    const { out, log, warn } = await run(s3, m, { copies: [{ rel: 'robots.txt', etag: 'r', snap: 'a', releases: ['a'] }], changed: [] });
    expect(out).toBe(m);
    expect(log).toEqual([]);
    expect(warn).toEqual([
      '1 files of release a were changed outside deploy-static, so that release can no longer be restored as it was: robots.txt',
    ]);

    const failing = {
      send: async () => {
        throw new S3Error(403, 'AccessDenied');
      },
    } as unknown as S3Client;
    await expect(run(failing, m, { copies: [{ rel: 'robots.txt', etag: 'r', snap: 'a', releases: ['a'] }], changed: [] })).rejects.toThrow(
      /AccessDenied/,
    );
    // An error that is not an S3 answer (no status) stops the run as it is.
    const broken = {
      send: async () => {
        throw new Error('socket hang up');
      },
    } as unknown as S3Client;
    await expect(run(broken, m, { copies: [{ rel: 'robots.txt', etag: 'r', snap: 'a', releases: ['a'] }], changed: [] })).rejects.toThrow(
      'socket hang up',
    );
  });

  it('lists at most ten changed files, sorted, each release once', async () => {
    const { s3 } = bucket({});
    const changed = Array.from({ length: 11 }, (_, i) => ({ rel: `f${String(10 - i).padStart(2, '0')}.txt`, release: i < 5 ? 'a' : 'b' }));
    const { warn } = await run(s3, manifestOf([], {}), { copies: [], changed });
    expect(warn).toEqual([
      '11 files of release a, b were changed outside deploy-static, so that release can no longer be restored as it was: ' +
        'f00.txt f01.txt f02.txt f03.txt f04.txt f05.txt f06.txt f07.txt f08.txt f09.txt …',
    ]);
    const ten = await run(s3, manifestOf([], {}), { copies: [], changed: changed.slice(1) });
    expect(ten.warn[0]).toMatch(/: f00\.txt .* f09\.txt$/);
  });
});

describe('staleSnapshots', () => {
  it('lists only the copies in release folders no kept release uses', async () => {
    const { s3 } = bucket({
      'app/.deploy-static/releases/r1/index.html': 'a',
      'app/.deploy-static/releases/r1/robots.txt': 'b',
      'app/.deploy-static/releases/r2/index.html': 'c',
      'app/.deploy-static/releases/r3/deep/x.txt': 'd',
      'app/index.html': 'e',
    });
    const sent: unknown[] = [];
    const counting = {
      send: async (c: ListObjectsV2Command) => {
        sent.push(c.input.Prefix);
        return s3.send(c);
      },
    } as unknown as S3Client;
    const state = { bucket: 'site', prefix: 'app/.deploy-static/' };
    const stale = await staleSnapshots(counting, state, new Set(['app/.deploy-static/releases/r2/index.html']));
    expect(stale.sort()).toEqual([
      'app/.deploy-static/releases/r1/index.html',
      'app/.deploy-static/releases/r1/robots.txt',
      'app/.deploy-static/releases/r3/deep/x.txt',
    ]);
    // One request names the folders; only the unused ones are listed.
    expect(sent.sort()).toEqual(['app/.deploy-static/releases/', 'app/.deploy-static/releases/r1/', 'app/.deploy-static/releases/r3/']);
  });
});

describe('snapshotKeys', () => {
  it('is the snapshot copy of every file a release points at', () => {
    const state = { bucket: 'st', prefix: 'site/' };
    const releases = [release('a', { 'index.html': file('i', 'a'), 'x.js': file('x') }), release('b', { 'index.html': file('i', 'a') })];
    expect([...snapshotKeys(releases, state)]).toEqual(['site/releases/a/index.html']);
    expect(snapshotKeys(undefined, state).size).toBe(0);
  });
});

describe('copySource and aclParam', () => {
  it('encodes each path segment of the key, not the slashes', () => {
    expect(copySource('b', 'app/a b/ü?.txt')).toBe('b/app/a%20b/%C3%BC%3F.txt');
  });

  it('sets ACL only when one is given', () => {
    expect(aclParam('public-read')).toEqual({ ACL: 'public-read' });
    expect(aclParam(undefined)).toEqual({});
    expect(aclParam('')).toEqual({});
  });
});
