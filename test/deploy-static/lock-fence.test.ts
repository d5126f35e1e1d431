import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { fencedClient } from '../../actions/deploy-static/lock-fence.js';

const s3 = mockClient(S3Client);
afterEach(() => s3.reset());

const lock = { bucket: 'site', key: 'app/.deploy-static/lock.json' };
const key = { Bucket: 'site', Key: 'app/a.js' };

function fenced(stop: boolean) {
  const checked: string[] = [];
  const inFlight = new Set<Promise<unknown>>();
  const client = fencedClient(
    new S3Client({ region: 'eu-west-1' }),
    lock,
    (what) => {
      checked.push(what);
      if (stop) throw new Error(`stopped before ${what}`);
    },
    inFlight,
  );
  return { client, checked, inFlight };
}

describe('the fenced S3 client', () => {
  it.each([
    ['PutObject', new PutObjectCommand({ ...key, Body: 'x' })],
    ['CopyObject', new CopyObjectCommand({ ...key, CopySource: 'site/app/b.js' })],
    ['DeleteObject', new DeleteObjectCommand(key)],
    ['CreateMultipartUpload', new CreateMultipartUploadCommand(key)],
    ['UploadPart', new UploadPartCommand({ ...key, UploadId: 'u', PartNumber: 1 })],
    ['UploadPartCopy', new UploadPartCopyCommand({ ...key, UploadId: 'u', PartNumber: 1, CopySource: 'site/app/b.js' })],
    ['CompleteMultipartUpload', new CompleteMultipartUploadCommand({ ...key, UploadId: 'u' })],
  ])('%s passes the fence first: a stopped fence means nothing is sent', async (_name, command) => {
    const { client, checked } = fenced(true);
    await expect(client.send(command as never)).rejects.toThrow('stopped before writing app/a.js');
    expect(checked).toEqual(['writing app/a.js']);
    expect(s3.calls()).toHaveLength(0);
  });

  it('a DeleteObjects batch is named as such', async () => {
    const { client } = fenced(true);
    await expect(client.send(new DeleteObjectsCommand({ Bucket: 'site', Delete: { Objects: [{ Key: 'app/a.js' }] } }))).rejects.toThrow(
      'stopped before writing a batch of deletes',
    );
    expect(s3.calls()).toHaveLength(0);
  });

  it('reads, and the writes of the lock object itself, are not fenced; the same key in another bucket is', async () => {
    s3.onAnyCommand().resolves({});
    const { client, checked } = fenced(true);
    await client.send(new GetObjectCommand(key));
    await client.send(new HeadObjectCommand(key));
    await client.send(new ListObjectsV2Command({ Bucket: 'site' }));
    await client.send(new PutObjectCommand({ Bucket: 'site', Key: lock.key, Body: 'x' }));
    await client.send(new DeleteObjectCommand({ Bucket: 'site', Key: lock.key }));
    expect(checked).toEqual([]);
    expect(s3.calls()).toHaveLength(5);
    await expect(client.send(new PutObjectCommand({ Bucket: 'other', Key: lock.key, Body: 'x' }))).rejects.toThrow(/stopped/);
  });

  it('a write that passes is sent and counted in flight until it answers, or fails', async () => {
    let answer: (v: object) => void = () => {};
    let refuse: (e: Error) => void = () => {};
    s3.on(PutObjectCommand, { Key: 'app/a.js' }).callsFake(() => new Promise((resolve) => (answer = resolve)));
    s3.on(PutObjectCommand, { Key: 'app/b.js' }).callsFake(() => new Promise((_, reject) => (refuse = reject)));
    const { client, checked, inFlight } = fenced(false);
    const a = client.send(new PutObjectCommand({ ...key, Body: 'x' }));
    const b = client.send(new PutObjectCommand({ Bucket: 'site', Key: 'app/b.js', Body: 'x' }));
    expect(checked).toEqual(['writing app/a.js', 'writing app/b.js']);
    expect(inFlight.size).toBe(2);
    answer({ ETag: '"a"' });
    expect(await a).toEqual({ ETag: '"a"' });
    refuse(new Error('refused'));
    await expect(b).rejects.toThrow('refused');
    await Promise.resolve();
    expect(inFlight.size).toBe(0);
  });
});
