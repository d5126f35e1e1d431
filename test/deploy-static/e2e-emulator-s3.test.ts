/**
 * The bundle against the emulator's own S3 (s3rver behind its fault-injecting
 * proxy): 5xx bursts are retried by the SDK, the stored bytes are exact, and a
 * no-op run is one ListObjectsV2 and one GetObject (the manifest).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../emulator/index.js';
import { runBundle } from '../helpers/run-bundle.js';
import { SITE_FILES, getBytes, s3Client, siteCopy } from './fixtures.js';

describe('against the emulator S3 (with injected faults)', () => {
  let full: Emulator;
  beforeAll(async () => {
    full = await startEmulator();
    await full.s3.createBucket('faulty');
  });
  afterAll(async () => {
    await full?.stop();
  });

  it('retries 503/500 answers with backoff and still stores the exact bytes; the re-run makes no HEAD or PUT', async () => {
    const source = siteCopy();
    full.faults.set({ serverErrorBurst: 6, operations: ['S3.PutObject'] });
    const run = await runBundle('deploy-static', { inputs: { source, bucket: 'faulty' }, env: full.env() });
    full.faults.clear();
    expect(run.code, run.stdout).toBe(0);
    const puts = full.requests().filter((r) => r.operation === 'PutObject');
    expect(puts.filter((r) => r.status === 503)).toHaveLength(3);
    // 8 files, the lock, the record's head twice (pending before the uploads, then final with the
    // release) and the release's file list (record/<sha256>.json, written once before that head).
    expect(puts.filter((r) => r.status === 200)).toHaveLength(12);
    const client = s3Client(full.s3Endpoint);
    for (const f of SITE_FILES) expect((await getBytes(client, 'faulty', f)).equals(readFileSync(join(source, f))), f).toBe(true);
    full.resetCounts();
    const again = await runBundle('deploy-static', { inputs: { source, bucket: 'faulty' }, env: full.env() });
    expect(again.outputs.uploaded).toBe('0');
    expect(full.counts()).toEqual({ 'S3.ListObjectsV2': 1, 'S3.GetObject': 1 });
  });
});
