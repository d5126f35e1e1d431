import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3ServiceException } from '@aws-sdk/client-s3';
import { afterEach, describe, expect, it } from 'vitest';
import { type Manifest, normalizeTime, ownedRels, parseRecord } from '../../actions/deploy-static/record.js';
import { RecordStore } from '../../actions/deploy-static/record-store.js';
import { conditionalS3 } from './conditional-s3.js';

const KEY = 'app/.deploy-static/manifest.json';
const manifest = (file: string): Manifest => ({
  version: 2,
  entries: { [file]: { etag: '"e"', md5: 'd41d8cd98f00b204e9800998ecf8427e', headers: 'h' } },
});

let bucket: ReturnType<typeof conditionalS3>;
afterEach(() => bucket.mock.restore());

describe('RecordStore.write: every write is a compare-and-swap on the record', () => {
  it('creates a missing record with If-None-Match: *, then rewrites it with If-Match on the ETag it wrote', async () => {
    bucket = conditionalS3();
    const store = new RecordStore(bucket.client, { bucket: 'site', prefix: 'app/' });
    await store.read();
    await store.write(manifest('a.html'));
    await store.write(manifest('b.html'));
    const puts = bucket.mock.calls().map((c) => c.args[0].input as { IfMatch?: string; IfNoneMatch?: string });
    expect(puts.filter((p) => 'Body' in p).map((p) => [p.IfNoneMatch, p.IfMatch])).toEqual([
      ['*', undefined],
      [undefined, '"v1"'],
    ]);
    expect(JSON.parse(bucket.objects.get(KEY)!.body).entries).toHaveProperty('b.html');
  });

  it.each([
    ['another run created the record after this one found none', (put: (body: string) => void) => put('{"theirs":1}'), false],
    ['another run rewrote the record after this one read it', (put: (body: string) => void) => put('{"theirs":2}'), true],
  ])('%s: the write fails naming the record, and theirs stays', async (_label, otherWrite, existing) => {
    bucket = conditionalS3();
    if (existing) bucket.others.put(KEY, JSON.stringify(manifest('old.html')));
    const store = new RecordStore(bucket.client, { bucket: 'site', prefix: 'app/' });
    await store.read();
    otherWrite((body) => bucket.others.put(KEY, body));
    await expect(store.write(manifest('mine.html'))).rejects.toThrow(
      /The deploy record s3:\/\/site\/app\/\.deploy-static\/manifest\.json was changed by someone else during this run \(412\)/,
    );
    expect(bucket.objects.get(KEY)!.body).toMatch(/theirs/);
  });

  it('another run deleted the record after this one read it: 404 on If-Match is a conflict too', async () => {
    bucket = conditionalS3();
    bucket.others.put(KEY, JSON.stringify(manifest('old.html')));
    const store = new RecordStore(bucket.client, { bucket: 'site', prefix: 'app/' });
    await store.read();
    bucket.objects.delete(KEY);
    await expect(store.write(manifest('mine.html'))).rejects.toThrow(/changed by someone else during this run \(404\)/);
  });

  it('refresh reads the record again only when its ETag moved', async () => {
    bucket = conditionalS3();
    bucket.others.put(KEY, JSON.stringify(manifest('old.html')));
    const store = new RecordStore(bucket.client, { bucket: 'site', prefix: 'app/' });
    await store.read();
    await store.refresh();
    expect(store.parsed()).toEqual({ ok: true, manifest: manifest('old.html') });
    bucket.others.put(KEY, JSON.stringify(manifest('new.html')));
    await store.refresh();
    expect(store.etag).toBe('"v2"');
    expect(store.parsed()).toEqual({ ok: true, manifest: manifest('new.html') });
    const gets = bucket.mock.calls().filter((c) => c.args[0].constructor.name === 'GetObjectCommand');
    expect(gets).toHaveLength(2);
  });
});

