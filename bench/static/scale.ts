/**
 * Planning at scale: the deploy-static bundle in dry-run (scan + hash + list +
 * plan + invalidation plan; nothing written) on 2,000, 20,000 and 100,000
 * files, every key present in the bucket with other content, behind a
 * distribution (the emulator's GetDistribution). Wall time and peak RSS of
 * the bundle process. Prints figures; asserts nothing.
 *
 * The bucket is a fake ListObjectsV2 (100,000 real objects in s3rver would
 * take minutes to seed): this measures our planning, not a server.
 *
 *   npx tsx bench/static/scale.ts        (bench/static/run.sh runs it too; BENCH_SCALE=2000,20000 to pick sizes)
 */
import { createServer, type Server } from 'node:http';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { startEmulator } from '../../test/emulator/index.js';
import { runBundle } from '../../test/helpers/run-bundle.js';
import { s3Env } from '../../test/deploy-static/local-s3.js';
import { planInvalidation } from '../../actions/deploy-static/invalidation.js';
import { logMeasurements } from '../log.js';
import { bundleRuntime } from '../runtime.js';

const BUCKET = 'scale';

/** n files in 5 sections × 50 folders, 200–400 bytes; every 10th is a page (index.html). */
function generate(root: string, n: number): { rel: string; size: number }[] {
  const out: { rel: string; size: number }[] = [];
  for (let i = 0; i < n; i++) {
    const rel = i % 10 === 0 ? `s${i % 5}/p${i}/index.html` : `s${i % 5}/d${i % 50}/chunk-${i.toString(16)}.js`;
    const body = `/* ${rel} */`.padEnd(200 + (i % 200), '.');
    mkdirSync(dirname(join(root, rel)), { recursive: true });
    writeFileSync(join(root, rel), body);
    out.push({ rel, size: body.length });
  }
  return out;
}

/** ListObjectsV2 of the given keys (1,000 a page), each with an ETag that is not its MD5; no manifest. */
async function fakeBucket(objects: { key: string; size: number }[]): Promise<{ endpoint: string; server: Server }> {
  const xml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    req.resume();
    if (
      req.method === 'GET' &&
      (url.pathname === `/${BUCKET}` || url.pathname === `/${BUCKET}/`) &&
      url.searchParams.get('list-type') === '2'
    ) {
      const start = Number(url.searchParams.get('continuation-token') ?? 0);
      const page = objects.slice(start, start + 1000);
      const next = start + 1000 < objects.length ? `<NextContinuationToken>${start + 1000}</NextContinuationToken>` : '';
      const items = page
        .map(
          (o) =>
            `<Contents><Key>${xml(o.key)}</Key><ETag>"00000000000000000000000000000000"</ETag><Size>${o.size}</Size><StorageClass>STANDARD</StorageClass></Contents>`,
        )
        .join('');
      res.writeHead(200, { 'content-type': 'application/xml' });
      res.end(
        `<?xml version="1.0" encoding="UTF-8"?><ListBucketResult><Name>${BUCKET}</Name><Prefix></Prefix><KeyCount>${page.length}</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>${next !== ''}</IsTruncated>${items}${next}</ListBucketResult>`,
      );
      return;
    }
    const code = req.method === 'GET' ? 'NoSuchKey' : 'NotImplemented';
    res.writeHead(req.method === 'GET' ? 404 : 501, { 'content-type': 'application/xml' });
    res.end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${code}</Message></Error>`);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

export interface ScaleRow {
  files: number;
  seconds: number;
  peakMiB: number;
  invalidationPaths: number;
  ok: boolean;
}

export async function scaleBench(sizes: number[]): Promise<ScaleRow[]> {
  const emu = await startEmulator({ s3: false, clock: Date.now }); // wall time: the figures are seconds a runner waits
  const dist = emu.cloudfront.createDistribution({ origins: [{ id: 'site', domainName: `${BUCKET}.s3.eu-west-1.amazonaws.com` }] });
  const base = mkdtempSync(join(tmpdir(), 'bench-scale-'));
  const rssPreload = join(base, 'rss.cjs');
  writeFileSync(
    rssPreload,
    "process.on('exit', () => require('fs').writeFileSync(process.env.BENCH_RSS_OUT, String(process.resourceUsage().maxRSS)));\n",
  );
  const rows: ScaleRow[] = [];
  for (const n of sizes) {
    const root = join(base, `site-${n}`);
    const files = generate(root, n);
    const bucket = await fakeBucket(files.map((f) => ({ key: f.rel, size: f.size })));
    const rssOut = join(base, `rss-${n}`);
    const t0 = performance.now();
    const run = await runBundle('deploy-static', {
      inputs: { source: root, bucket: BUCKET, 'distribution-id': dist, 'dry-run': true, 'max-delete-count': 0 },
      env: { ...emu.env(), ...s3Env(bucket.endpoint), NODE_OPTIONS: `--require ${rssPreload}`, BENCH_RSS_OUT: rssOut },
      timeoutMs: 600_000,
    });
    const seconds = (performance.now() - t0) / 1000;
    bucket.server.close();
    if (run.code !== 0) console.error(run.stdout.slice(-1500), run.stderr.slice(-1500));
    const plan =
      run.code === 0
        ? (JSON.parse(readFileSync(run.outputs.plan!, 'utf8')) as { targets: { invalidation?: { paths: string[] } }[] })
        : undefined;
    const row = {
      files: n,
      seconds,
      peakMiB: Number(readFileSync(rssOut, 'utf8')) / 1024,
      invalidationPaths: plan?.targets[0]?.invalidation?.paths.length ?? 0,
      ok: run.code === 0,
    };
    console.log(
      `dry-run plan of ${n} files (all changed, with a distribution): ${seconds.toFixed(2)} s, peak RSS ${row.peakMiB.toFixed(0)} MiB, ${row.invalidationPaths} invalidation paths${row.ok ? '' : ' (FAILED)'}`,
    );
    rows.push(row);
  }
  await emu.stop();
  return rows;
}

/** The invalidation planner alone (in this process), on 100,000 changed keys in 5,000 folders. */
export function invalidationPlanTime(n = 100_000): { seconds: number; paths: number } {
  const rels = Array.from({ length: n }, (_, i) => `s${i % 5}/d${i % 5000}/f${i}.js`);
  const t0 = performance.now();
  const plan = planInvalidation(rels, { maxPaths: 100 });
  return { seconds: (performance.now() - t0) / 1000, paths: plan.paths.length };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  logMeasurements('deploy-static planning at scale');
  console.log(bundleRuntime());
  const sizes = (process.env.BENCH_SCALE ?? '2000,20000,100000').split(',').map(Number);
  await scaleBench(sizes);
  const inv = invalidationPlanTime();
  console.log(`planInvalidation, 100,000 keys in 5,000 folders: ${inv.seconds.toFixed(2)} s → ${inv.paths} paths`);
}
