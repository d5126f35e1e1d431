/**
 * Lifecycle stages and PAUSE hooks of ECS-native deployments (BLUE_GREEN, LINEAR,
 * CANARY), and ContinueServiceDeployment. The stage model (`lifecycleSteps`) is the
 * emulator's only one: service-deployments.ts reports every native deployment's
 * `lifecycleStage` with it. The hooks wrap the ECS operations (one line in
 * ecs/index.ts) to hold a paused deployment's completion; a ROLLBACK is the
 * deployer's StopServiceDeployment rollback (deployments.ts `stopAndRollBack`).
 *
 * Sources:
 * - Lifecycle stages (RECONCILE_SERVICE, PRE_SCALE_UP, SCALE_UP, POST_SCALE_UP, TEST_TRAFFIC_SHIFT,
 *   POST_TEST_TRAFFIC_SHIFT, PRODUCTION_TRAFFIC_SHIFT, POST_PRODUCTION_TRAFFIC_SHIFT, BAKE_TIME, CLEAN_UP):
 *   https://docs.aws.amazon.com/AmazonECS/latest/developerguide/blue-green-deployment-how-it-works.html and
 *   https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-lifecycle-hooks.html ; for linear and
 *   canary, PRE_PRODUCTION_TRAFFIC_SHIFT and PRODUCTION_TRAFFIC_SHIFT run "at every traffic shift step"
 *   (API_DeploymentLifecycleHook.html, lifecycleStages): canary has two steps (canaryPercent, then the rest),
 *   linear has ceil(100 / stepPercent) steps (API_LinearConfiguration / API_CanaryConfiguration).
 * - PAUSE hooks: https://docs.aws.amazon.com/AmazonECS/latest/developerguide/pause-lifecycle-hooks.html — a
 *   hookId per pause, `lifecycleHookDetails` [{ hookId, targetType PAUSE, status AWAITING_ACTION, expiresAt,
 *   timeoutAction }] in DescribeServiceDeployments, paused until ContinueServiceDeployment or the timeout
 *   (timeoutConfiguration: default 1440 minutes, action ROLLBACK — API_DeploymentLifecycleHookTimeoutConfiguration).
 *   PAUSE hooks cannot be set at TEST_TRAFFIC_SHIFT or PRODUCTION_TRAFFIC_SHIFT (API_DeploymentLifecycleHook).
 * - ContinueServiceDeployment: https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ContinueServiceDeployment.html
 *   and developerguide/continue-service-deployment.html — the hook must be AWAITING_ACTION and the deployment
 *   IN_PROGRESS; action CONTINUE (default) goes to the next stage, ROLLBACK rolls back to the previous revision;
 *   answers { serviceDeploymentArn }; errors ServiceDeploymentNotFoundException / InvalidParameterException.
 *
 * Time is compressed: the stages share the rollout's scenario duration (1 s by default) instead of
 * real bake times in minutes. Not documented, so chosen here: a hook's status after CONTINUE is
 * SUCCEEDED, after ROLLBACK FAILED, after its timeout TIMED_OUT; while paused at PRE_PRODUCTION_TRAFFIC_SHIFT
 * (not a ServiceDeploymentLifecycleStage value) the deployment reports the stage before it. A hook
 * rollback is StopServiceDeployment's rollback deployment of the previous revision (ROLLBACK_REQUESTED →
 * ROLLBACK_IN_PROGRESS → ROLLBACK_SUCCESSFUL after the scenario's rollbackSeconds, default 1 s); real ECS
 * shifts traffic back to the blue tasks it kept.
 */
import { randomBytes } from 'node:crypto';
import { AwsError, epochSeconds, type EmuContext, type JsonOperations } from '../core.js';
import type { Deployment } from './deployments.js';
import type { Service, Services } from './services.js';
import type { TaskDefinition } from './taskdefs.js';

