import { readFile } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import {
  DeleteObjectsCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type ObjectCannedACL,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { headerHash, type ObjectHeaders } from './rules.js';
import type { DesiredFile, HeadInfo, RemoteObject } from './plan.js';
import { normalizeTime } from './record.js';
import { copyObject } from './copy.js';
import { mapLimit } from '../../lib/pool.js';

/**
 * S3 calls, with the client injected. Every write goes through `assertInside`:
 * nothing outside the target prefix is ever written or deleted.
 * SlowDown (503) and other throttling errors are retried by the SDK's standard
 * mode with jittered backoff (lib/aws.ts bulkTransferConfig): a retry delays only
 * the call that was throttled, never the whole client.
 */

/** Our own metadata: the content MD5, for objects whose ETag is not one (multipart, SSE-KMS). */
const MD5_META = 'deploy-static-md5';

function assertInside(key: string, prefix: string): void {
  if (!key.startsWith(prefix) || key.length === prefix.length)
    throw new Error(`internal: refusing to write '${key}' outside prefix '${prefix}'`);
}

/**
 * Every key under `prefix`. `skip` names a folder under the prefix (our
 * bookkeeping `.deploy-static/`, which holds snapshot copies of entry files
 * per release) and `skipSize` how many keys the record says it holds. When
 * that is more than a few pages' worth, the folder is not listed: S3 lists
 * keys in UTF-8 binary order, so its keys are contiguous; one listing stops
 * where they begin and another starts after them with StartAfter
 * (ListObjectsV2 API reference). A small folder is cheaper listed than
 * skipped (one request instead of two).
 *
 * `known`: keys the record says are there. A listing is pages of 1,000 keys,
 * each asked for with the token of the one before: on a region's 20–50 ms
 * round trip (and the time to read 1,000 keys) a site of many pages waits for
 * each in turn. Cut at every RANGE_KEYS-th known key, the key space is ranges
 * listed side by side, each from StartAfter to its cut; a range holding keys
 * the record does not know (written by another tool) just takes more pages.
 * The ranges cover every key whatever the hints are: the cuts only decide
 * where one listing stops and the next starts.
 */
export async function listRemote(
  s3: S3Client,
  bucket: string,
  prefix: string,
  opts: { skip?: string; skipSize?: number; known?: readonly string[] } = {},
): Promise<RemoteObject[]> {
  let ranges: ListRange[] = rangesOf(cutsOf(opts.known ?? [], prefix));
  if (opts.skip && (opts.skipSize ?? 0) >= SKIP_WORTH_IT) ranges = ranges.flatMap((r) => skipFolder(r, prefix + opts.skip));
  const pages = await mapLimit(ranges, LIST_CONCURRENCY, (r) => listFrom(s3, bucket, prefix, r));
  return pages.flat();
}

/** Known keys per listed range: under 1,000, so a range and the few keys the record does not know (its own folder) fit one page. */
export const RANGE_KEYS = 900;
/** Ranges listed at once (100,000 files are about 110 of them). */
const LIST_CONCURRENCY = 16;

/** One stretch of the key space: after `startAfter` (exclusive), up to `through` (inclusive) or before `until` (exclusive). */
interface ListRange {
  startAfter?: string;
  through?: string;
  until?: string;
  maxKeys?: number;
}

/**
 * S3's key order, UTF-8 bytes, is code-point order; JavaScript compares UTF-16
 * code units, which differs only between a surrogate pair (U+10000 and up)
 * and U+E000–U+FFFF. Surrogates are moved above that block before comparing.
 */
export function compareKeys(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    const fix = (c: number) => (c >= 0xd800 && c <= 0xdfff ? c + 0x2000 : c >= 0xe000 ? c - 0x800 : c);
    return fix(x) - fix(y);
  }
  return a.length - b.length;
}

/** Every RANGE_KEYS-th known key under the prefix, in S3's order, each once. */
function cutsOf(known: readonly string[], prefix: string): string[] {
  if (known.length <= RANGE_KEYS) return [];
  const sorted = known.filter((k) => k.startsWith(prefix)).sort(compareKeys);
  const cuts: string[] = [];
  for (let i = RANGE_KEYS - 1; i < sorted.length - 1; i += RANGE_KEYS) if (cuts.at(-1) !== sorted[i]) cuts.push(sorted[i]!);
  return cuts;
}

/** Ranges that cover the whole key space: up to the first cut, between each two, after the last. */
function rangesOf(cuts: readonly string[]): ListRange[] {
  return [...cuts, undefined].map((through, i) => ({
    ...(i > 0 ? { startAfter: cuts[i - 1]! } : {}),
    ...(through !== undefined ? { through } : {}),
  }));
}

