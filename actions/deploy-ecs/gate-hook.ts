/**
 * Where the test-traffic gate runs in a deploy, plugged into the wait (wait.ts `nativeStep`).
 *
 * - ECS-native strategies (BLUE_GREEN, LINEAR, CANARY) with a PAUSE lifecycle hook: each poll of the wait
 *   hands us the service deployment (status, lifecycleStage, lifecycleHookDetails); when a PAUSE hook is
 *   AWAITING_ACTION we run the gate, then ContinueServiceDeployment CONTINUE, or ROLLBACK when the gate
 *   failed or timed out. The wait keeps judging the deployment until it ends (a LINEAR deployment can
 *   pause at every step). A cancel stops the gate (its command's process group is killed) and, while
 *   the hook still waits, sends ROLLBACK.
 * - Without a PAUSE hook (rolling, or a native service without one): the gate runs after the deployment
 *   completed; a failure turns the service's verdict into a failure, which the deploy rolls back like
 *   any other, with the gate's result in the log, the diagnosis, the error and the step summary.
 * Sources: https://docs.aws.amazon.com/AmazonECS/latest/developerguide/pause-lifecycle-hooks.html,
 * https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ContinueServiceDeployment.html.
 */
import { spawn } from 'node:child_process';
import { ContinueServiceDeploymentCommand, DescribeServiceDeploymentsCommand, type Service } from '@aws-sdk/client-ecs';
import { describeUnknown } from '../../lib/errors.js';
import { printUntrusted } from '../../lib/report.js';
import type { Deps } from './deploy-types.js';
import { runGate } from './gate.js';
import { gateDiagnosis } from './gate-report.js';
import { GateStop, type GateDeps, type GateResult } from './gate-types.js';
import { pauseStage, pauseStages } from './gate-stage.js';
import type { GateInputs } from './gate-inputs.js';
import type { Inputs } from './inputs.js';
import { revisionOf, usesServiceDeployments, type Tracked, type Verdict } from './judge.js';
import type { NativePollState } from './native.js';
import { abortableSleep, type WaitOptions, type WaitOutcome } from './wait.js';

export interface GateRun {
  /** Every gate run, in the order they finished (a LINEAR deployment can pause several times). */
  results: GateResult[];
  /** For waitForDeployments: acts on PAUSE hooks awaiting action (undefined when no service has one). */
  nativeStep?: WaitOptions['nativeStep'];
  /** After the wait: post-deploy gates for services without a pause; a failing gate fails the service's verdict. */
  afterWait(waited: WaitOutcome | undefined): Promise<void>;
}

type HookDeps = Pick<Deps, 'ecs' | 'report' | 'sleep' | 'now' | 'signal'>;

/** The PAUSE hook of a service's deployment configuration, if it has one. */
export function pauseHook(svc: Service | undefined): { lifecycleStages?: string[] } | undefined {
  // Rolling deployments pause too (pause-lifecycle-hooks.html); they have no test traffic, so their pauses are left alone.
  if (!svc) return undefined;
  return svc.deploymentConfiguration?.lifecycleHooks?.find((h) => h.targetType === 'PAUSE');
}

/** Time kept between the gate's end and the hook's expiresAt, for the answer to reach ECS. */
const EXPIRY_MARGIN_MS = 15_000;
/** Below this, a gate cannot judge anything: the pause is answered ROLLBACK at once. */
const MIN_GATE_MS = 1_000;

const NO_GATES: GateRun = { results: [], afterWait: async () => undefined };

/**
 * The per-poll step for hooked services: runs the gate at each PAUSE hook awaiting action (once per
 * hookId) and answers it. A failed gate makes the verdict "failed" at once (ECS rolls back, rollback.ts
 * follows that rollback); a passed one lets the judge carry on.
 */
