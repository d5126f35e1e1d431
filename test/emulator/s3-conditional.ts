/**
 * S3 conditional writes, which s3rver (3.7) ignores on PUT and DELETE: it
 * stores the object whatever If-None-Match / If-Match say. Modelled in front
 * of s3rver from the S3 user guide, "How to prevent object overwrites with
 * conditional writes" (https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html)
 * and the PutObject / DeleteObject API references:
 * - PutObject `If-None-Match: *` on an existing key → 412 PreconditionFailed;
 * - PutObject `If-Match: <etag>` → 412 when the ETag differs, 404 NoSuchKey
 *   when there is no object;
 * - DeleteObject `If-Match: <etag>` → 412 when the ETag differs, 404 when
 *   there is no object ("conditional deletes").
 * - CopyObject `x-amz-copy-source-if-match: <etag>` → 412 when the source's
 *   ETag differs; `x-amz-copy-source-if-unmodified-since: <date>` → 412 when
 *   the source was modified after it; when both are sent and if-match holds,
 *   S3 copies whatever if-unmodified-since says (CopyObject API reference,
 *   https://docs.aws.amazon.com/AmazonS3/latest/API/API_CopyObject.html).
 * S3 evaluates the condition atomically with the write; concurrent
 * conditional writes to one key are serialised here per key, so the loser
 * sees the winner's object (AWS may instead answer 409
 * ConditionalRequestConflict while the winner is in flight; callers treat
 * both the same).
 */
import { statSync, utimesSync } from 'node:fs';
import { request, type IncomingMessage, type ServerResponse } from 'node:http';
import { oneAtATime } from './s3-atomic.js';

/** s3rver's filesystem store: where it keeps an object's bytes. */
type Store = { getResourcePath(bucket: string, key: string, resource: string): string };

/** Bytes of the object a copy source names (`/bucket/key`, as s3rver's decodeURI reads it); undefined when there is none. */
function storedSize(store: Store, sourcePath: string): number | undefined {
  try {
    const [, bucket = '', ...rest] = decodeURI(sourcePath).split('/');
    return statSync(store.getResourcePath(bucket, rest.join('/'), 'object')).size;
  } catch {
    // No such object: s3rver answers NoSuchKey. (A copy source that is not valid percent-encoding
    // never gets here: copySourceAsS3Decodes has answered it.)
    return undefined;
  }
}

const queues = new Map<string, Promise<void>>();

/** The current ETag, by an unsigned HEAD (s3rver serves anonymous requests; the PUT's signature would not fit a HEAD). */
function head(port: number, path: string): Promise<string | undefined> {
  return headInfo(port, path).then((h) => h?.etag);
}