const after = (key: string, bound: ListRange) => (bound.startAfter === undefined ? true : compareKeys(key, bound.startAfter) > 0);
const within = (key: string, bound: ListRange) => bound.through === undefined || compareKeys(key, bound.through) <= 0;

/** A range without the folder's keys: the part before the folder and the part after its last possible key. */
function skipFolder(r: ListRange, folder: string): ListRange[] {
  const end = `${folder}\u{10FFFF}`;
  if (!within(folder, r) || !after(end, r)) return [r];
  const out: ListRange[] = [];
  // Few keys sort before `.deploy-static/` (names starting with a space, `!`…`-`, or `.a`…`.d`): a short first page.
  if (after(folder, r)) out.push({ ...(r.startAfter !== undefined ? { startAfter: r.startAfter } : {}), until: folder, maxKeys: 100 });
  if (within(end, r)) out.push({ startAfter: end, ...(r.through !== undefined ? { through: r.through } : {}) });
  return out;
}

/** The folders directly under `prefix` (ListObjectsV2 with a `/` delimiter: CommonPrefixes). */
export async function listFolders(s3: S3Client, bucket: string, prefix: string): Promise<string[]> {
  const out: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, Delimiter: '/', ContinuationToken: token }));
    for (const p of page.CommonPrefixes ?? []) if (p.Prefix) out.push(p.Prefix);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return out;
}

/** Keys in the skipped folder from which skipping saves more than the extra request costs. */
export const SKIP_WORTH_IT = 200;

async function listFrom(s3: S3Client, bucket: string, prefix: string, range: ListRange): Promise<RemoteObject[]> {
  const out: RemoteObject[] = [];
  let token: string | undefined;
  let maxKeys = range.maxKeys;
  // A deploy writes many objects in the same second: one string per distinct time, not per object.
  const times = new Map<number, string | undefined>();
  do {
    const page = await s3.send(
      new ListObjectsV2Command({
        Bucket: bucket,
        Prefix: prefix === '' ? undefined : prefix,
        ContinuationToken: token,
        ...(token ? {} : { StartAfter: range.startAfter }),
        ...(maxKeys ? { MaxKeys: maxKeys } : {}),
      }),
    );
    for (const o of page.Contents ?? []) {
      if (!o.Key) continue;
      if (range.until !== undefined && compareKeys(o.Key, range.until) >= 0) return out;
      if (!within(o.Key, range)) return out;
      out.push({ key: o.Key, etag: unquote(o.ETag), size: o.Size ?? 0, lastModified: timeOf(o.LastModified, times) });
      // The cut itself ends the range: no page more to learn that nothing follows.
      if (o.Key === range.through) return out;
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
    maxKeys = undefined;
  } while (token);
  return out;
}

/** normalizeTime, with one string per distinct time in `seen`. */
function timeOf(t: Date | undefined, seen: Map<number, string | undefined>): string | undefined {
  if (!(t instanceof Date)) return normalizeTime(t);
  const ms = t.getTime();
  if (!seen.has(ms)) seen.set(ms, normalizeTime(t));
  return seen.get(ms);
}

/** Only for the keys the listing and the manifest cannot settle (multipart, or written by another tool). */
export async function headObjects(
  s3: S3Client,
  bucket: string,
  files: readonly DesiredFile[],
  acl: string | undefined,
  concurrency: number,
): Promise<Map<string, HeadInfo>> {
  const out = new Map<string, HeadInfo>();
  await mapLimit(files, concurrency, async (f) => {
    const h = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: f.key }));
    const metadata = { ...(h.Metadata ?? {}) };
    const md5 = metadata[MD5_META];
    delete metadata[MD5_META];
    const headers: ObjectHeaders = { contentType: h.ContentType ?? 'application/octet-stream', metadata };
    if (h.CacheControl) headers.cacheControl = h.CacheControl;
    if (h.ContentDisposition) headers.contentDisposition = h.ContentDisposition;
    if (h.ContentEncoding) headers.contentEncoding = h.ContentEncoding;
    if (h.ContentLanguage) headers.contentLanguage = h.ContentLanguage;
    const kms = h.ServerSideEncryption === 'aws:kms' || h.ServerSideEncryption === 'aws:kms:dsse';
    out.set(f.rel, { ...(md5 ? { md5 } : {}), ...(kms ? { kms } : {}), headers: headerHash(headers, acl) });
  });
  return out;
}

function objectParams(bucket: string, f: DesiredFile, acl: string | undefined) {
  const h = f.headers;
  return {
    Bucket: bucket,
    Key: f.key,
    ContentType: h.contentType,
    CacheControl: h.cacheControl,
    ContentDisposition: h.contentDisposition,
    ContentEncoding: h.contentEncoding,
    ContentLanguage: h.contentLanguage,
    Metadata: { ...h.metadata, [MD5_META]: f.md5 },
    ...(acl ? { ACL: acl as ObjectCannedACL } : {}),
  };
}