describe('RecordStore.read and refresh', () => {
  it.each<[string, number | undefined]>([
    ['NoSuchKey', undefined],
    ['NotFound', undefined],
    ['Unknown', 404],
  ])('no record (%s, status %s): text and ETag cleared, parsed() undefined', async (name, status) => {
    bucket = conditionalS3();
    bucket.others.put(KEY, JSON.stringify(manifest('a.html')));
    const store = new RecordStore(bucket.client, { bucket: 'site', prefix: 'app/' });
    await store.read();
    expect(store.etag).toBe('"v1"');
    bucket.mock
      .on(GetObjectCommand)
      .rejects(new S3ServiceException({ name, $fault: 'client', $metadata: { httpStatusCode: status }, message: 'gone' }));
    expect(await store.read()).toBeUndefined();
    expect(store.etag).toBeUndefined();
    expect(store.parsed()).toBeUndefined();
  });

  it.each<[string, number | undefined]>([
    ['NotFound', undefined],
    ['NoSuchKey', undefined],
    ['Unknown', 404],
  ])('refresh: a HEAD answered %s (status %s) reads the record again, and finds none', async (name, status) => {
    bucket = conditionalS3();
    bucket.others.put(KEY, JSON.stringify(manifest('a.html')));
    const store = new RecordStore(bucket.client, { bucket: 'site', prefix: 'app/' });
    await store.read();
    bucket.objects.delete(KEY);
    bucket.mock
      .on(HeadObjectCommand)
      .rejects(new S3ServiceException({ name, $fault: 'client', $metadata: { httpStatusCode: status }, message: 'gone' }));
    await store.refresh();
    expect(store.etag).toBeUndefined();
    expect(store.text).toBeUndefined();
  });

  it('any other read error is passed on', async () => {
    bucket = conditionalS3();
    bucket.mock
      .on(GetObjectCommand)
      .rejects(
        new S3ServiceException({ name: 'AccessDenied', $fault: 'client', $metadata: { httpStatusCode: 403 }, message: 'Access Denied' }),
      );
    await expect(new RecordStore(bucket.client, { bucket: 'site', prefix: 'app/' }).read()).rejects.toThrow('Access Denied');
  });

  it('refresh without a record reads; a record deleted since is read as none; a HEAD error other than 404 is passed on', async () => {
    bucket = conditionalS3();
    const store = new RecordStore(bucket.client, { bucket: 'site', prefix: 'app/' });
    bucket.others.put(KEY, JSON.stringify(manifest('a.html')));
    await store.refresh();
    expect(store.etag).toBe('"v1"');
    bucket.objects.delete(KEY);
    await store.refresh();
    expect(store.etag).toBeUndefined();
    bucket.others.put(KEY, JSON.stringify(manifest('b.html')));
    await store.refresh();
    bucket.mock
      .on(HeadObjectCommand)
      .rejects(
        new S3ServiceException({ name: 'AccessDenied', $fault: 'client', $metadata: { httpStatusCode: 403 }, message: 'Access Denied' }),
      );
    await expect(store.refresh()).rejects.toThrow('Access Denied');
  });

  it('parsed() validates each new version of the text once, and reports a corrupt record', async () => {
    bucket = conditionalS3();
    bucket.others.put(KEY, '{"version":"two"}');
    const store = new RecordStore(bucket.client, { bucket: 'site', prefix: 'app/' });
    await store.read();
    const first = store.parsed();
    expect(first).toEqual({ ok: false, problem: expect.stringMatching(/^version: /) });
    expect(store.parsed()).toBe(first);
    await store.write(manifest('a.html'));
    expect(store.parsed()).toEqual({ ok: true, manifest: { ...manifest('a.html'), version: 3 } });
    expect(store.text).toBe(JSON.stringify({ ...manifest('a.html'), version: 3 }));
  });

  it('writes JSON that is not cached by a CDN, and a write error other than a conflict is passed on', async () => {
    bucket = conditionalS3();
    const store = new RecordStore(bucket.client, { bucket: 'site', prefix: 'app/' });
    await store.write(manifest('a.html'));
    expect(bucket.mock.commandCalls(PutObjectCommand)[0]!.args[0].input).toMatchObject({
      Bucket: 'site',
      Key: KEY,
      ContentType: 'application/json; charset=utf-8',
      CacheControl: 'no-cache',
    });
    bucket.mock.on(PutObjectCommand).rejects(
      new S3ServiceException({
        name: 'InternalError',
        $fault: 'server',
        $metadata: { httpStatusCode: 500 },
        message: 'We encountered an internal error.',
      }),
    );
    await expect(store.write(manifest('b.html'))).rejects.toThrow('We encountered an internal error.');
  });

  it('a 409 (a conflicting conditional write in flight) is a conflict too', async () => {
    bucket = conditionalS3();
    const store = new RecordStore(bucket.client, { bucket: 'site', prefix: 'app/' });
    bucket.mock.on(PutObjectCommand).rejects(
      new S3ServiceException({
        name: 'ConditionalRequestConflict',
        $fault: 'client',
        $metadata: { httpStatusCode: 409 },
        message: 'conflict',
      }),
    );
    await expect(store.write(manifest('a.html'))).rejects.toThrow(/changed by someone else during this run \(409\)/);
  });

  it('a 404 on a first write (no record was read) is not called a conflict', async () => {
    bucket = conditionalS3();
    const store = new RecordStore(bucket.client, { bucket: 'site', prefix: 'app/' });
    bucket.mock.on(PutObjectCommand).rejects(
      new S3ServiceException({
        name: 'NoSuchBucket',
        $fault: 'client',
        $metadata: { httpStatusCode: 404 },
        message: 'The specified bucket does not exist',
      }),
    );
    await expect(store.write(manifest('a.html'))).rejects.toThrow('The specified bucket does not exist');
  });
});

