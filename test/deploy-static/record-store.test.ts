import { DeleteObjectsCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3ServiceException } from '@aws-sdk/client-s3';
import { afterEach, describe, expect, it } from 'vitest';
import type { Manifest, Release } from '../../actions/deploy-static/record.js';
import { RecordStore } from '../../actions/deploy-static/record-store.js';
import type { ActionError } from '../../lib/errors.js';
import { conditionalS3 } from './conditional-s3.js';

const HEAD = 'app/.deploy-static/manifest.json';
const md5 = 'd41d8cd98f00b204e9800998ecf8427e';
const release = (id: string, rels: string[]): Release => ({
  id,
  commit: id,
  at: '2026-12-01T10:00:00.000Z',
  kind: 'deploy',
  files: Object.fromEntries(rels.map((rel) => [rel, { etag: `e-${rel}`, md5, headers: 'h' }])),
});
const record = (releases?: Release[]): Manifest => ({
  version: 3,
  entries: { 'index.html': { etag: 'e', md5, headers: 'h' } },
  ...(releases ? { releases } : {}),
});
const fail = (name: string, status: number) =>
  new S3ServiceException({ name, $fault: status >= 500 ? 'server' : 'client', $metadata: { httpStatusCode: status }, message: name });
const listKeys = (b: ReturnType<typeof conditionalS3>) =>
  b.mock
    .commandCalls(PutObjectCommand)
    .map((c) => c.args[0].input.Key!)
    .filter((k) => k !== HEAD);

let bucket: ReturnType<typeof conditionalS3>;
afterEach(() => bucket.mock.restore());
const storeOf = () => new RecordStore(bucket.client, { bucket: 'site', prefix: 'app/' });

describe('RecordStore.write under the deploy lock', () => {
  it('checks the fence before the head, before each file list and before deleting dropped lists', async () => {
    bucket = conditionalS3();
    const store = storeOf();
    const checked: string[] = [];
    store.fence = (what) => void checked.push(what);
    await store.write(record([release('A', ['a.js'])]));
    await store.write(record([release('B', ['b.js'])]));
    expect(checked).toEqual([
      `writing the deploy record s3://site/${HEAD}`,
      'writing a release file list under s3://site/app/.deploy-static/record/',
      `writing the deploy record s3://site/${HEAD}`,
      'writing a release file list under s3://site/app/.deploy-static/record/',
      'deleting file lists under s3://site/app/.deploy-static/record/',
    ]);
  });

  it('writes nothing when the fence stops it', async () => {
    bucket = conditionalS3();
    const store = storeOf();
    store.fence = () => {
      throw new Error('fenced');
    };
    await expect(store.write(record([release('A', ['a.js'])]))).rejects.toThrow('fenced');
    expect(bucket.mock.commandCalls(PutObjectCommand)).toHaveLength(0);
  });

  it('a fence that stops the delete of dropped lists leaves them in place, the head written', async () => {
    bucket = conditionalS3();
    const store = storeOf();
    await store.write(record([release('A', ['a.js'])]));
    store.fence = (what) => {
      if (what.startsWith('deleting')) throw new Error('fenced');
    };
    await expect(store.write(record([release('B', ['b.js'])]))).rejects.toThrow('fenced');
    expect(bucket.mock.commandCalls(DeleteObjectsCommand)).toHaveLength(0);
    expect(JSON.parse(bucket.objects.get(HEAD)!.body).releases[0].id).toBe('B');
  });
});