function headInfo(port: number, path: string): Promise<{ etag: string; lastModified: number } | undefined> {
  return new Promise((resolve, reject) => {
    const r = request({ host: '127.0.0.1', port, method: 'HEAD', path }, (res) => {
      res.resume();
      resolve(
        res.statusCode === 200
          ? { etag: String(res.headers.etag ?? '').replace(/"/g, ''), lastModified: Date.parse(String(res.headers['last-modified'])) }
          : undefined,
      );
    });
    r.on('error', reject);
    r.end();
  });
}

function fail(res: ServerResponse, status: number, code: string, message: string): void {
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><RequestId>emulator</RequestId></Error>`;
  res.writeHead(status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/**
 * True when the request carries a write condition: the condition is checked
 * against s3rver's current object and, if it holds, `forward` sends the
 * request on (its promise settles when the upstream answer is complete).
 */
function handleConditional(req: IncomingMessage, res: ServerResponse, upstreamPort: number, forward: () => Promise<void>): boolean {
  const url = new URL(req.url ?? '/', 'http://s3');
  const [, bucket = '', ...rest] = url.pathname.split('/');
  const key = rest.join('/');
  const ifNoneMatch = req.headers['if-none-match'];
  const ifMatch = req.headers['if-match'];
  const isPut = req.method === 'PUT' && key !== '' && !url.searchParams.has('partNumber') && !req.headers['x-amz-copy-source'];
  const isDelete = req.method === 'DELETE' && key !== '' && !url.searchParams.has('uploadId');
  const source = req.headers['x-amz-copy-source'];
  const copyIfMatch = req.headers['x-amz-copy-source-if-match'];
  const copyIfUnmodified = req.headers['x-amz-copy-source-if-unmodified-since'];
  const isConditionalCopy =
    req.method === 'PUT' && typeof source === 'string' && (copyIfMatch !== undefined || copyIfUnmodified !== undefined);
  if (!((isPut && (ifNoneMatch || ifMatch)) || (isDelete && ifMatch) || isConditionalCopy)) return false;
  const sourcePath = isConditionalCopy ? `/${source.replace(/^\//, '').split('?')[0]}` : '';
  // A conditional copy is queued behind writes of its source, a conditional write behind writes of its key.
  const id = isConditionalCopy ? sourcePath.slice(1) : `${bucket}/${key}`;
  const previous = queues.get(id) ?? Promise.resolve();
  const run = previous.then(async () => {
    if (isConditionalCopy) {
      const src = await headInfo(upstreamPort, sourcePath);
      const matches = copyIfMatch === undefined ? undefined : src !== undefined && String(copyIfMatch).replace(/"/g, '') === src.etag;
      const unmodified =
        copyIfUnmodified === undefined ? undefined : src !== undefined && src.lastModified <= Date.parse(String(copyIfUnmodified));
      if (src !== undefined && (matches === false || (matches === undefined && unmodified === false))) {
        req.resume();
        return fail(res, 412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold');
      }
      // No source: s3rver answers NoSuchKey itself.
      return forward();
    }
    const current = await head(upstreamPort, url.pathname);
    if (ifNoneMatch === '*' && current !== undefined) {
      req.resume();
      return fail(res, 412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold');
    }
    if (ifMatch) {
      if (current === undefined) {
        req.resume();
        return fail(res, 404, 'NoSuchKey', 'The specified key does not exist.');
      }
      if (String(ifMatch).replace(/"/g, '') !== current) {
        req.resume();
        return fail(res, 412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold');
      }
    }
    await forward();
  });
  const settled = run.catch(() => undefined);
  queues.set(id, settled);
  void settled.then(() => {
    if (queues.get(id) === settled) queues.delete(id);
  });
  run.catch((err: unknown) => {
    if (!res.headersSent) res.writeHead(502);
    res.end(String(err));
  });
  return true;
}

/**
 * CopyObject's `x-amz-copy-source` is the source bucket and key, URL-encoded
 * (CopyObject API reference: "The value must be URL-encoded"), so S3 decodes
 * every escape: `new%20page%20%26%20more.html` names `new page & more.html`.
 * s3rver decodes it with `decodeURI`, which leaves `%26`, `%2B`, `%3D`... as
 * they are and answers NoSuchKey. Re-encode the header so s3rver's decodeURI
 * yields the key S3 would.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_CopyObject.html
 * A header that is not valid percent-encoding (`%E0%A4%A`) S3 refuses with
 * 400 InvalidArgument "Invalid copy source encoding" (a recorded answer of
 * eu-west-3, async-aws/aws#2060; not in the API reference). Returns false
 * when it answered so.
 */
function copySourceAsS3Decodes(req: IncomingMessage, res: ServerResponse): boolean {
  const source = req.headers['x-amz-copy-source'];
  if (req.method !== 'PUT' || typeof source !== 'string') return true;
  const [path, query] = source.split('?');
  try {
    req.headers['x-amz-copy-source'] = encodeURI(decodeURIComponent(path!)) + (query !== undefined ? `?${query}` : '');
    return true;
  } catch {
    req.resume();
    fail(res, 400, 'InvalidArgument', 'Invalid copy source encoding');
    return false;
  }
}

/**
 * S3 has no in-place metadata edit: "edit metadata" (console) and
 * CopyObject onto the same key with `x-amz-metadata-directive: REPLACE` make
 * a new object, whose LastModified is the time of the copy (the ETag stays
 * the MD5 of the unchanged bytes). See "Working with object metadata"
 * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingMetadata.html:
 * metadata can only be changed by copying the object) and the CopyObject API
 * reference (CopyObjectResult.LastModified). s3rver rewrites only its
 * metadata file and reports the old LastModified (its object file's mtime),
 * so the file is touched before such a copy is forwarded.
 */
function touchBeforeInPlaceCopy(req: IncomingMessage, store: Store): void {
  const source = req.headers['x-amz-copy-source'];
  if (req.method !== 'PUT' || typeof source !== 'string') return;
  const url = new URL(req.url ?? '/', 'http://s3');
  const [, bucket = '', ...rest] = url.pathname.split('/');
  const dest = `${bucket}/${decodeURIComponent(rest.join('/'))}`;
  if (decodeURIComponent(source.replace(/^\//, '').split('?')[0]!) !== dest) return;
  const now = new Date();
  try {
    utimesSync(store.getResourcePath(bucket, decodeURIComponent(rest.join('/')), 'object'), now, now);
  } catch {
    // No such object: s3rver answers the copy with NoSuchKey itself.
  }
}

/**
 * Sends a request on to s3rver and streams its answer back; settles when the
 * answer is complete, or when the client went away (a cancelled run), in
 * which case the upstream request is dropped so s3rver does not wait for a
 * body forever.
 */
export function forwardTo(port: number, req: IncomingMessage, res: ServerResponse, onStatus?: (status: number) => void): Promise<void> {
  return new Promise<void>((resolve) => {
    const upstream = request({ host: '127.0.0.1', port, method: req.method, path: req.url, headers: req.headers }, (up) => {
      onStatus?.(up.statusCode ?? 0);
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
      up.on('end', resolve);
    });
    upstream.on('error', (err) => {
      if (!res.headersSent) res.writeHead(502);
      res.end(String(err));
      resolve();
    });
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy();
      resolve();
    });
    req.pipe(upstream);
  });
}

/**
 * A bucket with S3 Object Lock and a default retention refuses a PutObject
 * (or UploadPart) that carries neither Content-MD5 nor a checksum header:
 * "The Content-MD5 or x-amz-sdk-checksum-algorithm header is required for any
 * request to upload an object with a retention period configured using Amazon
 * S3 Object Lock" (PutObject API reference,
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html; "Using
 * S3 Object Lock", https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock-managing.html).
 * S3 answers 400 InvalidRequest "Content-MD5 OR x-amz-checksum- HTTP header is
 * required for Put Object requests with Object Lock parameters"; the exact
 * wording is modelled, not documented. s3rver has no Object Lock: the caller
 * names the buckets that have it. Returns true when it answered.
 */
export function refuseWithoutChecksum(req: IncomingMessage, res: ServerResponse, lockedBuckets: ReadonlySet<string>): boolean {
  if (req.method !== 'PUT' || req.headers['x-amz-copy-source']) return false;
  const url = new URL(req.url ?? '/', 'http://s3');
  const [, bucket = '', ...rest] = url.pathname.split('/');
  if (rest.join('/') === '' || !lockedBuckets.has(bucket)) return false;
  const names = Object.keys(req.headers);
  if (names.some((h) => h === 'content-md5' || h.startsWith('x-amz-checksum-') || h === 'x-amz-sdk-checksum-algorithm')) return false;
  req.resume();
  fail(
    res,
    400,
    'InvalidRequest',
    'Content-MD5 OR x-amz-checksum- HTTP header is required for Put Object requests with Object Lock parameters',
  );
  return true;
}

/** CopyObject's limit: "You create a copy of your object up to 5 GB in size in a single atomic operation" (CopyObject API reference). */
export const COPY_LIMIT = 5 * 1024 ** 3;

/** One unsigned request to s3rver (it serves anonymous requests), body buffered. */
function upstream(
  port: number,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: Buffer,
): Promise<{ status: number; headers: Record<string, unknown>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const r = request(
      { host: '127.0.0.1', port, method, path, headers: body ? { ...headers, 'content-length': body.length } : headers },
      (up) => {
        const chunks: Buffer[] = [];
        up.on('data', (c: Buffer) => chunks.push(c));
        up.on('end', () => resolve({ status: up.statusCode ?? 0, headers: up.headers, body: Buffer.concat(chunks) }));
      },
    );
    r.on('error', reject);
    r.end(body);
  });
}

/**
 * Copies above CopyObject's limit, which s3rver does not model (it copies any
 * size, and answers UploadPartCopy NotImplemented):
 * - CopyObject of a source larger than `limit` → 400 InvalidRequest "The
 *   specified copy source is larger than the maximum allowable size for a copy
 *   source: <limit>" (CopyObject API reference,
 *   https://docs.aws.amazon.com/AmazonS3/latest/API/API_CopyObject.html: up to
 *   5 GB, larger objects with UploadPartCopy; the exact wording is modelled,
 *   not documented);
 * - UploadPartCopy (`PUT ?partNumber&uploadId` with `x-amz-copy-source`, and
 *   `x-amz-copy-source-range: bytes=first-last`, inclusive) → the range of the
 *   source stored as that part, answered with a CopyPartResult (ETag,
 *   LastModified); `x-amz-copy-source-if-match` → 412 when the source's ETag
 *   differs (UploadPartCopy API reference,
 *   https://docs.aws.amazon.com/AmazonS3/latest/API/API_UploadPartCopy.html).
 *   Played as a ranged GET of the source and an UploadPart to s3rver.
 * Returns true when it answered.
 */
async function copyBeyondLimit(req: IncomingMessage, res: ServerResponse, port: number, store: Store, limit: number): Promise<boolean> {
  const source = req.headers['x-amz-copy-source'];
  if (req.method !== 'PUT' || typeof source !== 'string') return false;
  const url = new URL(req.url ?? '/', 'http://s3');
  const sourcePath = `/${source.replace(/^\//, '').split('?')[0]}`;
  const part = url.searchParams.get('partNumber');
  const uploadId = url.searchParams.get('uploadId');
  if (part === null || uploadId === null) {
    // The source's size from s3rver's object file, not a HEAD through s3rver: S3 checks the limit
    // without a round trip, and a HEAD per copy cost the benches' restores ~0.7 s of the test S3's CPU.
    const size = storedSize(store, sourcePath);
    if (size === undefined || size <= limit) return false;
    req.resume();
    fail(res, 400, 'InvalidRequest', `The specified copy source is larger than the maximum allowable size for a copy source: ${limit}`);
    return true;
  }
  req.resume();
  const ifMatch = req.headers['x-amz-copy-source-if-match'];
  const range = req.headers['x-amz-copy-source-range'];
  const got = await upstream(port, 'GET', sourcePath, typeof range === 'string' ? { range } : {});
  if (got.status !== 200 && got.status !== 206) {
    fail(res, 404, 'NoSuchKey', 'The specified key does not exist.');
    return true;
  }
  if (typeof ifMatch === 'string' && ifMatch.replace(/"/g, '') !== String(got.headers.etag ?? '').replace(/"/g, '')) {
    fail(res, 412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold');
    return true;
  }
  const put = await upstream(port, 'PUT', `${url.pathname}?partNumber=${part}&uploadId=${encodeURIComponent(uploadId)}`, {}, got.body);
  if (put.status !== 200) {
    res.writeHead(put.status, { 'content-type': 'application/xml', 'content-length': put.body.length });
    res.end(put.body);
    return true;
  }
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<CopyPartResult><ETag>${String(put.headers.etag)}</ETag><LastModified>${new Date().toISOString()}</LastModified></CopyPartResult>`;
  res.writeHead(200, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body) });
  res.end(body);
  return true;
}

/** Every request to s3rver goes through this: what S3 does that s3rver does not (above), then `forward`. */
export async function sendAsS3(
  req: IncomingMessage,
  res: ServerResponse,
  port: number,
  store: Store,
  forward: () => Promise<void>,
  copyLimit = COPY_LIMIT,
): Promise<void> {
  if (!copySourceAsS3Decodes(req, res)) return;
  if (await copyBeyondLimit(req, res, port, store, copyLimit)) return;
  // One request at a time per object key: a read sees one whole version (s3-atomic.ts).
  await oneAtATime(req, async () => {
    touchBeforeInPlaceCopy(req, store);
    if (!handleConditional(req, res, port, forward)) await forward();
    else await answered(res);
  });
}

/** Settles when the answer to the client is complete (or the connection is gone). */
function answered(res: ServerResponse): Promise<void> {
  if (res.writableFinished || res.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    res.once('finish', resolve);
    res.once('close', resolve);
  });
}
