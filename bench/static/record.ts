/**
 * A no-op deploy with a deploy record at scale: the deploy-static bundle (not
 * a dry run) on N files whose bucket already holds exactly the build, with a
 * record of 5 releases of N files (the entry files changed in each, as a real
 * history). Wall time and peak RSS of the bundle process, for the record as
 * this version writes it (a head plus one file list per release: the no-op
 * reads the head only) and as version 2 wrote it (one object of every
 * release, read and validated whole). Prints figures; asserts nothing.
 *
 * The bucket is a fake ListObjectsV2 + GetObject (seeding 100,000 objects in
 * s3rver takes minutes): this measures our reading and planning, not a server.
 * Any other request is refused, so a no-op that wrote would fail here.
 *
 *   npx tsx bench/static/record.ts          (BENCH_RECORD=100000 to pick sizes; bench/static/run.sh runs it too)
 *
 * BENCH_RECORD_LAYOUTS=3 measures one layout only; BENCH_CPU_PROF=<dir> writes
 * a V8 CPU profile of each bundle run there (what node --cpu-prof writes, which
 * NODE_OPTIONS does not allow: started by a preload through node:inspector;
 * open it in Chrome DevTools, or summarise self time from its nodes).
 * BENCH_NODE_OPTIONS adds node options to the bundle's NODE_OPTIONS, e.g.
 * `--max-semi-space-size=16`: Node 24 sizes V8's young generation from the
 * machine's memory (README, Benchmark).
 */
import { createServer, type Server } from 'node:http';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { runBundle } from '../../test/helpers/run-bundle.js';
import { s3Env } from '../../test/deploy-static/local-s3.js';
import { desiredFiles } from '../../actions/deploy-static/plan.js';
import { filesBody, type Release, type ReleaseFile } from '../../actions/deploy-static/record.js';
import { scanSource } from '../../actions/deploy-static/scan.js';
import { needsSnapshot } from '../../actions/deploy-static/snapshots.js';
import { filesKey, recordKey, stateOf, stateRel } from '../../actions/deploy-static/state.js';
import { logMeasurements } from '../log.js';
import { bundleRuntime } from '../runtime.js';

const BUCKET = 'record';
const RELEASES = 5;
/** The deploy's state location: the default, under the site prefix ''. */
const STATE = stateOf({ bucket: BUCKET, prefix: '' });
const MANIFEST_REL = recordKey(STATE);
const LAST_MODIFIED = '2026-12-01T10:00:00.000Z';

/** n files in 5 sections × 50 folders, 200–400 bytes; every 10th is a page (index.html). */
function generate(root: string, n: number): void {
  for (let i = 0; i < n; i++) {
    const rel = i % 10 === 0 ? `s${i % 5}/p${i}/index.html` : `s${i % 5}/d${i % 50}/chunk-${i.toString(16)}.js`;
    mkdirSync(dirname(join(root, rel)), { recursive: true });
    writeFileSync(join(root, rel), `/* ${rel} */`.padEnd(200 + (i % 200), '.'));
  }
}

interface Stored {
  listing: { key: string; bytes: Buffer; etag: string; size: number }[];
  objects: Map<string, string>;
  recordBytes: number;
}