describe('RecordStore.write: lost answers and conflicts', () => {
  it('a head write that landed but whose retry got 412 stands (the head read back is ours); the next write is If-Match its ETag', async () => {
    bucket = conditionalS3();
    const store = storeOf();
    bucket.mock
      .on(PutObjectCommand, { Key: HEAD })
      .callsFakeOnce((input: { Body: Buffer }) => {
        bucket.others.put(HEAD, input.Body.toString());
        throw fail('PreconditionFailed', 412);
      })
      .callsFake((input: { Body: Buffer }) => ({ ETag: bucket.others.put(HEAD, input.Body.toString()) }));
    await store.write(record());
    const landed = bucket.objects.get(HEAD)!.etag;
    expect(store.etag).toBe(landed);
    await store.write(record([]));
    expect(bucket.mock.commandCalls(PutObjectCommand).at(-1)!.args[0].input.IfMatch).toBe(landed);
  });

  it('a conflict whose read-back fails is a conflict, with the way out', async () => {
    bucket = conditionalS3();
    const store = storeOf();
    bucket.mock.on(PutObjectCommand, { Key: HEAD }).rejects(fail('PreconditionFailed', 412));
    bucket.mock.on(GetObjectCommand, { Key: HEAD }).rejects(fail('InternalError', 500));
    const err = (await store.write(record()).catch((e: unknown) => e)) as ActionError;
    expect(err.message).toBe(`The deploy record s3://site/${HEAD} was changed by someone else during this run (412).`);
    expect(err.fix).toMatch(/without holding the deploy lock .* Re-run this deploy; it re-plans from what is in the bucket now\.$/);
  });

  it('a file list S3 already holds (412 or 409 on If-None-Match) is not an error; any other error is', async () => {
    for (const status of [412, 409]) {
      bucket = conditionalS3();
      bucket.mock.on(PutObjectCommand, { IfNoneMatch: '*', Key: HEAD }).callsFake(() => ({ ETag: '"h"' }));
      const store = storeOf();
      bucket.mock.on(PutObjectCommand, { IfNoneMatch: '*' }).rejects(fail('PreconditionFailed', status));
      bucket.mock.on(PutObjectCommand, { IfNoneMatch: '*', Key: HEAD }).resolves({ ETag: '"h"' });
      await store.write(record([release('A', ['a.js'])]));
      expect(store.etag).toBe('"h"');
      bucket.mock.restore();
    }
    bucket = conditionalS3();
    const store = storeOf();
    await store.write(record());
    bucket.mock.on(PutObjectCommand, { IfNoneMatch: '*' }).rejects(fail('SlowDown', 503));
    // The head is rewritten If-Match: only the file list fails.
    await expect(store.write(record([release('A', ['a.js'])]))).rejects.toThrow('SlowDown');
  });
});

describe('RecordStore.write: which file lists are written and deleted', () => {
  it('releases with the same files share one list, written once; a list a read head named is not written again', async () => {
    bucket = conditionalS3();
    await storeOf().write(record([release('A', ['a.js']), release('B', ['a.js'])]));
    expect(listKeys(bucket)).toHaveLength(1);
    bucket.mock.resetHistory();
    const reader = storeOf();
    await reader.read();
    await reader.write(record([release('A', ['a.js']), release('B', ['a.js']), release('C', ['c.js'])]));
    expect(listKeys(bucket)).toHaveLength(1);
  });

  it('a head without releases is written and read back without them', async () => {
    bucket = conditionalS3();
    await storeOf().write(record());
    expect(JSON.parse(bucket.objects.get(HEAD)!.body)).not.toHaveProperty('releases');
    const reader = storeOf();
    await reader.read();
    expect(reader.parsed()).toEqual({ ok: true, manifest: record() });
    expect(reader.releaseList()).toEqual([]);
    expect(reader.loaded).toBe(true);
  });

  it('a list deleted as dropped is written again when a later write names it again', async () => {
    bucket = conditionalS3();
    const store = storeOf();
    await store.write(record([release('A', ['a.js'])]));
    const [listA] = listKeys(bucket);
    await store.write(record([release('B', ['b.js'])]));
    expect(bucket.objects.has(listA!)).toBe(false);
    await store.write(record([release('A', ['a.js'])]));
    expect(bucket.objects.has(listA!)).toBe(true);
  });

  it('a write after an unreadable record (a repair) leaves a readable one', async () => {
    bucket = conditionalS3();
    await storeOf().write(record([release('A', ['a.js'])]));
    for (const k of [...bucket.objects.keys()]) if (k !== HEAD) bucket.objects.delete(k);
    const store = storeOf();
    await store.read();
    expect(store.parsed()).toMatchObject({ ok: false });
    await store.write(record([release('B', ['b.js'])]));
    expect(store.parsed()).toEqual({ ok: true, manifest: record([release('B', ['b.js'])]) });
  });

  it('rewriting a version 2 record deletes nothing (its lists were inline)', async () => {
    bucket = conditionalS3();
    bucket.others.put(HEAD, JSON.stringify({ ...record([release('A', ['a.js'])]), version: 2 }));
    const store = storeOf();
    await store.read();
    await store.write(record([release('B', ['b.js'])]));
    expect(bucket.mock.commandCalls(DeleteObjectsCommand)).toHaveLength(0);
  });
});

