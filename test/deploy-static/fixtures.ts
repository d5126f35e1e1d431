import type { ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { repoRoot } from '../helpers/run-bundle.js';
import type { LocalS3 } from './local-s3.js';

/** A fresh copy of examples/delivery-app/site that a test may edit. */
export function siteCopy(): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'site-')), 'dist');
  cpSync(join(repoRoot, 'examples/delivery-app/site'), dir, { recursive: true });
  return dir;
}

export const SITE_FILES = [
  'assets/app.3f9a1c.css',
  'assets/app.3f9a1c.js',
  'assets/app.3f9a1c.js.map',
  'assets/logo.svg',
  'index.html',
  'manifest.webmanifest',
  'robots.txt',
  'track/index.html',
];

/** An in-process client for reading back what the bundle stored (checksums off, as s3rver needs). */
export function s3Client(endpoint: string): S3Client {
  return new S3Client({
    endpoint,
    region: 'eu-west-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

export async function getBytes(s3: S3Client, bucket: string, key: string): Promise<Buffer> {
  const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(await res.Body!.transformToByteArray());
}

export async function head(s3: S3Client, bucket: string, key: string) {
  return s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
}

export async function keys(s3: S3Client, bucket: string): Promise<string[]> {
  const res = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
  return (res.Contents ?? []).map((o) => o.Key!).sort();
}

export async function put(s3: S3Client, bucket: string, key: string, body: string): Promise<void> {
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: Buffer.from(body) }));
}

/**
 * The runner's cancel at a known point, whatever the machine's speed: SIGINT to the bundle once the
 * `nth` PUT of a site file (not of the state) reaches `bucket`. Every such PUT is held `holdMs`, so
 * more are still in flight when the signal comes. Pass `onSpawn` to runBundle; `stop()` removes the hook.
 */
export function sigintAtSitePut(s3: LocalS3, bucket: string, nth: number, holdMs = 200) {
  let child: ChildProcess | undefined;
  let sigintAt = 0;
  let sitePuts = 0;
  s3.hooks.delayMs = (r) => {
    if (r.bucket !== bucket || r.op !== 'PUT' || r.key.includes('.deploy-static/')) return 0;
    if (++sitePuts === nth && child) {
      sigintAt = Date.now();
      child.kill('SIGINT');
    }
    return holdMs;
  };
  return {
    onSpawn: (spawned: ChildProcess) => {
      child = spawned;
    },
    /** When the SIGINT was sent (Date.now()), 0 if it was not. */
    sigintAt: () => sigintAt,
    stop: () => {
      s3.hooks.delayMs = undefined;
    },
  };
}
