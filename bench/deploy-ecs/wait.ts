/**
 * deploy-ecs wait benchmark (prints figures, asserts nothing).
 *
 *   npx tsx bench/deploy-ecs/wait.ts            # ROLLOUT_SECONDS=20 SERVICES=10 TRIALS=3 by default
 *
 * Starts the emulator, seeds SERVICES services whose next rollout completes after
 * ROLLOUT_SECONDS, then runs (a) the committed bundle with default inputs and
 * (b) the SDK's waitUntilServicesStable (what aws-actions/amazon-ecs-deploy-task-definition
 * waits with, minDelay 15 s) on the same kind of rollout. Measures the time from
 * the emulator marking the last rollout COMPLETED to the wait ending (process exit
 * for the bundle), and DescribeServices calls per minute of waiting per batch of 10.
 * Then an instant rollout (COMPLETED the moment UpdateService returns): time from the last
 * UpdateService to the end of the wait — the first poll comes right after the update.
 */
import { statSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeServicesCommand, ECSClient, UpdateServiceCommand, waitUntilServicesStable } from '@aws-sdk/client-ecs';
import { startEmulator, type Emulator } from '../../test/emulator/index.js';
import { repoRoot, runBundle } from '../../test/helpers/run-bundle.js';
import { logMeasurements } from '../log.js';
import { bundleRuntime } from '../runtime.js';

const ROLLOUT_SECONDS = Number(process.env.ROLLOUT_SECONDS ?? 20);
const SERVICES = Number(process.env.SERVICES ?? 10);
const TRIALS = Number(process.env.TRIALS ?? 3);
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

interface Measure {
  name: string;
  /** ms from the last COMPLETED to the end of the wait. */
  latencyMs: number;
  callsPerMinutePerBatch: number;
  waitSeconds: number;
}

let seq = 0;
/**
 * Rollout durations off the 5 s poll grid: a rollout of exactly N×5 s would complete just
 * before a poll and flatter the bundle. Each trial gets another phase, each service a small offset.
 */
const rolloutSeconds = (trial: number, service: number) => ROLLOUT_SECONDS + ((trial * 1.7) % 5) + service * 0.1;

function seed(emu: Emulator, instant = false) {
  seq += 1;
  const trial = Math.ceil(seq / 2);
  const cluster = `bench-${seq}`;
  const family = `bench-backend-${seq}`;
  emu.ecs.createCluster(cluster);
  const first = emu.ecs.registerTaskDefinition(taskDef(family, 'v1'));
  const names = Array.from({ length: SERVICES }, (_, i) => `svc-${i}`);
  for (const [i, serviceName] of names.entries()) {
    emu.ecs.createService({
      cluster,
      serviceName,
      taskDefinition: first,
      desiredCount: 2,
      launchType: 'FARGATE',
      networkConfiguration: awsvpc,
      deploymentConfiguration: { deploymentCircuitBreaker: { enable: true, rollback: true } },
    });
    emu.scenarios.nextRollout(
      { cluster, service: serviceName },
      { result: 'success', afterSeconds: instant ? 0 : rolloutSeconds(trial, i) },
    );
  }
  return { cluster, family, names };
}

function sdk(emu: Emulator): ECSClient {
  const env = emu.env();
  return new ECSClient({
    region: emu.region,
    endpoint: emu.endpoint,
    credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID!, secretAccessKey: env.AWS_SECRET_ACCESS_KEY! },
  });
}

/** When the emulator marked the last of the services' rollouts COMPLETED (the PRIMARY deployment's updatedAt). */
async function lastCompletedAt(ecs: ECSClient, cluster: string, names: string[]): Promise<number> {
  let last = 0;
  for (let i = 0; i < names.length; i += 10) {
    const out = await ecs.send(new DescribeServicesCommand({ cluster, services: names.slice(i, i + 10) }));
    for (const s of out.services ?? []) {
      const p = s.deployments?.find((d) => d.status === 'PRIMARY');
      if (p?.rolloutState !== 'COMPLETED') throw new Error(`${s.serviceName} is not COMPLETED`);
      last = Math.max(last, p.updatedAt!.getTime());
    }
  }
  return last;
}

