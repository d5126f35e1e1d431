import { beforeEach, describe, expect, it } from 'vitest';
import {
  checkDeleteGuard,
  desiredFiles,
  planTarget,
  type DesiredFile,
  type Manifest,
  type PlanOptions,
  type RemoteObject,
  type TargetPlan,
} from '../../actions/deploy-static/plan.js';
import { parseRecord } from '../../actions/deploy-static/record.js';
import { parseHeaderRules } from '../../actions/deploy-static/rules.js';
import type { LocalFile } from '../../actions/deploy-static/scan.js';

const md5 = (c: string) => c.repeat(32).slice(0, 32);
const file = (rel: string, content = 'a', size = 10): LocalFile => ({ rel, abs: `/src/${rel}`, size, md5: md5(content) });
const opts: PlanOptions = {
  prefix: 'app/',
  preset: 'static',
  rules: [],
  delete: 'true',
  stateRel: '.deploy-static/',
  excluded: () => false,
};
const MANIFEST_REL = '.deploy-static/manifest.json';
const T0 = '2026-11-27T10:00:00.000Z';
const remote = (rel: string, content = 'a', size = 10, etag = md5(content), lastModified = T0): RemoteObject => ({
  key: `app/${rel}`,
  etag: `"${etag}"`,
  size,
  lastModified,
});

function manifestFor(rels: string[], headersOf: (rel: string) => string, content = 'a'): Manifest {
  return {
    version: 2,
    entries: Object.fromEntries(
      rels.map((rel) => [rel, { etag: md5(content), md5: md5(content), headers: headersOf(rel), lastModified: T0 }]),
    ),
  };
}

