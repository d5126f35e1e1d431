/**
 * Round trips around the uploads: on a real region each request that waits
 * for the one before costs a round trip (20–50 ms), so the requests after the
 * last upload overlap where the protocol allows it. Ordered by holding
 * requests in the proxy until another one arrives (events, not time): a run
 * that sends them one after another waits forever and the bundle times out.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBundle } from '../helpers/run-bundle.js';
import { keys, s3Client } from './fixtures.js';
import { s3Env, startLocalS3, type LocalS3 } from './local-s3.js';

let s3: LocalS3;
let env: Record<string, string>;
const STATE = '.deploy-static/';

beforeAll(async () => {
  s3 = await startLocalS3(['heads', 'stale', 'ahead']);
  env = s3Env(s3.endpoint);
});
afterAll(async () => {
  await s3?.stop();
});

const deploy = (inputs: Record<string, string | number | boolean>) => runBundle('deploy-static', { inputs, env, timeoutMs: 60_000 });

function build(files: Record<string, string>): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'build-')), 'dist');
  for (const [rel, body] of Object.entries(files)) {
    mkdirSync(join(dir, rel, '..'), { recursive: true });
    writeFileSync(join(dir, rel), body);
  }
  return dir;
}

describe('requests after the last upload', () => {
  it('HEADs each uploaded object right after its own PUT, not all of them after the last upload', async () => {
    const files = { 'index.html': '<p>1</p>', 'data/a.json': '{"a":1}', 'data/b.json': '{"b":1}' };
    expect((await deploy({ source: build(files), bucket: 'heads' })).code).toBe(0);
    s3.reset();
    // One request at a time: the order of the site's PUTs and HEADs is the order the run sends them in.
    const run = await deploy({
      source: build({ ...files, 'data/a.json': '{"a":2}', 'data/b.json': '{"b":2}' }),
      bucket: 'heads',
      concurrency: 1,
    });
    expect(run.code, run.stdout).toBe(0);
    const site = s3.requests.filter((r) => r.bucket === 'heads' && !r.key.includes(STATE) && (r.op === 'PUT' || r.op === 'HEAD'));
    expect(site.map((r) => `${r.op} ${r.key}`)).toEqual(['PUT data/a.json', 'HEAD data/a.json', 'PUT data/b.json', 'HEAD data/b.json']);
    // What the HEADs read is recorded: the next run settles both files from the listing and the record, without a HEAD.
    s3.reset();
    const again = await deploy({ source: build({ ...files, 'data/a.json': '{"a":2}', 'data/b.json': '{"b":2}' }), bucket: 'heads' });
    expect(again.outputs).toMatchObject({ uploaded: '0', unchanged: '3' });
    expect(s3.count('HEAD', (r) => !r.key.includes(STATE))).toBe(0);
  });

  it('lists the stale release snapshots while the record is written, and deletes them only after it', async () => {
    const v = (n: number) => ({ 'index.html': `<p>${n}</p>`, 'about.html': `<p>about ${n}</p>` });
    expect((await deploy({ source: build(v(1)), bucket: 'stale', 'keep-releases': 2 })).code).toBe(0);
    expect((await deploy({ source: build(v(2)), bucket: 'stale', 'keep-releases': 2 })).code).toBe(0);
    // The third release prunes the first: its snapshot folder becomes stale.
    let uploaded = false;
    let listed!: () => void;
    const listing = new Promise<void>((resolve) => (listed = resolve));
    const order: string[] = [];
    s3.hooks.holdUntil = (r) => {
      if (r.bucket !== 'stale') return undefined;
      if (r.op === 'PUT' && !r.key.includes(STATE)) uploaded = true;
      if (!uploaded) return undefined;
      if (r.op === 'LIST') {
        order.push('LIST');
        listed();
      }
      // DeleteObjects names its keys in the body: any delete counts (the site loses no file here).
      if (r.op === 'DELETE') order.push('DELETE');
      // The record write that adds the release waits until the stale snapshots are being listed.
      if (r.op === 'PUT' && r.key === `${STATE}manifest.json`) {
        order.push('PUT record');
        return listing;
      }
      return undefined;
    };
    try {
      const run = await deploy({ source: build(v(3)), bucket: 'stale', 'keep-releases': 2 });
      expect(run.code, run.stdout).toBe(0);
      expect(run.stdout).toMatch(/pruned \d+ snapshot copies of releases older than keep-releases/);
    } finally {
      s3.hooks.holdUntil = undefined;
    }
    // Deleted after the record that no longer lists them: one snapshot folder per kept release is left.
    const record = order.indexOf('PUT record');
    expect(record).toBeGreaterThanOrEqual(0);
    expect(order.slice(0, record)).not.toContain('DELETE');
    expect(order.slice(record)).toContain('DELETE');
    const folders = new Set(
      (await keys(s3Client(s3.endpoint), 'stale')).filter((k) => k.startsWith(`${STATE}releases/`)).map((k) => k.split('/')[2]),
    );
    expect(folders.size).toBe(2);
  });
});

describe('requests before the first upload', () => {
  it('reads the release file lists while the site is still being listed when the build differs from what the head records', async () => {
    const v = (n: number) => ({ 'index.html': `<p>${n}</p>`, 'data/a.json': `{"a":${n}}`, 'data/b.json': '{"b":1}' });
    expect((await deploy({ source: build(v(1)), bucket: 'ahead' })).code).toBe(0);
    let asked!: () => void;
    const listRead = new Promise<void>((resolve) => (asked = resolve));
    // The site listing is answered only once a release file list has been asked for: a run that reads
    // the lists after the listing waits forever.
    s3.hooks.holdUntil = (r) => {
      if (r.bucket !== 'ahead') return undefined;
      if (r.op === 'GET' && r.key.startsWith(`${STATE}record/`)) asked();
      return r.op === 'LIST' ? listRead : undefined;
    };
    try {
      const run = await deploy({ source: build(v(2)), bucket: 'ahead' });
      expect(run.code, run.stdout).toBe(0);
      expect(run.outputs).toMatchObject({ uploaded: '2', unchanged: '1' });
    } finally {
      s3.hooks.holdUntil = undefined;
    }
  });
});
