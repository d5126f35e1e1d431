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
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { DesiredFile } from '../../actions/deploy-static/plan.js';
import { MULTIPART_SLOTS, PART_SIZE, partSizeFor, uploadFile } from '../../actions/deploy-static/s3.js';

// The files the uploads open for reading: a multipart upload opens its file once it has a slot.
const opened = vi.hoisted((): string[] => []);
vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  const createReadStream = ((path: string, options?: Parameters<typeof fs.createReadStream>[1]) => {
    opened.push(String(path));
    return fs.createReadStream(path, options);
  }) as typeof fs.createReadStream;
  return { ...fs, createReadStream, default: { ...fs, createReadStream } };
});

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

// These two move 9–15 MiB through the SDK's part chunking and checksums: a fraction of a second on an
// idle machine, but past vitest's 5 s default at a load of 20 on 2 cores (seen in a full run beside four
// other jobs). A longer limit, not a timing assertion: nothing here depends on how fast it goes.
const BYTES_TIMEOUT = { timeout: 30_000 };

describe('multipart memory', () => {
  it('uses 8 MiB parts whatever the threshold (a 100 MiB threshold once meant 100 MiB parts × 4 buffered)', BYTES_TIMEOUT, async () => {
    // The smallest file that tells: at a threshold over 8 MiB, parts of the threshold's size would send it in one piece.
    const f = file('video.mp4', 9 * MiB);
    expect(await uploadFile(client, 'b', 'app/', f, { multipartThreshold: 9 * MiB })).toBe('abc-3');
    const parts = s3.commandCalls(UploadPartCommand).map((c) => (c.args[0].input.Body as Buffer).length);
    expect(parts).toEqual([8 * MiB, 1 * MiB]);
  });

  it('uses the threshold as part size below 8 MiB (5 MiB minimum), and grows only past S3’s 10,000 parts', () => {
    expect(partSizeFor(100 * MiB, 100 * MiB)).toBe(PART_SIZE);
    expect(partSizeFor(6 * MiB, 5 * MiB)).toBe(5 * MiB);
    expect(partSizeFor(200 * 1024 * MiB, 8 * MiB)).toBe(Math.ceil((200 * 1024 * MiB) / 10_000));
  });

  it(`runs at most ${MULTIPART_SLOTS} multipart uploads at once; small files are not held back`, BYTES_TIMEOUT, async () => {
    let running = 0;
    let peak = 0;
    // The multipart uploads are held at their start until the slots are full: the next one, had it a
    // slot, would have opened its file by then (events, not timing, decide what the test sees).
    let slotsFull!: () => void;
    const full = new Promise<void>((r) => (slotsFull = r));
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    s3.on(CreateMultipartUploadCommand).callsFake(async () => {
      running++;
      peak = Math.max(peak, running);
      if (running === MULTIPART_SLOTS) slotsFull();
      await released;
      return { UploadId: 'u' };
    });
    s3.on(CompleteMultipartUploadCommand).callsFake(async () => {
      running--;
      return { ETag: '"x-1"' };
    });
    // One more than the slots, each just over the 5 MiB part size (two parts: a single part would go as a PutObject).
    const big = Array.from({ length: MULTIPART_SLOTS + 1 }, (_, i) => file(`big${i}.bin`, 5 * MiB + 1));
    opened.length = 0;
    const bigUploads = big.map((f) => uploadFile(client, 'b', 'app/', f, { multipartThreshold: 5 * MiB }));
    // Sent while every slot is taken and held: it would never finish if small files waited for a slot.
    await uploadFile(client, 'b', 'app/', file('small.txt', 10), { multipartThreshold: 5 * MiB });
    await full;
    expect(opened.filter((p) => p.includes('big'))).toHaveLength(MULTIPART_SLOTS);
    release();
    await Promise.all(bigUploads);
    expect(peak).toBe(MULTIPART_SLOTS);
    expect(s3.commandCalls(CompleteMultipartUploadCommand)).toHaveLength(MULTIPART_SLOTS + 1);
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(1);
  });
});
