import { describe, expect, it } from 'vitest';
import type { Manifest, Release } from '../../actions/deploy-static/record.js';
import { ownedRels, parseRecord } from '../../actions/deploy-static/record.js';
import { protectedRels, releaseIdFor, uniqueId } from '../../actions/deploy-static/releases.js';
import { planPreserve } from '../../actions/deploy-static/snapshots.js';
import { planRollback, resolveRelease } from '../../actions/deploy-static/rollback-plan.js';
import type { RecordStore } from '../../actions/deploy-static/record-store.js';

const file = (etag: string, snap?: string) => ({ etag, md5: '0'.repeat(32), headers: 'h1', ...(snap ? { snap } : {}) });
const release = (id: string, files: Release['files'], extra: Partial<Release> = {}): Release => ({
  id,
  commit: `${id}000000`,
  at: '2026-11-27T10:00:00.000Z',
  kind: 'deploy',
  files,
  ...extra,
});
const A = release('a', { 'index.html': file('ia', 'a'), 'assets/app-Ab3dEf9h.js': file('ja'), 'robots.txt': file('ra', 'a') });
const B = release('b', { 'index.html': file('ib', 'b'), 'assets/app-Zy8xWv1u.js': file('jb'), 'robots.txt': file('ra', 'a') });
const manifest = (releases: Release[], live: Release): Manifest => ({
  version: 2,
  entries: Object.fromEntries(Object.entries(live.files).map(([rel, f]) => [rel, { etag: f.etag, md5: f.md5, headers: f.headers }])),
  releases,
});
const target = { bucket: 'b', prefix: 'site/' };
const listing = (keys: Record<string, string>) => Object.entries(keys).map(([key, etag]) => ({ key, etag: `"${etag}"`, size: 1 }));
const store = {} as RecordStore;
const opts = { rollbackTo: 'previous', keepReleases: 5, delete: 'true' as const, exclude: [] };

describe('release ids', () => {
  it('are the short commit and the UTC second, made unique when the same commit is deployed twice in a second', () => {
    const id = releaseIdFor('0123456789abcdef', new Date('2026-11-27T15:13:05.678Z'));
    expect(id).toBe('0123456-20261127T151305Z');
    expect(uniqueId(id, [release(id, {})])).toBe(`${id}-2`);
    expect(uniqueId(id, [release(id, {}), release(`${id}-2`, {})])).toBe(`${id}-3`);
  });
});

describe('which assets are kept', () => {
  it('keeps fingerprinted assets of the releases still kept after this run; snapshotted files are not kept live', () => {
    const m = manifest([A, B], B);
    expect([...protectedRels(m, 5)].sort()).toEqual(['assets/app-Ab3dEf9h.js', 'assets/app-Zy8xWv1u.js']);
    // keep-releases 2: after this deploy, only B and the new release remain.
    expect([...protectedRels(m, 2)]).toEqual(['assets/app-Zy8xWv1u.js']);
    expect([...protectedRels(m, 1)]).toEqual([]);
  });
});

describe('copying aside before an overwrite (the first release is not copied when deployed)', () => {
  // A is a first release: no snapshots. B changed index.html (with its own snapshot) and kept A's robots.txt.
  const first = release('a', { 'index.html': file('ia'), 'assets/app-Ab3dEf9h.js': file('ja'), 'robots.txt': file('ra') });
  const second = release('b', { 'index.html': file('ib', 'b'), 'robots.txt': file('ra') });
  const m = manifest([first, second], second);
  const listed = (rel: string) => ({
    etag: m.entries[rel]?.etag ?? '',
    ...(m.entries[rel]?.lastModified ? { lastModified: m.entries[rel]!.lastModified } : {}),
  });

  it('copies a live file that kept releases recorded without a snapshot, into the newest such release, once', () => {
    const plan = planPreserve(m, ['robots.txt', 'index.html', 'assets/app-Ab3dEf9h.js', 'new.txt'], 5, listed);
    // index.html has B's snapshot; the fingerprinted asset is never overwritten; new.txt belongs to no release.
    expect(plan.copies).toEqual([{ rel: 'robots.txt', etag: 'ra', snap: 'b', releases: ['a', 'b'] }]);
    expect(plan.changed).toEqual([]);
  });

  it('copies nothing for releases this run prunes, or when only the live release is kept', () => {
    expect(planPreserve(manifest([first], first), ['robots.txt'], 1, listed).copies).toEqual([]);
    // keep-releases 2: after this run only B and the new release remain; B still needs robots.txt.
    expect(planPreserve(m, ['robots.txt'], 2, listed).copies.map((c) => c.releases)).toEqual([['b']]);
  });

  it('does not keep a file changed outside the action (ETag or LastModified differ from the record): names it instead', () => {
    const stamped = manifest([first, second], second);
    stamped.entries['robots.txt']!.lastModified = '2026-11-27T10:00:00.000Z';
    const plan = planPreserve(stamped, ['robots.txt'], 5, () => ({ etag: 'ra', lastModified: '2026-11-27T11:30:00.000Z' }));
    expect(plan).toEqual({ copies: [], changed: [{ rel: 'robots.txt', release: 'b' }] });
    expect(
      planPreserve(stamped, ['robots.txt'], 5, () => ({ etag: 'edited', lastModified: '2026-11-27T10:00:00.000Z' })).changed,
    ).toHaveLength(1);
  });
});

