/**
 * Releases: rolling the 2,000-file bench site back to the previous
 * build with `rollback-to: previous`, beside what users do today: a full
 * re-deploy of the old build (checkout, build, sync), here without kept
 * releases (`keep-releases: 1`) so the old build's assets must be uploaded
 * again. Same local S3 (s3rver behind the counting proxy), same run. Prints
 * figures; asserts nothing.
 *
 *   node scripts/build.mjs deploy-static
 *   NODE_OPTIONS=--openssl-legacy-provider npx tsx bench/static/rollback.ts
 *   BENCH_BASELINE=89fef3d ... (also an earlier commit's bundle, rep by rep)
 *
 * Builds A and B: 2,000 files; B renames every fingerprinted chunk and
 * stylesheet (a dependency bump), changes every page and data file, keeps
 * icons and the two 8.5 MB videos. REPS (BENCH_REPS, default 3) times each; medians, and where
 * the median rollback's time went.
 */
import { execFileSync } from 'node:child_process';
import { createCipheriv } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { runBundle } from '../../test/helpers/run-bundle.js';
import { s3Env, startLocalS3, type LocalS3 } from '../../test/deploy-static/local-s3.js';
import { logMeasurements } from '../log.js';
import { bundleRuntime } from '../runtime.js';

const FILES = 2000;
const BIG_SIZE = 8.5 * 1024 * 1024;

function generate(tag: string): string {
  const root = join(mkdtempSync(join(tmpdir(), `bench-rollback-${tag}-`)), 'dist');
  const write = (rel: string, body: Buffer | string) => {
    mkdirSync(dirname(join(root, rel)), { recursive: true });
    writeFileSync(join(root, rel), body);
  };
  const refs: string[] = [];
  for (let i = 0; i < FILES - 3; i++) {
    const kind = i % 10;
    // The fingerprint is the build's: B renames every chunk and stylesheet.
    const hash = ((i * 2654435761 + (tag === 'A' ? 0 : 977)) % 2 ** 32).toString(16).padStart(8, '0');
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
    const stable = kind === 6 || kind === 7;
    write(rel, Buffer.alloc(600 + ((i * 37) % 1800), `/* ${rel} ${stable ? '' : tag} */ `));
    if (kind < 6) refs.push(rel);
  }
  for (let i = 0; i < 2; i++) {
    const buf = Buffer.alloc(BIG_SIZE);
    for (let j = 0; j < buf.length; j += 4096) buf[j] = (j / 4096 + i) % 256;
    write(`media/video-${i}.mp4`, buf);
  }
  write(
    'index.html',
    `<!doctype html><title>${tag}</title>${refs
      .slice(0, 50)
      .map((r) => `<script src="/${r}"></script>`)
      .join('')}`,
  );
  return root;
}

interface Measure {
  ms: number;
  /** Where a rollback's time went, from the proxy's request log (ms after the spawn). */
  phases?: string;
  ok: boolean;
  puts: number;
  copies: number;
  deletes: number;
  bytes: string;
}

const siteWrites = (s3: LocalS3, bucket: string, op: 'PUT' | 'COPY' | 'DELETE') =>
  s3.count(op, (r) => r.bucket === bucket && !r.key.includes('.deploy-static/'));

/**
 * The rollback's phases on the wire: the first request (node start, inputs, client), the site
 * listing, the restores (CopyObject on the site), and what follows them (deletes, record, lock).
 */
function phasesOf(s3: LocalS3, bucket: string, wall0: number, ms: number): string {
  const reqs = s3.requests.filter((r) => r.bucket === bucket);
  const at = (r: { at: number }) => r.at - wall0;
  const end = (r: { end?: number }) => (r.end ?? wall0) - wall0;
  const lists = reqs.filter((r) => r.op === 'LIST');
  const copies = reqs.filter((r) => r.op === 'COPY' && !r.key.includes('.deploy-static/'));
  const span = (rs: typeof reqs) => (rs.length ? `${Math.min(...rs.map(at))}–${Math.max(...rs.map(end))} ms` : '—');
  const lastCopy = copies.length ? Math.max(...copies.map(end)) : 0;
  const after = reqs.filter((r) => at(r) >= lastCopy && copies.length > 0);
  return (
    `first request ${reqs.length ? Math.min(...reqs.map(at)) : '—'} ms; ${lists.length} listings ${span(lists)}; ` +
    `${copies.length} restores ${span(copies)}; ${after.length} requests after them, last answered at ` +
    `${after.length ? Math.max(...after.map(end)) : '—'} ms; exit ${Math.round(ms)} ms`
  );
}

/**
 * BENCH_BASELINE=<commit>: that commit's deploy-static bundle and action.yml, unpacked beside the
 * bench, rolled back on buckets of its own in the same reps: a figure reached on an earlier day
 * is compared on today's host, not across days.
 */
function checkout(commit: string): { root: string; commit: string } {
  const root = mkdtempSync(join(tmpdir(), 'bench-baseline-'));
  const archive = execFileSync('git', ['archive', commit, 'dist/deploy-static', 'actions/deploy-static/action.yml'], {
    maxBuffer: 256 * 1024 * 1024,
  });
  execFileSync('tar', ['-x', '-C', root], { input: archive });
  return { root, commit: execFileSync('git', ['rev-parse', '--short', commit], { encoding: 'utf8' }).trim() };
}

logMeasurements('deploy-static rollback vs re-deploy');

console.log(bundleRuntime());

