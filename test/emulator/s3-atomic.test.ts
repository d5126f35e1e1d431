/**
 * A read beside a write of the same key sees one whole version (s3-atomic.ts), on both the emulator's
 * S3 and the deploy-static test S3: a deploy reading the record while another run writes it must get
 * the old record or the new one, never a cut one.
 */
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { s3Client } from '../deploy-static/fixtures.js';
import { startLocalS3, type LocalS3 } from '../deploy-static/local-s3.js';
import { startEmulator, type Emulator } from './index.js';

let emu: Emulator;
let local: LocalS3;
beforeAll(async () => {
  emu = await startEmulator();
  await emu.s3.createBucket('atomic');
  local = await startLocalS3(['atomic']);
});
afterAll(async () => {
  await local?.stop();
  await emu?.stop();
});

/** Two versions of different sizes, each byte telling which version it is from. */
const versions = [Buffer.alloc(3 * 1024 * 1024, 'a'), Buffer.alloc(2 * 1024 * 1024 + 7, 'b')];

describe.each([
  ['emulator S3', () => s3Client(emu.s3Endpoint)],
  ['deploy-static test S3', () => s3Client(local.endpoint)],
])('%s', (_name, client: () => S3Client) => {
  it('answers every GET made during PUTs of the same key with one whole version', async () => {
    const s3 = client();
    const put = (i: number) => s3.send(new PutObjectCommand({ Bucket: 'atomic', Key: 'record.json', Body: versions[i % 2] }));
    const get = async () => {
      const out = await s3.send(new GetObjectCommand({ Bucket: 'atomic', Key: 'record.json' }));
      return Buffer.from(await out.Body!.transformToByteArray());
    };
    await put(0);
    // Writes and reads interleaved: each read is sent while a write of the other version is in flight.
    const reads: Promise<Buffer>[] = [];
    const writes: Promise<unknown>[] = [];
    for (let i = 1; i <= 6; i++) {
      writes.push(put(i));
      reads.push(get(), get());
    }
    await Promise.all(writes);
    const bodies = await Promise.all(reads);
    const whole = bodies.map((b) => versions.findIndex((v) => v.equals(b)));
    expect(whole.filter((w) => w === -1)).toEqual([]);
    expect(bodies).toHaveLength(12);
  });
});
