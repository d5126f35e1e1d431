/**
 * deploy-static vs `aws s3 sync` and `rclone sync --checksum` on the same local
 * S3 (s3rver behind a counting proxy), one run, side by side; then the same
 * cold deploy under 20 % injected 503 SlowDown, and planning at scale
 * (scale.ts). Prints figures and the goal ratios; asserts nothing.
 *
 *   bash bench/static/run.sh          # installs Debian's awscli and rclone if missing
 *   NODE_OPTIONS=--openssl-legacy-provider npx tsx bench/static/run.ts   # aws and rclone on PATH (AWS_CLI=…, RCLONE=… to pick)
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
import { getBytes, s3Client } from '../../test/deploy-static/fixtures.js';
import { recordBench } from './record.js';
import { invalidationPlanTime, scaleBench } from './scale.js';
import { logMeasurements } from '../log.js';
import { bundleRuntime } from '../runtime.js';
import { medianTrips, roundTripTable, roundTrips, type RoundTrips } from './round-trips.js';

const FILES = 2000;
const BIG = 2;
const BIG_SIZE = 8.5 * 1024 * 1024;

function generate(root: string): string[] {
  const rels: string[] = [];
  let seed = 1;
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let i = 0; i < FILES - BIG; i++) {
    const kind = i % 10;
    const hash = ((i * 2654435761) % 2 ** 32).toString(16).padStart(8, '0');
    const rel =
      kind < 4
        ? `assets/js/chunk-${hash}.js`
        : kind < 6
          ? `assets/css/style-${hash}.css`
          : kind < 8
            ? `img/icon-${i}.svg`
            : kind === 8
              ? `pages/p${i}/index.html`
              : `data/d${i}.json`;
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
  trips: RoundTrips;
  puts: number;
  objectsWritten: number;
  heads: number;
  requests: number;
  ok: boolean;
}

function counts(s3: LocalS3, bucket: string, t0: number): Omit<Measure, 'ms' | 'ok'> {
  const mine = s3.requests.filter((r) => r.bucket === bucket);
  const trips = roundTrips(mine, t0, Date.now());
  const isManifest = (k: string) => k.includes('.deploy-static/');
  return {
    puts: mine.filter((r) => r.op === 'PUT' && !isManifest(r.key)).length,
    objectsWritten: new Set(mine.filter((r) => (r.op === 'PUT' || r.op === 'COPY') && !isManifest(r.key)).map((r) => r.key)).size,
    heads: mine.filter((r) => r.op === 'HEAD').length,
    requests: mine.length,
    trips,
  };
}

logMeasurements('deploy-static vs aws s3 sync and rclone');

console.log(bundleRuntime());

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
  const rcloneBin = process.env.RCLONE ?? 'rclone';
  const rcloneVersion =
    process.env.BENCH_RCLONE === '0'
      ? { status: 0, stdout: 'rclone left out (BENCH_RCLONE=0)' }
      : spawnSync(rcloneBin, ['version'], { encoding: 'utf8' });
  if (rcloneVersion.status !== 0)
    throw new Error(`'${rcloneBin} version' failed; run bench/static/run.sh (installs rclone) or set RCLONE.`);
  const s3 = await startLocalS3(['bench-ours', 'bench-cli', 'bench-rclone']);
  const env = s3Env(s3.endpoint);
  const root = join(mkdtempSync(join(tmpdir(), 'bench-static-')), 'dist');
  const rels = generate(root);
  const total = rels.reduce((n, r) => n + readFileSync(join(root, r)).length, 0);
  console.log(
    `site: ${rels.length} files, ${(total / 1024 / 1024).toFixed(1)} MiB (${BIG} files of ${(BIG_SIZE / 1024 / 1024).toFixed(1)} MiB); ${cliVersion.stdout.trim() || cliVersion.stderr.trim()}; ${rcloneVersion.stdout.split('\n')[0]}`,
  );

  const ours = async (prefix: string): Promise<Measure> => {
    s3.reset();
    const t0 = performance.now();
    const at0 = Date.now();
    const run = await runBundle('deploy-static', { inputs: { source: root, bucket: 'bench-ours', prefix }, env, timeoutMs: 900_000 });
    const ms = performance.now() - t0;
    if (run.code !== 0) console.error(run.stdout.slice(-2000), run.stderr.slice(-2000));
    return { ms, ok: run.code === 0, ...counts(s3, 'bench-ours', at0) };
  };
  // Async: s3rver runs in this process, a sync child would block it.
  const cli = async (prefix: string, extra: string[] = []): Promise<Measure> => {
    s3.reset();
    const t0 = performance.now();
    const at0 = Date.now();
    const child = spawn(
      aws,
      ['s3', 'sync', root, `s3://bench-cli/${prefix}`, '--delete', ...extra, '--endpoint-url', s3.endpoint, '--only-show-errors'],
      { env: { ...process.env, ...env, AWS_DEFAULT_REGION: 'eu-west-1' }, stdio: ['ignore', 'ignore', 'inherit'] },
    );
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    return { ms: performance.now() - t0, ok: code === 0, ...counts(s3, 'bench-cli', at0) };
  };
  // rclone's defaults (4 transfers, 8 checkers), comparing by MD5 (--checksum) like we do.
  // BENCH_RCLONE=0 leaves rclone out (with a latency its HEAD per file and 4 transfers take minutes per run).
  const withRclone = process.env.BENCH_RCLONE !== '0';
  const rclone = async (prefix: string): Promise<Measure> => {
    if (!withRclone)
      return { ms: Number.NaN, ok: true, puts: 0, objectsWritten: 0, heads: 0, requests: 0, trips: roundTrips([], Date.now(), Date.now()) };
    s3.reset();
    const t0 = performance.now();
    const at0 = Date.now();
    const args = [
      'sync',
      root,
      `:s3:bench-rclone/${prefix}`,
      '--checksum',
      '--s3-provider',
      'Other',
      '--s3-endpoint',
      s3.endpoint,
      '--s3-access-key-id',
      'S3RVER',
      '--s3-secret-access-key',
      'S3RVER',
      '--s3-region',
      'eu-west-1',
      '--s3-no-check-bucket',
      '-q',
    ];
    // rclone 1.60 (aws-sdk-go v1) cannot apply AWS_CA_BUNDLE to its own HTTP transport and refuses to start; a local endpoint needs none.
    const child = spawn(rcloneBin, args, {
      env: { ...process.env, RCLONE_CONFIG: '/dev/null', AWS_CA_BUNDLE: undefined },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    return { ms: performance.now() - t0, ok: code === 0, ...counts(s3, 'bench-rclone', at0) };
  };

  // The machine is shared (2 cores): every scenario runs REPS times, the two tools
  // alternating who goes first, and the table shows medians.
  const REPS = Number(process.env.BENCH_REPS ?? 3);
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const rows: { scenario: string; expect: string; o: Measure; c: Measure; r: Measure; spread: string }[] = [];
  const scenario = async (name: string, expect: string, prepare: (rep: number) => void, prefix: (rep: number) => string) => {
    const os: Measure[] = [];
    const cs: Measure[] = [];
    const rs: Measure[] = [];
    for (let rep = 0; rep < REPS; rep++) {
      prepare(rep);
      // Rotate who goes first: the machine is shared and load drifts.
      const order = [
        async () => os.push(await ours(prefix(rep))),
        async () => cs.push(await cli(prefix(rep))),
        async () => rs.push(await rclone(prefix(rep))),
      ];
      for (let k = 0; k < 3; k++) await order[(rep + k) % 3]!();
    }
    const pick = (ms: Measure[]): Measure => ({
      ...ms[0]!,
      ms: median(ms.map((m) => m.ms)),
      ok: ms.every((m) => m.ok),
      puts: Math.max(...ms.map((m) => m.puts)),
      objectsWritten: Math.max(...ms.map((m) => m.objectsWritten)),
      heads: Math.max(...ms.map((m) => m.heads)),
      trips: medianTrips(ms.map((m) => m.trips)),
    });
    const o = pick(os);
    const c = pick(cs);
    const r = pick(rs);
    const spread = os
      .map((m, i) => `${(m.ms / 1000).toFixed(1)}/${(cs[i]!.ms / 1000).toFixed(1)}/${(rs[i]!.ms / 1000).toFixed(1)}`)
      .join(' ');
    rows.push({ scenario: name, expect, o, c, r, spread });
    console.log(
      `${name}: deploy-static ${(o.ms / 1000).toFixed(2)} s, ${o.puts} PUTs | aws s3 sync ${(c.ms / 1000).toFixed(2)} s, ${c.puts} PUTs | rclone ${(r.ms / 1000).toFixed(2)} s, ${r.puts} PUTs  (runs ours/cli/rclone: ${spread})`,
    );
  };

  // Per-request latency (BENCH_LATENCY_MS): each setting runs every scenario on its own prefixes,
  // from a fresh copy of the site. The delay is added in the proxy, so every tool pays it alike.
  const latencies = (process.env.BENCH_LATENCY_MS ?? '0,20-50').split(',').map((text) => {
    const m = /^(\d+)(?:-(\d+))?$/.exec(text.trim());
    if (!m) throw new Error(`BENCH_LATENCY_MS: '${text}' is not a delay in ms ('0', '35') or a range ('20-50').`);
    const min = Number(m[1]);
    return { text: text.trim(), min, max: m[2] === undefined ? min : Number(m[2]) };
  });
  // BENCH_SCENARIOS (default all): which of cold, no-op, changed, changed-kept, deleted to measure.
  const scenarios = (process.env.BENCH_SCENARIOS ?? 'cold,no-op,changed,changed-kept,deleted').split(',').map((t) => t.trim());
  const want = (name: string) => scenarios.includes(name);
  const tripRows: { scenario: string; ours: RoundTrips; cli: RoundTrips }[] = [];
  let present = [...rels];
  let sizeOnlyLine = '';
  for (const [li, latency] of latencies.entries()) {
    rmSync(root, { recursive: true, force: true });
    generate(root);
    present = [...rels];
    s3.latency(latency.min, latency.max, 7);
    const tag = latency.max > 0 ? ` @ ${latency.min}–${latency.max} ms` : '';
    const before = rows.length;
    const last = `l${li}-site-${REPS - 1}`;
    if (!want('cold')) {
      // The other scenarios start from a deployed site: deployed once, not measured.
      await ours(last);
      await cli(last);
    } else
      await scenario(
        `cold${tag}`,
        `${rels.length} objects`,
        () => undefined,
        (rep) => `l${li}-site-${rep}`,
      );
    // For the --size-only comparison: the same cold state, synced once.
    // BENCH_SIZE_ONLY=0 skips it (two more full CLI syncs).
    const sizeOnlyToo = want('changed') && process.env.BENCH_SIZE_ONLY !== '0';
    if (sizeOnlyToo) await cli(`l${li}-size-only`);
    if (want('no-op'))
      await scenario(
        `no-op (fresh checkout)${tag}`,
        '0 objects',
        () => freshCheckout(root, rels),
        () => last,
      );
    const jsFiles = rels.filter((r) => r.endsWith('.js'));
    const perRep = Math.round(rels.length / 100);
    if (want('changed'))
      await scenario(
        `1 % changed (${perRep} files, same size)${tag}`,
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
    // The CLI at its best: the workspace kept between runs (no fresh checkout), so only the edited
    // files are newer than their objects and `aws s3 sync` uploads just those. Their mtimes are set
    // 2 s ahead: the edit must read as later than the previous sync's LastModified (1 s resolution).
    if (want('changed-kept'))
      await scenario(
        `1 % changed, workspace kept (${perRep} files; the CLI uploads only those)${tag}`,
        `${perRep} objects`,
        (rep) => {
          const ahead = new Date(Date.now() + 2000);
          for (const rel of jsFiles.slice((REPS + rep) * perRep, (REPS + rep + 1) * perRep)) {
            const b = readFileSync(join(root, rel));
            b[b.length - 1] = b[b.length - 1] === 0x41 ? 0x42 : 0x41;
            writeFileSync(join(root, rel), b);
            utimesSync(join(root, rel), ahead, ahead);
          }
        },
        () => last,
      );
    const sizeOnly = sizeOnlyToo ? await cli(`l${li}-size-only`, ['--size-only']) : undefined;
    if (sizeOnly)
      sizeOnlyLine = `aws s3 sync --size-only after ${perRep * REPS} same-size edits: ${sizeOnly.puts} PUTs in ${(sizeOnly.ms / 1000).toFixed(2)} s — ${perRep * REPS - sizeOnly.objectsWritten} changed files silently not uploaded.`;
    if (sizeOnly) console.log(sizeOnlyLine);
    const dataFiles = rels.filter((r) => r.startsWith('data/'));
    if (want('deleted'))
      await scenario(
        `50 deleted${tag}`,
        '0 objects, 50 deletes',
        (rep) => {
          const removed = dataFiles.slice(rep * 50, (rep + 1) * 50);
          for (const rel of removed) rmSync(join(root, rel));
          present = present.filter((r) => !removed.includes(r));
          freshCheckout(root, present);
        },
        () => last,
      );
    for (const r of rows.slice(before)) tripRows.push({ scenario: r.scenario, ours: r.o.trips, cli: r.c.trips });
  }
  s3.latency(0, 0);
  const tripLines = roundTripTable(tripRows);
  console.log(`\n${tripLines.join('\n')}\n`);

  const fmt = (m: Measure) => `${(m.ms / 1000).toFixed(2)} s`;
  // Under 20 % SlowDown (503 on PUT/GET/HEAD/COPY/multipart; s3.slowDown), cold, on fresh prefixes:
  // our time against our own fault-free time in the same run; then what each tool stored.
  freshCheckout(root, present);
  const client = s3Client(s3.endpoint);
  const wrongOrMissing = async (bucket: string, prefix: string): Promise<number> => {
    s3.slowDown(0);
    let bad = 0;
    for (const rel of present) {
      const stored = await getBytes(client, bucket, `${prefix}/${rel}`).catch(() => undefined);
      if (!stored || !stored.equals(readFileSync(join(root, rel)))) bad++;
    }
    return bad;
  };
  // BENCH_SLOWDOWN=0 skips this part.
  let slowLines: string[] = [];
  let slowGoal: string[] = [];
  if (process.env.BENCH_SLOWDOWN !== '0') {
    const faultFree = await ours('slow-base');
    s3.slowDown(0.2, 12);
    const slowOurs = await ours('slow-20');
    const oursBad = await wrongOrMissing('bench-ours', 'slow-20');
    s3.slowDown(0.2, 12);
    const slowCli = await cli('slow-20');
    const cliBad = await wrongOrMissing('bench-cli', 'slow-20');
    s3.slowDown(0.2, 12);
    const slowRclone = await rclone('slow-20');
    const rcloneBad = await wrongOrMissing('bench-rclone', 'slow-20');
    slowLines = [
      `| cold, ${present.length} files | fault-free | 20 % SlowDown | ratio | files wrong or missing after the run | exit |`,
      '| --- | --- | --- | --- | --- | --- |',
      `| deploy-static | ${fmt(faultFree)} | ${fmt(slowOurs)} | ${(slowOurs.ms / faultFree.ms).toFixed(2)}× | ${oursBad} | ${slowOurs.ok ? 0 : 'failed'} |`,
      `| aws s3 sync | | ${fmt(slowCli)} | | ${cliBad} | ${slowCli.ok ? 0 : 'failed'} |`,
      `| rclone sync --checksum | | ${fmt(slowRclone)} | | ${rcloneBad} | ${slowRclone.ok ? 0 : 'failed'} |`,
    ];
    slowGoal = [
      `20 % SlowDown: ${(slowOurs.ms / faultFree.ms).toFixed(2)}× the fault-free time (goal ≤ 3×), ${oursBad} files wrong or missing (goal 0)`,
    ];
  }
  console.log(`\n${slowLines.join('\n')}\n`);
  await s3.stop();

  // An empty BENCH_SCALE / BENCH_RECORD skips that part.
  const sizes = (text: string) => text.split(',').filter(Boolean).map(Number);
  const scale = await scaleBench(sizes(process.env.BENCH_SCALE ?? '2000,20000,100000'));
  // Prints its own lines: a no-op deploy with a record of 5 releases, both record layouts.
  const recordSizes = sizes(process.env.BENCH_RECORD ?? '100000');
  if (recordSizes.length > 0) await recordBench(recordSizes);
  const inv = invalidationPlanTime();
  const scaleLines = [
    '| dry-run plan (scan, hash, list, plan, invalidation plan), every key changed, with a distribution | time | peak RSS | invalidation paths |',
    '| --- | --- | --- | --- |',
    ...scale.map(
      (r) =>
        `| ${r.files.toLocaleString('en')} files | ${r.seconds.toFixed(2)} s${r.ok ? '' : ' (FAILED)'} | ${r.peakMiB.toFixed(0)} MiB | ${r.invalidationPaths} |`,
    ),
    `| planInvalidation alone, 100,000 keys in 5,000 folders | ${inv.seconds.toFixed(2)} s | | ${inv.paths} |`,
  ];
  console.log(`\n${scaleLines.join('\n')}\n`);

  const row = (name: string) => rows.find((r) => r.scenario === name);
  const ratio = (name: string, goal: string) => {
    const r = row(name);
    if (!r) return [];
    return `${name}: ${(r.o.ms / r.c.ms).toFixed(2)}× aws s3 sync (goal ${goal})${Number.isNaN(r.r.ms) ? '' : `, ${(r.o.ms / r.r.ms).toFixed(2)}× rclone`}`;
  };
  const perRep = Math.round(rels.length / 100);
  const at = (n: number) => scale.find((r) => r.files === n);
  const goals = [
    ...latencies.flatMap(({ min, max }) => {
      const tag = max > 0 ? ` @ ${min}–${max} ms` : '';
      return [
        ratio(`cold${tag}`, '≤ 0.8×'),
        ratio(`no-op (fresh checkout)${tag}`, '≤ 0.2×'),
        ratio(`1 % changed (${perRep} files, same size)${tag}`, max > 0 ? '≤ 1.0×' : 'none'),
        // The same goal against the CLI at its best: it uploads only the changed files too.
        ratio(`1 % changed, workspace kept (${perRep} files; the CLI uploads only those)${tag}`, max > 0 ? '≤ 1.0×' : 'none'),
      ].flat();
    }),
    ...slowGoal,
    ...(at(2000) && at(20000)
      ? [
          `planning 20,000 vs 2,000 files: ${(at(20000)!.seconds / at(2000)!.seconds).toFixed(1)}× the time (goal ≤ 12×), peak RSS ${at(20000)!.peakMiB.toFixed(0)} MiB (goal ≤ 400 MB)`,
        ]
      : []),
    ...(at(100000)
      ? [
          `100,000 files with a distribution: ${at(100000)!.seconds.toFixed(1)} s (goal ≤ 30 s), peak RSS ${at(100000)!.peakMiB.toFixed(0)} MiB`,
        ]
      : []),
  ];
  console.log(`Goals, this run:\n${goals.map((g) => `- ${g}`).join('\n')}`);

  const fmtRow = ({ scenario: s, expect, o, c, r }: (typeof rows)[number]) =>
    `| ${s} | ${fmt(o)}${o.ok ? '' : ' (FAILED)'} | ${fmt(c)}${c.ok ? '' : ' (FAILED)'} | ${fmt(r)}${r.ok ? '' : ' (FAILED)'} | ${(o.ms / c.ms).toFixed(2)}× / ${(o.ms / r.ms).toFixed(2)}× | ${o.puts} / ${c.puts} / ${r.puts} | ${o.heads} / ${c.heads} / ${r.heads} | ${expect} |`;
  const lines = [
    `| scenario (median of ${REPS}) | deploy-static | aws s3 sync | rclone sync --checksum | time ratio (vs cli / vs rclone) | PUTs (ours / cli / rclone) | HEADs (ours / cli / rclone) | expected writes |`,
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows.map(fmtRow),
  ];
  console.log(`\n${lines.join('\n')}\n`);
  console.log('PUTs count PutObject + UploadPart requests (the deploy manifest excluded: one small PUT when anything changed).');
  console.log(sizeOnlyLine);
  const out = join(import.meta.dirname, '../results');
  mkdirSync(out, { recursive: true });
  writeFileSync(
    join(out, 'static.md'),
    [
      lines.join('\n'),
      sizeOnlyLine,
      tripLines.join('\n'),
      slowLines.join('\n'),
      scaleLines.join('\n'),
      goals.map((g) => `- ${g}`).join('\n'),
    ].join('\n\n') + '\n',
  );
}

await main();