export function hookStep(
  deps: HookDeps,
  gateDeps: GateDeps,
  gate: GateInputs,
  intervalMs: number,
  onResult: (r: GateResult) => void,
  /** Each service as it was before the update: its PAUSE hooks tell which stage a pause is at. */
  services: Map<string, Service>,
): NonNullable<WaitOptions['nativeStep']> {
  const { report } = deps;
  const handled = new Set<string>();
  const send = async (state: NativePollState, hookId: string, action: 'CONTINUE' | 'ROLLBACK'): Promise<boolean> => {
    try {
      await deps.ecs.send(new ContinueServiceDeploymentCommand({ serviceDeploymentArn: state.serviceDeploymentArn, hookId, action }));
      report.info(`${state.service}: ContinueServiceDeployment ${action} sent for hook ${hookId}`);
      return true;
    } catch (err) {
      report.warning(
        `${state.service}: ContinueServiceDeployment ${action} failed (${describeUnknown(err)}); the hook's own timeout action applies.`,
      );
      return false;
    }
  };
  /** Where the pause stands now: still waiting for us, or how it ended (the deployment may have moved on). */
  const pauseNow = async (state: NativePollState, hookId: string): Promise<{ awaiting: boolean; hookStatus?: string; status?: string }> => {
    try {
      const sd = (await deps.ecs.send(new DescribeServiceDeploymentsCommand({ serviceDeploymentArns: [state.serviceDeploymentArn] })))
        .serviceDeployments?.[0];
      const h = sd?.lifecycleHookDetails?.find((x) => x.hookId === hookId);
      return { awaiting: sd?.status === 'IN_PROGRESS' && h?.status === 'AWAITING_ACTION', hookStatus: h?.status, status: sd?.status };
    } catch {
      return { awaiting: true };
    }
  };
  const noticed = new Set<string>();
  return async (state: NativePollState, t: Tracked): Promise<Verdict | undefined> => {
    if (state.status !== 'IN_PROGRESS' && state.status !== 'PENDING') return undefined;
    const pauses = state.hooks.filter((h) => h.targetType === 'PAUSE');
    const index = pauses.findIndex((h) => h.status === 'AWAITING_ACTION' && !handled.has(h.hookId));
    const hook = pauses[index];
    if (!hook || deps.signal?.aborted) return undefined;
    const hookStage = pauseStage(services.get(t.service), index, state.lifecycleStage);
    const expiry = `ECS takes its timeout action ${hook.timeoutAction ?? 'ROLLBACK'} at ${hook.expiresAt?.toISOString() ?? 'the hook timeout'}`;
    if (hookStage !== gate.stage) {
      // Not the gate's pause: a person's go/no-go or another tool's check. Answering it would decide for them.
      if (!noticed.has(hook.hookId)) {
        noticed.add(hook.hookId);
        report.info(
          `${t.service}: paused at ${hookStage ?? state.lifecycleStage ?? 'a lifecycle stage'} (hook ${hook.hookId}), not the gate's ` +
            `stage (gate-stage ${gate.stage}): left alone. ` +
            `Whoever set this PAUSE hook must answer it (ContinueServiceDeployment, or "Take action" in the console); otherwise ` +
            `${expiry}. The run waits for it within timeout-minutes.`,
        );
      }
      return undefined;
    }
    handled.add(hook.hookId);
    const stage = `${hookStage} pause hook`;
    // The answer must reach ECS before the hook expires: past expiresAt ECS takes the timeout action itself.
    const untilExpiry = hook.expiresAt ? hook.expiresAt.getTime() - deps.now() - EXPIRY_MARGIN_MS : Infinity;
    const budget = Math.min(gate.timeoutMs, untilExpiry);
    report.info(
      `${t.service}: paused at ${hookStage} (hook ${hook.hookId}; ${expiry}); the test listener routes to ${revisionOf(t.targetArn)} ` +
        `since TEST_TRAFFIC_SHIFT: running the gate against it` +
        (budget < gate.timeoutMs
          ? ` for at most ${Math.max(0, Math.round(budget / 100) / 10)} s (${EXPIRY_MARGIN_MS / 1000} s before the hook expires)`
          : ''),
    );
    // While the gate runs, keep an eye on the pause: if it ends without us (someone answered the hook by
    // hand, its timeout action ran, a StopServiceDeployment), the gate stops and nothing is sent.
    const left = new AbortController();
    const finished = new AbortController();
    const gateSignal = deps.signal ? AbortSignal.any([deps.signal, left.signal]) : left.signal;
    let ended: { hookStatus?: string; status?: string } | undefined;
    const watch = (async () => {
      const sleep = abortableSleep(deps.sleep, AbortSignal.any([gateSignal, finished.signal]));
      for (;;) {
        await sleep(intervalMs);
        if (gateSignal.aborted || finished.signal.aborted) return;
        const now = await pauseNow(state, hook.hookId);
        if (!now.awaiting) {
          ended = now;
          return left.abort(
            new GateStop(`the pause ended without us (hook ${now.hookStatus ?? 'gone'}, deployment ${now.status ?? 'unknown'})`),
          );
        }
      }
    })();
    const result: GateResult =
      budget < MIN_GATE_MS
        ? {
            service: t.service,
            status: 'failed',
            reason: `the hook expires at ${hook.expiresAt?.toISOString()}, too soon to run the gate and answer in time`,
            durationMs: 0,
            urls: [],
            stage,
          }
        : await runGate(
            gateDeps,
            { ...gate, timeoutMs: budget, requestTimeoutMs: Math.min(gate.requestTimeoutMs, budget) },
            { service: t.service, taskDefinitionArn: t.targetArn, signal: gateSignal, stage },
          );
    finished.abort();
    await watch;
    if (result.status === 'skipped' && ended && !deps.signal?.aborted && !rolledBack(ended)) {
      // ECS went on (timeout action CONTINUE, or someone else's CONTINUE) although nothing vouched for the revision.
      result.status = 'expired';
      const timedOut = ended.hookStatus === 'TIMED_OUT' ? ` (its timeout action ${hook.timeoutAction ?? 'ROLLBACK'} ran)` : '';
      result.reason =
        `the pause ended before the gate passed: hook ${hook.hookId} is ${ended.hookStatus ?? 'gone'}${timedOut}, ` +
        `the deployment went on (${ended.status ?? 'unknown'}); the gate had ${result.reason}`;
    }
    onResult(result);
    printUntrusted(report, gateDiagnosis(result));
    if (result.status === 'passed') {
      await send(state, hook.hookId, 'CONTINUE');
      return undefined;
    }
    if (result.status === 'expired') {
      // No ContinueServiceDeployment can answer a pause that is over: StopServiceDeployment rolls back (rollback.ts).
      return {
        state: 'failed',
        progress: `${ended?.status ?? state.status} (${state.lifecycleStage}), gate expired`,
        reason: `test-traffic gate expired at the ${stage}: ${result.reason}`,
      };
    }
    if (result.status === 'failed') {
      const sent = await send(state, hook.hookId, 'ROLLBACK');
      return {
        state: 'failed',
        progress: `${state.status} (${state.lifecycleStage}), gate failed`,
        reason: `test-traffic gate failed at the ${stage}: ${result.reason}${sent ? '; ROLLBACK sent' : ''}`,
        // ECS rolls back on our ROLLBACK: the deploy follows that rollback instead of starting another.
        ...(sent ? { replaced: { by: 'ecs-rollback' as const, taskDefinition: state.rollbackTo } } : {}),
      };
    }
    // Skipped: ECS rolled back without us, or the run was cancelled while the gate ran. On a cancel nobody
    // vouched for the release, and leaving it paused would hold the service until the hook's own timeout:
    // roll back while it still waits for us.
    if (!left.signal.aborted && (await pauseNow(state, hook.hookId)).awaiting) await send(state, hook.hookId, 'ROLLBACK');
    else report.info(`${t.service}: the deployment left the pause without us (hook ${hook.hookId} acted on elsewhere); nothing sent`);
    return undefined;
  };
}