/** The live objects and the record of 5 releases, in the given layout; the newest release is the build. */
async function seed(root: string, layout: 2 | 3): Promise<Stored> {
  const local = desiredFiles(await scanSource(root, { concurrency: 16 }), {
    prefix: '',
    preset: 'static',
    rules: [],
    stateRel: stateRel({ bucket: BUCKET, prefix: '' }),
  });
  const entries: Record<string, { etag: string; md5: string; headers: string; lastModified: string }> = {};
  for (const f of local) entries[f.rel] = { etag: f.md5, md5: f.md5, headers: f.headerHash, lastModified: LAST_MODIFIED };
  const releases: Release[] = [];
  for (let k = 0; k < RELEASES; k++) {
    const id = `${String(k).padStart(7, '0')}-2026120${k + 1}T100000Z`;
    const last = k === RELEASES - 1;
    const files: Record<string, ReleaseFile> = {};
    for (const f of local) {
      const snap = needsSnapshot(f.rel);
      // Older releases had other entry files (their snapshot copies); the assets are shared.
      const etag = snap && !last ? `${k}${f.md5.slice(1)}` : f.md5;
      files[f.rel] = {
        etag,
        md5: etag,
        headers: f.headerHash,
        type: f.headers.contentType,
        ...(f.headers.cacheControl ? { cache: f.headers.cacheControl } : {}),
        ...(snap && k > 0 ? { snap: id } : {}),
      };
    }
    releases.push({ id, commit: id.slice(0, 7), at: LAST_MODIFIED, kind: 'deploy', files });
  }
  const objects = new Map<string, string>();
  if (layout === 2) objects.set(MANIFEST_REL, JSON.stringify({ version: 2, keepReleases: RELEASES, entries, releases }));
  else {
    const refs = releases.map(({ files, ...meta }) => {
      const { body, sha256 } = filesBody(files);
      objects.set(filesKey(STATE, sha256), body);
      return { ...meta, files: { sha256, count: Object.keys(files).length, snapshots: Object.values(files).filter((f) => f.snap).length } };
    });
    objects.set(MANIFEST_REL, JSON.stringify({ version: 3, keepReleases: RELEASES, entries, releases: refs }));
  }
  const recordBytes = [...objects.values()].reduce((n, b) => n + Buffer.byteLength(b), 0);
  // In S3's listing order (UTF-8 bytes), so a page after `start-after` is found by bisection.
  const listing = local
    .map((f) => ({ key: f.rel, bytes: Buffer.from(f.rel), etag: f.md5, size: f.size }))
    .sort((a, b) => Buffer.compare(a.bytes, b.bytes));
  return { listing, objects, recordBytes };
}

