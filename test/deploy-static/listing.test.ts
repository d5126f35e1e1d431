/**
 * listRemote's `skip`: the bookkeeping folder (a snapshot copy of entry files
 * per release) is left out of the site listing without being listed, on the
 * real wire (s3rver behind the test proxy): a site with more snapshot keys
 * than site keys must not pay for listing them on every deploy. (s3rver runs
 * in a child with OpenSSL's legacy provider: listings here take several pages.)
 */
import { createHash } from 'node:crypto';
import { ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareKeys, listRemote, RANGE_KEYS } from '../../actions/deploy-static/s3.js';
import { s3Client } from './fixtures.js';
import { startPagingLocalS3 } from './legacy-s3.js';

let s3: Awaited<ReturnType<typeof startPagingLocalS3>>;
let client: S3Client;
// Site keys on both sides of `.deploy-static/` in S3's order ('-' and '.a' sort before it), and bookkeeping keys.
const SITE = [
  'app/-redirects.txt',
  'app/.abc/x.txt',
  'app/.deploy-statics.txt',
  'app/index.html',
  'app/zz/last.txt',
  ...Array.from({ length: 30 }, (_, i) => `app/assets/a${i}.js`),
];
const BOOKKEEPING = [
  'app/.deploy-static/manifest.json',
  'app/.deploy-static/lock.json',
  ...Array.from({ length: 1500 }, (_, i) => `app/.deploy-static/releases/r${i % 3}/p${i}.html`),
];

beforeAll(async () => {
  s3 = await startPagingLocalS3(['list']);
  client = s3Client(s3.endpoint);
  const keys = [...SITE, ...BOOKKEEPING, 'other/app.txt'];
  for (let i = 0; i < keys.length; i += 50)
    await Promise.all(keys.slice(i, i + 50).map((Key) => client.send(new PutObjectCommand({ Bucket: 'list', Key, Body: 'x' }))));
}, 120_000);
afterAll(async () => {
  await s3?.stop();
});

describe('listing a prefix', () => {
  it('without skip: every key under the prefix', async () => {
    expect((await listRemote(client, 'list', 'app/')).map((o) => o.key).sort()).toEqual([...SITE, ...BOOKKEEPING].sort());
  });

  it('gives each ETag without its quotes (the plan then needs no copy of each object) and LastModified in whole seconds', async () => {
    const listed = await listRemote(client, 'list', 'app/');
    expect(listed.find((o) => o.key === SITE[0])?.etag).toBe(createHash('md5').update('x').digest('hex'));
    expect(listed.every((o) => /^[0-9a-f]{32}$/.test(o.etag))).toBe(true);
    expect(listed.every((o) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z$/.test(o.lastModified ?? ''))).toBe(true);
  });

  it('with skip but a small folder (the record says so): one plain listing, the folder filtered later by the planner', async () => {
    expect((await listRemote(client, 'list', 'app/', { skip: '.deploy-static/', skipSize: 10 })).length).toBe(
      SITE.length + BOOKKEEPING.length,
    );
  });

  it('with skip: every site key, and S3 returns almost none of the 1,502 bookkeeping keys', async () => {
    const returned: string[] = [];
    const send = client.send.bind(client) as (c: unknown) => Promise<unknown>;
    const counting = Object.assign(Object.create(client) as S3Client, {
      send: async (command: unknown) => {
        const out = (await send(command)) as { Contents?: { Key?: string }[] };
        if (command instanceof ListObjectsV2Command) returned.push(...(out.Contents ?? []).map((o) => o.Key!));
        return out;
      },
    });
    const listed = await listRemote(counting, 'list', 'app/', { skip: '.deploy-static/', skipSize: 1500 });
    expect(listed.map((o) => o.key).sort()).toEqual([...SITE].sort());
    expect(listed.every((o) => o.etag && o.size === 1)).toBe(true);
    // The short first page (100 keys) is the only one that may reach into the folder.
    expect(returned.filter((k) => k.includes('.deploy-static/')).length).toBeLessThanOrEqual(100);
  });

  /** The client with a count of the listings in flight at once (the most seen), and the keys each page returned. */
  const watched = () => {
    const send = client.send.bind(client) as (c: unknown) => Promise<unknown>;
    const seen = { inFlight: 0, most: 0, pages: 0, returned: [] as string[] };
    const c = Object.assign(Object.create(client) as S3Client, {
      send: async (command: unknown) => {
        const listing = command instanceof ListObjectsV2Command;
        if (listing) seen.most = Math.max(seen.most, ++seen.inFlight);
        try {
          const out = (await send(command)) as { Contents?: { Key?: string }[] };
          if (listing) {
            seen.pages++;
            seen.returned.push(...(out.Contents ?? []).map((o) => o.Key!));
          }
          return out;
        } finally {
          if (listing) seen.inFlight--;
        }
      },
    });
    return { c, seen };
  };
  const all = [...SITE, ...BOOKKEEPING];

  it('with known keys: ranges cut at every RANGE_KEYS-th key are listed side by side, each key once', async () => {
    const { c, seen } = watched();
    const listed = (await listRemote(c, 'list', 'app/', { known: all })).map((o) => o.key);
    expect([...listed].sort()).toEqual([...all].sort());
    expect(new Set(listed).size).toBe(listed.length);
    // 1,537 keys: two ranges, both asked for before either answered (one listing after another: 1 at a time).
    expect(all.length).toBeGreaterThan(RANGE_KEYS);
    expect(seen.most).toBe(2);
    expect(seen.pages).toBe(2);
  });

  it('with wrong hints (keys gone, keys never there, keys the record does not know): still every key once', async () => {
    const hints = [
      ...all.filter((_, i) => i % 3 !== 0),
      ...Array.from({ length: 1200 }, (_, i) => `app/gone/${String(i).padStart(4, '0')}`),
    ];
    const { c } = watched();
    const listed = (await listRemote(c, 'list', 'app/', { known: hints })).map((o) => o.key);
    expect([...listed].sort()).toEqual([...all].sort());
  });

  it('with known keys and skip: the ranges leave the folder out', async () => {
    const { c, seen } = watched();
    const listed = await listRemote(c, 'list', 'app/', { skip: '.deploy-static/', skipSize: 1500, known: all });
    expect(listed.map((o) => o.key).sort()).toEqual([...SITE].sort());
    expect(seen.returned.filter((k) => k.includes('.deploy-static/')).length).toBeLessThanOrEqual(100);
  });
});

describe("S3's key order", () => {
  it('is UTF-8 byte order: compareKeys agrees with comparing the bytes, where JavaScript order does not', () => {
    const chars = ['a', '~', '-', '\u00e9', '\u4e2d', '\ue000', '\uffef', '\u{1f600}', '\u{10348}', '/'];
    const keys: string[] = [];
    let seed = 7;
    const rand = (n: number) => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
    for (let i = 0; i < 400; i++) keys.push(Array.from({ length: 1 + rand(4) }, () => chars[rand(chars.length)]).join(''));
    const byBytes = [...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    expect([...keys].sort(compareKeys)).toEqual(byBytes);
    expect([...keys].sort()).not.toEqual(byBytes);
  });
});
