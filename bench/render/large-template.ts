/**
 * render-taskdef on large templates (prints figures, asserts nothing).
 *
 *   npx tsx bench/render/large-template.ts            # 0.4, 1.5 and 3 MB templates
 *   SIZES_MB=3,6 npx tsx bench/render/large-template.ts
 *
 * Builds templates of the given sizes (10 containers, thousands of environment
 * entries with placeholders, pretty-printed like a hand-written file), then
 * renders each with the committed bundle run as the runner runs it, and in
 * process (run() without node start-up). The peer is JSON.parse of the same
 * text in the same process: render's own parser keeps every value's position
 * for file:line annotations, so it can never be as fast, but it must grow the
 * same way (time per MB flat as the size grows). Goal: 3 MB ≤ 2 s.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { getInputs } from '../../actions/render-taskdef/inputs.js';
import { run } from '../../actions/render-taskdef/run.js';
import { workspace } from '../../actions/render-taskdef/workspace.js';
import { memoryReporter } from '../../lib/report.js';
import { repoRoot } from '../../test/helpers/run-bundle.js';
import { logMeasurements } from '../log.js';

logMeasurements('render-taskdef large templates');
const SIZES_MB = (process.env.BENCH_SIZES_MB ?? process.env.SIZES_MB ?? '0.4,1.5,3').split(',').map(Number);
const IMAGE = '123456789012.dkr.ecr.eu-west-1.amazonaws.com/delivery/backend:abc123';

function template(targetBytes: number): string {
  const perEntry = 70; // bytes of one pretty-printed {name, value} line
  const entries = Math.max(1, Math.round(targetBytes / perEntry / 10));
  const containers = Array.from({ length: 10 }, (_, c) => ({
    name: c === 0 ? 'backend' : `sidecar-${c}`,
    image: c === 0 ? '${IMAGE_URI}' : `public.ecr.aws/example/sidecar-${c}:v1.${c}.0`,
    essential: c === 0,
    environment: Array.from({ length: entries }, (_, i) => ({
      name: `SETTING_${c}_${i}`,
      value: i % 10 === 0 ? 'region ${AWS_REGION} in ${DEPLOY_ENV}' : `value-${i}-of-container-${c}`,
    })),
  }));
  const def = {
    family: 'bench-${DEPLOY_ENV}',
    networkMode: 'awsvpc',
    requiresCompatibilities: ['FARGATE'],
    cpu: '1024',
    memory: '4096',
    containerDefinitions: containers,
  };
  // One entry per line, as people write them: many lines is what made the file:line lookup quadratic.
  return JSON.stringify(def, null, 2).replace(/\{\n\s+"name": ("[^"]*"),\n\s+"value": ("[^"]*")\n\s+\}/g, '{ "name": $1, "value": $2 }');
}

const config = { feature: 'core', environments: { test: { flags: ['a'] } } };
const rows: string[][] = [];
for (const mb of SIZES_MB) {
  const root = mkdtempSync(join(tmpdir(), 'bench-render-'));
  mkdirSync(join(root, 'infra'), { recursive: true });
  const text = template(mb * 1024 * 1024);
  writeFileSync(join(root, 'infra/big.json'), text);
  writeFileSync(join(root, 'infra/core.json'), JSON.stringify(config));
  const inputs: Record<string, string> = {
    template: 'infra/big.json',
    'feature-config': 'infra/core.json',
    environment: 'test',
    image: `backend=${IMAGE}`,
    'aws-region': 'eu-west-1',
    output: 'out.json',
  };

  let t = performance.now();
  JSON.parse(readFileSync(join(root, 'infra/big.json'), 'utf8'));
  const parseMs = performance.now() - t;

  t = performance.now();
  const cpu = process.cpuUsage();
  await run(
    getInputs((n) => inputs[n] ?? ''),
    {
      reporter: memoryReporter(),
      ws: workspace(root),
      env: { RUNNER_TEMP: root },
      clients: () => {
        throw new Error('no AWS');
      },
    },
  );
  const inProcessMs = performance.now() - t;
  const used = process.cpuUsage(cpu);
  const inProcessCpuMs = (used.user + used.system) / 1000;

  // The bundle as the runner runs it; CPU time (user + sys) too, since wall time on a shared machine says more about the neighbours.
  const env: NodeJS.ProcessEnv = { ...process.env, GITHUB_WORKSPACE: root, RUNNER_TEMP: root, GITHUB_OUTPUT: join(root, 'gh-output') };
  for (const [k, v] of Object.entries(inputs)) env[`INPUT_${k.toUpperCase()}`] = v;
  const timed = spawnSync(
    'bash',
    ['-c', `TIMEFORMAT='%R %U %S'; time node ${JSON.stringify(join(repoRoot, 'dist/render-taskdef/index.js'))} > /dev/null`],
    { cwd: root, env, encoding: 'utf8' },
  );
  if (timed.status !== 0) throw new Error(`bundle failed: ${timed.stderr}`);
  const [realS, userS, sysS] = timed.stderr.trim().split('\n').at(-1)!.split(' ').map(Number);
  const bundleMs = realS! * 1000;
  const bundleCpuMs = (userS! + sysS!) * 1000;
  const sizeMb = statSync(join(root, 'infra/big.json')).size / 1024 / 1024;
  rows.push([
    sizeMb.toFixed(2),
    String(text.split('\n').length),
    bundleMs.toFixed(0),
    bundleCpuMs.toFixed(0),
    inProcessMs.toFixed(0),
    inProcessCpuMs.toFixed(0),
    (inProcessCpuMs / sizeMb).toFixed(0),
    parseMs.toFixed(1),
    (inProcessMs / parseMs).toFixed(0),
  ]);
}

const head = [
  'template MB',
  'lines',
  'bundle wall ms (node start to exit)',
  'bundle CPU ms',
  'in process wall ms',
  'in process CPU ms',
  'in process CPU ms/MB',
  'JSON.parse ms (peer)',
  'render / JSON.parse (wall)',
];
console.log(
  `load average ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')} on ${cpus().length} CPUs`,
);
console.log(`| ${head.join(' | ')} |\n|${head.map(() => ' --- ').join('|')}|`);
for (const r of rows) console.log(`| ${r.join(' | ')} |`);