function callsPerMinute(emu: Emulator, from: number, to: number): number {
  // Calls after the first UpdateService: the waits themselves, not the read phase before them.
  const calls = emu.requests().filter((r) => r.operation === 'DescribeServices' && r.at > from && r.at <= to).length;
  const batches = Math.ceil(SERVICES / 10);
  return calls / batches / ((to - from) / 60_000);
}

async function bundleTrial(emu: Emulator): Promise<Measure> {
  const { cluster, family, names } = seed(emu);
  const seen = emu.requests().length;
  const ws = mkdtempSync(join(tmpdir(), 'bench-deploy-ecs-'));
  writeFileSync(join(ws, 'taskdef.json'), JSON.stringify(taskDef(family, 'v2')));
  const run = await runBundle('deploy-ecs', {
    inputs: { 'task-definition': 'taskdef.json', cluster, services: names.join('\n') },
    env: emu.env(),
    workspace: ws,
    timeoutMs: (ROLLOUT_SECONDS + 120) * 1000,
  });
  const exitedAt = Date.now();
  if (run.code !== 0) throw new Error(`bundle failed:\n${run.stdout}`);
  const completed = await lastCompletedAt(sdk(emu), cluster, names);
  const firstUpdate = emu
    .requests()
    .slice(seen)
    .find((r) => r.operation === 'UpdateService')!.at;
  return {
    name: 'deploy-ecs bundle (5 s fixed)',
    latencyMs: exitedAt - completed,
    callsPerMinutePerBatch: callsPerMinute(emu, firstUpdate, exitedAt),
    waitSeconds: (exitedAt - firstUpdate) / 1000,
  };
}

async function sdkWaiterTrial(emu: Emulator): Promise<Measure> {
  const { cluster, family, names } = seed(emu);
  const ecs = sdk(emu);
  const arn = emu.ecs.registerTaskDefinition(taskDef(family, 'v2'));
  const started = Date.now();
  // The waiter's calls start with the updates; count from the first of them.
  await Promise.all(names.map((service) => ecs.send(new UpdateServiceCommand({ cluster, service, taskDefinition: arn }))));
  // As amazon-ecs-deploy-task-definition does: one waiter per call of up to 10 services, minDelay 15 s.
  for (let i = 0; i < names.length; i += 10) {
    await waitUntilServicesStable(
      { client: ecs, minDelay: 15, maxWaitTime: ROLLOUT_SECONDS + 600 },
      { cluster, services: names.slice(i, i + 10) },
    );
  }
  const ended = Date.now();
  const completed = await lastCompletedAt(ecs, cluster, names);
  return {
    name: 'SDK waitUntilServicesStable (minDelay 15 s)',
    latencyMs: ended - completed,
    callsPerMinutePerBatch: callsPerMinute(emu, started, ended),
    waitSeconds: (ended - started) / 1000,
  };
}

/** Instant rollouts: ms from the last UpdateService the emulator answered to the end of the wait. */
async function instantBundleTrial(emu: Emulator): Promise<number> {
  const { cluster, family, names } = seed(emu, true);
  const seen = emu.requests().length;
  const ws = mkdtempSync(join(tmpdir(), 'bench-deploy-ecs-'));
  writeFileSync(join(ws, 'taskdef.json'), JSON.stringify(taskDef(family, 'v2')));
  const run = await runBundle('deploy-ecs', {
    inputs: { 'task-definition': 'taskdef.json', cluster, services: names.join('\n') },
    env: emu.env(),
    workspace: ws,
    timeoutMs: 120_000,
  });
  const exitedAt = Date.now();
  if (run.code !== 0) throw new Error(`bundle failed:\n${run.stdout}`);
  const lastUpdate = emu
    .requests()
    .slice(seen)
    .filter((r) => r.operation === 'UpdateService')
    .at(-1)!.at;
  return exitedAt - lastUpdate;
}

