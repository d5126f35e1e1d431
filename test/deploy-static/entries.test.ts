/**
 * Record entries after a deploy's writes (entries.ts): when a run HEADs its uploads instead of
 * listing the prefix, what it keeps of what S3 shows, and which ETag and LastModified the next
 * record holds for each file (the next run trusts an entry only while both still match).
 */
import { HeadObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { headsCheaper, nextEntries, observe, observeOne } from '../../actions/deploy-static/entries.js';
import type { DesiredFile, RemoteObject, TargetPlan } from '../../actions/deploy-static/plan.js';
import { MemoryS3 } from './oracle/memory-s3.js';

const T1 = Date.parse('2026-12-01T10:00:00.750Z');
const target = { bucket: 'site', prefix: 'app/' };

/** An in-memory bucket holding `rels` under app/ (and one key outside it); `sent` names each command. */
function bucket(rels: string[]) {
  const mem = new MemoryS3('site');
  for (const rel of rels) mem.objects.set(`app/${rel}`, { body: Buffer.from(rel), etag: `e-${rel}`, lastModified: T1 });
  mem.objects.set('other/x.txt', { body: Buffer.from('x'), etag: 'e-x', lastModified: T1 });
  const sent: string[] = [];
  const s3 = {
    send: async (c: { input: Record<string, unknown> }) => {
      sent.push(c instanceof HeadObjectCommand ? `HEAD ${String(c.input.Key)}` : c instanceof ListObjectsV2Command ? 'LIST' : 'OTHER');
      return mem.apply(c);
    },
  } as unknown as S3Client;
  return { s3, sent };
}

describe('headsCheaper', () => {
  it('HEADs up to 100 writes, or as many as the listing takes rounds (pages × concurrency), whichever is more', () => {
    expect(headsCheaper(100, 4, 1)).toBe(true);
    expect(headsCheaper(101, 4, 1)).toBe(false);
    expect(headsCheaper(120, 4, 30)).toBe(true);
    expect(headsCheaper(121, 4, 30)).toBe(false);
  });
});

describe('observeOne', () => {
  it('is the ETag without quotes and LastModified in whole seconds', async () => {
    const { s3, sent } = bucket(['index.html']);
    expect(await observeOne(s3, target, 'index.html')).toEqual({ etag: 'e-index.html', lastModified: '2026-12-01T10:00:00.000Z' });
    expect(sent).toEqual(['HEAD app/index.html']);
  });

  it('is an empty ETag when S3 returns none', async () => {
    const s3 = { send: async () => ({}) } as unknown as S3Client;
    expect(await observeOne(s3, target, 'a.txt')).toEqual({ etag: '', lastModified: undefined });
  });
});

describe('observe', () => {
  it('HEADs only the written files when that is cheaper than listing', async () => {
    const { s3, sent } = bucket(['a.txt', 'b.txt', 'c.txt']);
    const out = await observe(s3, target, ['a.txt', 'c.txt'], 2, 1, {});
    expect([...out.entries()].sort()).toEqual([
      ['a.txt', { etag: 'e-a.txt', lastModified: '2026-12-01T10:00:00.000Z' }],
      ['c.txt', { etag: 'e-c.txt', lastModified: '2026-12-01T10:00:00.000Z' }],
    ]);
    expect(sent.sort()).toEqual(['HEAD app/a.txt', 'HEAD app/c.txt']);
  });

  it('lists the prefix instead for many writes: every key under it, by its path below the prefix, ETag without quotes', async () => {
    const rels = Array.from({ length: 101 }, (_, i) => `f${String(i).padStart(3, '0')}.txt`);
    const { s3, sent } = bucket([...rels, 'extra.txt']);
    const out = await observe(s3, target, rels, 4, 1, {});
    expect(sent).toEqual(['LIST']);
    expect(out.size).toBe(102);
    expect(out.get('f000.txt')).toEqual({ etag: 'e-f000.txt', lastModified: '2026-12-01T10:00:00.000Z' });
    expect(out.get('extra.txt')).toEqual({ etag: 'e-extra.txt', lastModified: '2026-12-01T10:00:00.000Z' });
    expect(out.has('other/x.txt')).toBe(false);
  });
});

const desired = (rel: string): DesiredFile =>
  ({
    rel,
    abs: `/src/${rel}`,
    size: 1,
    md5: `md5-${rel}`,
    key: `app/${rel}`,
    headers: {},
    headerHash: `h-${rel}`,
    entry: false,
  }) as DesiredFile;
const remote = (rel: string, etag: string, lastModified?: string): RemoteObject => ({
  key: `app/${rel}`,
  etag,
  size: 1,
  ...(lastModified ? { lastModified } : {}),
});

function planOf(over: Partial<TargetPlan>): { plan: TargetPlan } {
  return {
    plan: {
      uploads: [],
      copies: [],
      deletes: [],
      unchanged: [],
      unresolved: [],
      remoteSeen: new Map(),
      replaced: new Map(),
      foreign: [],
      remoteCount: 0,
      ...over,
    },
  };
}

describe('nextEntries', () => {
  it('records every source file, sorted by path: the ETag written, or the one listed for an unchanged file', () => {
    const res = planOf({
      // Neither in path order nor its reverse: the sort is what orders them.
      uploads: [{ file: desired('m.txt'), reason: 'new' }],
      copies: [{ file: desired('z.txt'), reason: 'headers' }],
      unchanged: [desired('a.txt')],
      remoteSeen: new Map([['a.txt', remote('a.txt', 'seen-a', '2026-12-01T09:00:00.000Z')]]),
    });
    const entries = nextEntries(
      res,
      new Map([
        ['m.txt', 'copy-m'],
        ['z.txt', 'put-z'],
      ]),
    );
    expect(Object.keys(entries)).toEqual(['a.txt', 'm.txt', 'z.txt']);
    expect(entries).toEqual({
      'a.txt': { etag: 'seen-a', md5: 'md5-a.txt', headers: 'h-a.txt', lastModified: '2026-12-01T09:00:00.000Z' },
      'm.txt': { etag: 'copy-m', md5: 'md5-m.txt', headers: 'h-m.txt' },
      'z.txt': { etag: 'put-z', md5: 'md5-z.txt', headers: 'h-z.txt' },
    });
  });

  it("keeps LastModified of a write only when what was observed still has the write's ETag", () => {
    const res = planOf({
      uploads: [
        { file: desired('mine.txt'), reason: 'content' },
        { file: desired('raced.txt'), reason: 'content' },
      ],
      // A stale listing entry of a written file is not what the record keeps.
      remoteSeen: new Map([['mine.txt', remote('mine.txt', 'old', '2026-11-01T00:00:00.000Z')]]),
    });
    const observed = new Map([
      ['mine.txt', { etag: 'put-mine', lastModified: '2026-12-01T10:00:00.000Z' }],
      ['raced.txt', { etag: 'someone-else', lastModified: '2026-12-01T10:00:05.000Z' }],
    ]);
    const entries = nextEntries(
      res,
      new Map([
        ['mine.txt', 'put-mine'],
        ['raced.txt', 'put-raced'],
      ]),
      observed,
    );
    expect(entries).toEqual({
      'mine.txt': { etag: 'put-mine', md5: 'md5-mine.txt', headers: 'h-mine.txt', lastModified: '2026-12-01T10:00:00.000Z' },
      'raced.txt': { etag: 'put-raced', md5: 'md5-raced.txt', headers: 'h-raced.txt' },
    });
    expect('lastModified' in entries['raced.txt']!).toBe(false);
  });

  it('leaves out a file with neither a write nor a listed ETag; an unchanged file listed without LastModified has none', () => {
    const res = planOf({
      unchanged: [desired('gone.txt'), desired('bare.txt')],
      remoteSeen: new Map([['bare.txt', remote('bare.txt', 'seen-bare')]]),
    });
    const entries = nextEntries(res, new Map());
    expect(entries).toEqual({ 'bare.txt': { etag: 'seen-bare', md5: 'md5-bare.txt', headers: 'h-bare.txt' } });
    expect('lastModified' in entries['bare.txt']!).toBe(false);
  });
});