const BAD = 'InvalidParameterException';
const NATIVE = new Set(['BLUE_GREEN', 'LINEAR', 'CANARY']);
const EXTRA_CONFIG = ['lifecycleHooks', 'bakeTimeInMinutes', 'linearConfiguration', 'canaryConfiguration'] as const;
const ROLLBACK_MS = 1000;
/**
 * Reported stages at which the test listener routes to the green revision (API_DeploymentLifecycleHook,
 * lifecycleStages: "The green service revision handles 100% of the test traffic" from POST_TEST_TRAFFIC_SHIFT;
 * PRE_SCALE_UP and POST_SCALE_UP "There is no test traffic"). That the test listener stays on green
 * through the production shift, bake time and clean-up: modelled, not documented.
 */
const WITH_TEST_TRAFFIC = new Set([
  'TEST_TRAFFIC_SHIFT',
  'POST_TEST_TRAFFIC_SHIFT',
  'PRODUCTION_TRAFFIC_SHIFT',
  'POST_PRODUCTION_TRAFFIC_SHIFT',
  'BAKE_TIME',
  'CLEAN_UP',
]);

interface HookConfig {
  targetType?: string;
  lifecycleStages?: string[];
  timeoutConfiguration?: { timeoutInMinutes?: number; action?: string };
}

interface Step {
  /** What DescribeServiceDeployments reports as lifecycleStage. */
  stage: string;
  /** The stage a hook is configured at (PRE_PRODUCTION_TRAFFIC_SHIFT is a hook stage only). */
  hookStage: string;
  /** Fraction of the rollout's duration at which the step starts. */
  at: number;
}

interface Pause {
  step: number;
  hookId: string;
  startsAt: number;
  expiresAt: number;
  timeoutAction: 'CONTINUE' | 'ROLLBACK';
  resolvedAt?: number;
  status: 'AWAITING_ACTION' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT';
}

interface Held {
  service: Service;
  d: Deployment;
  steps: Step[];
  pausesAt: Set<number>;
  pauseConfig: HookConfig | undefined;
  /** The rollout's planned duration and when its completion was planned (before we held it). */
  durationMs: number;
  plannedCompletion?: number;
  pauses: Pause[];
  /** Milliseconds the timeline was paused so far. */
  shift: number;
  rolledBack?: { at: number; reason: string };
  released: boolean;
}

/**
 * The lifecycle stages of one native deployment, with the fraction of the rollout's duration at which
 * each starts: the one stage model of the emulator (DescribeServiceDeployments `lifecycleStage` in
 * service-deployments.ts, PAUSE hooks here). The green tasks start in SCALE_UP (the first half here, as
 * the rolling timeline's tasks take half the time to run); the blue revision keeps running through
 * BAKE_TIME, so SUCCESSFUL comes only after the bake time and CLEAN_UP — ServiceDeployment.lifecycleStage,
 * https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ServiceDeployment.html; blue/green
 * https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-type-blue-green.html; linear and
 * canary shift production traffic in steps during PRODUCTION_TRAFFIC_SHIFT, then bake:
 * https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-type-linear.html,
 * https://docs.aws.amazon.com/AmazonECS/latest/developerguide/canary-deployment.html.
 */