async function instantSdkTrial(emu: Emulator): Promise<number> {
  const { cluster, family, names } = seed(emu, true);
  const ecs = sdk(emu);
  const arn = emu.ecs.registerTaskDefinition(taskDef(family, 'v2'));
  await Promise.all(names.map((service) => ecs.send(new UpdateServiceCommand({ cluster, service, taskDefinition: arn }))));
  const updated = Date.now();
  for (let i = 0; i < names.length; i += 10) {
    await waitUntilServicesStable({ client: ecs, minDelay: 15, maxWaitTime: 600 }, { cluster, services: names.slice(i, i + 10) });
  }
  return Date.now() - updated;
}

const fmt = (n: number, d = 1) => n.toFixed(d);

logMeasurements('deploy-ecs wait vs the SDK waiter');

console.log(bundleRuntime());

async function main() {
  const emu = await startEmulator({ s3: false, clock: Date.now }); // wall time: the figures are seconds a runner waits
  emu.ecr.putImage('delivery/backend', 'v1');
  emu.ecr.putImage('delivery/backend', 'v2');
  try {
    console.log(
      `deploy-ecs wait bench: ${SERVICES} services, rollouts complete ${ROLLOUT_SECONDS}–${ROLLOUT_SECONDS + 6} s after the update (off the poll grid), ${TRIALS} trial(s) each\n`,
    );
    const ours: Measure[] = [];
    const theirs: Measure[] = [];
    for (let i = 0; i < TRIALS; i++) {
      ours.push(await bundleTrial(emu));
      theirs.push(await sdkWaiterTrial(emu));
    }
    const rows = [...ours, ...theirs];
    console.log('| waiter | trial | COMPLETED → exit (s) | DescribeServices / min / batch of 10 | waited (s) |');
    console.log('| --- | --- | --- | --- | --- |');
    rows.forEach((m) =>
      console.log(
        `| ${m.name} | ${(ours.includes(m) ? ours : theirs).indexOf(m) + 1} | ${fmt(m.latencyMs / 1000, 2)} | ${fmt(m.callsPerMinutePerBatch)} | ${fmt(m.waitSeconds)} |`,
      ),
    );
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const oL = mean(ours.map((m) => m.latencyMs)) / 1000;
    const tL = mean(theirs.map((m) => m.latencyMs)) / 1000;
    console.log(
      `\nmean COMPLETED → end of wait: deploy-ecs ${fmt(oL, 2)} s (max ${fmt(Math.max(...ours.map((m) => m.latencyMs)) / 1000, 2)} s), SDK waiter ${fmt(tL, 2)} s — ratio ${fmt(tL / oL)}×`,
    );
    console.log(
      `mean DescribeServices/min per batch of 10: deploy-ecs ${fmt(mean(ours.map((m) => m.callsPerMinutePerBatch)))}, SDK waiter ${fmt(mean(theirs.map((m) => m.callsPerMinutePerBatch)))}`,
    );
    console.log('(the bundle figure runs to process exit: the last poll, the summary and node exiting; goal ≤ 5 s and ≤ 12 calls/min)');
    const instantOurs: number[] = [];
    const instantTheirs: number[] = [];
    for (let i = 0; i < TRIALS; i++) {
      instantOurs.push(await instantBundleTrial(emu));
      instantTheirs.push(await instantSdkTrial(emu));
    }
    const iO = mean(instantOurs) / 1000;
    const iT = mean(instantTheirs) / 1000;
    console.log(
      `\ninstant rollout (COMPLETED when UpdateService returns), last UpdateService → end of wait: deploy-ecs ${instantOurs.map((ms) => fmt(ms / 1000, 2)).join(', ')} s (mean ${fmt(iO, 2)} s, to process exit), SDK waiter ${instantTheirs.map((ms) => fmt(ms / 1000, 2)).join(', ')} s (mean ${fmt(iT, 2)} s) — ratio ${fmt(iT / iO)}×`,
    );
    const size = statSync(join(repoRoot, 'dist/deploy-ecs/index.js')).size;
    console.log(
      `\nbundle: dist/deploy-ecs/index.js ${size} bytes (${fmt(size / 1024 / 1024, 2)} MiB, ${fmt(size / 1e6, 2)} MB; goal ≤ 1 MB)`,
    );
  } finally {
    await emu.stop();
  }
}

await main();
