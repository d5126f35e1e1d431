/**
 * A few of the oracle's schedules through the committed bundle: dist/deploy-ecs run as the runner runs
 * it, against the HTTP emulator (the same ECS model the in-process oracle drives), a real test
 * listener for the gate, throttling from the emulator's fault layer, a real SIGINT or SIGKILL at a
 * request index. The ending state is checked with the oracle's invariants (E1, E2, S1) and the
 * outputs and summary written on every ending but the kill (E0).
 *
 * Bundle runs take wall-clock time: the seeds are the first ones whose rollouts end by themselves
 * (no stuck rollout, no pause left to a hook's timeout, no other deployer), with the poll interval
 * shortened; every emulator read moves its clock 5 s.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../emulator/index.js';
import { runBundle } from '../helpers/run-bundle.js';
import { startTestListener, type TestListener } from '../helpers/test-listener.js';
import { Checker } from './oracle/invariants.js';
import { generate, type Schedule } from './oracle/schedule.js';
import { CLUSTER, World } from './oracle/world.js';

/** Rollouts that end by themselves within a short wall-clock run; pauses only at the gate's stage. */
function bundleFriendly(s: Schedule): boolean {
  return s.services.every(
    (x) =>
      x.rollout.result !== 'stuck' &&
      !x.otherDeployer &&
      (!x.hook || (s.gate !== undefined && x.hook.stages.every((st) => st === s.gate!.stage))),
  );
}
const friendly = Array.from({ length: 400 }, (_, i) => i + 1).filter((seed) => bundleFriendly(generate(seed)));
// The first four, and the first with a kill (SIGKILL at a request index).
const SEEDS = [...friendly.slice(0, 4), friendly.find((seed) => generate(seed).faults.killAt !== undefined)!];

let emu: Emulator;
let listener: TestListener;
beforeAll(async () => {
  emu = await startEmulator({ s3: false, secondsPerPoll: 5 });
  listener = await startTestListener(emu);
});
afterAll(async () => {
  await listener?.stop();
  await emu?.stop();
});

describe('deploy-ecs bundle under a few of the oracle schedules', () => {
  it.each(SEEDS)('seed %i: the ending keeps the invariants', async (seed) => {
    const schedule = generate(seed);
    // Each schedule gets a fresh cluster in the one emulator: World seeds it (names are per cluster).
    const cluster = `${CLUSTER}-${seed}`;
    const world = new World(
      schedule,
      { now: emu.clock.now, advance: (ms) => emu.clock.advance(ms / 1000) },
      { ecs: emu.ecs, ecr: emu.ecr, logs: emu.logs, scenarios: emu.scenarios },
      cluster,
    );
    const started = emu.clock.now();
    const first = emu.requests().length;
    const { cancelAt, killAt, throttle } = schedule.faults;
    emu.faults.set(
      throttle.size ? { throttleRate: 0.15, seed, operations: ['ECS.DescribeServices', 'ECS.DescribeServiceDeployments'] } : {},
    );
    const checker = new Checker(world);
    const run = await runBundle('deploy-ecs', {
      inputs: {
        'task-definition': world.taskDefinitionPath,
        cluster,
        services: schedule.services.map((s) => s.name).join('\n'),
        ...schedule.inputs,
        'poll-interval-seconds': '0.1',
        ...(schedule.gate
          ? {
              'gate-url': schedule.services.map((s) => `${s.name}=${listener.url(cluster, s.name)}`).join('\n'),
              'gate-stage': schedule.gate.stage,
              'gate-successes': String(schedule.gate.successes),
              'gate-interval-seconds': '0.1',
            }
          : {}),
      },
      env: emu.env(),
      timeoutMs: 55_000,
      onSpawn: (child) => {
        const at = cancelAt ?? killAt;
        if (at === undefined) return;
        const timer = setInterval(() => {
          if (emu.requests().length - first <= at) return;
          clearInterval(timer);
          if (cancelAt !== undefined) checker.cancelled = true;
          child.kill(cancelAt !== undefined ? 'SIGINT' : 'SIGKILL');
        }, 5);
        child.on('exit', () => clearInterval(timer));
      },
    });
    emu.faults.clear();
    // What this run created, for E2 ("a service this run updated"): every deployment since it started.
    for (const s of schedule.services)
      world.ours.set(s.name, new Set(world.service(s.name).deployments.filter((d) => d.createdAt >= started)));
    for (const h of listener.hits.filter((x) => x.cluster === cluster))
      world.probes.push({
        service: h.service,
        at: 0,
        revision: `arn:aws:ecs:eu-west-1:123456789012:task-definition/${h.revision}`,
        healthy: h.status === 200,
      });
    const killed = killAt !== undefined && run.code === null;
    if (killed) checker.step(undefined);
    else {
      checker.check(run.outputs.status !== undefined && run.summary.length > 0, () => `E0 no outputs or summary (exit ${run.code})`);
      checker.ending({
        exit0: run.code === 0,
        newArn: run.outputs['task-definition-arn'] ?? '',
        superseded: new Set(),
        gatePassed: () => run.outputs.gate === 'passed',
        story: `exit ${run.code} status=${run.outputs.status} gate=${run.outputs.gate}`,
      });
    }
    expect(checker.checks).toBeGreaterThan(0);
    expect(checker.violations, `${checker.violations.join('\n')}\n${run.stdout.slice(-4000)}`).toEqual([]);
  });
});
