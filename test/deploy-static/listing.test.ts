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
import { listRemote } from '../../actions/deploy-static/s3.js';
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
});
