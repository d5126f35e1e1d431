/**
 * The S3 behaviours modelled in front of s3rver (s3-conditional.ts), through
 * the SDK as an action sees them, on both the emulator's S3 and the
 * deploy-static test S3.
 */
import { CopyObjectCommand, DeleteObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { s3Client } from '../deploy-static/fixtures.js';
import { startLocalS3, type LocalS3 } from '../deploy-static/local-s3.js';
import { startEmulator, type Emulator } from './index.js';

const status = (p: Promise<unknown>) =>
  p.then(
    () => 200,
    (err: { $metadata?: { httpStatusCode?: number }; name?: string }) => `${err.$metadata?.httpStatusCode} ${err.name}`,
  );

let emu: Emulator;
let local: LocalS3;
beforeAll(async () => {
  emu = await startEmulator();
  await emu.s3.createBucket('cond');
  local = await startLocalS3(['cond']);
});
afterAll(async () => {
  await local?.stop();
  await emu?.stop();
});

describe.each([
  ['emulator S3', () => s3Client(emu.s3Endpoint)],
  ['deploy-static test S3', () => s3Client(local.endpoint)],
])('%s', (_name, client: () => S3Client) => {
  it('PutObject If-None-Match: * creates once, then 412; If-Match compares the ETag (404 when there is no object)', async () => {
    const s3 = client();
    const put = (extra: object) =>
      s3.send(new PutObjectCommand({ Bucket: 'cond', Key: 'lock.json', Body: Buffer.from(JSON.stringify(extra)), ...extra }));
    expect(await status(put({ IfMatch: '"0123"' }))).toBe('404 NoSuchKey');
    expect(await status(put({ IfNoneMatch: '*' }))).toBe(200);
    expect(await status(put({ IfNoneMatch: '*' }))).toBe('412 PreconditionFailed');
    const { ETag } = await s3.send(new HeadObjectCommand({ Bucket: 'cond', Key: 'lock.json' }));
    expect(await status(put({ IfMatch: '"ffff"' }))).toBe('412 PreconditionFailed');
    expect(await status(put({ IfMatch: ETag }))).toBe(200);
    expect(await status(s3.send(new DeleteObjectCommand({ Bucket: 'cond', Key: 'lock.json', IfMatch: ETag })))).toBe(
      '412 PreconditionFailed',
    );
    const now = await s3.send(new HeadObjectCommand({ Bucket: 'cond', Key: 'lock.json' }));
    expect(await status(s3.send(new DeleteObjectCommand({ Bucket: 'cond', Key: 'lock.json', IfMatch: now.ETag })))).toBe(200);
  });

  it('refuses a CopyObject whose copy source is not valid percent-encoding, as S3 does', async () => {
    const s3 = client();
    const copy = new CopyObjectCommand({ Bucket: 'cond', Key: 'bad-copy.html', CopySource: 'cond/%E0%A4%A' });
    expect(await status(s3.send(copy))).toBe('400 InvalidArgument');
  });

  // S3 answers a copy of a key that does not exist with 404 NoSuchKey (recorded answers:
  // aws/aws-sdk-net#2995, aws/aws-sdk-go#1438); the 5 GiB check in front of s3rver must let it through.
  it('answers a CopyObject whose source does not exist with NoSuchKey, as S3 does', async () => {
    const s3 = client();
    const copy = new CopyObjectCommand({ Bucket: 'cond', Key: 'orphan-copy.html', CopySource: 'cond/never-written.html' });
    expect(await status(s3.send(copy))).toBe('404 NoSuchKey');
  });

  it('of racing If-None-Match: * creates, exactly one wins', async () => {
    const s3 = client();
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        status(s3.send(new PutObjectCommand({ Bucket: 'cond', Key: 'race.json', Body: Buffer.from(String(i)), IfNoneMatch: '*' }))),
      ),
    );
    expect(results.filter((r) => r === 200)).toHaveLength(1);
  });

  it('an in-place CopyObject (REPLACE) keeps the ETag and moves LastModified, like a console "edit metadata"', async () => {
    const s3 = client();
    await s3.send(new PutObjectCommand({ Bucket: 'cond', Key: 'page.html', Body: Buffer.from('<p>x</p>') }));
    const before = await s3.send(new HeadObjectCommand({ Bucket: 'cond', Key: 'page.html' }));
    await new Promise((r) => setTimeout(r, 1100));
    const copy = await s3.send(
      new CopyObjectCommand({
        Bucket: 'cond',
        Key: 'page.html',
        CopySource: 'cond/page.html',
        MetadataDirective: 'REPLACE',
        CacheControl: 'max-age=60',
      }),
    );
    const after = await s3.send(new HeadObjectCommand({ Bucket: 'cond', Key: 'page.html' }));
    expect(after.ETag).toBe(before.ETag);
    expect(after.CacheControl).toBe('max-age=60');
    expect(after.LastModified!.getTime()).toBeGreaterThan(before.LastModified!.getTime());
    expect(copy.CopyObjectResult?.LastModified?.getTime()).toBe(after.LastModified!.getTime());
  });

  it('CopyObject x-amz-copy-source-if-match copies only the version named; 412 once the source changed', async () => {
    const s3 = client();
    const v1 = await s3.send(new PutObjectCommand({ Bucket: 'cond', Key: 'entry.html', Body: Buffer.from('<p>v1</p>') }));
    const copy = (etag: string) =>
      s3.send(new CopyObjectCommand({ Bucket: 'cond', Key: 'kept/entry.html', CopySource: 'cond/entry.html', CopySourceIfMatch: etag }));
    expect(await status(copy(v1.ETag!))).toBe(200);
    await s3.send(new PutObjectCommand({ Bucket: 'cond', Key: 'entry.html', Body: Buffer.from('<p>v2</p>') }));
    expect(await status(copy(v1.ETag!))).toBe('412 PreconditionFailed');
    const kept = await s3.send(new HeadObjectCommand({ Bucket: 'cond', Key: 'kept/entry.html' }));
    expect(kept.ETag).toBe(v1.ETag);
  });
});