function lifecycleSteps(strategy: string, config: Record<string, unknown>): Step[] {
  const steps: Step[] = [
    { stage: 'PRE_SCALE_UP', hookStage: 'PRE_SCALE_UP', at: 0 },
    { stage: 'SCALE_UP', hookStage: 'SCALE_UP', at: 0.05 },
    { stage: 'POST_SCALE_UP', hookStage: 'POST_SCALE_UP', at: 0.5 },
    { stage: 'TEST_TRAFFIC_SHIFT', hookStage: 'TEST_TRAFFIC_SHIFT', at: 0.55 },
    { stage: 'POST_TEST_TRAFFIC_SHIFT', hookStage: 'POST_TEST_TRAFFIC_SHIFT', at: 0.6 },
  ];
  const linear = config.linearConfiguration as { stepPercent?: number } | undefined;
  const shifts = strategy === 'CANARY' ? 2 : strategy === 'LINEAR' ? Math.ceil(100 / (linear?.stepPercent ?? 10)) : 1;
  const width = 0.1 / shifts;
  for (let i = 0; i < shifts; i++) {
    const at = 0.65 + i * width;
    steps.push({ stage: steps.at(-1)!.stage, hookStage: 'PRE_PRODUCTION_TRAFFIC_SHIFT', at });
    steps.push({ stage: 'PRODUCTION_TRAFFIC_SHIFT', hookStage: 'PRODUCTION_TRAFFIC_SHIFT', at: at + width / 2 });
  }
  steps.push(
    { stage: 'POST_PRODUCTION_TRAFFIC_SHIFT', hookStage: 'POST_PRODUCTION_TRAFFIC_SHIFT', at: 0.75 },
    { stage: 'BAKE_TIME', hookStage: 'BAKE_TIME', at: 0.8 },
    { stage: 'CLEAN_UP', hookStage: 'CLEAN_UP', at: 0.95 },
  );
  return steps;
}

/**
 * The stages a rolling deployment can pause at. Pause and continue covers rolling deployments: Amazon
 * ECS's launch announcement as reported at https://worldtechobserver.com/?p=1623 and
 * https://gizmogeekly.com/amazon-ecs-introduces-pause-and-continue-controls-for-service-deployments/ ("supports
 * multiple deployment strategies, including rolling, blue/green, linear, and canary"; AWS's own post was not
 * found in the documentation searched). The
 * developer guide lists the hook stages in blue/green terms only (pause-lifecycle-hooks.html,
 * API_DeploymentLifecycleHook.html). Which of them a rolling deployment passes through is modelled, not
 * documented: RECONCILE_SERVICE is not modelled, PRE_SCALE_UP and POST_SCALE_UP around the replacement of
 * the tasks; a rolling deployment has no test listener, so no stage with test traffic. The old tasks are
 * drained only at completion (move), so a pause at POST_SCALE_UP holds both revisions running.
 */
const ROLLING_STEPS: Step[] = [
  { stage: 'PRE_SCALE_UP', hookStage: 'PRE_SCALE_UP', at: 0 },
  { stage: 'SCALE_UP', hookStage: 'SCALE_UP', at: 0.05 },
  { stage: 'POST_SCALE_UP', hookStage: 'POST_SCALE_UP', at: 0.6 },
];

/** The stage at `fraction` (0..1) of an unpaused rollout's duration. */
export function stageAt(strategy: string, config: Record<string, unknown>, fraction: number): string {
  return (
    lifecycleSteps(strategy, config)
      .filter((st) => st.at <= fraction)
      .at(-1)?.stage ?? 'PRE_SCALE_UP'
  );
}

function validateHooks(config: { lifecycleHooks?: unknown } | undefined): void {
  for (const h of (config?.lifecycleHooks ?? []) as HookConfig[]) {
    if (h.targetType !== 'PAUSE') continue;
    const bad = (h.lifecycleStages ?? []).filter((s) => s === 'TEST_TRAFFIC_SHIFT' || s === 'PRODUCTION_TRAFFIC_SHIFT');
    if (bad.length) throw new AwsError(BAD, `PAUSE hooks cannot be configured at the ${bad.join(', ')} lifecycle stage(s).`);
    if (!h.lifecycleStages?.length) throw new AwsError(BAD, 'lifecycleStages must not be empty.');
  }
}

export class LifecycleHooks {
  /** By service deployment id. */
  private readonly held = new Map<string, Held>();

  constructor(
    private readonly ctx: EmuContext,
    private readonly services: Services,
  ) {}

  /** The deployment configuration as ECS keeps it: the seeding path only stores the rolling keys. */
  private config(s: Service): Record<string, unknown> {
    const input = (s.input.deploymentConfiguration ?? {}) as Record<string, unknown>;
    for (const k of EXTRA_CONFIG) if (!(k in s.deploymentConfiguration) && input[k] !== undefined) s.deploymentConfiguration[k] = input[k];
    return s.deploymentConfiguration;
  }

