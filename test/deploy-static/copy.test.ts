import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  HeadObjectCommand,
  S3Client,
  S3ServiceException,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { COPY_OBJECT_LIMIT, copyObject, partRanges } from '../../actions/deploy-static/copy.js';

const s3 = mockClient(S3Client);
const client = new S3Client({ region: 'eu-west-1' });
afterEach(() => s3.reset());

const head = (size: number) =>
  s3.on(HeadObjectCommand).resolves({
    ContentLength: size,
    ETag: '"src-etag"',
    ContentType: 'text/html',
    CacheControl: 'no-cache',
    Metadata: { 'deploy-static-md5': 'a'.repeat(32) },
  });
const multipart = () => {
  s3.on(CreateMultipartUploadCommand).resolves({ UploadId: 'up-1' });
  s3.on(UploadPartCopyCommand).callsFake((i: { PartNumber: number }) => ({ CopyPartResult: { ETag: `"p${i.PartNumber}"` } }));
  s3.on(CompleteMultipartUploadCommand).resolves({ ETag: '"whole-3"' });
};
const snapshot = { Bucket: 'state', Key: 'rel/r1/big.bin', CopySource: 'site/app/big%20file.bin', MetadataDirective: 'COPY' as const };

describe('copies above the CopyObject limit', () => {
  it('the limit is 5 GiB exactly, as the CopyObject API reference gives it', () => {
    expect(COPY_OBJECT_LIMIT).toBe(5_368_709_120);
  });

  it('up to the limit: one CopyObject', async () => {
    s3.on(CopyObjectCommand).resolves({ CopyObjectResult: { ETag: '"e"', LastModified: new Date(0) } });
    expect(await copyObject(client, snapshot, { size: 10, limit: 10 })).toEqual({ etag: '"e"', lastModified: new Date(0) });
    expect(s3.commandCalls(CopyObjectCommand)).toHaveLength(1);
    expect(s3.commandCalls(UploadPartCopyCommand)).toHaveLength(0);
  });

  it('above it: UploadPartCopy by byte range, the source headers kept, every part conditioned on one version', async () => {
    head(11);
    multipart();
    const out = await copyObject(client, snapshot, { size: 11, limit: 10, partBytes: 4 });
    expect(out.etag).toBe('"whole-3"');
    expect(s3.commandCalls(CopyObjectCommand)).toHaveLength(0);
    expect(s3.commandCalls(HeadObjectCommand)[0]!.args[0].input).toMatchObject({ Bucket: 'site', Key: 'app/big file.bin' });
    expect(s3.commandCalls(CreateMultipartUploadCommand)[0]!.args[0].input).toEqual({
      Bucket: 'state',
      Key: 'rel/r1/big.bin',
      ContentType: 'text/html',
      CacheControl: 'no-cache',
      Metadata: { 'deploy-static-md5': 'a'.repeat(32) },
    });
    expect(s3.commandCalls(UploadPartCopyCommand).map((c) => c.args[0].input)).toEqual(
      ['bytes=0-3', 'bytes=4-7', 'bytes=8-10'].map((range, i) => ({
        Bucket: 'state',
        Key: 'rel/r1/big.bin',
        UploadId: 'up-1',
        PartNumber: i + 1,
        CopySource: 'site/app/big%20file.bin',
        CopySourceRange: range,
        CopySourceIfMatch: '"src-etag"',
      })),
    );
    expect(s3.commandCalls(CompleteMultipartUploadCommand)[0]!.args[0].input.MultipartUpload).toEqual({
      Parts: [
        { ETag: '"p1"', PartNumber: 1 },
        { ETag: '"p2"', PartNumber: 2 },
        { ETag: '"p3"', PartNumber: 3 },
      ],
    });
  });

  it('a headers-only change (REPLACE) sets the new headers and the ACL on the multipart copy', async () => {
    head(11);
    multipart();
    await copyObject(
      client,
      {
        ...snapshot,
        MetadataDirective: 'REPLACE',
        ContentType: 'application/octet-stream',
        CacheControl: 'max-age=60',
        ACL: 'public-read',
      },
      { size: 11, limit: 10, partBytes: 8 },
    );
    expect(s3.commandCalls(CreateMultipartUploadCommand)[0]!.args[0].input).toEqual({
      Bucket: 'state',
      Key: 'rel/r1/big.bin',
      ContentType: 'application/octet-stream',
      CacheControl: 'max-age=60',
      ACL: 'public-read',
    });
  });

  it('a failed part aborts the upload and fails the copy', async () => {
    head(11);
    multipart();
    s3.on(UploadPartCopyCommand).rejects(
      new S3ServiceException({ name: 'PreconditionFailed', $fault: 'client', $metadata: { httpStatusCode: 412 }, message: 'changed' }),
    );
    await expect(copyObject(client, { ...snapshot, CopySourceIfMatch: '"old"' }, { size: 11, limit: 10 })).rejects.toThrow('changed');
    expect(s3.commandCalls(AbortMultipartUploadCommand)[0]!.args[0].input).toEqual({
      Bucket: 'state',
      Key: 'rel/r1/big.bin',
      UploadId: 'up-1',
    });
    expect(s3.commandCalls(CompleteMultipartUploadCommand)).toHaveLength(0);
  });

  it('size unknown: CopyObject first; when S3 refuses the source as too large, the multipart copy', async () => {
    s3.on(CopyObjectCommand).rejects(
      new S3ServiceException({
        name: 'InvalidRequest',
        $fault: 'client',
        $metadata: { httpStatusCode: 400 },
        message: 'The specified copy source is larger than the maximum allowable size for a copy source: 5368709120',
      }),
    );
    head(11);
    multipart();
    expect((await copyObject(client, snapshot, { partBytes: 4 })).etag).toBe('"whole-3"');
    expect(s3.commandCalls(UploadPartCopyCommand)).toHaveLength(3);
  });

  it('never needs more than 10,000 parts: the part size grows with the object', () => {
    expect(partRanges(11, 4)).toEqual(['bytes=0-3', 'bytes=4-7', 'bytes=8-10']);
    const ranges = partRanges(20_001, 1);
    expect(ranges.length).toBeLessThanOrEqual(10_000);
    expect(ranges.at(-1)).toMatch(/-20000$/);
    // 5 TiB, S3's largest object, in 512 MiB parts: 10,240 would be too many.
    expect(partRanges(5 * 1024 ** 4, 512 * 1024 ** 2).length).toBeLessThanOrEqual(10_000);
  });
});
