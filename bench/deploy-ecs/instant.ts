/**
 * deploy-ecs instant rollout, end to end, against aws-actions/amazon-ecs-deploy-task-definition
 * (prints figures, asserts nothing).
 *
 *   git clone --depth 1 https://github.com/aws-actions/amazon-ecs-deploy-task-definition /tmp/peer-ecs
 *   BENCH_PEER=/tmp/peer-ecs/dist/index.js npx tsx bench/deploy-ecs/instant.ts     # BENCH_TRIALS=7 by default
 *   BENCH_OURS=/tmp/old/index.js ...      # another build of ours (its folder needs package.json {"type":"module"})
 *
 * One service whose new deployment is COMPLETED the moment UpdateService returns. Each trial runs,
 * in alternating order, (a) our committed bundle dist/deploy-ecs/index.js with default inputs and
 * (b) the peer's committed bundle with `wait-for-service-stability: true`, both with node as the
 * runner does (INPUT_* env, GITHUB_OUTPUT, GITHUB_STEP_SUMMARY) against the same emulator.
 * Per process: spawn → exit (what a workflow step costs), spawn → its first AWS request (node
 * start-up and bundle load) and the AWS calls it made, counted by the emulator.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { startEmulator, type Emulator } from '../../test/emulator/index.js';
import { repoRoot } from '../../test/helpers/run-bundle.js';
import { logMeasurements } from '../log.js';

const TRIALS = Number(process.env.BENCH_TRIALS ?? 7);
const PEER_BUNDLE = resolve(process.env.BENCH_PEER ?? '/tmp/peer-ecs/dist/index.js');
/** Another build of ours (e.g. an older commit's, from `git show <sha>:dist/deploy-ecs/index.js`) to compare. */
const OURS = resolve(process.env.BENCH_OURS ?? join(repoRoot, 'dist/deploy-ecs/index.js'));
const ACCOUNT = '123456789012';
const awsvpc = { awsvpcConfiguration: { subnets: ['subnet-0a1b2c3d'], securityGroups: ['sg-0a1b2c3d'], assignPublicIp: 'DISABLED' } };

const taskDef = (family: string, tag: string) => ({
  family,
  requiresCompatibilities: ['FARGATE'],
  networkMode: 'awsvpc',
  cpu: '256',
  memory: '512',
  containerDefinitions: [{ name: 'backend', image: `${ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/delivery/backend:${tag}` }],
});

interface Run {
  /** ms from spawn to exit. */
  totalMs: number;
  /** ms from spawn to the first request the emulator received from this process. */
  startupMs: number;
  /** CPU time of the process (user + sys), ms. */
  cpuMs: number;
  /** AWS calls this process made, per operation. */
  calls: Record<string, number>;
  /** The same calls in the order the emulator received them. */
  order: string[];
}

let seq = 0;
function seed(emu: Emulator) {
  seq += 1;
  const cluster = `instant-${seq}`;
  const family = `instant-backend-${seq}`;
  emu.ecs.createCluster(cluster);
  const first = emu.ecs.registerTaskDefinition(taskDef(family, 'v1'));
  emu.ecs.createService({
    cluster,
    serviceName: 'api',
    taskDefinition: first,
    desiredCount: 2,
    launchType: 'FARGATE',
    networkConfiguration: awsvpc,
    deploymentConfiguration: { deploymentCircuitBreaker: { enable: true, rollback: true } },
  });
  emu.scenarios.nextRollout({ cluster, service: 'api' }, { result: 'success', afterSeconds: 0 });
  const ws = mkdtempSync(join(tmpdir(), 'bench-instant-'));
  writeFileSync(join(ws, 'taskdef.json'), JSON.stringify(taskDef(family, 'v2')));
  for (const f of ['output', 'summary', 'env', 'state']) writeFileSync(join(ws, f), '');
  return { cluster, ws };
}

/** The inputs the runner sets from action.yml defaults (ours declares defaults; the peer's declares none). */
function defaults(actionYml: string): Record<string, string> {
  const declared = (parseYaml(readFileSync(actionYml, 'utf8')) as { inputs?: Record<string, { default?: unknown }> }).inputs ?? {};
  return Object.fromEntries(
    Object.entries(declared)
      .filter(([, spec]) => spec?.default !== undefined)
      .map(([name, spec]) => [name, String(spec.default)]),
  );
}

