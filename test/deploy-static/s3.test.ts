import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import type { DesiredFile } from '../../actions/deploy-static/plan.js';
import { MULTIPART_SLOTS, PART_SIZE, partSizeFor, uploadFile } from '../../actions/deploy-static/s3.js';

const s3 = mockClient(S3Client);
const client = new S3Client({ region: 'eu-west-1' });
const MiB = 1024 * 1024;

function file(name: string, size: number): DesiredFile {
  const abs = join(mkdtempSync(join(tmpdir(), 'mpu-')), name);
  const bytes = Buffer.alloc(size, name);
  writeFileSync(abs, bytes);
  return {
    rel: name,
    abs,
    size,
    md5: createHash('md5').update(bytes).digest('hex'),
    key: `app/${name}`,
    headers: { contentType: 'video/mp4', metadata: {} },
    headerHash: 'h',
    entry: false,
  };
}

beforeEach(() => {
  s3.reset();
  s3.on(CreateMultipartUploadCommand).resolves({ UploadId: 'u1' });
  s3.on(UploadPartCommand).callsFake(async (input: { PartNumber?: number }) => ({ ETag: `"p${input.PartNumber}"` }));
  s3.on(CompleteMultipartUploadCommand).resolves({ ETag: '"abc-3"' });
  s3.on(PutObjectCommand).resolves({ ETag: '"single"' });
});

describe('multipart memory', () => {
  it('uses 8 MiB parts whatever the threshold (a 100 MiB threshold once meant 100 MiB parts × 4 buffered)', async () => {
    const f = file('video.mp4', 20 * MiB);
    expect(await uploadFile(client, 'b', 'app/', f, { multipartThreshold: 16 * MiB })).toBe('abc-3');
    const parts = s3.commandCalls(UploadPartCommand).map((c) => (c.args[0].input.Body as Buffer).length);
    expect(parts).toEqual([8 * MiB, 8 * MiB, 4 * MiB]);
  });

  it('uses the threshold as part size below 8 MiB (5 MiB minimum), and grows only past S3’s 10,000 parts', () => {
    expect(partSizeFor(100 * MiB, 100 * MiB)).toBe(PART_SIZE);
    expect(partSizeFor(6 * MiB, 5 * MiB)).toBe(5 * MiB);
    expect(partSizeFor(200 * 1024 * MiB, 8 * MiB)).toBe(Math.ceil((200 * 1024 * MiB) / 10_000));
  });

  it(`runs at most ${MULTIPART_SLOTS} multipart uploads at once; small files are not held back`, async () => {
    let running = 0;
    let peak = 0;
    s3.on(CreateMultipartUploadCommand).callsFake(async () => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((r) => setTimeout(r, 20));
      return { UploadId: 'u' };
    });
    s3.on(CompleteMultipartUploadCommand).callsFake(async () => {
      running--;
      return { ETag: '"x-1"' };
    });
    const big = [1, 2, 3, 4, 5].map((i) => file(`big${i}.bin`, 9 * MiB));
    const small = uploadFile(client, 'b', 'app/', file('small.txt', 10), { multipartThreshold: 5 * MiB });
    await Promise.all([...big.map((f) => uploadFile(client, 'b', 'app/', f, { multipartThreshold: 5 * MiB })), small]);
    expect(peak).toBe(MULTIPART_SLOTS);
    expect(s3.commandCalls(CompleteMultipartUploadCommand)).toHaveLength(5);
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(1);
  });
});
