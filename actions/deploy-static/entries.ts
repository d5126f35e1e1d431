import { HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { mapLimit } from '../../lib/pool.js';
import { relOf, type TargetPlan } from './plan.js';
import { normalizeTime, type Manifest } from './record.js';
import { listRemote } from './s3.js';
import type { Target } from './targets.js';

/**
 * What a deploy's record says about each file once its writes are done: the ETag written or seen,
 * and S3's LastModified when it was observed after the write (the next run compares against it).
 */

export interface ObservedObject {
  etag: string;
  lastModified?: string;
}

/**
 * PutObject does not return LastModified, and the record needs it (see
 * planTarget). HEADs run `concurrency` at a time, listing pages one after
 * another: HEAD each upload while that takes fewer rounds than listing the
 * prefix (a few uploads to a large site), else list (a cold deploy).
 */
export async function observe(
  s3: S3Client,
  target: Target,
  rels: readonly string[],
  concurrency: number,
  listPages: number,
  skip: Parameters<typeof listRemote>[3],
): Promise<Map<string, ObservedObject>> {
  const out = new Map<string, ObservedObject>();
  if (headsCheaper(rels.length, concurrency, listPages)) {
    await mapLimit(rels, concurrency, async (rel) => {
      out.set(rel, await observeOne(s3, target, rel));
    });
    return out;
  }
  for (const o of await listRemote(s3, target.bucket, target.prefix, skip))
    out.set(relOf(o.key, target.prefix), { etag: o.etag.replace(/"/g, ''), lastModified: o.lastModified });
  return out;
}

/** HEAD each of `count` writes rather than list the prefix (`listPages` pages, one after another). */
export const headsCheaper = (count: number, concurrency: number, listPages: number): boolean =>
  count <= Math.max(100, listPages * concurrency);

/** One object's ETag and LastModified, as S3 holds it now. */
export async function observeOne(s3: S3Client, target: Target, rel: string): Promise<ObservedObject> {
  const h = await s3.send(new HeadObjectCommand({ Bucket: target.bucket, Key: target.prefix + rel }));
  return { etag: (h.ETag ?? '').replace(/"/g, ''), lastModified: normalizeTime(h.LastModified) };
}

/**
 * Record entries for every file in source. A written object's LastModified is
 * recorded only when what we observed after writing still has our ETag;
 * otherwise the entry has none and the next run HEADs it.
 */
export function nextEntries(
  res: { plan: TargetPlan },
  written: ReadonlyMap<string, string>,
  observed: ReadonlyMap<string, ObservedObject> = new Map(),
): Manifest['entries'] {
  const { plan } = res;
  const entries: Manifest['entries'] = {};
  const files = [...plan.uploads.map((o) => o.file), ...plan.copies.map((o) => o.file), ...plan.unchanged].sort((a, b) =>
    a.rel < b.rel ? -1 : 1,
  );
  for (const f of files) {
    const seen = plan.remoteSeen.get(f.rel);
    const etag = written.get(f.rel) ?? seen?.etag;
    if (!etag) continue;
    const obs = observed.get(f.rel);
    const lastModified = written.has(f.rel) ? (obs?.etag === etag ? obs.lastModified : undefined) : seen?.lastModified;
    entries[f.rel] = { etag, md5: f.md5, headers: f.headerHash, ...(lastModified ? { lastModified } : {}) };
  }
  return entries;
}
