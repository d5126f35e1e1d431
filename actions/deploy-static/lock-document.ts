/**
 * The lock document and its reads and writes: what `lock.json` holds, how it
 * is written (a conditional PutObject the caller chooses: create-only or
 * If-Match an ETag) and read back, and which S3 answers mean "the lock is not
 * as we left it". Kept apart from the protocol in lock.ts so the protocol
 * reads as decisions about versions and clocks, not request shapes; nothing
 * here decides who holds the lock.
 */
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { contentMd5, isNotFound, statusOf } from './answers.js';

export interface LockBody {
  owner: string;
  /** Unique per acquisition: tells our own lock (a lost answer) from another attempt of the same run. */
  token?: string;
  /** Where the owner runs, for the "waiting for" line: repository and run URL. */
  where: string;
  acquiredAt: string;
  heartbeatAt: string;
}

/** Where the lock object is: the state location's bucket and its `lock.json` key. */
export interface LockObject {
  bucket: string;
  key: string;
}

/** One version of the lock as read back: its ETag, its body (undefined when unreadable), when S3 last wrote it. */
export interface LockVersion {
  etag?: string;
  body?: LockBody;
  lastModified?: Date;
}

/** A conditional write or read of the lock found it gone or changed (or a racing create in flight): not an error of the run. */
export const lost = (err: unknown): boolean =>
  [404, 409, 412].includes(statusOf(err) ?? 0) || (err as { name?: string }).name === 'NoSuchKey';

function parseBody(text: string | undefined): LockBody | undefined {
  try {
    const b = JSON.parse(text ?? '') as Partial<LockBody>;
    return typeof b.owner === 'string' && typeof b.heartbeatAt === 'string' ? (b as LockBody) : undefined;
  } catch {
    return undefined;
  }
}

/** The body a holder writes, on create and on every heartbeat; `acquiredAt` is '' until the first write sets it. */
export function lockBody(owner: string, token: string, where: string, acquiredAt: string, nowMs: number): Buffer {
  const now = new Date(nowMs).toISOString();
  const b: LockBody = { owner, token, where, acquiredAt: acquiredAt || now, heartbeatAt: now };
  return Buffer.from(JSON.stringify(b));
}

/** Writes the lock under `cond`; returns the new ETag. */
export async function putLock(
  s3: S3Client,
  at: LockObject,
  body: Buffer,
  cond: { IfNoneMatch: '*' } | { IfMatch: string },
): Promise<string | undefined> {
  const res = await s3.send(
    new PutObjectCommand({
      Bucket: at.bucket,
      Key: at.key,
      Body: body,
      ContentMD5: contentMd5(body),
      ContentType: 'application/json',
      CacheControl: 'no-cache',
      ...cond,
    }),
  );
  return res.ETag;
}

/** The lock as it is now, or undefined when there is none. */
export async function readLock(s3: S3Client, at: LockObject): Promise<LockVersion | undefined> {
  try {
    const res = await s3.send(new GetObjectCommand({ Bucket: at.bucket, Key: at.key }));
    return { etag: res.ETag, body: parseBody(await res.Body?.transformToString()), lastModified: res.LastModified };
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}
