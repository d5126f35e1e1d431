import { describe, expect, it } from 'vitest';
import { getInputs } from '../../actions/deploy-static/inputs.js';
import { parseRecord, recordUnreadable } from '../../actions/deploy-static/record.js';
import { keepOf } from '../../actions/deploy-static/releases.js';
import { RECOVERED_HEADERS, rebuildRecord } from '../../actions/deploy-static/repair.js';
import { planRollback } from '../../actions/deploy-static/rollback-plan.js';
import type { RecordStore } from '../../actions/deploy-static/record-store.js';

const where = { state: { bucket: 'site', prefix: 'app/.deploy-static/' } };

describe('an unreadable record fails closed', () => {
  it('a truncated record names the record, the problem and repair-record', () => {
    const parsed = parseRecord('{"version":2,"entries":{"index.html":{"etag":"e"');
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.newer).toBeUndefined();
    const err = recordUnreadable(where, parsed);
    expect(err.message).toMatch(/s3:\/\/site\/app\/\.deploy-static\/manifest\.json is unreadable: not JSON .*Nothing was written/);
    expect(err.fix).toMatch(/repair-record: true/);
    expect(err.fix).toContain('app/.deploy-static/releases/');
  });

  it('a newer version is told apart from a broken record, and its way out is the newer action, not a repair', () => {
    const parsed = parseRecord(JSON.stringify({ version: 4, entries: {}, shards: [] }));
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.newer).toBe(4);
    const err = recordUnreadable(where, parsed);
    expect(err.message).toMatch(/newer deploy-static \(record version 4; this version reads up to 3\)/);
    expect(err.fix).toMatch(/Use the newer version of deploy-static/);
    expect(err.fix).toMatch(/does not downgrade/);
  });
});

describe('keep-releases', () => {
  const reader = (values: Record<string, string>) => (name: string) => values[name] ?? '';
  it('is undefined when the input is empty (the action.yml default), a number when given', () => {
    expect(getInputs(reader({ source: 'dist', bucket: 'site' })).keepReleases).toBeUndefined();
    expect(getInputs(reader({ source: 'dist', bucket: 'site', 'keep-releases': '10' })).keepReleases).toBe(10);
    expect(() => getInputs(reader({ source: 'dist', bucket: 'site', 'keep-releases': '0' }))).toThrow(/keep-releases/);
  });
  it('the input wins, else the stored value, else 5', () => {
    const stored = { version: 2 as const, entries: {}, keepReleases: 10 };
    expect(keepOf({}, stored)).toBe(10);
    expect(keepOf({ keepReleases: 3 }, stored)).toBe(3);
    expect(keepOf({}, { version: 2, entries: {} })).toBe(5);
    expect(keepOf({}, undefined)).toBe(5);
  });
  it('a stored value out of range makes the record invalid', () => {
    expect(parseRecord(JSON.stringify({ version: 2, entries: {}, keepReleases: 0 })).ok).toBe(false);
  });
});

describe('rebuilding a record from the bucket', () => {
  const md5 = (c: string) => c.repeat(32);
  const o = (key: string, etag: string) => ({ key, etag: `"${etag}"`, size: 1 });
  const A = 'aaaaaaa-20261201T100000Z';
  const B = 'bbbbbbb-20261202T100000Z';
  // A's index.html was copied aside (into A) when B overwrote it; B's own changed files are in B;
  // robots.txt never changed (no snapshot); live is C, deployed without a record of it.
  const listing = [
    o('index.html', md5('c')),
    o('robots.txt', md5('d')),
    o('assets/index-Aa11Bb22.js', md5('1')),
    o('assets/index-Cc33Dd44.js', md5('3')),
    o(`.deploy-static/releases/${B}/index.html`, md5('b')),
    o(`.deploy-static/releases/${A}/index.html`, md5('a')),
    o(`.deploy-static/releases/${A}/about.html`, md5('e')),
    o('.deploy-static/lock.json', md5('9')),
  ];
  const { manifest, lost } = rebuildRecord({ bucket: 'site', prefix: '' }, listing, listing, new Date('2026-12-05T00:00:00Z'), undefined);

  it('one release per snapshot folder, oldest first by the time in the id, then the live site', () => {
    const ids = manifest.releases!.map((r) => r.id);
    expect(ids.slice(0, 2)).toEqual([A, B]);
    expect(ids[2]).toMatch(/^recovered-20261205T000000Z$/);
    expect(manifest.releases![0]!.commit).toBe('aaaaaaa');
    expect(manifest.releases![0]!.at).toBe('2026-12-01T10:00:00.000Z');
  });

  it('entry files from the own folder, else an older one, else a newer one, else live; every live asset in every release', () => {
    const [a, b, live] = manifest.releases!;
    expect(a!.files['index.html']).toMatchObject({ etag: md5('a'), snap: A });
    expect(b!.files['index.html']).toMatchObject({ etag: md5('b'), snap: B });
    // B reused A's unchanged snapshot of about.html.
    expect(b!.files['about.html']).toMatchObject({ etag: md5('e'), snap: A });
    expect(a!.files['robots.txt']).toEqual({ etag: md5('d'), md5: md5('d'), headers: RECOVERED_HEADERS });
    for (const r of [a!, b!, live!])
      expect(Object.keys(r.files)).toEqual(expect.arrayContaining(['assets/index-Aa11Bb22.js', 'assets/index-Cc33Dd44.js']));
    expect(live!.files['index.html']).toMatchObject({ etag: md5('c') });
    expect(live!.files['about.html']).toBeUndefined();
    expect(lost.join(' ')).toMatch(/commit .*actor/);
  });

  it('entries are the live objects without LastModified (the next deploy HEADs them), and nothing of the bookkeeping folder', () => {
    expect(Object.keys(manifest.entries).sort()).toEqual([
      'assets/index-Aa11Bb22.js',
      'assets/index-Cc33Dd44.js',
      'index.html',
      'robots.txt',
    ]);
    expect(Object.values(manifest.entries).every((e) => e.lastModified === undefined)).toBe(true);
    // Its content passes the record's checks (written whole, as the one-object layout of version 2 is).
    expect(parseRecord(JSON.stringify({ ...manifest, version: 2 })).ok).toBe(true);
  });

  it('a rollback to a recovered release restores its snapshots and deletes no live asset', () => {
    const plan = planRollback({ bucket: 'site', prefix: '' }, {} as RecordStore, manifest, listing, {
      rollbackTo: A,
      delete: 'true',
      exclude: [],
    });
    expect(plan.restores.sort()).toEqual(['about.html', 'index.html']);
    expect(plan.deletes).toEqual([]);
  });

  it('when the newest folder holds exactly the live site, no extra release is made', () => {
    const both = [o('index.html', md5('b')), o(`.deploy-static/releases/${B}/index.html`, md5('b'))];
    const same = rebuildRecord({ bucket: 'site', prefix: '' }, both, both, new Date(), 7);
    expect(same.manifest.releases!.map((r) => r.id)).toEqual([B]);
    expect(same.manifest.keepReleases).toBe(7);
  });
});
