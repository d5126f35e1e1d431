/**
 * Where the test-traffic gate runs in a deploy (issue 11), plugged into the wait (wait.ts `nativeStep`).
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
import type { Deps } from './deploy.js';
import { gateDiagnosis, runGate, type GateDeps, type GateResult } from './gate.js';
import type { GateInputs } from './gate-inputs.js';
import type { Inputs } from './inputs.js';
import { usesServiceDeployments, type Tracked, type Verdict } from './judge.js';
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
  if (!svc || !usesServiceDeployments(svc)) return undefined;
  return svc.deploymentConfiguration?.lifecycleHooks?.find((h) => h.targetType === 'PAUSE');
}

const NO_GATES: GateRun = { results: [], afterWait: async () => undefined };

/**
 * The per-poll step for hooked services: runs the gate at each PAUSE hook awaiting action (once per
 * hookId) and answers it. A failed gate makes the verdict "failed" at once (ECS rolls back, rollback.ts
 * follows that rollback); a passed one lets the judge carry on.
 */
export function hookStep(deps: HookDeps, gateDeps: GateDeps, gate: GateInputs, intervalMs: number, onResult: (r: GateResult) => void): NonNullable<WaitOptions['nativeStep']> {
  const { report } = deps;
  const handled = new Set<string>();
  const send = async (state: NativePollState, hookId: string, action: 'CONTINUE' | 'ROLLBACK'): Promise<boolean> => {
    try {
      await deps.ecs.send(new ContinueServiceDeploymentCommand({ serviceDeploymentArn: state.serviceDeploymentArn, hookId, action }));
      report.info(`${state.service}: ContinueServiceDeployment ${action} sent for hook ${hookId}`);
      return true;
    } catch (err) {
      report.warning(`${state.service}: ContinueServiceDeployment ${action} failed (${describeUnknown(err)}); the hook's own timeout action applies.`);
      return false;
    }
  };
  /** Is the hook still waiting for us (the deployment may have moved on: hook timeout, someone else answered)? */
  const stillAwaiting = async (state: NativePollState, hookId: string): Promise<boolean> => {
    try {
      const sd = (await deps.ecs.send(new DescribeServiceDeploymentsCommand({ serviceDeploymentArns: [state.serviceDeploymentArn] }))).serviceDeployments?.[0];
      return sd?.status === 'IN_PROGRESS' && !!sd.lifecycleHookDetails?.some((h) => h.hookId === hookId && h.status === 'AWAITING_ACTION');
    } catch {
      return true;
    }
  };
  return async (state: NativePollState, t: Tracked): Promise<Verdict | undefined> => {
    if (state.status !== 'IN_PROGRESS' && state.status !== 'PENDING') return undefined;
    const hook = state.hooks.find((h) => h.targetType === 'PAUSE' && h.status === 'AWAITING_ACTION' && !handled.has(h.hookId));
    if (!hook || deps.signal?.aborted) return undefined;
    handled.add(hook.hookId);
    const stage = `${state.lifecycleStage ?? 'lifecycle'} pause hook`;
    report.info(`${t.service}: paused at ${state.lifecycleStage} (hook ${hook.hookId}; ECS takes its timeout action ${hook.timeoutAction ?? 'ROLLBACK'} at ${hook.expiresAt?.toISOString() ?? 'the hook timeout'}); running the gate against ${t.targetArn.split('/').pop()}`);
    // While the gate runs, keep an eye on the pause: if it ends without us (someone answered the hook by
    // hand, its timeout action ran, a StopServiceDeployment), the gate stops and nothing is sent.
    const left = new AbortController();
    const finished = new AbortController();
    const gateSignal = deps.signal ? AbortSignal.any([deps.signal, left.signal]) : left.signal;
    const watch = (async () => {
      const sleep = abortableSleep(deps.sleep, AbortSignal.any([gateSignal, finished.signal]));
      for (;;) {
        await sleep(intervalMs);
        if (gateSignal.aborted || finished.signal.aborted) return;
        if (!(await stillAwaiting(state, hook.hookId))) return left.abort();
      }
    })();
    const result = await runGate(gateDeps, gate, { service: t.service, taskDefinitionArn: t.targetArn, signal: gateSignal, stage });
    finished.abort();
    await watch;
    onResult(result);
    printUntrusted(report, gateDiagnosis(result));
    if (result.status === 'passed') {
      await send(state, hook.hookId, 'CONTINUE');
      return undefined;
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
    // Skipped: the pause ended without us, or the run was cancelled while the gate ran. On a cancel nobody
    // vouched for the release, and leaving it paused would hold the service until the hook's own timeout:
    // roll back while it still waits for us.
    if (!left.signal.aborted && (await stillAwaiting(state, hook.hookId))) await send(state, hook.hookId, 'ROLLBACK');
    else report.info(`${t.service}: the deployment left the pause without us (hook ${hook.hookId} acted on elsewhere); nothing sent`);
    return undefined;
  };
}

export function startGates(inputs: Inputs, deps: HookDeps, tracked: Tracked[], before: Map<string, Service>, gateDeps?: Partial<GateDeps>): GateRun {
  const gate = inputs.gate;
  if (!gate || tracked.length === 0) return NO_GATES;
  const { report } = deps;
  const gd: GateDeps = { fetch: globalThis.fetch, spawn, sleep: deps.sleep, now: deps.now, report, ...gateDeps };
  const results: GateResult[] = [];
  const after: Tracked[] = [];
  const hooked: Tracked[] = [];
  for (const t of tracked) {
    const svc = before.get(t.service);
    const hook = pauseHook(svc);
    if (hook && t.serviceDeploymentArn) {
      report.info(`${t.service}: ${svc?.deploymentConfiguration?.strategy} with a PAUSE hook at ${hook.lifecycleStages?.join(', ')}: the gate runs when the deployment pauses there`);
      hooked.push(t);
    } else {
      const why = svc && usesServiceDeployments(svc) ? `${svc.deploymentConfiguration?.strategy} without a PAUSE lifecycle hook` : 'rolling update';
      report.info(`${t.service}: ${why}: the gate runs after the deployment completed (users already get the new revision then)`);
      after.push(t);
    }
  }
  const step = hooked.length ? hookStep(deps, gd, gate, inputs.pollIntervalSeconds * 1000, (r) => results.push(r)) : undefined;
  const hookedNames = new Set(hooked.map((t) => t.service));

  return {
    results,
    nativeStep: step ? (state, t) => (hookedNames.has(t.service) ? step(state, t) : Promise.resolve(undefined)) : undefined,
    async afterWait(waited) {
      const verdicts = waited?.verdicts;
      if (!verdicts || waited.aborted || deps.signal?.aborted) return;
      // A deployment that ended without pausing (hook removed meanwhile, or ECS skipped it) is still checked.
      for (const t of hooked) {
        if (results.some((r) => r.service === t.service) || verdicts.get(t.service)?.state !== 'succeeded') continue;
        report.warning(`${t.service}: the deployment finished without pausing at its PAUSE hook; checking it after the deployment instead.`);
        after.push(t);
      }
      // Post-deploy gates only when every service succeeded: otherwise everything is rolled back anyway.
      const all = [...verdicts.values()];
      if (!after.length || waited.timedOut || waited.pollFailure || !all.every((v) => v.state === 'succeeded')) return;
      await report.group('Test-traffic gate (after the deployment)', async () => {
        const ran = await Promise.all(after.map((t) => runGate(gd, gate, { service: t.service, taskDefinitionArn: t.targetArn, signal: deps.signal, stage: 'after COMPLETED' })));
        for (const r of ran) {
          results.push(r);
          printUntrusted(report, gateDiagnosis(r));
          // Cancelled while the gate ran: nobody vouched for the release, so it counts as cancelled (rolled back).
          if (r.status === 'skipped' && deps.signal?.aborted) verdicts.set(r.service, { state: 'waiting', progress: 'post-deploy gate stopped by the cancel' });
          if (r.status === 'failed') verdicts.set(r.service, { state: 'failed', progress: verdicts.get(r.service)?.progress ?? '', reason: `post-deploy gate failed: ${r.reason}` });
        }
      });
    },
  };
}