const rolledBack = (p: { hookStatus?: string; status?: string }): boolean =>
  p.hookStatus === 'FAILED' || /ROLLBACK|STOP/.test(p.status ?? '');

export function startGates(
  inputs: Inputs,
  deps: HookDeps,
  tracked: Tracked[],
  before: Map<string, Service>,
  gateDeps?: Partial<GateDeps>,
): GateRun {
  const gate = inputs.gate;
  if (!gate || tracked.length === 0) return NO_GATES;
  const { report } = deps;
  const gd: GateDeps = { fetch: globalThis.fetch, spawn, sleep: deps.sleep, now: deps.now, report, ...gateDeps };
  const results: GateResult[] = [];
  const after: Tracked[] = [];
  const hooked: Tracked[] = [];
  /** Services with any PAUSE hook: the wait's step sees their pauses (the gate's, and the ones left alone). */
  const paused = new Set<string>();
  for (const t of tracked) {
    const svc = before.get(t.service);
    const stages = pauseHook(svc) ? pauseStages(svc) : [];
    if (stages.length && t.serviceDeploymentArn) paused.add(t.service);
    const others = stages.filter((s) => s !== gate.stage);
    const leftAlone = others.length ? `; its pause(s) at ${others.join(', ')} are left to whoever set them` : '';
    if (stages.includes(gate.stage) && t.serviceDeploymentArn) {
      report.info(
        `${t.service}: ${svc?.deploymentConfiguration?.strategy} with a PAUSE hook at ${gate.stage} (gate-stage, test traffic on the ` +
          `new revision): the gate runs when the deployment pauses there${leftAlone}`,
      );
      hooked.push(t);
    } else {
      const why =
        svc && usesServiceDeployments(svc)
          ? `${svc.deploymentConfiguration?.strategy} without a PAUSE lifecycle hook at ${gate.stage} (gate-stage)`
          : 'rolling update';
      report.info(
        `${t.service}: ${why}: the gate runs after the deployment completed (users already get the new revision then)${leftAlone}`,
      );
      after.push(t);
    }
  }
  const step = paused.size ? hookStep(deps, gd, gate, inputs.pollIntervalSeconds * 1000, (r) => results.push(r), before) : undefined;

  return {
    results,
    nativeStep: step ? (state, t) => (paused.has(t.service) ? step(state, t) : Promise.resolve(undefined)) : undefined,
    async afterWait(waited) {
      const verdicts = waited?.verdicts;
      if (!verdicts || waited.aborted || deps.signal?.aborted) return;
      // A deployment that ended without pausing (hook removed meanwhile, or ECS skipped it) is still checked.
      for (const t of hooked) {
        if (results.some((r) => r.service === t.service) || verdicts.get(t.service)?.state !== 'succeeded') continue;
        report.warning(
          `${t.service}: the deployment finished without pausing at its PAUSE hook; checking it after the deployment instead.`,
        );
        after.push(t);
      }
      // Post-deploy gates only when the run can still succeed: otherwise everything is rolled back anyway. A
      // service another deployer took over counts as done under on-other-deployment: warn (it is never
      // rolled back over), so the services that did succeed are still gated: none goes out unchecked.
      const accepted = (v: Verdict) => v.state === 'succeeded' || (v.state === 'superseded' && inputs.onOtherDeployment === 'warn');
      const all = [...verdicts.values()];
      if (!after.length || waited.timedOut || waited.pollFailure || !all.every(accepted)) return;
      const gated = after.filter((t) => verdicts.get(t.service)?.state === 'succeeded');
      await report.group('Test-traffic gate (after the deployment)', async () => {
        const ran = await Promise.all(
          gated.map((t) =>
            runGate(gd, gate, { service: t.service, taskDefinitionArn: t.targetArn, signal: deps.signal, stage: 'after COMPLETED' }),
          ),
        );
        for (const r of ran) {
          results.push(r);
          printUntrusted(report, gateDiagnosis(r));
          // Cancelled while the gate ran: nobody vouched for the release, so it counts as cancelled (rolled back).
          if (r.status === 'skipped' && deps.signal?.aborted)
            verdicts.set(r.service, { state: 'waiting', progress: 'post-deploy gate stopped by the cancel' });
          if (r.status === 'failed')
            verdicts.set(r.service, {
              state: 'failed',
              progress: verdicts.get(r.service)?.progress ?? '',
              reason: `post-deploy gate failed: ${r.reason}`,
            });
        }
      });
    },
  };
}
