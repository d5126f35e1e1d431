/**
 * Recording a release (releases.ts recordRelease) against the in-memory S3 of the oracle: which
 * files get a snapshot copy and when, what the record then lists, what is pruned, and the small
 * helpers around it (splitDeletes, bookkeeping, keepOf, releasesMarkdown).
 */
import { describe, expect, it } from 'vitest';
import type { Manifest, Release } from '../../actions/deploy-static/record.js';
import {
  bookkeeping,
  keepOf,
  protectedRels,
  recordRelease,
  releaseIdFor,
  releasesMarkdown,
  splitDeletes,
  uniqueId,
} from '../../actions/deploy-static/releases.js';
import { ASSET, base, entries, md5, recordOf, site, snapshotted } from './record-release-fixture.js';

describe('recordRelease', () => {
  it('records nothing when there is no readable record', async () => {
    const { s3, store } = site({});
    expect(await recordRelease(s3, store, base())).toBeUndefined();
  });

  it('copies nothing for the first release; a later one copies the files it changed that a build overwrites in place', async () => {
    const { s3, store, keys, mem } = site({ 'index.html': '<1>', 'robots.txt': 'r', [ASSET]: 'js' });
    await store.write({ version: 2, entries: entries({ 'index.html': 'i1', 'robots.txt': 'r1', [ASSET]: 'j1' }) });
    const first = base();
    const r1 = await recordRelease(s3, store, first);
    expect(r1).toEqual({ release: expect.objectContaining({ id: 'r1', kind: 'deploy' }), pruned: [], snapshots: 0 });
    expect(r1!.release.files).toEqual(entries({ 'index.html': 'i1', 'robots.txt': 'r1', [ASSET]: 'j1' }));
    expect(first.lines).toEqual([]);
    expect(keys().filter((k) => k.includes('/releases/'))).toEqual([]);

    // The second deploy changed index.html (a new ETag) and the headers of robots.txt.
    await store.write({
      ...recordOf(store),
      entries: { ...entries({ 'index.html': 'i2', [ASSET]: 'j1' }), 'robots.txt': { etag: 'r1', md5: md5('a'), headers: 'h2' } },
    });
    const second = base({ id: 'r2', who: { commit: 'c2', actor: 'ana', runId: '7' } });
    const r2 = await recordRelease(s3, store, second);
    expect(r2).toMatchObject({ previous: 'r1', pruned: [], snapshots: 2 });
    expect(r2!.release).toEqual({
      id: 'r2',
      commit: 'c2',
      at: '2026-12-01T10:00:00.000Z',
      actor: 'ana',
      runId: '7',
      kind: 'deploy',
      files: {
        [ASSET]: { etag: 'j1', md5: md5('a'), headers: 'h' },
        'index.html': { etag: 'i2', md5: md5('a'), headers: 'h', snap: 'r2' },
        'robots.txt': { etag: 'r1', md5: md5('a'), headers: 'h2', snap: 'r2' },
      },
    });
    expect(keys().filter((k) => k.includes('/releases/'))).toEqual([
      'app/.deploy-static/releases/r2/index.html',
      'app/.deploy-static/releases/r2/robots.txt',
    ]);
    expect(mem.objects.get('app/.deploy-static/releases/r2/index.html')!.body.toString()).toBe('<1>');
    expect(second.lines).toEqual(['release r2: 2 entry files copied to s3://site/app/.deploy-static/releases/r2/ (server-side)']);
    const record = recordOf(store);
    expect(record.releases!.map((r) => r.id)).toEqual(['r1', 'r2']);
    expect(record.keepReleases).toBe(5);

    // A third run that changes nothing reuses the snapshots: no copy, nothing pruned, no listing of old snapshots.
    const third = base({ id: 'r2', keep: 3 });
    const r3 = await recordRelease(s3, store, third);
    expect(r3).toMatchObject({ previous: 'r2', pruned: [], snapshots: 0 });
    expect(r3!.release.id).toBe('r2-2');
    expect(r3!.release.files['index.html']!.snap).toBe('r2');
    expect(r3!.release.files['robots.txt']!.snap).toBe('r2');
    expect(third.lines).toEqual([]);
    expect(recordOf(store).keepReleases).toBe(3);
  });

  it('keeps the last keep-releases releases, deletes the snapshot folders no kept release uses, and names the pruned', async () => {
    const { s3, store, keys, put } = site({ 'index.html': '<3>' });
    await store.write({ version: 2, entries: entries({ 'index.html': 'e-r3' }), releases: [snapshotted('r1'), snapshotted('r2')] });
    for (const id of ['r1', 'r2', 'orphan']) put(`.deploy-static/releases/${id}/index.html`, id);
    const opts = base({ id: 'r3', keep: 2 });
    const r = await recordRelease(s3, store, opts);
    expect(r).toMatchObject({ previous: 'r2', pruned: ['r1'], snapshots: 1 });
    expect(recordOf(store).releases!.map((x) => x.id)).toEqual(['r2', 'r3']);
    expect(keys().filter((k) => k.includes('/releases/'))).toEqual([
      'app/.deploy-static/releases/r2/index.html',
      'app/.deploy-static/releases/r3/index.html',
    ]);
    expect(opts.lines.at(-1)).toBe('pruned 2 snapshot copies of releases older than keep-releases (r1)');
  });

  it('with keep-releases 1 copies nothing and keeps only the new release', async () => {
    const { s3, store, keys } = site({ 'index.html': '<2>' });
    const prev: Release = { id: 'r1', commit: 'c', at: 'x', kind: 'deploy', files: entries({ 'index.html': 'e1' }) };
    await store.write({ version: 2, entries: entries({ 'index.html': 'e2' }), releases: [prev] });
    const r = await recordRelease(s3, store, base({ id: 'r2', keep: 1 }));
    expect(r).toMatchObject({ previous: 'r1', pruned: ['r1'], snapshots: 0 });
    expect(r!.release.files['index.html']!.snap).toBeUndefined();
    expect(keys().filter((k) => k.includes('/releases/'))).toEqual([]);
    expect(recordOf(store)).toMatchObject({ keepReleases: 1, releases: [{ id: 'r2' }] });
  });

  it('a rollback reuses the restored release snapshots and says which it restored; describe adds type and cache', async () => {
    const { s3, store } = site({ 'index.html': '<1>' });
    const a: Release = {
      id: 'a',
      commit: 'ca',
      at: 'x',
      kind: 'deploy',
      files: { 'index.html': { etag: 'ia', md5: md5('a'), headers: 'h', snap: 'a', type: 'text/html', cache: 'no-cache' } },
    };
    const b: Release = {
      id: 'b',
      commit: 'cb',
      at: 'y',
      kind: 'deploy',
      files: { 'index.html': { etag: 'ib', md5: md5('a'), headers: 'h', snap: 'b' } },
    };
    await store.write({ version: 2, entries: entries({ 'index.html': 'ia' }), releases: [a, b] });
    const r = await recordRelease(s3, store, base({ id: 'c', kind: 'rollback', restored: a }));
    expect(r!.release).toMatchObject({
      kind: 'rollback',
      restored: 'a',
      files: { 'index.html': { snap: 'a', type: 'text/html', cache: 'no-cache' } },
    });
    expect(r!.snapshots).toBe(0);
    const described = await recordRelease(
      s3,
      store,
      base({ id: 'd', describe: new Map([['index.html', { type: 'text/html; charset=utf-8', cache: 'max-age=60' }]]) }),
    );
    expect(described!.release.files['index.html']).toMatchObject({ type: 'text/html; charset=utf-8', cache: 'max-age=60' });
  });

  it('writes the base it is given, and deletes the keys only pruned releases needed after the record no longer lists them', async () => {
    const { s3, store, keys } = site({ 'index.html': '<2>', 'old.txt': 'o', 'keep.txt': 'k' });
    await store.write({ version: 2, entries: entries({ 'index.html': 'e1' }) });
    const opts = base({
      id: 'r2',
      base: { version: 2, entries: entries({ 'index.html': 'e2' }), pending: ['old.txt', 'gone.css'] },
      afterRecord: ['app/old.txt'],
    });
    const r = await recordRelease(s3, store, opts);
    expect(r!.release.files).toEqual(entries({ 'index.html': 'e2' }));
    expect(keys().filter((k) => !k.includes('.deploy-static'))).toEqual(['app/index.html', 'app/keep.txt']);
    expect(recordOf(store).pending).toEqual(['gone.css']);
    expect(opts.lines).toContain('deleted 1 objects only the pruned releases () used, now that the record no longer lists them');
    // Every pending key deleted: the record has no `pending` left.
    await recordRelease(
      s3,
      store,
      base({ id: 'r3', base: { version: 2, entries: {}, pending: ['keep.txt'] }, afterRecord: ['app/keep.txt'] }),
    );
    expect(recordOf(store)).not.toHaveProperty('pending');
  });
});