describe('sync plan', () => {
  // Built in beforeEach, not at collection time: a mutant of the module then fails the tests that use it.
  let local: DesiredFile[];
  let fullManifest: Manifest;
  const hashOf = (rel: string) => local.find((f) => f.rel === rel)!.headerHash;
  beforeEach(() => {
    local = desiredFiles([file('index.html'), file('assets/app.3f9a1c.js')], opts);
    fullManifest = manifestFor(['index.html', 'assets/app.3f9a1c.js'], hashOf);
  });

  it('uploads everything on a cold bucket', () => {
    const plan = planTarget(local, [], undefined, opts);
    expect(plan.uploads.map((o) => [o.file.key, o.reason])).toEqual([
      ['app/index.html', 'new'],
      ['app/assets/app.3f9a1c.js', 'new'],
    ]);
  });

  it('is a no-op (and needs no HEAD) when content and headers match the manifest, whatever the mtimes', () => {
    const plan = planTarget(local, [remote('index.html'), remote('assets/app.3f9a1c.js')], fullManifest, opts);
    expect(plan.uploads).toEqual([]);
    expect(plan.copies).toEqual([]);
    expect(plan.unresolved).toEqual([]);
    expect(plan.unchanged).toHaveLength(2);
  });

  it('uploads a same-size content change', () => {
    const changed = desiredFiles([file('index.html', 'b'), file('assets/app.3f9a1c.js')], opts);
    const plan = planTarget(changed, [remote('index.html'), remote('assets/app.3f9a1c.js')], fullManifest, opts);
    expect(plan.uploads.map((o) => [o.file.rel, o.reason])).toEqual([['index.html', 'content']]);
  });

  it('updates only headers with a copy when a header rule changes', () => {
    const rules = parseHeaderRules('*.html: Cache-Control: max-age=60');
    const next = desiredFiles([file('index.html'), file('assets/app.3f9a1c.js')], { ...opts, rules });
    const plan = planTarget(next, [remote('index.html'), remote('assets/app.3f9a1c.js')], fullManifest, { ...opts, rules });
    expect(plan.uploads).toEqual([]);
    expect(plan.copies.map((o) => [o.file.rel, o.reason])).toEqual([['index.html', 'headers']]);
  });

  it('does not trust a manifest entry once the object was overwritten out of band', () => {
    const objects = [remote('index.html', 'd'), remote('assets/app.3f9a1c.js')];
    const plan = planTarget(local, objects, fullManifest, opts);
    expect(plan.unresolved.map((f) => f.rel)).toEqual(['index.html']);
    const heads = new Map([['index.html', { md5: md5('d'), headers: hashOf('index.html') }]]);
    expect(planTarget(local, objects, fullManifest, opts, heads).uploads.map((o) => o.file.rel)).toEqual(['index.html']);
  });

  it('asks for a HEAD only for keys the listing and manifest cannot settle, then classifies them', () => {
    const multipart = 'b'.repeat(32) + '-3';
    const objects = [remote('index.html'), remote('assets/app.3f9a1c.js', 'a', 10, multipart)];
    const first = planTarget(local, objects, undefined, opts);
    // index.html: equal MD5 but unknown headers (no manifest); the JS: multipart ETag.
    expect(first.unresolved.map((f) => f.rel).sort()).toEqual(['assets/app.3f9a1c.js', 'index.html']);
    const heads = new Map([
      ['index.html', { headers: hashOf('index.html') }],
      ['assets/app.3f9a1c.js', { md5: md5('a'), headers: 'stale' }],
    ]);
    const second = planTarget(local, objects, undefined, opts, heads);
    expect(second.unresolved).toEqual([]);
    expect(second.unchanged.map((f) => f.rel)).toEqual(['index.html']);
    expect(second.copies.map((o) => o.file.rel)).toEqual(['assets/app.3f9a1c.js']);
  });

  it('uploads without a HEAD when the size differs; an ETag that differs at the same size is HEADed first', () => {
    const objects = [remote('index.html', 'd'), remote('assets/app.3f9a1c.js', 'a', 99, 'c'.repeat(32) + '-2')];
    const plan = planTarget(local, objects, undefined, opts);
    expect(plan.uploads.map((o) => o.file.rel)).toEqual(['assets/app.3f9a1c.js']);
    expect(plan.unresolved.map((f) => f.rel)).toEqual(['index.html']);
    // An SSE-KMS object: its ETag is not its MD5, the MD5 stored with it says it is unchanged.
    const kms = planTarget(
      local,
      objects,
      undefined,
      opts,
      new Map([['index.html', { md5: md5('a'), kms: true, headers: hashOf('index.html') }]]),
    );
    expect(kms.uploads.map((o) => o.file.rel)).toEqual(['assets/app.3f9a1c.js']);
    expect(kms.unchanged.map((f) => f.rel)).toEqual(['index.html']);
    // An SSE-KMS object without a stored MD5 (another tool wrote it): the ETag cannot vouch for it either.
    const foreign = planTarget(
      local,
      [remote('index.html')],
      undefined,
      opts,
      new Map([['index.html', { kms: true, headers: hashOf('index.html') }]]),
    );
    expect(foreign.uploads.filter((o) => o.reason === 'content').map((o) => o.file.rel)).toEqual(['index.html']);
  });

  it('deletes remote keys missing locally, but never the manifest, folder markers, excluded keys or other prefixes', () => {
    const objects = [
      remote('index.html'),
      remote('assets/app.3f9a1c.js'),
      remote('old.js'),
      remote(MANIFEST_REL),
      remote('.deploy-static/lock.json'),
      remote('assets/'),
      remote('keep/user.txt'),
      { key: 'app2/other.js', etag: '"x"', size: 1 },
    ];
    const owner = manifestFor(['index.html', 'assets/app.3f9a1c.js', 'old.js', 'keep/user.txt', 'assets/'], () => 'h');
    const plan = planTarget(local, objects, owner, { ...opts, excluded: (rel) => rel.startsWith('keep/') });
    expect(plan.deletes).toEqual(['app/old.js']);
    // Not even `delete: all` touches the record or a lock another run holds.
    expect(planTarget(local, objects, owner, { ...opts, delete: 'all', excluded: (rel) => rel.startsWith('keep/') }).deletes).toEqual([
      'app/old.js',
    ]);
    expect(planTarget(local, objects, owner, { ...opts, delete: 'false' }).deletes).toEqual([]);
  });

  it('trusts a record entry only while ETag and LastModified both match: an in-place header edit is HEADed and repaired', () => {
    // A console "edit metadata": same bytes, same ETag, new LastModified.
    const objects = [remote('index.html', 'a', 10, md5('a'), '2026-11-27T11:00:00.000Z'), remote('assets/app.3f9a1c.js')];
    const first = planTarget(local, objects, fullManifest, opts);
    expect(first.unresolved.map((f) => f.rel)).toEqual(['index.html']);
    const second = planTarget(local, objects, fullManifest, opts, new Map([['index.html', { headers: 'edited-by-hand' }]]));
    expect(second.copies.map((o) => [o.file.rel, o.reason])).toEqual([['index.html', 'headers']]);
    expect(second.uploads).toEqual([]);
  });

  it('deletes only keys the record owns; another app beside a root site is left alone unless delete: all', () => {
    const root = { ...opts, prefix: '' };
    const site = desiredFiles([file('index.html')], root);
    const record: Manifest = {
      version: 2,
      entries: { 'index.html': fullManifest.entries['index.html']!, 'old.js': fullManifest.entries['index.html']! },
      pending: ['gone.css'],
    };
    const objects = ['index.html', 'old.js', 'gone.css', 'admin/index.html', 'admin/app.js'].map((k) => ({
      key: k,
      etag: `"${md5('a')}"`,
      size: 10,
      lastModified: T0,
    }));
    const plan = planTarget(site, objects, record, root);
    expect(plan.deletes).toEqual(['gone.css', 'old.js']);
    expect(plan.foreign).toEqual(['admin/app.js', 'admin/index.html']);
    expect(planTarget(site, objects, undefined, root).deletes).toEqual([]);
    expect(planTarget(site, objects, record, { ...root, delete: 'all' }).deletes).toEqual([
      'admin/app.js',
      'admin/index.html',
      'gone.css',
      'old.js',
    ]);
  });

  it('rejects a source file at the manifest path', () => {
    expect(() => desiredFiles([file(MANIFEST_REL)], opts)).toThrow(/reserved for the deploy manifest and lock/);
    expect(() => desiredFiles([file('.deploy-static/lock.json')], opts)).toThrow(/reserved/);
  });
});

