import { describe, expect, it } from 'vitest';
import { checkDeleteGuard, desiredFiles, MANIFEST_REL, planTarget, type Manifest, type PlanOptions, type RemoteObject } from '../../actions/deploy-static/plan.js';
import { parseHeaderRules } from '../../actions/deploy-static/rules.js';
import type { LocalFile } from '../../actions/deploy-static/scan.js';

const md5 = (c: string) => c.repeat(32).slice(0, 32);
const file = (rel: string, content = 'a', size = 10): LocalFile => ({ rel, abs: `/src/${rel}`, size, md5: md5(content) });
const opts: PlanOptions = { prefix: 'app/', preset: 'static', rules: [], delete: true, excluded: () => false };
const remote = (rel: string, content = 'a', size = 10, etag = md5(content)): RemoteObject => ({ key: `app/${rel}`, etag: `"${etag}"`, size });

function manifestFor(rels: string[], headersOf: (rel: string) => string, content = 'a'): Manifest {
  return { version: 1, entries: Object.fromEntries(rels.map((rel) => [rel, { etag: md5(content), md5: md5(content), headers: headersOf(rel) }])) };
}

describe('sync plan', () => {
  const local = desiredFiles([file('index.html'), file('assets/app.3f9a1c.js')], opts);
  const hashOf = (rel: string) => local.find((f) => f.rel === rel)!.headerHash;
  const fullManifest = manifestFor(['index.html', 'assets/app.3f9a1c.js'], hashOf);

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
    const plan = planTarget(local, [remote('index.html', 'd'), remote('assets/app.3f9a1c.js')], fullManifest, opts);
    expect(plan.uploads.map((o) => o.file.rel)).toEqual(['index.html']);
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

  it('uploads without a HEAD when the size or a plain-MD5 ETag already differ', () => {
    const plan = planTarget(local, [remote('index.html', 'd'), remote('assets/app.3f9a1c.js', 'a', 99, 'c'.repeat(32) + '-2')], undefined, opts);
    expect(plan.unresolved).toEqual([]);
    expect(plan.uploads.map((o) => o.file.rel).sort()).toEqual(['assets/app.3f9a1c.js', 'index.html']);
  });

  it('deletes remote keys missing locally, but never the manifest, folder markers, excluded keys or other prefixes', () => {
    const objects = [remote('index.html'), remote('assets/app.3f9a1c.js'), remote('old.js'), remote(MANIFEST_REL), remote('assets/'), remote('keep/user.txt'), { key: 'app2/other.js', etag: '"x"', size: 1 }];
    const plan = planTarget(local, objects, fullManifest, { ...opts, excluded: (rel) => rel.startsWith('keep/') });
    expect(plan.deletes).toEqual(['app/old.js']);
    expect(planTarget(local, objects, fullManifest, { ...opts, delete: false }).deletes).toEqual([]);
  });

  it('rejects a source file at the manifest path', () => {
    expect(() => desiredFiles([file(MANIFEST_REL)], opts)).toThrow(/reserved for the deploy manifest/);
  });
});

describe('delete guard', () => {
  const local = desiredFiles([file('index.html')], opts);
  const objects = Array.from({ length: 10 }, (_, i) => remote(`old-${i}.js`)).concat(remote('index.html'));
  const plan = planTarget(local, objects, undefined, opts);

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
