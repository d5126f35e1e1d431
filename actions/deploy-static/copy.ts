import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  HeadObjectCommand,
  UploadPartCopyCommand,
  type CopyObjectCommandInput,
  type S3Client,
} from '@aws-sdk/client-s3';
import { statusOf } from './answers.js';

/**
 * Server-side copies of any size. CopyObject copies "up to 5 GB in size in a
 * single atomic operation"; a larger object must be copied with the
 * multipart upload API, one UploadPartCopy per byte range
 * (https://docs.aws.amazon.com/AmazonS3/latest/API/API_CopyObject.html,
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_UploadPartCopy.html).
 * Parts are 5 MiB to 5 GiB, at most 10,000 of them
 * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/qfacts.html).
 */
export const COPY_OBJECT_LIMIT = 5 * 1024 ** 3;
const MAX_PARTS = 10_000;
const PART_BYTES = 512 * 1024 ** 2;

export interface CopyOptions {
  /** The source's size when the caller knows it (a listing); else learnt from S3 when CopyObject refuses it. */
  size?: number;
  /** Largest object CopyObject takes: COPY_OBJECT_LIMIT; smaller in tests. */
  limit?: number;
  /** Bytes per UploadPartCopy (raised so that no copy needs more than 10,000 parts). */
  partBytes?: number;
}

export interface Copied {
  etag: string;
  lastModified?: Date;
}

/** S3's answer to a CopyObject of a source over the limit (InvalidRequest; the exact text is modelled, not documented). */
const tooLarge = (err: unknown): boolean =>
  statusOf(err) === 400 && /larger than the maximum allowable size/i.test((err as Error).message ?? '');

/**
 * CopyObject, or above the limit a multipart copy with the same meaning:
 * CopySourceIfMatch on every part, the source's headers and metadata kept
 * (MetadataDirective COPY) or replaced by the input's, the ACL set.
 */
export async function copyObject(s3: S3Client, input: CopyObjectCommandInput, opts: CopyOptions = {}): Promise<Copied> {
  const limit = opts.limit ?? COPY_OBJECT_LIMIT;
  if (opts.size === undefined || opts.size <= limit) {
    try {
      const res = await s3.send(new CopyObjectCommand(input));
      return {
        etag: res.CopyObjectResult?.ETag ?? '',
        ...(res.CopyObjectResult?.LastModified ? { lastModified: res.CopyObjectResult.LastModified } : {}),
      };
    } catch (err) {
      if (!tooLarge(err)) throw err;
    }
  }
  return multipartCopy(s3, input, opts.partBytes ?? PART_BYTES);
}

/** CopySourceRange of each part (`bytes=first-last`, inclusive): `partBytes` each, more when 10,000 parts would not cover `size`. */
export function partRanges(size: number, partBytes: number): string[] {
  const step = Math.max(partBytes, Math.ceil(size / MAX_PARTS));
  const out: string[] = [];
  for (let start = 0; start < size; start += step) out.push(`bytes=${start}-${Math.min(size, start + step) - 1}`);
  return out;
}

/** `bucket/key` (URL-encoded, as CopySource is) → its parts. */
function sourceOf(copySource: string): { bucket: string; key: string } {
  const slash = copySource.indexOf('/');
  return { bucket: copySource.slice(0, slash), key: decodeURIComponent(copySource.slice(slash + 1)) };
}

async function multipartCopy(s3: S3Client, input: CopyObjectCommandInput, partBytes: number): Promise<Copied> {
  const src = sourceOf(input.CopySource!);
  const head = await s3.send(
    new HeadObjectCommand({ Bucket: src.bucket, Key: src.key, ...(input.CopySourceIfMatch ? { IfMatch: input.CopySourceIfMatch } : {}) }),
  );
  const size = head.ContentLength ?? 0;
  // CreateMultipartUpload takes the headers; with COPY they are the source's, as CopyObject would keep them.
  const from = input.MetadataDirective === 'REPLACE' ? input : head;
  const created = await s3.send(
    new CreateMultipartUploadCommand({
      Bucket: input.Bucket,
      Key: input.Key,
      ...(from.ContentType ? { ContentType: from.ContentType } : {}),
      ...(from.CacheControl ? { CacheControl: from.CacheControl } : {}),
      ...(from.ContentDisposition ? { ContentDisposition: from.ContentDisposition } : {}),
      ...(from.ContentEncoding ? { ContentEncoding: from.ContentEncoding } : {}),
      ...(from.ContentLanguage ? { ContentLanguage: from.ContentLanguage } : {}),
      ...(from.Metadata ? { Metadata: from.Metadata } : {}),
      ...(input.ACL ? { ACL: input.ACL } : {}),
    }),
  );
  const uploadId = created.UploadId!;
  try {
    const parts: { ETag: string; PartNumber: number }[] = [];
    for (const [i, range] of partRanges(size, partBytes).entries()) {
      const res = await s3.send(
        new UploadPartCopyCommand({
          Bucket: input.Bucket,
          Key: input.Key,
          UploadId: uploadId,
          PartNumber: i + 1,
          CopySource: input.CopySource,
          CopySourceRange: range,
          // Every part from the same version: a source rewritten mid-copy fails the copy (412) instead of mixing versions.
          CopySourceIfMatch: input.CopySourceIfMatch ?? head.ETag,
        }),
      );
      parts.push({ ETag: res.CopyPartResult?.ETag ?? '', PartNumber: i + 1 });
    }
    const done = await s3.send(
      new CompleteMultipartUploadCommand({ Bucket: input.Bucket, Key: input.Key, UploadId: uploadId, MultipartUpload: { Parts: parts } }),
    );
    return { etag: done.ETag ?? '' };
  } catch (err) {
    // An unfinished multipart upload is stored (and billed) until aborted.
    try {
      await s3.send(new AbortMultipartUploadCommand({ Bucket: input.Bucket, Key: input.Key, UploadId: uploadId }));
    } catch {
      // The copy's own error is the one to report; a lifecycle rule for incomplete uploads cleans up the rest.
    }
    throw err;
  }
}