describe('record helpers', () => {
  it('ownedRels: entries, pending and the files of recorded releases; nothing without a record', () => {
    const m: Manifest = {
      ...manifest('a.html'),
      pending: ['b.html'],
      releases: [
        { id: 'r1', commit: 'c', at: '2026-01-01T00:00:00Z', kind: 'deploy', files: { 'old.js': { etag: '"e"', md5: 'm', headers: 'h' } } },
      ],
    };
    expect([...ownedRels(m)].sort()).toEqual(['a.html', 'b.html', 'old.js']);
    expect(ownedRels(undefined).size).toBe(0);
  });

  it.each<[Date | string | undefined, string | undefined]>([
    [new Date('2026-01-01T10:00:00.999Z'), '2026-01-01T10:00:00.000Z'],
    ['2026-01-01T10:00:01.001Z', '2026-01-01T10:00:01.000Z'],
    ['not a time', undefined],
    [undefined, undefined],
  ])('normalizeTime(%s) is %s', (t, iso) => {
    expect(normalizeTime(t)).toBe(iso);
  });
});

describe('parseRecord: each field of the record is checked', () => {
  const entry = { etag: '"e"', md5: 'd41d8cd98f00b204e9800998ecf8427e', headers: 'h' };
  const release = {
    id: 'r1',
    commit: 'abc',
    at: '2026-01-01T00:00:00Z',
    kind: 'deploy',
    files: { 'a.html': { etag: '"e"', md5: 'm', headers: 'h' } },
  };
  const record = (over: Record<string, unknown>) => JSON.stringify({ version: 2, entries: { 'a.html': entry }, ...over });
  it.each([
    ['an empty entry ETag', record({ entries: { 'a.html': { ...entry, etag: '' } } }), /^entries\.a\.html\.etag: /],
    [
      'an md5 in upper case',
      record({ entries: { 'a.html': { ...entry, md5: 'D41D8CD98F00B204E9800998ECF8427E' } } }),
      /^entries\.a\.html\.md5: /,
    ],
    ['an md5 with a suffix', record({ entries: { 'a.html': { ...entry, md5: `${entry.md5}0` } } }), /^entries\.a\.html\.md5: /],
    ['an md5 with a prefix', record({ entries: { 'a.html': { ...entry, md5: `0${entry.md5}` } } }), /^entries\.a\.html\.md5: /],
    ['empty entry headers', record({ entries: { 'a.html': { ...entry, headers: '' } } }), /^entries\.a\.html\.headers: /],
    ['a numeric lastModified', record({ entries: { 'a.html': { ...entry, lastModified: 5 } } }), /^entries\.a\.html\.lastModified: /],
    ['pending that is not a list of strings', record({ pending: [1] }), /^pending\.0: /],
    ['run without an id', record({ run: { at: 'x' } }), /^run\.id: /],
    ['a release of an unknown kind', record({ releases: [{ ...release, kind: 'restore' }] }), /^releases\.0\.kind: /],
    ['a release without an id', record({ releases: [{ ...release, id: '' }] }), /^releases\.0\.id: /],
    [
      'a release file with an empty ETag',
      record({ releases: [{ ...release, files: { 'a.html': { etag: '', md5: 'm', headers: 'h' } } }] }),
      /^releases\.0\.files\.a\.html\.etag: /,
    ],
    [
      'a release file with empty headers',
      record({ releases: [{ ...release, files: { 'a.html': { etag: '"e"', md5: 'm', headers: '' } } }] }),
      /^releases\.0\.files\.a\.html\.headers: /,
    ],
    ['a release without a commit', record({ releases: [{ ...release, commit: undefined }] }), /^releases\.0\.commit: /],
    ['a release without its time', record({ releases: [{ ...release, at: undefined }] }), /^releases\.0\.at: /],
    ['a release with a numeric actor', record({ releases: [{ ...release, actor: 1 }] }), /^releases\.0\.actor: /],
    [
      'a release file with a numeric type',
      record({ releases: [{ ...release, files: { 'a.html': { etag: '"e"', md5: 'm', headers: 'h', type: 1 } } }] }),
      /^releases\.0\.files\.a\.html\.type: /,
    ],
    ['a list, not a record', '[]', /^\(root\): /],
  ])('refuses %s, naming the field', (_label, text, problem) => {
    const r = parseRecord(text);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.problem).toMatch(problem);
  });

  it('accepts every optional field filled in', () => {
    const full = {
      version: 2,
      entries: { 'a.html': { ...entry, lastModified: '2026-01-01T00:00:00.000Z' } },
      pending: ['b.html'],
      run: { id: '7', at: '2026-01-01T00:00:00Z' },
      releases: [
        {
          ...release,
          actor: 'octocat',
          runId: '7',
          kind: 'rollback',
          restored: 'r0',
          files: { 'a.html': { etag: '"e"', md5: 'm', headers: 'h', type: 'text/html', cache: 'no-cache', snap: 'r1' } },
        },
      ],
    };
    expect(parseRecord(JSON.stringify(full))).toEqual({ ok: true, manifest: full });
  });
});