async function main(): Promise<void> {
  try {
    createCipheriv('des', Buffer.alloc(8), Buffer.alloc(8));
  } catch {
    throw new Error('Run with NODE_OPTIONS=--openssl-legacy-provider: s3rver paginates with DES.');
  }
  const REPS = Number(process.env.BENCH_REPS ?? 3);
  const baseline = process.env.BENCH_BASELINE ? checkout(process.env.BENCH_BASELINE) : undefined;
  const buckets = Array.from({ length: REPS }, (_, i) => [`rb-${i}`, `rd-${i}`, ...(baseline ? [`rbase-${i}`] : [])]).flat();
  const s3 = await startLocalS3(buckets);
  const env = s3Env(s3.endpoint);
  const a = generate('A');
  const b = generate('B');
  const deploy = async (bucket: string, inputs: Record<string, string | number>, sha: string, root?: string): Promise<Measure> => {
    s3.reset();
    const t0 = performance.now();
    const wall0 = Date.now();
    const run = await runBundle('deploy-static', {
      inputs: { bucket, ...inputs },
      env: { ...env, GITHUB_SHA: sha },
      timeoutMs: 900_000,
      ...(root ? { root } : {}),
    });
    const ms = performance.now() - t0;
    if (run.code !== 0) console.error(run.stdout.slice(-3000), run.stderr.slice(-2000));
    if (process.env.BENCH_LOG && inputs['rollback-to'])
      console.error(
        run.stdout
          .split('\n')
          .filter((l) => !/^(COPY|DELETE) /.test(l))
          .join('\n'),
      );
    return {
      ms,
      ...(inputs['rollback-to'] ? { phases: phasesOf(s3, bucket, wall0, ms) } : {}),
      ok: run.code === 0,
      puts: siteWrites(s3, bucket, 'PUT') + s3.count('MPU', (r) => r.bucket === bucket),
      copies: siteWrites(s3, bucket, 'COPY'),
      deletes: siteWrites(s3, bucket, 'DELETE'),
      bytes: run.outputs['bytes-uploaded'] ?? '?',
    };
  };
  const rollbacks: Measure[] = [];
  const redeploys: Measure[] = [];
  const baselines: Measure[] = [];
  for (let rep = 0; rep < REPS; rep++) {
    if (baseline) {
      // The baseline bundle keeps its own record on its own bucket: it deploys A and B itself.
      await deploy(`rbase-${rep}`, { source: a }, 'a'.repeat(40), baseline.root);
      await deploy(`rbase-${rep}`, { source: b }, 'b'.repeat(40), baseline.root);
    }
    // With releases (default keep-releases 5): deploy A, deploy B, roll back.
    await deploy(`rb-${rep}`, { source: a }, 'a'.repeat(40));
    await deploy(`rb-${rep}`, { source: b }, 'b'.repeat(40));
    // Today: no kept releases, so going back means deploying the old build again.
    await deploy(`rd-${rep}`, { source: a, 'keep-releases': 1 }, 'a'.repeat(40));
    await deploy(`rd-${rep}`, { source: b, 'keep-releases': 1 }, 'b'.repeat(40));
    const order = rep % 2 === 0;
    const roll = () => deploy(`rb-${rep}`, { 'rollback-to': 'previous' }, 'c'.repeat(40));
    const full = () => deploy(`rd-${rep}`, { source: a, 'keep-releases': 1 }, 'a'.repeat(40));
    const base = async () => {
      if (baseline) baselines.push(await deploy(`rbase-${rep}`, { 'rollback-to': 'previous' }, 'c'.repeat(40), baseline.root));
    };
    if (order) {
      await base();
      rollbacks.push(await roll());
      redeploys.push(await full());
    } else {
      redeploys.push(await full());
      rollbacks.push(await roll());
      await base();
    }
  }
  await s3.stop();
  const median = (xs: Measure[]) => [...xs].sort((x, y) => x.ms - y.ms)[Math.floor(xs.length / 2)]!;
  const r = median(rollbacks);
  const d = median(redeploys);
  const row = (name: string, m: Measure, all: Measure[]) =>
    `| ${name} | ${(m.ms / 1000).toFixed(2)} s (${all.map((x) => (x.ms / 1000).toFixed(2)).join(' / ')}) | ${m.puts} | ${m.bytes} | ${m.copies} | ${m.deletes} | ${all.every((x) => x.ok) ? 'yes' : 'NO'} |`;
  console.log(`2,000-file site, back from B to A, ${REPS} reps (median; each rep in parentheses)\n`);
  console.log('| way back to A | time | site PUTs | bytes uploaded | CopyObject | deletes | all ok |');
  console.log('| --- | --- | --- | --- | --- | --- | --- |');
  console.log(row('`rollback-to: previous`', r, rollbacks));
  console.log(row('re-deploy of build A (keep-releases: 1)', d, redeploys));
  if (baseline) console.log(row(`\`rollback-to: previous\`, the bundle of ${baseline.commit}`, median(baselines), baselines));
  console.log(`\nrollback / re-deploy: ${(r.ms / d.ms).toFixed(2)}×`);
  if (baseline) {
    // Rep by rep: both rollbacks of a rep ran a few seconds apart, so a slow stretch of the host slows both.
    const perRep = rollbacks.map((x, i) => x.ms / baselines[i]!.ms).sort((x, y) => x - y);
    console.log(
      `rollback / the ${baseline.commit} bundle's rollback, rep by rep: median ${perRep[Math.floor(perRep.length / 2)]!.toFixed(2)}× ` +
        `(${perRep.map((x) => x.toFixed(2)).join(' / ')})`,
    );
  }
  console.log(`\nwhere the median rollback's time went (the proxy's request log): ${r.phases}`);
}

await main();