async function runOnce(emu: Emulator, bundle: string, inputs: Record<string, string>, ws: string): Promise<Run> {
  const env: Record<string, string> = {};
  for (const k of ['PATH', 'HOME', 'TMPDIR', 'LANG']) if (process.env[k]) env[k] = process.env[k]!;
  Object.assign(env, emu.env(), {
    GITHUB_ACTIONS: 'true',
    GITHUB_OUTPUT: join(ws, 'output'),
    GITHUB_ENV: join(ws, 'env'),
    GITHUB_STATE: join(ws, 'state'),
    GITHUB_STEP_SUMMARY: join(ws, 'summary'),
    RUNNER_TEMP: ws,
    GITHUB_WORKSPACE: ws,
  });
  for (const [name, value] of Object.entries(inputs)) env[`INPUT_${name.toUpperCase()}`] = value;
  const seen = emu.requests().length;
  const spawnedAt = Date.now();
  // PROFILE_DIR: a CPU profile of every child (open in Chrome DevTools) to see where start-up goes.
  const profile = process.env.PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${resolve(process.env.PROFILE_DIR)}`] : [];
  // /usr/bin/time reports the child's CPU time (user + sys): on a loaded machine the wall time swings
  // with other jobs, the CPU a run needs much less.
  const child = spawn('/usr/bin/time', ['-f', 'CPU-SECONDS %U %S', process.execPath, ...profile, bundle], {
    cwd: ws,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const code = await new Promise<number | null>((r) => child.on('exit', r));
  const exitedAt = Date.now();
  if (code !== 0) throw new Error(`${bundle} exited ${code}:\n${out}`);
  const mine = emu.requests().slice(seen);
  const calls: Record<string, number> = {};
  for (const r of mine) calls[`${r.service}.${r.operation}`] = (calls[`${r.service}.${r.operation}`] ?? 0) + 1;
  const cpu = /CPU-SECONDS ([\d.]+) ([\d.]+)/.exec(out);
  const cpuMs = cpu ? Math.round((Number(cpu[1]) + Number(cpu[2])) * 1000) : Number.NaN;
  const order = mine.map((r) => `${r.service === 'ECS' ? '' : `${r.service}.`}${r.operation}`);
  return { totalMs: exitedAt - spawnedAt, startupMs: mine[0]!.wallAt - spawnedAt, cpuMs, calls, order };
}

function ours(emu: Emulator): Promise<Run> {
  const { cluster, ws } = seed(emu);
  const inputs = {
    ...defaults(join(repoRoot, 'actions/deploy-ecs/action.yml')),
    'task-definition': 'taskdef.json',
    cluster,
    services: 'api',
  };
  return runOnce(emu, OURS, inputs, ws);
}

function peer(emu: Emulator): Promise<Run> {
  const { cluster, ws } = seed(emu);
  const inputs = { 'task-definition': 'taskdef.json', cluster, service: 'api', 'wait-for-service-stability': 'true' };
  return runOnce(emu, PEER_BUNDLE, inputs, ws);
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const callList = (c: Record<string, number>) =>
  Object.entries(c)
    .map(([k, n]) => `${k.replace(/^ECS\./, '')}×${n}`)
    .join(', ');
const sum = (c: Record<string, number>) => Object.values(c).reduce((a, b) => a + b, 0);

logMeasurements('deploy-ecs instant rollout vs amazon-ecs-deploy-task-definition');

async function main() {
  statSync(PEER_BUNDLE); // fails with the path when the peer is not there (see the command above)
  const emu = await startEmulator({ s3: false, clock: Date.now });
  emu.ecr.putImage('delivery/backend', 'v1');
  emu.ecr.putImage('delivery/backend', 'v2');
  try {
    console.log(`instant rollout of 1 service, ${TRIALS} alternating trials, node ${process.version}`);
    console.log(`ours: ${OURS.replace(`${repoRoot}/`, '')} (${statSync(OURS).size} bytes, plus chunks loaded only on other paths)`);
    console.log(`peer: ${PEER_BUNDLE} (${statSync(PEER_BUNDLE).size} bytes, plus lazily loaded chunks)\n`);
    // One warm-up each: the first spawn pays for a cold disk cache.
    await ours(emu);
    await peer(emu);
    const o: Run[] = [];
    const p: Run[] = [];
    for (let i = 0; i < TRIALS; i++) {
      // Alternate which goes first, so a load change on the machine hits both alike.
      if (i % 2 === 0) {
        o.push(await ours(emu));
        p.push(await peer(emu));
      } else {
        p.push(await peer(emu));
        o.push(await ours(emu));
      }
    }
    console.log(
      '| trial | ours spawn→exit (ms) | peer spawn→exit (ms) | ratio | ours start-up (ms) | peer start-up (ms) | ours CPU (ms) | peer CPU (ms) |',
    );
    console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
    o.forEach((r, i) =>
      console.log(
        `| ${i + 1} | ${r.totalMs} | ${p[i]!.totalMs} | ${(r.totalMs / p[i]!.totalMs).toFixed(2)} | ${r.startupMs} | ${p[i]!.startupMs} | ${r.cpuMs} | ${p[i]!.cpuMs} |`,
      ),
    );
    const oT = median(o.map((r) => r.totalMs));
    const pT = median(p.map((r) => r.totalMs));
    // Per-trial ratios too: a pair runs back to back, so a load change between trials cancels out.
    const pairRatio = median(o.map((r, i) => r.totalMs / p[i]!.totalMs));
    console.log(
      `\nmedian spawn→exit: ours ${oT} ms, peer ${pT} ms — ratio ours/peer ${(oT / pT).toFixed(2)}× (median of the trials' ratios ${pairRatio.toFixed(2)}×)`,
    );
    const oC = median(o.map((r) => r.cpuMs));
    const pC = median(p.map((r) => r.cpuMs));
    console.log(`median CPU time (user + sys): ours ${oC} ms, peer ${pC} ms — ratio ours/peer ${(oC / pC).toFixed(2)}×`);
    console.log(
      `median start-up (spawn → first AWS request): ours ${median(o.map((r) => r.startupMs))} ms, peer ${median(p.map((r) => r.startupMs))} ms`,
    );
    console.log(`AWS calls, ours (${sum(o[0]!.calls)}): ${callList(o[0]!.calls)} — in order: ${o[0]!.order.join(' → ')}`);
    console.log(`AWS calls, peer (${sum(p[0]!.calls)}): ${callList(p[0]!.calls)} — in order: ${p[0]!.order.join(' → ')}`);
  } finally {
    await emu.stop();
  }
}

await main();
