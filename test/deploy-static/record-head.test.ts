import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  filesBody,
  parseFiles,
  parseHead,
  parseRecord,
  recordUnreadable,
  snapCount,
  type ReleaseFile,
} from '../../actions/deploy-static/record.js';
import { stateOf } from '../../actions/deploy-static/state.js';

const md5 = 'd41d8cd98f00b204e9800998ecf8427e';
const entry = { etag: '"e"', md5, headers: 'h' };
const files: Record<string, ReleaseFile> = {
  'a.html': { etag: '"e"', md5: 'm', headers: 'h', snap: 'r1' },
  'a.js': { etag: '"j"', md5: 'm', headers: 'h' },
};
const ref = (over: Record<string, unknown> = {}) => ({
  id: 'r1',
  commit: 'abc',
  at: '2026-01-01T00:00:00Z',
  kind: 'deploy',
  files: { sha256: filesBody(files).sha256, count: 2, snapshots: 1, ...over },
});
const head = (over: Record<string, unknown>) => JSON.stringify({ version: 3, entries: { 'a.html': entry }, ...over });
const problem = (text: string) => {
  const r = parseHead(text);
  return r.ok ? undefined : r.problem;
};

describe('parseHead (version 3): each release is a reference to its file list', () => {
  it('reads a head with its references; counts snapshots', () => {
    const r = parseHead(head({ releases: [ref()] }));
    expect(r.ok && r.head.releases).toEqual([ref()]);
    expect(r.ok && r.inline.size).toBe(0);
    expect(snapCount(files)).toBe(1);
  });

  it.each([
    ['a SHA-256 that is not 64 hex digits', { sha256: 'abc' }, /^releases\.0\.files\.sha256: /],
    ['a SHA-256 with a suffix', { sha256: `${filesBody(files).sha256}0` }, /^releases\.0\.files\.sha256: /],
    ['a SHA-256 with a prefix', { sha256: `0${filesBody(files).sha256}` }, /^releases\.0\.files\.sha256: /],
    ['a fractional count', { count: 1.5 }, /^releases\.0\.files\.count: /],
    ['a negative count', { count: -1 }, /^releases\.0\.files\.count: /],
    ['a negative snapshot count', { snapshots: -1 }, /^releases\.0\.files\.snapshots: /],
  ])('refuses %s', (_label, over, expected) => {
    expect(problem(head({ releases: [ref(over)] }))).toMatch(expected);
  });

  it('accepts zero files and zero snapshots', () => {
    expect(problem(head({ releases: [ref({ count: 0, snapshots: 0 })] }))).toBeUndefined();
  });

  it('a version from a newer deploy-static is told apart, naming both versions', () => {
    expect(parseHead(head({ version: 4 }))).toEqual({
      ok: false,
      problem: 'written by a newer deploy-static (record version 4; this version reads up to 3)',
      newer: 4,
    });
    expect(parseHead(head({ version: 3 })).ok).toBe(true);
  });

  it('problems come in the order of the fields: version first, then entries, then the rest', () => {
    const badEntries = { 'a.html': { ...entry, etag: '' } };
    expect(problem(head({ version: 'x', entries: badEntries }))).toMatch(/^version: /);
    expect(problem(head({ keepReleases: 0, entries: badEntries }))).toMatch(/^keepReleases: /);
    expect(problem(head({ pending: [1], entries: badEntries }))).toMatch(/^entries\.a\.html\.etag: /);
    expect(problem(head({ pending: [1] }))).toMatch(/^pending\.0: /);
    expect(problem('null')).toMatch(/^\(root\): /);
  });

  it.each([
    ['entries that are not an object', head({ entries: 'x' }), 'entries: expected an object'],
    ['entries that are null', head({ entries: null }), 'entries: expected an object'],
    ['entries that are a list', head({ entries: [] }), 'entries: expected an object'],
    ['an entry that is not an object', head({ entries: { 'a.html': 1 } }), 'entries.a.html: expected an object'],
    ['an entry that is null', head({ entries: { 'a.html': null } }), 'entries.a.html: expected an object'],
    ['text that is not JSON', '{"version":', /^not JSON \(/],
  ])('refuses %s', (_label, text, expected) => {
    expect(problem(text)).toMatch(expected);
  });
});

describe('parseFiles: a release file list must hash to its name', () => {
  it('reads the list stored under its SHA-256', () => {
    const { body, sha256 } = filesBody(files);
    expect(parseFiles(body, sha256)).toEqual({ ok: true, files });
  });

  it('refuses text that hashes to its name but is not JSON, or not a list of files', () => {
    const sha = (t: string) => createHash('sha256').update(t).digest('hex');
    for (const [text, expected] of [
      ['{"files":', /^not JSON \(/],
      ['{"files":{"a.html":{"etag":"","md5":"m","headers":"h"}}}', /^files\.a\.html\.etag: invalid etag$/],
      ['{}', /^files: expected an object$/],
      ['null', /^files: expected an object$/],
    ] as const) {
      const r = parseFiles(text, sha(text));
      expect(r.ok).toBe(false);
      expect(!r.ok && r.problem).toMatch(expected);
    }
  });
});

describe('parseRecord: a whole record in one text', () => {
  it('a version 3 head names its file lists: they are not in the text', () => {
    expect(parseRecord(head({ releases: [ref()] }))).toEqual({ ok: false, problem: 'releases: stored apart from this text' });
  });

  it('a record without releases is read as it is', () => {
    expect(parseRecord(head({}))).toEqual({ ok: true, manifest: { version: 3, entries: { 'a.html': entry } } });
  });
});

describe('recordUnreadable', () => {
  const at = { state: stateOf({ bucket: 'site', prefix: 'app/' }) };

  it('an unreadable record: names it and the problem, the input repair-record and where the snapshots are', () => {
    const err = recordUnreadable(at, { problem: 'entries: expected an object' });
    expect(err.message).toBe(
      'The deploy record s3://site/app/.deploy-static/manifest.json is unreadable: entries: expected an object. Nothing was written: the record lists ' +
        'the releases and the keys this action owns, and a run without it would forget that history.',
    );
    expect(err.location.input).toBe('repair-record');
    expect(err.fix).toContain('under app/.deploy-static/releases/');
    expect(err.fix).toContain('restore a good copy of s3://site/app/.deploy-static/manifest.json');
  });

  it('a newer record: the way out is the newer action, and no input is blamed', () => {
    const err = recordUnreadable(at, { problem: 'written by a newer deploy-static', newer: 4 });
    expect(err.message).toMatch(
      /^The deploy record s3:\/\/site\/app\/\.deploy-static\/manifest\.json was written by a newer deploy-static\. Nothing was written/,
    );
    expect(err.location.input).toBeUndefined();
    expect(err.fix).toMatch(/^Use the newer version of deploy-static/);
  });
});