describe('around a release', () => {
  it('splitDeletes keeps for after the record the keys a recorded release has no snapshot of', () => {
    const m: Manifest = {
      version: 2,
      entries: {},
      releases: [
        {
          id: 'a',
          commit: 'c',
          at: 'x',
          kind: 'deploy',
          files: {
            [ASSET]: { etag: 'j', md5: md5('a'), headers: 'h' },
            'index.html': { etag: 'i', md5: md5('a'), headers: 'h', snap: 'a' },
          },
        },
      ],
    };
    expect(splitDeletes(m, ['app/index.html', `app/${ASSET}`, 'app/x.txt'], 'app/')).toEqual({
      now: ['app/index.html', 'app/x.txt'],
      afterRecord: [`app/${ASSET}`],
    });
    expect(splitDeletes(undefined, ['app/x.txt'], 'app/')).toEqual({ now: ['app/x.txt'], afterRecord: [] });
  });

  it('keepOf: the input, else the stored value, else 5', () => {
    expect(keepOf({ keepReleases: 2 }, { version: 2, entries: {}, keepReleases: 9 })).toBe(2);
    expect(keepOf({}, { version: 2, entries: {}, keepReleases: 9 })).toBe(9);
    expect(keepOf({}, undefined)).toBe(5);
  });

  it('bookkeeping skips the state folder under the prefix, sized by the snapshots and file lists; state elsewhere is not skipped', () => {
    const refs = [{ files: { snapshots: 3 } }, { files: { snapshots: 0 } }];
    const store = {
      site: { bucket: 'site', prefix: 'app/' },
      state: { bucket: 'site', prefix: 'app/.deploy-static/' },
      releaseList: () => refs,
      parsedHead: () => undefined,
    };
    expect(bookkeeping(store as never)).toEqual({ skip: '.deploy-static/', skipSize: 5, known: [] });
    expect(bookkeeping({ ...store, state: { bucket: 'other', prefix: 'x/' } } as never)).toEqual({ skipSize: 0, known: [] });
  });

  it("bookkeeping names the keys of the head's entries, where the listing can be cut into ranges; none from an unreadable head", () => {
    const store = {
      site: { bucket: 'site', prefix: 'app/' },
      state: { bucket: 'other', prefix: 'x/' },
      releaseList: () => [],
      parsedHead: () => ({ ok: true, head: { entries: { 'index.html': {}, 'a/b.js': {} } } }),
    };
    expect(bookkeeping(store as never).known).toEqual(['app/index.html', 'app/a/b.js']);
    expect(bookkeeping({ ...store, parsedHead: () => ({ ok: false, problem: 'cut' }) } as never).known).toEqual([]);
  });

  it('releasesMarkdown lists the releases newest first, the live one marked', () => {
    const ref = (id: string, extra: object = {}) => ({
      id,
      commit: `${id}0123456789abcdef`,
      at: 't',
      kind: 'deploy',
      files: { count: 2 },
      ...extra,
    });
    expect(releasesMarkdown('s3://site/app/', [])).toBe('');
    const md = releasesMarkdown(
      's3://site/app/',
      [ref('a', { actor: 'ana', runId: '7' }), ref('b', { kind: 'rollback', restored: 'a' }), ref('c', { commit: '' })] as never,
      'b',
    );
    expect(md.split('\n')).toEqual([
      '',
      '**Releases of s3://site/app/** (kept: 3)',
      '',
      expect.stringMatching(/^\| release \| commit \| time \(UTC\) \| files \| triggered by \| kind \|$/),
      expect.any(String),
      expect.stringMatching(/^\| `c` \| — \| t \| 2 \| — \| deploy \|$/),
      expect.stringMatching(/^\| \*\*`b`\*\* \(live\) \| `b0123456789a` \| t \| 2 \| — \| rollback to `a` \|$/),
      expect.stringMatching(/^\| `a` \| `a0123456789a` \| t \| 2 \| ana \(run 7\) \| deploy \|$/),
      '',
    ]);
    // A rollback whose restored release is not known.
    expect(releasesMarkdown('s3://site/app/', [ref('d', { kind: 'rollback' })] as never)).toMatch(/\| rollback to `\?` \|\n$/);
  });
});

describe('release ids and kept assets at their edges', () => {
  it('a run without a commit is `local`; the id is unique against every recorded one', () => {
    expect(releaseIdFor('', new Date('2026-11-27T15:13:05.000Z'))).toBe('local-20261127T151305Z');
    expect(uniqueId('x', [])).toBe('x');
  });

  it('the release being restored keeps its assets too, snapshotted files never', () => {
    const files = { [ASSET]: { etag: 'j', md5: md5('a'), headers: 'h' }, 'index.html': { etag: 'i', md5: md5('a'), headers: 'h' } };
    const restoring: Release = { id: 'old', commit: 'c', at: 'x', kind: 'deploy', files };
    expect([...protectedRels(undefined, 5, restoring)]).toEqual([ASSET]);
    expect([...protectedRels({ version: 2, entries: {}, releases: [restoring] }, 2)]).toEqual([ASSET]);
    expect([...protectedRels({ version: 2, entries: {}, releases: [restoring] }, 1)]).toEqual([]);
  });
});