describe('delete guard', () => {
  let plan: TargetPlan;
  beforeEach(() => {
    const objects = Array.from({ length: 10 }, (_, i) => remote(`old-${i}.js`)).concat(remote('index.html'));
    const owner = manifestFor(
      objects.map((o) => o.key.slice(4)),
      () => 'h',
    );
    plan = planTarget(desiredFiles([file('index.html')], opts), objects, owner, opts);
  });

  it('does not count fingerprinted assets replaced by their rebuilt names (a 3-file Vite site), but still guards a build that lost them', () => {
    const before = ['index.html', 'assets/index-C-HkVLXe.js', 'assets/index-BqG5W8cL.css'];
    const rebuilt = desiredFiles(
      [file('index.html', 'b'), file('assets/index-Dk8nF2qw.js', 'c'), file('assets/index-x_9TyZ1p.css', 'd')],
      opts,
    );
    const rebuild = planTarget(
      rebuilt,
      before.map((r) => remote(r)),
      manifestFor(before, () => 'h'),
      opts,
    );
    expect(rebuild.deletes).toHaveLength(2);
    expect(checkDeleteGuard(rebuild, 's3://site/app/', { maxCount: 500, maxRatio: 0.5, force: false, prefix: 'app/' })).toBeUndefined();
    const broken = planTarget(
      desiredFiles([file('index.html', 'b')], opts),
      before.map((r) => remote(r)),
      manifestFor(before, () => 'h'),
      opts,
    );
    expect(checkDeleteGuard(broken, 's3://site/app/', { maxCount: 500, maxRatio: 0.5, force: false, prefix: 'app/' })?.message).toMatch(
      /deletes 2 of 3 objects \(ratio 0.67\)/,
    );
  });

  it.each([
    [{ maxCount: 5, maxRatio: 1, force: false }, /deletes 10 objects, more than max-delete-count \(5\)/],
    [{ maxCount: 500, maxRatio: 0.5, force: false }, /deletes 10 of 11 objects \(ratio 0.91\), more than max-delete-ratio/],
  ])('stops %j', (guard, message) => {
    expect(checkDeleteGuard(plan, 's3://site/app/', guard)?.message).toMatch(message);
  });

  it('lets force-delete and small deletes through', () => {
    expect(checkDeleteGuard(plan, 'x', { maxCount: 5, maxRatio: 0.1, force: true })).toBeUndefined();
    expect(checkDeleteGuard(plan, 'x', { maxCount: 10, maxRatio: 0.95, force: false })).toBeUndefined();
  });
});

describe('deploy record validation', () => {
  it.each([
    ['{not json', /not JSON/],
    ['{"version":4,"entries":{}}', /version/],
    ['{"version":"3","entries":{}}', /version/],
    ['{"version":2,"entries":{"a.js":{"etag":"x","md5":"nothex","headers":"h"}}}', /entries\.a\.js\.md5/],
    ['{"version":2,"entries":[]}', /entries/],
    ['{"version":2,"entries":{},"pending":"index.html"}', /pending/],
  ])('refuses %s', (text, problem) => {
    const r = parseRecord(text);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.problem).toMatch(problem);
  });

  it('accepts a version 1 manifest and keeps unknown fields of a newer record', () => {
    const r = parseRecord(
      JSON.stringify({ version: 1, entries: { 'a.js': { etag: 'e', md5: 'a'.repeat(32), headers: 'h' } }, future: [{ id: 'r1' }] }),
    );
    expect(r.ok && r.manifest.future).toEqual([{ id: 'r1' }]);
  });
});