async function fakeBucket(stored: Stored): Promise<{ endpoint: string; server: Server; gets: string[] }> {
  const xml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  const gets: string[] = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    req.resume();
    const key = decodeURIComponent(url.pathname.slice(`/${BUCKET}/`.length));
    if (req.method === 'GET' && url.searchParams.get('list-type') === '2') {
      // ListObjectsV2 as S3 answers it: keys in UTF-8 byte order, after `start-after`, at most `max-keys` (1,000) a page.
      const prefix = url.searchParams.get('prefix') ?? '';
      const startAfter = Buffer.from(url.searchParams.get('start-after') ?? '');
      const maxKeys = Math.min(1000, Number(url.searchParams.get('max-keys') ?? 1000));
      let first = 0;
      for (let hi = stored.listing.length; first < hi; ) {
        const mid = (first + hi) >> 1;
        if (Buffer.compare(stored.listing[mid]!.bytes, startAfter) <= 0) first = mid + 1;
        else hi = mid;
      }
      const all = stored.listing.slice(first).filter((o) => o.key.startsWith(prefix));
      const start = Number(url.searchParams.get('continuation-token') ?? 0);
      const page = all.slice(start, start + maxKeys);
      const next = start + maxKeys < all.length ? `<NextContinuationToken>${start + maxKeys}</NextContinuationToken>` : '';
      const items = page
        .map(
          (o) =>
            `<Contents><Key>${xml(o.key)}</Key><LastModified>${LAST_MODIFIED}</LastModified><ETag>"${o.etag}"</ETag><Size>${o.size}</Size><StorageClass>STANDARD</StorageClass></Contents>`,
        )
        .join('');
      res.writeHead(200, { 'content-type': 'application/xml' });
      res.end(
        `<?xml version="1.0" encoding="UTF-8"?><ListBucketResult><Name>${BUCKET}</Name><Prefix>${xml(prefix)}</Prefix><KeyCount>${page.length}</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>${next !== ''}</IsTruncated>${items}${next}</ListBucketResult>`,
      );
      return;
    }
    const body = stored.objects.get(key);
    if (req.method === 'GET' && body !== undefined) {
      gets.push(key);
      res.writeHead(200, { 'content-type': 'application/json', etag: '"record-1"', 'content-length': Buffer.byteLength(body) });
      res.end(body);
      return;
    }
    const code = req.method === 'GET' ? 'NoSuchKey' : 'NotImplemented';
    res.writeHead(req.method === 'GET' ? 404 : 501, { 'content-type': 'application/xml' });
    res.end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${code}</Message></Error>`);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server, gets };
}

/** A preload that profiles the whole process and writes the profile to BENCH_CPU_PROF_OUT on exit. */
const PROFILE_PRELOAD = `const { Session } = require('inspector');
const s = new Session();
s.connect();
s.post('Profiler.enable');
s.post('Profiler.start');
process.on('exit', () => s.post('Profiler.stop', (err, r) => { if (!err) require('fs').writeFileSync(process.env.BENCH_CPU_PROF_OUT, JSON.stringify(r.profile)); }));
`;

/** Node options the bundle runs with besides the preloads (BENCH_NODE_OPTIONS). */
const NODE_FLAGS = process.env.BENCH_NODE_OPTIONS ? ` ${process.env.BENCH_NODE_OPTIONS}` : '';

/** NODE_OPTIONS and env for a CPU profile of the bundle when BENCH_CPU_PROF names a folder. */
function cpuProf(base: string, n: number, layout: 2 | 3): { option: string; env: Record<string, string> } {
  const dir = process.env.BENCH_CPU_PROF;
  if (!dir) return { option: '', env: {} };
  const preload = join(base, 'profile.cjs');
  writeFileSync(preload, PROFILE_PRELOAD);
  mkdirSync(dir, { recursive: true });
  return { option: ` --require ${preload}`, env: { BENCH_CPU_PROF_OUT: join(dir, `noop-${n}-v${layout}.cpuprofile`) } };
}

export interface RecordRow {
  files: number;
  layout: 2 | 3;
  recordMiB: number;
  readMiB: number;
  seconds: number;
  peakMiB: number;
  ok: boolean;
}

export async function recordBench(sizes: number[]): Promise<RecordRow[]> {
  const base = mkdtempSync(join(tmpdir(), 'bench-record-'));
  const rssPreload = join(base, 'rss.cjs');
  writeFileSync(
    rssPreload,
    "process.on('exit', () => require('fs').writeFileSync(process.env.BENCH_RSS_OUT, String(process.resourceUsage().maxRSS)));\n",
  );
  const rows: RecordRow[] = [];
  for (const n of sizes) {
    const root = join(base, `site-${n}`);
    generate(root, n);
    const layouts = (process.env.BENCH_RECORD_LAYOUTS ?? '3,2').split(',').map((l) => (l.trim() === '2' ? 2 : 3) as 2 | 3);
    for (const layout of layouts) {
      const stored = await seed(root, layout);
      const bucket = await fakeBucket(stored);
      const rssOut = join(base, `rss-${n}-${layout}`);
      const prof = cpuProf(base, n, layout);
      const t0 = performance.now();
      const run = await runBundle('deploy-static', {
        inputs: { source: root, bucket: BUCKET },
        env: {
          ...s3Env(bucket.endpoint),
          NODE_OPTIONS: `--require ${rssPreload}${prof.option}${NODE_FLAGS}`,
          BENCH_RSS_OUT: rssOut,
          ...prof.env,
        },
        timeoutMs: 600_000,
      });
      const seconds = (performance.now() - t0) / 1000;
      bucket.server.close();
      const ok = run.code === 0 && run.outputs.uploaded === '0' && run.outputs.deleted === '0';
      if (!ok) console.error(run.stdout.slice(-1500), run.stderr.slice(-1500));
      const readMiB = bucket.gets.reduce((s, k) => s + Buffer.byteLength(stored.objects.get(k)!), 0) / 1048576;
      const row: RecordRow = {
        files: n,
        layout,
        recordMiB: stored.recordBytes / 1048576,
        readMiB,
        seconds,
        peakMiB: Number(readFileSync(rssOut, 'utf8')) / 1024,
        ok,
      };
      console.log(
        `no-op deploy of ${n} files, record of ${RELEASES} releases (version ${layout} layout, ${row.recordMiB.toFixed(1)} MiB, ${readMiB.toFixed(1)} MiB read): ${seconds.toFixed(2)} s, peak RSS ${row.peakMiB.toFixed(0)} MiB${NODE_FLAGS ? ` (NODE_OPTIONS${NODE_FLAGS})` : ''}${ok ? '' : ' (FAILED)'}`,
      );
      rows.push(row);
    }
  }
  return rows;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  logMeasurements('deploy-static no-op deploy with a record at scale');
  console.log(bundleRuntime());
  await recordBench((process.env.BENCH_RECORD ?? '100000').split(',').map(Number));
}
