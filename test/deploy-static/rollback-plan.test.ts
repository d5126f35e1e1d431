/**
 * Rollback planning (rollback-plan.ts) at its edges, in-process: which release `previous` means once
 * rollbacks cut the line back, what each refusal says, and what a rollback restores, deletes (its
 * delete guard: never the bookkeeping, folder markers, excluded keys or kept assets) and copies aside.
 */
import { describe, expect, it } from 'vitest';
import { ActionError } from '../../lib/errors.js';
import type { Manifest, Release } from '../../actions/deploy-static/record.js';
import type { RecordStore } from '../../actions/deploy-static/record-store.js';
import { changedRels, planRollback, resolveRelease } from '../../actions/deploy-static/rollback-plan.js';

const AT = '2026-11-27T10:00:00.000Z';
const file = (etag: string, snap?: string, headers = 'h1') => ({ etag, md5: '0'.repeat(32), headers, ...(snap ? { snap } : {}) });
const release = (id: string, files: Release['files'] = {}, extra: Partial<Release> = {}): Release => ({
  id,
  commit: `${id}000000`,
  at: AT,
  kind: 'deploy',
  files,
  ...extra,
});
const rollback = (id: string, restored: string): Release => release(id, {}, { kind: 'rollback', restored });
const manifest = (releases: Release[], live: Release): Manifest => ({
  version: 2,
  entries: Object.fromEntries(Object.entries(live.files).map(([rel, f]) => [rel, { etag: f.etag, md5: f.md5, headers: f.headers }])),
  releases,
});
const target = { bucket: 'b', prefix: 'site/' };
const listing = (keys: Record<string, string>) => Object.entries(keys).map(([key, etag]) => ({ key, etag: `"${etag}"`, size: 1 }));
const store = {} as RecordStore;
const opts = { rollbackTo: 'previous', keepReleases: 5, delete: 'true' as const, exclude: [] };
/** Releases a, b, c: previous would be b. */
const toA = { ...opts, rollbackTo: 'a' };

function thrown(f: () => unknown): ActionError {
  try {
    f();
  } catch (e) {
    if (e instanceof ActionError) return e;
    throw e;
  }
  throw new Error('did not throw');
}

describe('resolveRelease', () => {
  const [A, B, C, D] = ['a', 'b', 'c', 'd'].map((id) => release(id));

  it('refuses a site without releases, and previous with only the live release, naming rollback-to and the way out', () => {
    const none = thrown(() => resolveRelease([], 'previous', 's3://b/site/'));
    expect([none.message, none.location.input, none.fix]).toEqual([
      's3://b/site/ has no recorded releases to roll back to.',
      'rollback-to',
      'Deploy with this version of deploy-static first: every deploy from then on is a release.',
    ]);
    const one = thrown(() => resolveRelease([A!], 'previous', 's3://b/site/'));
    expect([one.message, one.location.input, one.fix]).toEqual([
      's3://b/site/ has only one recorded release (a, live): there is no previous release.',
      'rollback-to',
      'Roll back to a release id once a second deploy exists.',
    ]);
    // An explicit id needs no second release.
    expect(resolveRelease([A!], 'a', 'x')).toBe(A);
  });

  it('a rollback cuts the line back to the release it restored: previous then goes back one more', () => {
    // d rolled back from c to b: the line is a, b, so previous is a (never c, which was rolled away from).
    expect(resolveRelease([A!, B!, C!, rollback('d', 'b')], 'previous', 'x')).toBe(A);
    // A rollback to a release no longer on the line (given by id) is a new step on it.
    const forward = rollback('e', 'c');
    expect(resolveRelease([A!, B!, C!, rollback('d', 'a'), forward], 'previous', 'x')).toBe(A);
    // Without a restored release, a rollback is an ordinary step.
    expect(resolveRelease([A!, B!, release('r', {}, { kind: 'rollback' })], 'previous', 'x')).toBe(B);
  });

  it('refuses previous when everything before the live release was rolled away from, listing the releases newest first', () => {
    const e = thrown(() => resolveRelease([A!, B!, C!, rollback('d', 'a')], 'previous', 's3://b/site/'));
    expect([e.message, e.location.input, e.fix]).toEqual([
      `s3://b/site/: every release before the live one (a) was rolled away from, so there is no previous release. Known releases, newest first: ` +
        `d (${AT}, rollback to a), c (${AT}), b (${AT}), a (${AT}).`,
      'rollback-to',
      'Give the release id to restore (rolling forward to a release that was rolled away from is deliberate, so it is never picked by previous).',
    ]);
    // Rolling forward by id is allowed.
    expect(resolveRelease([A!, B!, C!, D!, rollback('e', 'a')], 'c', 'x')).toBe(C);
  });

  it('an unknown id names the input, the known releases and the way out', () => {
    const e = thrown(() => resolveRelease([A!, rollback('b', 'a')], 'zzz', 's3://b/site/'));
    expect([e.message, e.location.input, e.fix]).toEqual([
      `s3://b/site/: unknown release 'zzz'. Known releases, newest first: b (${AT}, rollback to a), a (${AT}).`,
      'rollback-to',
      'Use one of the ids above, or previous.',
    ]);
  });
});