describe('rollback planning', () => {
  it('previous is the release before the live one; an unknown id lists the known ones', () => {
    expect(resolveRelease([A, B], 'previous', 'x').id).toBe('a');
    expect(resolveRelease([A, B], 'b', 'x').id).toBe('b');
    expect(() => resolveRelease([A, B], 'zzz', 's3://b/site/')).toThrow(
      /unknown release 'zzz'. Known releases, newest first: b \(.*\), a \(/,
    );
    expect(() => resolveRelease([A], 'previous', 'x')).toThrow(/only one recorded release/);
  });

  it('restores changed snapshotted files, keeps what matches, deletes owned keys the release lacks (not kept assets)', () => {
    const m = manifest([A, B], B);
    m.entries['new.txt'] = { etag: 'n', md5: '0'.repeat(32), headers: 'h1' };
    const live = listing({
      'site/index.html': 'ib',
      'site/assets/app-Zy8xWv1u.js': 'jb',
      'site/assets/app-Ab3dEf9h.js': 'ja',
      'site/robots.txt': 'ra',
      'site/new.txt': 'n',
      'site/other-app.txt': 'o',
      'site/.deploy-static/releases/a/index.html': 'ia',
      'site/.deploy-static/releases/a/robots.txt': 'ra',
    });
    const plan = planRollback(target, store, m, live, opts);
    expect(plan.release.id).toBe('a');
    expect(plan.restores).toEqual(['index.html']);
    expect(plan.unchanged).toBe(2);
    // B's asset stays (B is still a kept release); other-app.txt was never ours.
    expect(plan.deletes).toEqual(['site/new.txt']);
  });

  it('a first-release file without a snapshot counts as unchanged while live; copied aside, it is restored; otherwise it is missing', () => {
    // A (first release) had index.html and robots.txt; B changed index.html, so A's was copied aside into A's folder.
    const first = release('a', { 'index.html': file('ia', 'a'), 'robots.txt': file('ra') });
    const second = release('b', { 'index.html': file('ib', 'b'), 'robots.txt': file('ra') });
    const live = {
      'site/index.html': 'ib',
      'site/robots.txt': 'ra',
      'site/.deploy-static/releases/a/index.html': 'ia',
      'site/.deploy-static/releases/b/index.html': 'ib',
    };
    const plan = planRollback(target, store, manifest([first, second], second), listing(live), opts);
    expect([plan.restores, plan.unchanged, plan.preserve.copies]).toEqual([['index.html'], 1, []]);
    // A's index.html was changed by hand before B's deploy, so it was never copied aside: named, nothing written.
    const lost = release('a', { 'index.html': file('ia'), 'robots.txt': file('ra') });
    expect(() => planRollback(target, store, manifest([lost, second], second), listing(live), opts)).toThrow(
      /1 of its files are gone from the bucket: site\/index\.html\./,
    );
  });

  it('refuses, naming them, when snapshot copies or assets of the release are gone', () => {
    const m = manifest([A, B], B);
    const live = listing({
      'site/index.html': 'ib',
      'site/assets/app-Zy8xWv1u.js': 'jb',
      'site/robots.txt': 'ra',
      'site/.deploy-static/releases/a/robots.txt': 'ra',
    });
    expect(() => planRollback(target, store, m, live, opts)).toThrow(
      /release a cannot be restored: 2 of its files are gone from the bucket: site\/\.deploy-static\/releases\/a\/index\.html site\/assets\/app-Ab3dEf9h\.js/,
    );
  });
});

describe('the record', () => {
  it('validates releases and counts their files as owned', () => {
    const ok = parseRecord(JSON.stringify(manifest([A, B], B)));
    expect(ok.ok).toBe(true);
    // A's asset left source with B, but A's release still owns it: deletable once A is pruned.
    expect(ownedRels(ok.ok ? ok.manifest : undefined).has('assets/app-Ab3dEf9h.js')).toBe(true);
    const bad = parseRecord(JSON.stringify({ ...manifest([A], A), releases: [{ id: 'x' }] }));
    expect(bad).toMatchObject({ ok: false, problem: expect.stringMatching(/^releases\.0\./) });
  });
});
