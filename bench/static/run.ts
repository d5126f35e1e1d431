/**
 * deploy-static vs `aws s3 sync` on the same local S3 (s3rver behind a
 * counting proxy), one run, side by side. Prints figures; asserts nothing.
 *
 *   bash bench/static/run.sh          # installs Debian's awscli if `aws` is missing
 *   NODE_OPTIONS=--openssl-legacy-provider npx tsx bench/static/run.ts   # aws on PATH (AWS_CLI=… to pick one)
 *
 * Site: 2,000 files ≈ 20 MB (1,998 small text/asset files + 2 files of 8.5 MB,
 * which both tools upload as multipart). Scenarios, each after a simulated
 * fresh CI checkout (every mtime is "now", as after `actions/checkout`):
 *   cold · no-op · 1 % changed (20 files, same size) · 50 deleted;
 * each REPS (BENCH_REPS, default 3) times, alternating which tool goes first; medians.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createCipheriv } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { runBundle } from '../../test/helpers/run-bundle.js';
import { s3Env, startLocalS3, type LocalS3 } from '../../test/deploy-static/local-s3.js';

const FILES = 2000;
const BIG = 2;
const BIG_SIZE = 8.5 * 1024 * 1024;

function generate(root: string): string[] {
  const rels: string[] = [];
  let seed = 1;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  for (let i = 0; i < FILES - BIG; i++) {
    const kind = i % 10;
    const hash = (i * 2654435761 % 2 ** 32).toString(16).padStart(8, '0');
    const rel =
      kind < 4 ? `assets/js/chunk-${hash}.js` : kind < 6 ? `assets/css/style-${hash}.css` : kind < 8 ? `img/icon-${i}.svg` : kind === 8 ? `pages/p${i}/index.html` : `data/d${i}.json`;
    const size = 600 + Math.floor(rand() * 1800);
    const body = Buffer.alloc(size, `/* ${rel} */ `);
    rels.push(rel);
    mkdirSync(dirname(join(root, rel)), { recursive: true });
    writeFileSync(join(root, rel), body);
  }
  for (let i = 0; i < BIG; i++) {
    const rel = `media/video-${i}.mp4`;
    const buf = Buffer.alloc(BIG_SIZE);
    for (let j = 0; j < buf.length; j += 4096) buf[j] = (j / 4096 + i) % 256;
    mkdirSync(dirname(join(root, rel)), { recursive: true });
    writeFileSync(join(root, rel), buf);
    rels.push(rel);
  }
  writeFileSync(join(root, 'index.html'), '<!doctype html><title>bench</title>');
  rels.push('index.html');
  return rels;
}

/** `actions/checkout` writes every file anew: every mtime is now. */
function freshCheckout(root: string, rels: readonly string[]): void {
  const now = new Date();
  for (const rel of rels) utimesSync(join(root, rel), now, now);
}

interface Measure {
  ms: number;
  puts: number;
  objectsWritten: number;
  heads: number;
  requests: number;
  ok: boolean;
}

function counts(s3: LocalS3, bucket: string): Omit<Measure, 'ms' | 'ok'> {
  const mine = s3.requests.filter((r) => r.bucket === bucket);
  const isManifest = (k: string) => k.includes('.deploy-static/');
  return {
    puts: mine.filter((r) => r.op === 'PUT' && !isManifest(r.key)).length,
    objectsWritten: new Set(mine.filter((r) => (r.op === 'PUT' || r.op === 'COPY') && !isManifest(r.key)).map((r) => r.key)).size,
    heads: mine.filter((r) => r.op === 'HEAD').length,
    requests: mine.length,
  };
}

async function main(): Promise<void> {
  try {
    // s3rver signs ListObjectsV2 continuation tokens with DES: without OpenSSL's legacy
    // provider every listing of more than 1,000 keys fails with InternalError.
    createCipheriv('des', Buffer.alloc(8), Buffer.alloc(8));
  } catch {
    throw new Error('Run with NODE_OPTIONS=--openssl-legacy-provider (bench/static/run.sh does): s3rver paginates with DES.');
  }
  const aws = process.env.AWS_CLI ?? 'aws';
  const cliVersion = spawnSync(aws, ['--version'], { encoding: 'utf8' });
  if (cliVersion.status !== 0) throw new Error(`'${aws} --version' failed; run bench/static/run.sh (installs awscli) or set AWS_CLI.`);
  const s3 = await startLocalS3(['bench-ours', 'bench-cli']);
  const env = s3Env(s3.endpoint);
  const root = join(mkdtempSync(join(tmpdir(), 'bench-static-')), 'dist');
  const rels = generate(root);
  const total = rels.reduce((n, r) => n + readFileSync(join(root, r)).length, 0);
  console.log(`site: ${rels.length} files, ${(total / 1024 / 1024).toFixed(1)} MiB (${BIG} files of ${(BIG_SIZE / 1024 / 1024).toFixed(1)} MiB); ${cliVersion.stdout.trim() || cliVersion.stderr.trim()}`);

  const ours = async (prefix: string): Promise<Measure> => {
    s3.reset();
    const t0 = performance.now();
    const run = await runBundle('deploy-static', { inputs: { source: root, bucket: 'bench-ours', prefix }, env, timeoutMs: 900_000 });
    const ms = performance.now() - t0;
    if (run.code !== 0) console.error(run.stdout.slice(-2000), run.stderr.slice(-2000));
    return { ms, ok: run.code === 0, ...counts(s3, 'bench-ours') };
  };
  // Async: s3rver runs in this process, a sync child would block it.
  const cli = async (prefix: string, extra: string[] = []): Promise<Measure> => {
    s3.reset();
    const t0 = performance.now();
    const child = spawn(aws, ['s3', 'sync', root, `s3://bench-cli/${prefix}`, '--delete', ...extra, '--endpoint-url', s3.endpoint, '--only-show-errors'], { env: { ...process.env, ...env, AWS_DEFAULT_REGION: 'eu-west-1' }, stdio: ['ignore', 'ignore', 'inherit'] });
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    return { ms: performance.now() - t0, ok: code === 0, ...counts(s3, 'bench-cli') };
  };

  // The machine is shared (2 cores): every scenario runs REPS times, the two tools
  // alternating who goes first, and the table shows medians.
  const REPS = Number(process.env.BENCH_REPS ?? 3);
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const rows: { scenario: string; expect: string; o: Measure; c: Measure; spread: string }[] = [];
  const scenario = async (name: string, expect: string, prepare: (rep: number) => void, prefix: (rep: number) => string) => {
    const os: Measure[] = [];
    const cs: Measure[] = [];
    for (let rep = 0; rep < REPS; rep++) {
      prepare(rep);
      if (rep % 2 === 0) {
        os.push(await ours(prefix(rep)));
        cs.push(await cli(prefix(rep)));
      } else {
        cs.push(await cli(prefix(rep)));
        os.push(await ours(prefix(rep)));
      }
    }
    const pick = (ms: Measure[]): Measure => ({ ...ms[0]!, ms: median(ms.map((m) => m.ms)), ok: ms.every((m) => m.ok), puts: Math.max(...ms.map((m) => m.puts)), objectsWritten: Math.max(...ms.map((m) => m.objectsWritten)), heads: Math.max(...ms.map((m) => m.heads)) });
    const o = pick(os);
    const c = pick(cs);
    const spread = os.map((m, i) => `${(m.ms / 1000).toFixed(1)}/${(cs[i]!.ms / 1000).toFixed(1)}`).join(' ');
    rows.push({ scenario: name, expect, o, c, spread });
    console.log(`${name}: deploy-static ${(o.ms / 1000).toFixed(2)} s, ${o.puts} PUTs | aws s3 sync ${(c.ms / 1000).toFixed(2)} s, ${c.puts} PUTs  (runs ours/cli: ${spread})`);
  };

  const last = `site-${REPS - 1}`;
  await scenario('cold', `${rels.length} objects`, () => undefined, (rep) => `site-${rep}`);
  // For the --size-only comparison: the same cold state, synced once.
  await cli('size-only');
  await scenario('no-op (fresh checkout)', '0 objects', () => freshCheckout(root, rels), () => last);
  const jsFiles = rels.filter((r) => r.endsWith('.js'));
  const perRep = Math.round(rels.length / 100);
  await scenario(
    `1 % changed (${perRep} files, same size)`,
    `${perRep} objects`,
    (rep) => {
      for (const rel of jsFiles.slice(rep * perRep, (rep + 1) * perRep)) {
        const b = readFileSync(join(root, rel));
        b[b.length - 1] = b[b.length - 1] === 0x41 ? 0x42 : 0x41;
        writeFileSync(join(root, rel), b);
      }
      freshCheckout(root, rels);
    },
    () => last,
  );
  const sizeOnly = await cli('size-only', ['--size-only']);
  const sizeOnlyLine = `aws s3 sync --size-only after ${perRep * REPS} same-size edits: ${sizeOnly.puts} PUTs in ${(sizeOnly.ms / 1000).toFixed(2)} s — ${perRep * REPS - sizeOnly.objectsWritten} changed files silently not uploaded.`;
  console.log(sizeOnlyLine);
  const dataFiles = rels.filter((r) => r.startsWith('data/'));
  let present = [...rels];
  await scenario(
    '50 deleted',
    '0 objects, 50 deletes',
    (rep) => {
      const removed = dataFiles.slice(rep * 50, (rep + 1) * 50);
      for (const rel of removed) rmSync(join(root, rel));
      present = present.filter((r) => !removed.includes(r));
      freshCheckout(root, present);
    },
    () => last,
  );

  const fmt = (m: Measure) => `${(m.ms / 1000).toFixed(2)} s`;
  const lines = [
    `| scenario (median of ${REPS}) | deploy-static | aws s3 sync | time ratio | PUTs (ours / cli) | objects written (ours / cli) | HEADs (ours / cli) | expected writes |`,
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows.map(({ scenario: s, expect, o, c }) => `| ${s} | ${fmt(o)}${o.ok ? '' : ' (FAILED)'} | ${fmt(c)}${c.ok ? '' : ' (FAILED)'} | ${(o.ms / c.ms).toFixed(2)}× | ${o.puts} / ${c.puts} | ${o.objectsWritten} / ${c.objectsWritten} | ${o.heads} / ${c.heads} | ${expect} |`),
  ];
  console.log(`\n${lines.join('\n')}\n`);
  console.log('PUTs count PutObject + UploadPart requests (the deploy manifest excluded: one small PUT when anything changed).');
  console.log(sizeOnlyLine);
  const out = join(import.meta.dirname, '../results');
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'static.md'), `${lines.join('\n')}\n\n${sizeOnlyLine}\n`);
  await s3.stop();
}

await main();
