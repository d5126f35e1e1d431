/**
 * Which lifecycle stage a PAUSE hook holds a deployment at, and whether the new revision gets test
 * traffic there: the gate acts only at such a stage (input `gate-stage`); every other pause belongs to
 * whoever configured it (a person's go/no-go, an approval workflow) and is left alone.
 *
 * Test traffic per stage, from the lifecycle-hook reference (DeploymentLifecycleHook.lifecycleStages,
 * https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DeploymentLifecycleHook.html):
 * PRE_SCALE_UP and POST_SCALE_UP "There is no test traffic"; TEST_TRAFFIC_SHIFT moves test traffic to the
 * green revision; at POST_TEST_TRAFFIC_SHIFT "the green service revision handles 100% of the test
 * traffic"; PRE_PRODUCTION_TRAFFIC_SHIFT comes after it, "before every traffic shift step" of linear and
 * canary deployments (production traffic not yet moved by that step). PAUSE hooks can be set at
 * RECONCILE_SERVICE, PRE_SCALE_UP, POST_SCALE_UP, POST_TEST_TRAFFIC_SHIFT, PRE_PRODUCTION_TRAFFIC_SHIFT and
 * POST_PRODUCTION_TRAFFIC_SHIFT (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/pause-lifecycle-hooks.html).
 * POST_PRODUCTION_TRAFFIC_SHIFT is not a gate stage: users already get the new revision there.
 *
 * A hook's detail (lifecycleHookDetails) does not name its stage, and while paused at
 * PRE_PRODUCTION_TRAFFIC_SHIFT (not a ServiceDeploymentLifecycleStage value) the deployment reports the
 * stage before it. So the pause's stage is read from the configured stages in lifecycle order, the
 * k-th PAUSE hook detail being the k-th pause (modelled, not documented), checked against the reported
 * lifecycleStage; when they disagree and the reported stage leaves one candidate, that one wins.
 */
import type { Service } from '@aws-sdk/client-ecs';

/** Stages where the new revision receives test traffic and production traffic has not moved to it yet. */
export const GATE_STAGES = ['POST_TEST_TRAFFIC_SHIFT', 'PRE_PRODUCTION_TRAFFIC_SHIFT'] as const;
export type GateStage = (typeof GATE_STAGES)[number];

const HOOK_ORDER = [
  'RECONCILE_SERVICE',
  'PRE_SCALE_UP',
  'POST_SCALE_UP',
  'POST_TEST_TRAFFIC_SHIFT',
  'PRE_PRODUCTION_TRAFFIC_SHIFT',
  'POST_PRODUCTION_TRAFFIC_SHIFT',
];

/** The hook stages that can hold a deployment reporting `lifecycleStage`. */
const CANDIDATES: Record<string, string[]> = {
  RECONCILE_SERVICE: ['RECONCILE_SERVICE'],
  PRE_SCALE_UP: ['PRE_SCALE_UP'],
  SCALE_UP: ['POST_SCALE_UP'],
  POST_SCALE_UP: ['POST_SCALE_UP'],
  TEST_TRAFFIC_SHIFT: ['POST_TEST_TRAFFIC_SHIFT', 'PRE_PRODUCTION_TRAFFIC_SHIFT'],
  POST_TEST_TRAFFIC_SHIFT: ['POST_TEST_TRAFFIC_SHIFT', 'PRE_PRODUCTION_TRAFFIC_SHIFT'],
  PRODUCTION_TRAFFIC_SHIFT: ['PRE_PRODUCTION_TRAFFIC_SHIFT', 'POST_PRODUCTION_TRAFFIC_SHIFT'],
  POST_PRODUCTION_TRAFFIC_SHIFT: ['POST_PRODUCTION_TRAFFIC_SHIFT'],
  BAKE_TIME: ['POST_PRODUCTION_TRAFFIC_SHIFT'],
};

/** The stages of the service's PAUSE hooks. */
export function pauseStages(svc: Service | undefined): string[] {
  const hooks = svc?.deploymentConfiguration?.lifecycleHooks ?? [];
  return [...new Set(hooks.filter((h) => h.targetType === 'PAUSE').flatMap((h) => h.lifecycleStages ?? []))];
}

/** The pauses a deployment makes, in order: PRE_PRODUCTION_TRAFFIC_SHIFT once per traffic step. */
function pauseSequence(svc: Service | undefined): string[] {
  const stages = pauseStages(svc);
  const config = svc?.deploymentConfiguration;
  const strategy = config?.strategy ?? 'ROLLING';
  const steps = strategy === 'CANARY' ? 2 : strategy === 'LINEAR' ? Math.ceil(100 / (config?.linearConfiguration?.stepPercent || 10)) : 1;
  return HOOK_ORDER.filter((s) => stages.includes(s)).flatMap((s) =>
    s === 'PRE_PRODUCTION_TRAFFIC_SHIFT' ? Array<string>(steps).fill(s) : [s],
  );
}

/** The stage the `index`-th pause of the deployment holds it at, or undefined when it cannot be told. */
export function pauseStage(svc: Service | undefined, index: number, reported: string | undefined): string | undefined {
  const byOrder = pauseSequence(svc)[index];
  const candidates = (CANDIDATES[reported ?? ''] ?? []).filter((s) => pauseStages(svc).includes(s));
  if (byOrder && (!reported || candidates.includes(byOrder))) return byOrder;
  return candidates.length === 1 ? candidates[0] : undefined;
}