const unquote = (etag: string | undefined): string => (etag ?? '').replace(/"/g, '');

/**
 * Multipart memory is partSize × queueSize per upload (lib-storage buffers each
 * part), so the part size is at most 8 MiB whatever the threshold (a 100 MiB
 * threshold once meant 4 × 100 MiB buffered per file), and only MULTIPART_SLOTS
 * multipart uploads run at once whatever `concurrency` is: at most
 * 2 × 4 × 8 MiB = 64 MiB of part buffers. A threshold below 8 MiB gives parts of
 * the threshold's size (S3's minimum part is 5 MiB), so every file over it is
 * really sent in parts. S3 allows 10,000 parts, so the part size grows only for
 * files over 78 GiB.
 */
export const PART_SIZE = 8 * 1024 * 1024;
const MIN_PART = 5 * 1024 * 1024;
const PART_QUEUE = 4;
export const MULTIPART_SLOTS = 2;
const MAX_PARTS = 10_000;

export function partSizeFor(size: number, threshold: number): number {
  return Math.max(MIN_PART, Math.min(PART_SIZE, threshold), Math.ceil(size / MAX_PARTS));
}

/** A counting semaphore: small uploads keep flowing while big ones wait for a slot. */
function semaphore(slots: number): <T>(fn: () => Promise<T>) => Promise<T> {
  let free = slots;
  const waiting: (() => void)[] = [];
  return async (fn) => {
    if (free > 0) free--;
    else await new Promise<void>((resolve) => waiting.push(resolve));
    try {
      return await fn();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else free++;
    }
  };
}
const multipartSlot = semaphore(MULTIPART_SLOTS);

/** Small files as one PutObject with Content-MD5 (S3 rejects a corrupted body); large ones multipart. */
export async function uploadFile(
  s3: S3Client,
  bucket: string,
  prefix: string,
  f: DesiredFile,
  opts: { acl?: string; multipartThreshold: number },
): Promise<string> {
  assertInside(f.key, prefix);
  if (f.size >= opts.multipartThreshold) {
    return multipartSlot(async () => {
      const upload = new Upload({
        client: s3,
        // Each part is checked by S3 against its CRC32 (the client computes no checksum unless asked: run.ts).
        params: { ...objectParams(bucket, f, opts.acl), Body: createReadStream(f.abs), ChecksumAlgorithm: 'CRC32' },
        partSize: partSizeFor(f.size, opts.multipartThreshold),
        queueSize: PART_QUEUE,
        leavePartsOnError: false,
      });
      const res = await upload.done();
      return unquote(res.ETag);
    });
  }
  const body = f.body ?? (await readFile(f.abs));
  const res = await s3.send(
    new PutObjectCommand({ ...objectParams(bucket, f, opts.acl), Body: body, ContentMD5: Buffer.from(f.md5, 'hex').toString('base64') }),
  );
  return unquote(res.ETag);
}

/** Headers-only change: S3 copies the object onto itself with new metadata; no body is sent. */
export async function copyMetadata(
  s3: S3Client,
  bucket: string,
  prefix: string,
  f: DesiredFile,
  acl: string | undefined,
): Promise<{ etag: string; lastModified?: string }> {
  assertInside(f.key, prefix);
  const source = `${bucket}/${f.key.split('/').map(encodeURIComponent).join('/')}`;
  // Over 5 GiB, a multipart copy (copy.ts).
  const res = await copyObject(s3, { ...objectParams(bucket, f, acl), CopySource: source, MetadataDirective: 'REPLACE' }, { size: f.size });
  // Unlike PutObject, CopyObject returns the new LastModified: the record needs no HEAD for it (a multipart copy does not).
  return { etag: unquote(res.etag), lastModified: normalizeTime(res.lastModified) };
}

export async function deleteKeys(s3: S3Client, bucket: string, prefix: string, keys: readonly string[]): Promise<void> {
  for (const k of keys) assertInside(k, prefix);
  for (let i = 0; i < keys.length; i += 1000) {
    const batch = keys.slice(i, i + 1000);
    const res = await s3.send(
      new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true } }),
    );
    if (res.Errors && res.Errors.length > 0) {
      const e = res.Errors[0]!;
      throw new Error(
        `S3 did not delete ${res.Errors.length} of ${batch.length} objects in ${bucket}; first: ${e.Key}: ${e.Code} ${e.Message ?? ''}`.trim(),
      );
    }
  }
}