  /** Starts following a new deployment of a native-strategy service; holds its completion when it has a PAUSE hook. */
  private track(s: Service, d: Deployment): void {
    const config = this.config(s);
    const strategy = String(config.strategy ?? 'ROLLING');
    const pause = ((config.lifecycleHooks ?? []) as HookConfig[]).find((h) => h.targetType === 'PAUSE');
    // A rolling deployment is followed only for its PAUSE hooks (pause and continue covers rolling deployments).
    if ((!NATIVE.has(strategy) && !(strategy === 'ROLLING' && pause)) || d.completesAt === undefined) return;
    const steps = strategy === 'ROLLING' ? ROLLING_STEPS : lifecycleSteps(strategy, config);
    const pausesAt = new Set(steps.map((st, i) => (pause?.lifecycleStages?.includes(st.hookStage) ? i : -1)).filter((i) => i >= 0));
    const h: Held = {
      service: s,
      d,
      steps,
      pausesAt,
      pauseConfig: pause,
      durationMs: d.completesAt - d.createdAt,
      pauses: [],
      shift: 0,
      released: pausesAt.size === 0,
    };
    if (pausesAt.size) {
      h.plannedCompletion = d.completesAt;
      this.move(s, d, d.completesAt, Infinity);
    }
    this.held.set(d.serviceDeploymentId, h);
  }

  /** Moves the completion of `d` (its drains, task stops and events) from `from` to `to`. */
  private move(s: Service, d: Deployment, from: number, to: number): void {
    d.completesAt = to;
    for (const old of s.deployments) {
      if (old === d || old.drainedAt !== from) continue;
      old.drainedAt = to;
      for (const t of old.tasks) {
        if (!t.drainStop || t.stopRequestedAt !== from) continue;
        const grace = (t.stopAt ?? from) - from;
        t.stopRequestedAt = to;
        t.stopAt = to + grace;
      }
    }
    for (const e of s.events) if (e.createdAt === from || e.createdAt === from + 1) e.createdAt = to + (e.createdAt - from);
  }

  private stepStart(h: Held, i: number): number {
    return h.d.createdAt + h.steps[i]!.at * h.durationMs;
  }

  /** Plays the timeline up to `now`: pauses start, time out, and release the completion. */
  private settle(h: Held, now: number): void {
    const newer = h.service.deployments.some((x) => x.createdAt > h.d.createdAt && x !== h.d.rollback);
    if (h.released || h.rolledBack || h.d.rollback || newer) return;
    for (;;) {
      const open = h.pauses.find((p) => p.resolvedAt === undefined);
      if (open) {
        if (open.expiresAt > now) return;
        this.resolve(h, open, open.timeoutAction, open.expiresAt, 'TIMED_OUT');
        if (h.rolledBack) return;
        continue;
      }
      const next = [...h.pausesAt].find((i) => !h.pauses.some((p) => p.step === i));
      if (next === undefined) {
        this.release(h);
        return;
      }
      const startsAt = this.stepStart(h, next) + h.shift;
      if (startsAt > now) return;
      const timeout = h.pauseConfig?.timeoutConfiguration;
      h.pauses.push({
        step: next,
        hookId: `ecs-pause-${randomBytes(32).toString('base64url')}`,
        startsAt,
        expiresAt: startsAt + (timeout?.timeoutInMinutes ?? 1440) * 60_000,
        timeoutAction: timeout?.action === 'CONTINUE' ? 'CONTINUE' : 'ROLLBACK',
        status: 'AWAITING_ACTION',
      });
    }
  }

  private release(h: Held): void {
    h.released = true;
    this.move(h.service, h.d, Infinity, h.plannedCompletion! + h.shift);
  }

