/**
 * S3 answers every read with one whole version of an object: "Amazon S3 delivers strong
 * read-after-write consistency automatically for all applications" and "updates to a single key are
 * atomic … you will never get partial or corrupt data" (S3 user guide, "Amazon S3 data consistency
 * model", https://docs.aws.amazon.com/AmazonS3/latest/userguide/Welcome.html#ConsistencyModel).
 * s3rver (3.7) does not: its PutObject truncates the object's file, answers before the write stream
 * has flushed, and writes the metadata (length, ETag) after the bytes, so a GET beside a PUT of the
 * same key can read an empty or cut body — a concurrent deploy then sees a record that is "not JSON".
 * Modelled here:
 * - the bytes are written to a file outside the bucket folders and renamed over the object only once
 *   complete (a rename is atomic on one file system), and the answer waits for it;
 * - requests on one object key (GET, HEAD, PUT, DELETE, CopyObject's target, CompleteMultipartUpload)
 *   run one at a time, so the metadata and the bytes a read sees are those of one version. S3 allows
 *   concurrent reads; serialising them here only slows a test, it changes no answer.
 */
import { createHash } from 'node:crypto';
import { createWriteStream, mkdtempSync } from 'node:fs';
import { mkdir, rename } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';

interface StoredObject {
  bucket: string;
  key: string;
  content: Buffer | Readable;
  metadata: Record<string, string>;
}

export interface S3rverStore {
  getResourcePath(bucket: string, key: string, resource: string): string;
  putMetadata(bucket: string, key: string, metadata: Record<string, string>, md5: string): Promise<void>;
  putObject(object: StoredObject): Promise<{ size: number; md5: string }>;
}

/** Replaces s3rver's PutObject (also used by CompleteMultipartUpload) with a write-then-rename. */
export function atomicPuts(store: S3rverStore): void {
  // Beside s3rver's folder in the same temporary directory (one file system for the rename), never inside it:
  // a folder in s3rver's root would be listed as a bucket.
  const staging = mkdtempSync(join(tmpdir(), 's3rver-staging-'));
  let n = 0;
  store.putObject = async (object) => {
    const objectPath = store.getResourcePath(object.bucket, object.key, 'object');
    await mkdir(dirname(objectPath), { recursive: true });
    const temp = join(staging, String(++n));
    const md5 = createHash('md5');
    let size = 0;
    const count = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        md5.update(chunk);
        size += chunk.length;
        callback(null, chunk);
      },
    });
    const body = Buffer.isBuffer(object.content) ? Readable.from([object.content]) : object.content;
    await pipeline(body, count, createWriteStream(temp));
    await rename(temp, objectPath);
    const hex = md5.digest('hex');
    await store.putMetadata(object.bucket, object.key, object.metadata, hex);
    return { size, md5: hex };
  };
}

const running = new Map<string, Promise<void>>();

/** The object key a request reads or replaces as a whole; undefined for listings, bucket calls and multipart parts. */
function objectOf(req: IncomingMessage): string | undefined {
  const url = new URL(req.url ?? '/', 'http://s3');
  const [, bucket = '', ...rest] = url.pathname.split('/');
  const key = rest.join('/');
  if (bucket === '' || key === '') return undefined;
  const method = req.method ?? 'GET';
  if (url.searchParams.has('partNumber')) return undefined; // UploadPart, UploadPartCopy: not the object yet
  if (method === 'POST' && !url.searchParams.has('uploadId')) return undefined; // CreateMultipartUpload
  if (method === 'DELETE' && url.searchParams.has('uploadId')) return undefined; // AbortMultipartUpload
  if (method === 'GET' && url.searchParams.has('uploadId')) return undefined; // ListParts
  return `${bucket}/${key}`;
}

/** Runs `send` after every earlier request on the same object key has been answered. */
export function oneAtATime(req: IncomingMessage, send: () => Promise<void>): Promise<void> {
  const id = objectOf(req);
  if (id === undefined) return send();
  const run = (running.get(id) ?? Promise.resolve()).then(send);
  const settled = run.catch(() => undefined);
  running.set(id, settled);
  void settled.then(() => {
    if (running.get(id) === settled) running.delete(id);
  });
  return run;
}