describe('RecordStore reading', () => {
  it('no head, or an unreadable one: no releases, and nothing left to load', async () => {
    bucket = conditionalS3();
    const store = storeOf();
    await store.read();
    expect(store.releaseList()).toEqual([]);
    expect(store.loaded).toBe(true);
    bucket.others.put(HEAD, '{"version":');
    await store.read();
    expect(store.releaseList()).toEqual([]);
    expect(store.loaded).toBe(true);
    expect(store.parsed()).toMatchObject({ ok: false });
  });

  it('a missing file list counts as loaded (the record is unreadable, nothing more to read)', async () => {
    bucket = conditionalS3();
    await storeOf().write(record([release('A', ['a.js'])]));
    for (const k of [...bucket.objects.keys()]) if (k !== HEAD) bucket.objects.delete(k);
    const store = storeOf();
    await store.read();
    expect(store.loaded).toBe(true);
    expect(store.parsed()).toMatchObject({ ok: false, problem: expect.stringMatching(/is missing$/) });
    // The head was read again once; it had not changed, so the list is missing for good.
    expect(bucket.mock.commandCalls(GetObjectCommand, { Key: HEAD })).toHaveLength(2);
  });

  it('of several unreadable lists the first is named; a list that does not hash to its name wins over a missing one', async () => {
    bucket = conditionalS3();
    await storeOf().write(record([release('A', ['a.js']), release('B', ['b.js']), release('C', ['c.js'])]));
    const [a, b, c] = JSON.parse(bucket.objects.get(HEAD)!.body).releases.map(
      (r: { files: { sha256: string } }) => `app/.deploy-static/record/${r.files.sha256}.json`,
    );
    bucket.objects.delete(a);
    bucket.others.put(b, '{}');
    bucket.others.put(c, '{}');
    const store = storeOf();
    await store.read();
    expect(store.parsed()).toMatchObject({
      ok: false,
      problem: expect.stringMatching(/^the file list of release B, .*: its SHA-256 is not its name/),
    });
  });

  it('a file list missing after the head was read again twice, each time rewritten, is a problem', async () => {
    bucket = conditionalS3();
    await storeOf().write(record([release('A', ['a.js'])]));
    const head = bucket.objects.get(HEAD)!.body;
    for (const k of [...bucket.objects.keys()]) if (k !== HEAD) bucket.objects.delete(k);
    const store = storeOf();
    await store.readHead();
    // Every read of the head finds a new version naming the same missing list.
    bucket.mock.on(GetObjectCommand, { Key: HEAD }).callsFake(() => {
      bucket.others.put(HEAD, head);
      const cur = bucket.objects.get(HEAD)!;
      return { ETag: cur.etag, Body: { transformToString: async () => cur.body } };
    });
    await store.loadReleases();
    // The first read, then two more: no third.
    expect(bucket.mock.commandCalls(GetObjectCommand, { Key: HEAD })).toHaveLength(3);
    expect(store.parsed()).toMatchObject({ ok: false, problem: expect.stringMatching(/is missing$/) });
  });

  it('refresh on an unchanged head loads the file lists not read yet', async () => {
    bucket = conditionalS3();
    await storeOf().write(record([release('A', ['a.js'])]));
    const store = storeOf();
    await store.readHead();
    expect(store.loaded).toBe(false);
    await store.refresh();
    expect(store.loaded).toBe(true);
    expect(store.parsed()).toEqual({ ok: true, manifest: record([release('A', ['a.js'])]) });
  });

  it('prefetchReleases: loadReleases while the lists are in flight asks for none of them again', async () => {
    bucket = conditionalS3();
    await storeOf().write(record([release('A', ['a.js']), release('B', ['b.js'])]));
    const store = storeOf();
    await store.readHead();
    store.prefetchReleases();
    store.prefetchReleases();
    await store.loadReleases();
    expect(store.parsed()).toEqual({ ok: true, manifest: record([release('A', ['a.js']), release('B', ['b.js'])]) });
    const lists = bucket.mock.commandCalls(GetObjectCommand).filter((c) => c.args[0].input.Key !== HEAD);
    expect(lists).toHaveLength(2);
  });

  it('prefetchReleases: a list missing or unreadable is judged by loadReleases, which reads it again', async () => {
    bucket = conditionalS3();
    await storeOf().write(record([release('A', ['a.js']), release('B', ['b.js'])]));
    const [a, b] = JSON.parse(bucket.objects.get(HEAD)!.body).releases.map(
      (r: { files: { sha256: string } }) => `app/.deploy-static/record/${r.files.sha256}.json`,
    );
    bucket.objects.delete(a);
    bucket.others.put(b, '{}');
    const store = storeOf();
    await store.readHead();
    store.prefetchReleases();
    await store.loadReleases();
    expect(store.parsed()).toMatchObject({
      ok: false,
      problem: expect.stringMatching(/^the file list of release B, .*: its SHA-256 is not its name/),
    });
    // Each list twice: the prefetch, then loadReleases (a prefetch never settles what a list is).
    expect(bucket.mock.commandCalls(GetObjectCommand, { Key: a })).toHaveLength(2);
    expect(bucket.mock.commandCalls(GetObjectCommand, { Key: b })).toHaveLength(2);
  });

  it('is loaded only once every release has its file list', async () => {
    bucket = conditionalS3();
    const store = storeOf();
    await store.write(record([release('A', ['a.js'])]));
    const other = storeOf();
    await other.read();
    await other.write(record([release('A', ['a.js']), release('B', ['b.js'])]));
    await store.readHead();
    expect(store.loaded).toBe(false);
    await store.loadReleases();
    expect(store.loaded).toBe(true);
  });

  it('a file list read that fails for another reason than "missing" is passed on; one answered without a body is unreadable', async () => {
    bucket = conditionalS3();
    await storeOf().write(record([release('A', ['a.js'])]));
    const [list] = listKeys(bucket);
    bucket.mock.on(GetObjectCommand, { Key: list }).rejectsOnce(fail('AccessDenied', 403)).resolves({ ETag: '"l"' });
    await expect(storeOf().read()).rejects.toThrow('AccessDenied');
    const store = storeOf();
    await store.read();
    expect(store.parsed()).toMatchObject({ ok: false, problem: expect.stringMatching(/its SHA-256 is not its name/) });
  });

  it('refresh without a record read sends no HEAD; the store names the site it describes', async () => {
    bucket = conditionalS3();
    const store = storeOf();
    await store.refresh();
    expect(bucket.mock.commandCalls(HeadObjectCommand)).toHaveLength(0);
    expect(store.site).toEqual({ bucket: 'site', prefix: 'app/' });
  });

  it('a head answer without a body reads as no text', async () => {
    bucket = conditionalS3();
    bucket.mock.on(GetObjectCommand, { Key: HEAD }).resolves({ ETag: '"x"' });
    const store = storeOf();
    expect(await store.readHead()).toBeUndefined();
    expect(store.etag).toBe('"x"');
  });
});