  private resolve(h: Held, p: Pause, action: 'CONTINUE' | 'ROLLBACK', at: number, status?: Pause['status']): void {
    p.resolvedAt = at;
    p.status = status ?? (action === 'CONTINUE' ? 'SUCCEEDED' : 'FAILED');
    if (action === 'CONTINUE') {
      h.shift += at - p.startsAt;
      return;
    }
    const reason =
      status === 'TIMED_OUT'
        ? `lifecycle hook ${p.hookId} timed out (timeout action ROLLBACK)`
        : `rolled back by ContinueServiceDeployment (hook ${p.hookId})`;
    // ROLLBACK "rolls back to the previous service revision" like StopServiceDeployment ROLLBACK: the same
    // rollback (ROLLBACK_REQUESTED → ROLLBACK_IN_PROGRESS → ROLLBACK_SUCCESSFUL, service-deployments.ts).
    const r = this.services.deployer.stopAndRollBack(h.service, h.d, at, h.d.rollbackSeconds ?? ROLLBACK_MS / 1000);
    if (!r) return;
    h.rolledBack = { at, reason };
    h.d.rollbackReason = `Service deployment ${reason}.`;
  }

  private settleAll(): void {
    const now = this.ctx.now();
    for (const h of this.held.values()) this.settle(h, now);
  }

  private stageOf(h: Held, now: number): string {
    const open = h.pauses.find((p) => p.resolvedAt === undefined);
    if (open) return h.steps[open.step]!.stage;
    let shift = 0;
    let stage = h.steps[0]!.stage;
    h.steps.forEach((st, i) => {
      const p = h.pauses.find((x) => x.step === i);
      const start = this.stepStart(h, i) + shift;
      if (start <= (h.rolledBack?.at ?? h.d.rollback?.createdAt ?? now)) stage = st.stage;
      if (p?.resolvedAt !== undefined) shift += p.resolvedAt - p.startsAt;
    });
    return stage;
  }

  /**
   * The revision behind the test listener now: the green one from TEST_TRAFFIC_SHIFT until the deployment ends
   * or is rolled back; otherwise the last revision that completed (what the production listener serves).
   * The stage is the deployment's own (stageOf: a pause holds it), not the unpaused timeline: at a pause
   * at POST_SCALE_UP "there is no test traffic" yet (API_DeploymentLifecycleHook, lifecycleStages).
   * TEST_TRAFFIC_SHIFT moves test traffic "from 0% to 100%": modelled as all of it at once.
   */
  testTarget(cluster: string, service: string): TaskDefinition | undefined {
    this.settleAll();
    const s = this.services.find(cluster, service);
    if (!s) return undefined;
    const now = this.ctx.now();
    const inFlight = [...this.held.values()].find(
      (h) =>
        h.service === s &&
        !h.rolledBack &&
        !h.d.rollback &&
        !(h.d.completesAt !== undefined && h.d.completesAt <= now) &&
        s.deployments.at(-1) === h.d,
    );
    if (inFlight && WITH_TEST_TRAFFIC.has(this.stageOf(inFlight, now))) return inFlight.d.def;
    return [...s.deployments].reverse().find((d) => d.completesAt !== undefined && d.completesAt <= now)?.def;
  }