describe('planRollback', () => {
  // a: the first release; b changed index.html (a's copied aside) and added new.txt; c changed nothing.
  const A = release('a', { 'index.html': file('ia', 'a'), 'robots.txt': file('ra', 'a'), 'assets/app-Ab3dEf9h.js': file('ja') });
  const B = release('b', {
    'index.html': file('ib'),
    'robots.txt': file('rb'),
    'new.txt': file('n'),
    'assets/app-Zy8xWv1u.js': file('jb'),
  });
  const C = release('c', { ...B.files });
  const live = {
    'site/index.html': 'ib',
    'site/robots.txt': 'rb',
    'site/new.txt': 'n',
    'site/assets/app-Ab3dEf9h.js': 'ja',
    'site/assets/app-Zy8xWv1u.js': 'jb',
    'site/.deploy-static/releases/a/index.html': 'ia',
    'site/.deploy-static/releases/a/robots.txt': 'ra',
  };

  it('without rollback-to it restores previous; a site without releases is refused under the target label', () => {
    const plan = planRollback(target, store, manifest([A, B], B), listing(live), { ...opts, rollbackTo: undefined });
    expect(plan.release.id).toBe('a');
    expect(() => planRollback(target, store, { version: 2, entries: {} }, [], opts)).toThrow(
      /^s3:\/\/b\/site\/ has no recorded releases to roll back to\.$/,
    );
  });

  it('restores non-HTML snapshots first, then HTML, each sorted; copies aside what kept releases recorded without a snapshot', () => {
    const files = {
      'index.html': file('ia', 'a'),
      'about.htm': file('aa', 'a'),
      'docs/page.html.gz': file('pa', 'a'),
      'robots.txt': file('ra', 'a'),
      'logo.svg': file('la', 'a'),
      'notes.html.txt': file('na', 'a'),
      'sw.js': file('sa', 'a'),
    };
    const a = release('a', files);
    const now = Object.fromEntries(Object.entries(files).map(([rel]) => [rel, file(`${rel}-b`)]));
    const b = release('b', now);
    const c = release('c', now);
    const keys = Object.fromEntries(
      Object.keys(files).flatMap((rel) => [
        [`site/${rel}`, `${rel}-b`],
        [`site/.deploy-static/releases/a/${rel}`, files[rel as keyof typeof files].etag],
      ]),
    );
    const plan = planRollback(target, store, manifest([a, b, c], c), listing(keys), toA);
    expect(plan.restores).toEqual(['logo.svg', 'notes.html.txt', 'robots.txt', 'sw.js', 'about.htm', 'docs/page.html.gz', 'index.html']);
    expect(plan.deletes).toEqual([]);
    // b and c recorded the live files without a snapshot: copied into c's folder before they are overwritten.
    expect(plan.preserve.copies.map((p) => [p.rel, p.snap, p.releases])).toEqual(
      Object.keys(files)
        .sort()
        .map((rel) => [rel, 'c', ['b', 'c']]),
    );
    expect(plan.preserve.copies.find((p) => p.rel === 'index.html')?.etag).toBe('index.html-b');
    expect(planRollback(target, store, manifest([a, b, c], c), listing(keys), { ...toA, keepReleases: 1 }).preserve.copies).toEqual([]);
  });

  it('deletes the owned keys the release lacks, copying aside the ones kept releases still use; changedRels names restores and deletes', () => {
    const plan = planRollback(target, store, manifest([A, B, C], C), listing(live), toA);
    expect([plan.release.id, plan.restores, plan.unchanged]).toEqual(['a', ['robots.txt', 'index.html'], 1]);
    // b's asset stays live (b is still kept); new.txt is owned and not in a.
    expect(plan.deletes).toEqual(['site/new.txt']);
    expect(plan.preserve.copies.map((p) => [p.rel, p.snap, p.releases])).toEqual([
      ['index.html', 'c', ['b', 'c']],
      ['new.txt', 'c', ['b', 'c']],
      ['robots.txt', 'c', ['b', 'c']],
    ]);
    expect(changedRels(plan)).toEqual(['robots.txt', 'index.html', 'new.txt']);
    // keep-releases 1 keeps no older release: b's asset goes too.
    expect(planRollback(target, store, manifest([A, B, C], C), listing(live), { ...toA, keepReleases: 1 }).deletes).toEqual([
      'site/assets/app-Zy8xWv1u.js',
      'site/new.txt',
    ]);
    expect(planRollback(target, store, manifest([A, B, C], C), listing(live), { ...toA, delete: 'false' }).deletes).toEqual([]);
  });

  it('delete guard: never the prefix itself, folder markers, the bookkeeping, excluded keys, the release files or kept assets, even with delete: all', () => {
    const extra = {
      ...live,
      'site/': 'x',
      'site/dir/': 'x',
      'site/.deploy-static/manifest.json': 'm',
      'site/.deploy-static/lock.json': 'l',
      'site/keep/me.txt': 'k',
      'site/theirs.txt': 't',
      // Listed last, deleted first: deletes are in key order.
      'site/aaa.txt': 'a',
    };
    const all = planRollback(target, store, manifest([A, B, C], C), listing(extra), { ...toA, delete: 'all', exclude: ['keep/**'] });
    expect(all.deletes).toEqual(['site/aaa.txt', 'site/new.txt', 'site/theirs.txt']);
    // delete: true leaves what the record does not own.
    const owned = planRollback(target, store, manifest([A, B, C], C), listing(extra), { ...toA, exclude: ['keep/**'] });
    expect(owned.deletes).toEqual(['site/new.txt']);
  });

  it('with the state elsewhere, a .deploy-static folder is site content and missing snapshots are named with their bucket', () => {
    const away = { ...target, state: { bucket: 'state', prefix: 'sites/one/' } };
    const { 'site/.deploy-static/releases/a/index.html': _i, 'site/.deploy-static/releases/a/robots.txt': _r, ...siteOnly } = live;
    const site = listing({ ...siteOnly, 'site/.deploy-static/x': 'x', 'site/undefined.txt': 'u' });
    const snaps = listing({ 'sites/one/releases/a/index.html': 'ia', 'sites/one/releases/a/robots.txt': 'ra' });
    const plan = planRollback(away, store, manifest([A, B, C], C), site, { ...toA, delete: 'all' }, snaps);
    expect([plan.restores, plan.deletes]).toEqual([
      ['robots.txt', 'index.html'],
      ['site/.deploy-static/x', 'site/new.txt', 'site/undefined.txt'],
    ]);
    const e = thrown(() => planRollback(away, store, manifest([A, B, C], C), site, toA, snaps.slice(1)));
    expect([e.message, e.location.input, e.fix]).toEqual([
      's3://b/site/: release a cannot be restored: 1 of its files are gone from the bucket: s3://state/sites/one/releases/a/index.html. ' +
        'Nothing was written.',
      'rollback-to',
      "Its files were removed (by hand, or it is older than keep-releases). Roll back to a newer release, or deploy that commit's build with source.",
    ]);
  });

  it('names at most ten missing files, then an ellipsis', () => {
    const many = (n: number) =>
      Object.fromEntries(Array.from({ length: n }, (_, i) => [`f${String(i).padStart(2, '0')}.txt`, file('x', 'a')]));
    const m = (n: number) => manifest([release('a', many(n)), B], B);
    const ten = thrown(() => planRollback(target, store, m(10), [], opts)).message;
    expect(ten).toMatch(/10 of its files are gone from the bucket: (\S+ ){9}site\/\.deploy-static\/releases\/a\/f09\.txt\. Nothing/);
    const eleven = thrown(() => planRollback(target, store, m(11), [], opts)).message;
    expect(eleven).toMatch(/11 of its files are gone from the bucket: (\S+ ){9}site\/\.deploy-static\/releases\/a\/f09\.txt …\. Nothing/);
  });

  it('a snapshotted file live with the same ETag but other headers is restored; one without a snapshot counts as unchanged', () => {
    const a = release('a', { 'index.html': file('i', 'a', 'old'), 'robots.txt': file('r', undefined, 'old') });
    const b = release('b', { 'index.html': file('i'), 'robots.txt': file('r') });
    const keys = { 'site/index.html': 'i', 'site/robots.txt': 'r', 'site/.deploy-static/releases/a/index.html': 'i' };
    const plan = planRollback(target, store, manifest([a, b], b), listing(keys), opts);
    expect([plan.restores, plan.unchanged]).toEqual([['index.html'], 1]);
    // The same headers: unchanged, nothing to restore.
    const same = release('a', { 'index.html': file('i', 'a'), 'robots.txt': file('r') });
    expect(planRollback(target, store, manifest([same, b], b), listing(keys), opts)).toMatchObject({ restores: [], unchanged: 2 });
  });
  it('a snapshotted file still in the bucket but no longer in the record (left by delete: false) is restored from its snapshot', () => {
    const a = release('a', { 'index.html': file('i', 'a'), 'old.txt': file('o', 'a') });
    const b = release('b', { 'index.html': file('i') });
    const keys = { 'site/index.html': 'i', 'site/old.txt': 'o', 'site/.deploy-static/releases/a/old.txt': 'o' };
    const plan = planRollback(target, store, manifest([a, b], b), listing(keys), { ...opts, delete: 'false' as const });
    expect([plan.restores, plan.unchanged]).toEqual([['old.txt'], 1]);
  });
});
