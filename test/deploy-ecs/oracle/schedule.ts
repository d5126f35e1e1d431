/**
 * Fault schedules for deploy-ecs, generated from a seed (mulberry32): a schedule is a function of its
 * seed, so ORACLE_SEED=<n> replays one exactly. Each schedule picks the services (strategy, circuit
 * breaker, PAUSE hooks at any stage with either timeout action, a failed deploy that ECS is still
 * rolling back or left FAILED), how the new revision's rollout goes (success, failure with either
 * shape of ECS's own rollback, stuck, another deployer's UpdateService mid-run), the gate (none,
 * passing, failing; at either gate stage) and the wire faults (throttling bursts, lost answers, a
 * cancel or a kill at a request index).
 */
import type { RolloutScenario } from '../../emulator/scenarios.js';
import type { WireFaults } from './wire.js';

function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    chance: (p: number) => next() < p,
    int: (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1)),
    pick: <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!,
  };
}
type Rng = ReturnType<typeof rng>;

type Strategy = 'ROLLING' | 'BLUE_GREEN' | 'LINEAR' | 'CANARY';

interface ServiceSchedule {
  name: string;
  strategy: Strategy;
  circuitBreakerRollback: boolean;
  /** A PAUSE hook's stages and what ECS does when nobody answers it. */
  hook?: { stages: string[]; timeoutInMinutes: number; action: 'CONTINUE' | 'ROLLBACK' };
  /** Before the run: a deploy of a broken revision that failed (ECS rolling back in this shape, or left FAILED). */
  failedBefore?: { shape: 'new-deployment' | 'previous-in-progress' | 'left-failed'; rollbackSeconds: number };
  /** How the rollout of the new revision goes. */
  rollout: RolloutScenario;
  /** Another deployer's revision, when `rollout.interruptedBy` names one ('ours-forced' = our revision again). */
  otherDeployer?: 'ours-forced' | 'third';
}

export interface Schedule {
  seed: number;
  services: ServiceSchedule[];
  /** Gate set: the probes pass when the new revision is healthy. */
  gate?: { healthy: boolean; stage: 'POST_TEST_TRAFFIC_SHIFT' | 'PRE_PRODUCTION_TRAFFIC_SHIFT'; successes: number; timeoutSeconds: number };
  inputs: Record<string, string>;
  faults: WireFaults;
}

const ROLLING_STAGES = ['PRE_SCALE_UP', 'POST_SCALE_UP'];
const NATIVE_STAGES = [...ROLLING_STAGES, 'POST_TEST_TRAFFIC_SHIFT', 'PRE_PRODUCTION_TRAFFIC_SHIFT', 'POST_PRODUCTION_TRAFFIC_SHIFT'];

function hookOf(r: Rng, strategy: Strategy): ServiceSchedule['hook'] {
  if (!r.chance(0.55)) return undefined;
  const all = strategy === 'ROLLING' ? ROLLING_STAGES : NATIVE_STAGES;
  const stages = all.filter(() => r.chance(0.4));
  if (!stages.length) stages.push(strategy === 'ROLLING' ? r.pick(all) : r.pick(['POST_TEST_TRAFFIC_SHIFT', ...all]));
  return { stages, timeoutInMinutes: r.int(1, 4), action: r.pick(['CONTINUE', 'ROLLBACK'] as const) };
}

function rolloutOf(r: Rng, cb: boolean): { rollout: RolloutScenario; other?: ServiceSchedule['otherDeployer'] } {
  const kind = r.pick(['success', 'success', 'fail', 'fail', 'stuck', 'other'] as const);
  if (kind === 'success') return { rollout: { result: 'success', afterSeconds: r.int(5, 90) } };
  if (kind === 'stuck') return { rollout: { result: 'stuck' } };
  if (kind === 'other') {
    const other = r.pick(['ours-forced', 'third'] as const);
    return {
      rollout: {
        result: 'success',
        afterSeconds: r.int(30, 120),
        interruptedBy: { afterSeconds: r.int(2, 25), rolloutSeconds: r.int(1, 20) },
      },
      other,
    };
  }
  return {
    rollout: {
      result: 'fail',
      afterSeconds: r.int(6, 60),
      exitCode: r.chance(0.5) ? 1 : undefined,
      stoppedReason: 'CannotPullContainerError: pull image manifest has been retried 5 time(s)',
      circuitBreakerRollback: cb,
      rollbackShape: r.pick(['new-deployment', 'previous-in-progress'] as const),
      rollbackSeconds: r.int(1, 30),
      oldTasksStopFirst: !cb && r.chance(0.3),
    },
  };
}