  /** The ECS operations with lifecycle stages, hooks and ContinueServiceDeployment added. */
  wrap(ops: JsonOperations): JsonOperations {
    const wrapped: JsonOperations = {};
    for (const [name, fn] of Object.entries(ops)) {
      wrapped[name] = (input) => {
        this.settleAll();
        return fn(input);
      };
    }
    const serviceOf = (view: { serviceArn?: string } | undefined) =>
      view?.serviceArn ? this.services.find(view.serviceArn.split('/').at(-2), view.serviceArn) : undefined;
    const withConfig = (out: { service?: { serviceArn?: string; deploymentConfiguration?: unknown } }) => {
      const s = serviceOf(out.service);
      if (s && out.service) out.service.deploymentConfiguration = this.config(s);
      return out;
    };
    wrapped.CreateService = (input: { deploymentConfiguration?: object }) => {
      validateHooks(input.deploymentConfiguration);
      return withConfig(ops.CreateService!(input) as never);
    };
    wrapped.UpdateService = (input: { cluster?: string; service?: string; deploymentConfiguration?: object }) => {
      validateHooks(input.deploymentConfiguration);
      this.settleAll();
      const known = input.service ? this.services.find(input.cluster, input.service) : undefined;
      const previousNewest = known?.deployments.at(-1);
      const out = withConfig(ops.UpdateService!(input) as never) as { service?: { serviceArn?: string } };
      const s = serviceOf(out.service);
      const newest = s?.deployments.at(-1);
      if (s && newest && newest !== previousNewest && newest.kind === 'update') this.track(s, newest);
      return out;
    };
    wrapped.DescribeServices = (input) => {
      this.settleAll();
      const out = ops.DescribeServices!(input) as { services: { serviceArn?: string; deploymentConfiguration?: unknown }[] };
      for (const v of out.services) withConfig({ service: v });
      return out;
    };
    wrapped.DescribeServiceDeployments = (input) => {
      this.settleAll();
      const out = ops.DescribeServiceDeployments!(input) as { serviceDeployments: Record<string, unknown>[] };
      const now = this.ctx.now();
      for (const sd of out.serviceDeployments) {
        const h = this.held.get(String(sd.serviceDeploymentArn).split('/').pop()!);
        if (!h) continue;
        sd.lifecycleStage = this.stageOf(h, now);
        sd.deploymentConfiguration = this.config(h.service);
        if (h.pauses.length) {
          sd.lifecycleHookDetails = h.pauses.map((p) => ({
            hookId: p.hookId,
            targetType: 'PAUSE',
            status: p.status,
            expiresAt: epochSeconds(p.expiresAt),
            timeoutAction: p.timeoutAction,
          }));
        }
        if (h.rolledBack) {
          sd.statusReason = `Service deployment ${h.rolledBack.reason}.`;
          if (sd.rollback) (sd.rollback as Record<string, unknown>).reason = h.rolledBack.reason;
        }
      }
      return out;
    };
    wrapped.ContinueServiceDeployment = (input: { serviceDeploymentArn?: string; hookId?: string; action?: string }) => {
      this.settleAll();
      if (!input.serviceDeploymentArn) throw new AwsError(BAD, 'serviceDeploymentArn is required.');
      if (!input.hookId) throw new AwsError(BAD, 'hookId is required.');
      const action = input.action ?? 'CONTINUE';
      if (action !== 'CONTINUE' && action !== 'ROLLBACK')
        throw new AwsError(BAD, `Invalid action '${action}': valid values are ROLLBACK | CONTINUE.`);
      const h = this.held.get(input.serviceDeploymentArn.split('/').pop()!);
      const known = h && input.serviceDeploymentArn.endsWith(`/${h.service.name}/${h.d.serviceDeploymentId}`);
      if (!h || !known) throw new AwsError('ServiceDeploymentNotFoundException', 'The service deployment does not exist.');
      const p = h.pauses.find((x) => x.hookId === input.hookId);
      if (!p) throw new AwsError(BAD, `Lifecycle hook ${input.hookId} was not found on this service deployment.`);
      const newer = h.service.deployments.some((x) => x.createdAt > h.d.createdAt && x !== h.d.rollback);
      if (h.rolledBack || h.d.rollback || newer) throw new AwsError(BAD, 'The service deployment is not IN_PROGRESS.');
      if (p.status !== 'AWAITING_ACTION') throw new AwsError(BAD, `Lifecycle hook ${input.hookId} is ${p.status}, not AWAITING_ACTION.`);
      this.resolve(h, p, action, this.ctx.now());
      this.settleAll();
      return { serviceDeploymentArn: input.serviceDeploymentArn };
    };
    return wrapped;
  }
}
