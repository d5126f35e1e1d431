/**
 * The sync plan and the delete guard at their edges: what the plan hands to the writes and to the
 * next record (remoteSeen, replaced, foreign, remoteCount), which remote keys it never acts on, when a
 * record entry or a HEAD settles a key, and the guard's limits, counts and messages.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import {
  checkDeleteGuard,
  desiredFiles,
  planTarget,
  relOf,
  type DesiredFile,
  type Manifest,
  type PlanOptions,
  type RemoteObject,
  type TargetPlan,
} from '../../actions/deploy-static/plan.js';
import { parseHeaderRules, SHORT_CACHE } from '../../actions/deploy-static/rules.js';
import type { LocalFile } from '../../actions/deploy-static/scan.js';
import { ActionError } from '../../lib/errors.js';

const md5 = (c: string) => c.repeat(32).slice(0, 32);
const T0 = '2026-11-27T10:00:00.000Z';
const file = (rel: string, content = 'a', size = 10): LocalFile => ({ rel, abs: `/src/${rel}`, size, md5: md5(content) });
const opts: PlanOptions = {
  prefix: 'app/',
  preset: 'static',
  rules: [],
  delete: 'true',
  stateRel: '.deploy-static/',
  excluded: () => false,
};
const remote = (rel: string, content = 'a', size = 10): RemoteObject => ({
  key: `app/${rel}`,
  etag: `"${md5(content)}"`,
  size,
  lastModified: T0,
});
const entry = (headers: string, content = 'a') => ({ etag: md5(content), md5: md5(content), headers, lastModified: T0 });

describe('what the plan hands on', () => {
  // Built in beforeEach, not at collection time: a mutant of the module then fails the tests that use it.
  let local: DesiredFile[];
  let record: Manifest;
  let plan: TargetPlan;
  const hashOf = (rel: string) => local.find((f) => f.rel === rel)!.headerHash;
  const listing = [remote('index.html'), remote('about.html'), remote('old.js'), remote('theirs.txt')];
  beforeEach(() => {
    local = desiredFiles([file('index.html'), file('about.html', 'b'), file('new.html')], opts);
    record = {
      version: 2,
      entries: { 'index.html': entry(hashOf('index.html')), 'about.html': entry(hashOf('about.html')), 'old.js': entry('h') },
    };
    plan = planTarget(local, listing, record, opts);
  });

  it('files: key under the prefix, header hash and entry flag', () => {
    expect(local.map((f) => [f.key, f.entry])).toEqual([
      ['app/index.html', true],
      ['app/about.html', true],
      ['app/new.html', true],
    ]);
    expect(desiredFiles([file('robots.txt')], opts)[0]!.entry).toBe(false);
    expect(desiredFiles([file('a.txt')], { ...opts, acl: 'public-read' })[0]!.headerHash).not.toBe(
      desiredFiles([file('a.txt')], opts)[0]!.headerHash,
    );
  });

  it('files with the same headers share one frozen headers object (100,000 copies were 13 MB); a rule gives a file its own', () => {
    const rules = parseHeaderRules('b.txt: Cache-Control: no-store');
    const [a, b, c] = desiredFiles([file('a.txt'), file('b.txt'), file('c.txt')], { ...opts, rules });
    expect(a!.headers).toBe(c!.headers);
    expect(Object.isFrozen(a!.headers) && Object.isFrozen(a!.headers.metadata)).toBe(true);
    expect(b!.headers).not.toBe(a!.headers);
    expect([a!.headers.cacheControl, b!.headers.cacheControl]).toEqual([SHORT_CACHE, 'no-store']);
    expect(a!.headerHash).toBe(c!.headerHash);
  });

  it('an unquoted listing object is handed on as it is, not copied (listRemote strips the quotes)', () => {
    const plain = { ...remote('index.html'), etag: md5('a') };
    const again = planTarget(local, [plain], record, opts);
    expect(again.remoteSeen.get('index.html')).toBe(plain);
    expect(plan.remoteSeen.get('index.html')).toEqual({ ...listing[0], etag: md5('a') });
  });

  it('the listing of unchanged keys (for the next record), and of every key overwritten or deleted (for snapshots)', () => {
    expect(plan.unchanged.map((f) => f.rel)).toEqual(['index.html']);
    expect([...plan.remoteSeen.keys()]).toEqual(['index.html']);
    expect(plan.remoteSeen.get('index.html')).toEqual({ ...remote('index.html'), etag: md5('a') });
    expect(plan.uploads.map((o) => [o.file.rel, o.reason])).toEqual([
      ['about.html', 'content'],
      ['new.html', 'new'],
    ]);
    expect([...plan.replaced.keys()].sort()).toEqual(['about.html', 'old.js']);
    expect(plan.replaced.get('old.js')).toEqual({ ...remote('old.js'), etag: md5('a') });
    expect(plan.deletes).toEqual(['app/old.js']);
    expect(plan.foreign).toEqual(['app/theirs.txt']);
    expect(plan.remoteCount).toBe(4);
  });

  it('delete: false names no foreign key; a re-headed file is replaced too', () => {
    expect(planTarget(local, listing, record, { ...opts, delete: 'false' }).foreign).toEqual([]);
    const reheaded = planTarget(local, [remote('index.html')], { version: 2, entries: { 'index.html': entry('old') } }, opts);
    expect(reheaded.copies.map((o) => o.file.rel)).toEqual(['index.html']);
    expect([...reheaded.replaced.keys()]).toEqual(['index.html']);
    expect(reheaded.remoteSeen.size).toBe(0);
  });

  it('never acts on the prefix itself, keys of other prefixes, folder markers, the state folder or excluded keys', () => {
    const odd = [
      { key: 'app/', etag: '"x"', size: 0 },
      { key: 'other/old.js', etag: '"x"', size: 1 },
      { key: 'app/dir/', etag: '"x"', size: 0 },
      remote('.deploy-static/manifest.json'),
      remote('skip/me.txt'),
    ];
    const owned: Manifest = { version: 2, entries: Object.fromEntries(['', 'dir/', 'skip/me.txt'].map((r) => [r, entry('h')])) };
    const p = planTarget([], odd, owned, { ...opts, delete: 'all', excluded: (rel) => rel.startsWith('skip/') });
    expect([p.deletes, p.remoteCount]).toEqual([[], 0]);
    // With the state elsewhere, a `.deploy-static/` folder is an ordinary key.
    expect(planTarget([], [remote('.deploy-static/x')], undefined, { ...opts, delete: 'all', stateRel: undefined }).deletes).toEqual([
      'app/.deploy-static/x',
    ]);
    expect(desiredFiles([file('.deploy-static/x')], { ...opts, stateRel: undefined })).toHaveLength(1);
    // No state folder is no prefix at all: not even a file or key named "undefined…" is held back.
    expect(desiredFiles([file('undefined.html')], { ...opts, stateRel: undefined }).map((f) => f.key)).toEqual(['app/undefined.html']);
    expect(planTarget([], [remote('undefined.html')], undefined, { ...opts, delete: 'all', stateRel: undefined }).deletes).toEqual([
      'app/undefined.html',
    ]);
  });

  it('a source file inside the state folder is refused naming the source input and the way out', () => {
    let err: unknown;
    try {
      desiredFiles([file('index.html'), file('.deploy-static/manifest.json')], opts);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ActionError);
    const e = err as ActionError;
    expect([e.message, e.location.input, e.fix]).toEqual([
      "'.deploy-static/manifest.json' is inside .deploy-static/, which is reserved for the deploy manifest and lock.",
      'source',
      "Rename the file, or add it to 'exclude' (or keep the state elsewhere with state-bucket / state-prefix).",
    ]);
  });

  it('a size that differs from the listing is a content upload without a HEAD', () => {
    const p = planTarget(local.slice(0, 1), [remote('index.html', 'a', 11)], undefined, opts);
    expect([p.uploads.map((o) => [o.file.rel, o.reason]), p.unresolved]).toEqual([[['index.html', 'content']], []]);
  });

  it('a weak or quoted ETag is compared without its quotes', () => {
    const weak = { ...remote('index.html'), etag: `W/"${md5('a')}"` };
    const p = planTarget(local.slice(0, 1), [weak], { version: 2, entries: { 'index.html': entry(hashOf('index.html')) } }, opts);
    expect(p.unchanged.map((f) => f.rel)).toEqual(['index.html']);
  });
});

describe('when the record or a HEAD settles a key', () => {
  let local: DesiredFile[];
  let h: string;
  beforeEach(() => {
    local = desiredFiles([file('a.txt')], opts);
    h = local[0]!.headerHash;
  });

  it('an entry without LastModified is not trusted, even when the listing has none either', () => {
    const { lastModified: _l, ...unstamped } = remote('a.txt');
    const { lastModified: _m, ...entryOnly } = entry(h);
    const p = planTarget(local, [unstamped], { version: 2, entries: { 'a.txt': entryOnly } }, opts);
    expect(p.unresolved.map((f) => f.rel)).toEqual(['a.txt']);
  });

  it('an entry with another ETag is not trusted', () => {
    const p = planTarget(local, [remote('a.txt', 'b')], { version: 2, entries: { 'a.txt': entry(h) } }, opts);
    expect(p.unresolved.map((f) => f.rel)).toEqual(['a.txt']);
  });

  it('a HEAD without an MD5: the plain ETag is the MD5, unless the object is SSE-KMS or multipart', () => {
    const heads = new Map([['a.txt', { headers: h }]]);
    expect(planTarget(local, [remote('a.txt')], undefined, opts, heads).unchanged).toHaveLength(1);
    const multipart = { ...remote('a.txt'), etag: `"${md5('a')}-2"` };
    expect(planTarget(local, [multipart], undefined, opts, heads).uploads.map((o) => o.reason)).toEqual(['content']);
    const upper = { ...remote('a.txt'), etag: `"${md5('A')}"` };
    expect(planTarget(desiredFiles([file('a.txt', 'A')], opts), [upper], undefined, opts, heads).uploads).toHaveLength(1);
  });
});

describe('delete guard at its limits', () => {
  const guard = { maxCount: 2, maxRatio: 0.5, force: false, prefix: 'app/' };
  const planWith = (deletes: string[], remoteCount: number, uploads: { file: { rel: string }; reason: string }[] = []) =>
    ({ deletes, remoteCount, uploads }) as unknown as TargetPlan;

  it('lets exactly max-delete-count and exactly max-delete-ratio through, stops one more', () => {
    expect(checkDeleteGuard(planWith(['app/a', 'app/b'], 4), 'x', guard)).toBeUndefined();
    const count = checkDeleteGuard(planWith(['app/a', 'app/b', 'app/c'], 100), 's3://site/app/', guard);
    expect([count?.message, count?.location.input, count?.fix]).toEqual([
      's3://site/app/: the plan deletes 3 objects, more than max-delete-count (2).',
      'max-delete-count',
      'Check that source is the right build folder; if the deletes are intended, raise max-delete-count or set force-delete: true for this run.',
    ]);
    const ratio = checkDeleteGuard(planWith(['app/a', 'app/b'], 3), 's3://site/app/', guard);
    expect([ratio?.message, ratio?.location.input, ratio?.fix]).toEqual([
      's3://site/app/: the plan deletes 2 of 3 objects (ratio 0.67), more than max-delete-ratio (0.5).',
      'max-delete-ratio',
      'Check that source is the right build folder; if the deletes are intended, raise max-delete-ratio or set force-delete: true for this run.',
    ]);
  });

  it('counts a delete from an empty listing as no ratio at all', () => {
    expect(checkDeleteGuard(planWith(['app/a'], 0), 'x', { ...guard, maxRatio: 0 })).toBeUndefined();
  });

  it('does not count assets renamed by a rebuild (new uploads only, stems under the prefix), and says how many it left out', () => {
    const up = (rel: string, reason: 'new' | 'content') => ({ file: { rel }, reason });
    const renamed = planWith(['app/assets/index-C-HkVLXe.js', 'app/robots.txt', 'app/old.txt'], 3, [up('assets/index-BqG5W8cL.js', 'new')]);
    expect(checkDeleteGuard(renamed, 'x', { ...guard, maxRatio: 1, maxCount: 1 })?.message).toBe(
      'x: the plan deletes 2 objects (not counting 1 renamed fingerprinted assets), more than max-delete-count (1).',
    );
    expect(checkDeleteGuard(renamed, 'x', { ...guard, maxCount: 9 })?.message).toBe(
      'x: the plan deletes 2 of 3 objects (not counting 1 renamed fingerprinted assets) (ratio 0.67), more than max-delete-ratio (0.5).',
    );
    // An upload of changed content under the same name, or a stem from another prefix, is no rename.
    expect(
      checkDeleteGuard(planWith(['app/assets/index-C-HkVLXe.js'], 1, [up('assets/index-BqG5W8cL.js', 'content')]), 'x', {
        ...guard,
        maxCount: 0,
      }),
    ).toBeDefined();
    expect(
      checkDeleteGuard(planWith(['app/assets/index-C-HkVLXe.js'], 1, [up('assets/index-BqG5W8cL.js', 'new')]), 'x', {
        maxCount: 0,
        maxRatio: 1,
        force: false,
      }),
    ).toBeDefined();
  });

  it('relOf strips the prefix only when the key has it', () => {
    expect([relOf('app/a.js', 'app/'), relOf('other/a.js', 'app/')]).toEqual(['a.js', 'other/a.js']);
  });
});