function faultsOf(r: Rng): WireFaults {
  const faults: WireFaults = { throttle: new Map(), lostAnswers: new Set() };
  for (let i = r.int(0, 3); i > 0; i--) faults.throttle.set(r.int(0, 80), r.int(1, 9));
  for (let i = r.int(0, 3); i > 0; i--) faults.lostAnswers.add(r.int(0, 80));
  const ending = r.next();
  if (ending < 0.2) faults.cancelAt = r.int(0, 70);
  else if (ending < 0.35) faults.killAt = r.int(0, 70);
  return faults;
}

export function generate(seed: number): Schedule {
  const r = rng(seed);
  const services: ServiceSchedule[] = Array.from({ length: r.int(1, 3) }, (_, i) => {
    const strategy = r.pick(['ROLLING', 'ROLLING', 'BLUE_GREEN', 'LINEAR', 'CANARY'] as const);
    const cb = r.chance(0.6);
    const { rollout, other } = rolloutOf(r, cb);
    const failedBefore = r.chance(0.25)
      ? {
          shape: cb ? r.pick(['new-deployment', 'previous-in-progress'] as const) : ('left-failed' as const),
          rollbackSeconds: r.int(5, 120),
        }
      : undefined;
    return {
      name: `svc${i}`,
      strategy,
      circuitBreakerRollback: cb,
      hook: hookOf(r, strategy),
      failedBefore,
      rollout,
      otherDeployer: other,
    };
  });
  const gate = r.chance(0.6)
    ? {
        healthy: r.chance(0.6),
        stage: r.pick(['POST_TEST_TRAFFIC_SHIFT', 'POST_TEST_TRAFFIC_SHIFT', 'PRE_PRODUCTION_TRAFFIC_SHIFT'] as const),
        successes: r.int(1, 3),
        timeoutSeconds: r.int(10, 120),
      }
    : undefined;
  const inputs: Record<string, string> = {
    'timeout-minutes': String(r.int(2, 6)),
    'poll-interval-seconds': String(r.pick([2, 5, 10])),
    'max-parallel': String(r.int(1, 3)),
    'on-other-deployment': r.pick(['fail', 'warn']),
  };
  return { seed, services, gate, inputs, faults: faultsOf(r) };
}

/** One line per service and the faults: printed with a failing seed. */
export function describeSchedule(s: Schedule): string {
  const f = s.faults;
  const lines = s.services.map(
    (x) =>
      `  ${x.name}: ${x.strategy}${x.circuitBreakerRollback ? ' +cb-rollback' : ''}${x.hook ? ` PAUSE@${x.hook.stages.join('/')} ${x.hook.timeoutInMinutes}m→${x.hook.action}` : ''}` +
      `${x.failedBefore ? ` failed-before(${x.failedBefore.shape})` : ''} rollout=${JSON.stringify(x.rollout)}${x.otherDeployer ? ` other=${x.otherDeployer}` : ''}`,
  );
  return [
    `  gate: ${s.gate ? JSON.stringify(s.gate) : 'none'}; inputs ${JSON.stringify(s.inputs)}`,
    ...lines,
    `  faults: throttle ${JSON.stringify([...f.throttle])}, lost ${JSON.stringify([...f.lostAnswers])}${f.cancelAt !== undefined ? `, cancel after #${f.cancelAt}` : ''}${f.killAt !== undefined ? `, kill at #${f.killAt}` : ''}`,
  ].join('\n');
}
