import { afterEach, describe, expect, it } from 'vitest';
import { type Manifest, RecordStore } from '../../actions/deploy-static/record.js';
import { conditionalS3 } from './conditional-s3.js';

const KEY = 'app/.deploy-static/manifest.json';
const manifest = (file: string): Manifest => ({ version: 2, entries: { [file]: { etag: '"e"', md5: 'd41d8cd98f00b204e9800998ecf8427e', headers: 'h' } } });

let bucket: ReturnType<typeof conditionalS3>;
afterEach(() => bucket.mock.restore());

describe('RecordStore.write: every write is a compare-and-swap on the record', () => {
  it('creates a missing record with If-None-Match: *, then rewrites it with If-Match on the ETag it wrote', async () => {
    bucket = conditionalS3();
    const store = new RecordStore(bucket.client, 'site', 'app/');
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
    const store = new RecordStore(bucket.client, 'site', 'app/');
    await store.read();
    otherWrite((body) => bucket.others.put(KEY, body));
    await expect(store.write(manifest('mine.html'))).rejects.toThrow(/The deploy record s3:\/\/site\/app\/\.deploy-static\/manifest\.json was changed by someone else during this run \(412\)/);
    expect(bucket.objects.get(KEY)!.body).toMatch(/theirs/);
  });

  it('another run deleted the record after this one read it: 404 on If-Match is a conflict too', async () => {
    bucket = conditionalS3();
    bucket.others.put(KEY, JSON.stringify(manifest('old.html')));
    const store = new RecordStore(bucket.client, 'site', 'app/');
    await store.read();
    bucket.objects.delete(KEY);
    await expect(store.write(manifest('mine.html'))).rejects.toThrow(/changed by someone else during this run \(404\)/);
  });

  it('refresh reads the record again only when its ETag moved', async () => {
    bucket = conditionalS3();
    bucket.others.put(KEY, JSON.stringify(manifest('old.html')));
    const store = new RecordStore(bucket.client, 'site', 'app/');
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
