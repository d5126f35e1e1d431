/**
 * Where the test-traffic gate runs in a deploy (issue 11).
 *
 * - ECS-native strategies (BLUE_GREEN, LINEAR, CANARY) with a PAUSE lifecycle hook: a driver beside the
 *   wait polls DescribeServiceDeployments, prints each lifecycle stage, and whenever a PAUSE hook is
 *   AWAITING_ACTION (lifecycleHookDetails) runs the gate and answers ContinueServiceDeployment with
 *   CONTINUE, or ROLLBACK when the gate failed or timed out. The wait keeps judging the deployment
 *   until it ends (SUCCESSFUL, or ROLLBACK_* after our ROLLBACK).
 * - Without a PAUSE hook (rolling, or a native service without one): the gate runs after the deployment
 *   completed; a failure turns the service's verdict into a failure, which the deploy rolls back like
 *   any other, with the gate's result in the log, the error and the step summary.
 */
import { spawn } from 'node:child_process';
import { ContinueServiceDeploymentCommand, DescribeServiceDeploymentsCommand, type Service, type ServiceDeployment } from '@aws-sdk/client-ecs';
import { describeUnknown } from '../../lib/errors.js';
import type { Deps } from './deploy.js';
import { gateDiagnosis, runGate, type GateDeps, type GateResult } from './gate.js';
import type { GateInputs } from './gate-inputs.js';
import type { Inputs } from './inputs.js';
import { usesServiceDeployments, type Tracked } from './judge.js';
import { describeServices } from './services.js';
import type { WaitOutcome } from './wait.js';

export interface GateRun {
  /** Every gate run, in the order they finished (a LINEAR deployment can pause several times). */
  results: GateResult[];
  /** After the wait: stops the hook drivers, runs the post-deploy gates, turns gate failures into failed verdicts. */
  finish(waited: WaitOutcome | undefined): Promise<void>;
}

type HookDeps = Pick<Deps, 'ecs' | 'report' | 'sleep' | 'now'>;

/** The PAUSE hook of a service's deployment configuration, if it has one. */
export function pauseHook(svc: Service | undefined): { lifecycleStages?: string[] } | undefined {
  if (!svc || !usesServiceDeployments(svc)) return undefined;
  return svc.deploymentConfiguration?.lifecycleHooks?.find((h) => h.targetType === 'PAUSE');
}

/**
 * Follows one service deployment: stage changes, and a gate for each PAUSE hook that awaits action.
 * Returns when the deployment ends or `signal` aborts; a hook still paused then is answered with ROLLBACK.
 */
export async function driveHooks(
  deps: HookDeps,
  gateDeps: GateDeps,
  gate: GateInputs,
  t: Tracked & { serviceDeploymentArn: string },
  opts: { intervalMs: number; signal: AbortSignal; onResult: (r: GateResult) => void },
): Promise<void> {
  const { report } = deps;
  const handled = new Set<string>();
  let lastStage = '';
  let errors = 0;
  const send = async (hookId: string, action: 'CONTINUE' | 'ROLLBACK') => {
    try {
      await deps.ecs.send(new ContinueServiceDeploymentCommand({ serviceDeploymentArn: t.serviceDeploymentArn, hookId, action }));
      report.info(`${t.service}: ContinueServiceDeployment ${action} sent for hook ${hookId}`);
    } catch (err) {
      report.warning(`${t.service}: ContinueServiceDeployment ${action} failed (${describeUnknown(err)}); the hook's own timeout action applies.`);
    }
  };
  const stillAwaiting = async (hookId: string): Promise<boolean> => {
    try {
      const now = (await deps.ecs.send(new DescribeServiceDeploymentsCommand({ serviceDeploymentArns: [t.serviceDeploymentArn] }))).serviceDeployments?.[0];
      return now?.status === 'IN_PROGRESS' && !!now.lifecycleHookDetails?.some((h) => h.hookId === hookId && h.status === 'AWAITING_ACTION');
    } catch {
      return true;
    }
  };
  while (!opts.signal.aborted) {
    let sd: ServiceDeployment | undefined;
    try {
      sd = (await deps.ecs.send(new DescribeServiceDeploymentsCommand({ serviceDeploymentArns: [t.serviceDeploymentArn] }))).serviceDeployments?.[0];
      errors = 0;
    } catch (err) {
      errors += 1;
      if (errors >= 5) {
        report.warning(`${t.service}: DescribeServiceDeployments keeps failing (${describeUnknown(err)}); no longer following the lifecycle hooks.`);
        return;
      }
    }
    if (sd) {
      const stage = `${sd.lifecycleStage ?? 'no stage'} (${sd.status})`;
      if (stage !== lastStage) report.info(`${t.service}: lifecycle stage ${stage}`);
      lastStage = stage;
      if (sd.status !== 'IN_PROGRESS' && sd.status !== 'PENDING') return;
      const hook = sd.lifecycleHookDetails?.find((h) => h.targetType === 'PAUSE' && h.status === 'AWAITING_ACTION' && h.hookId && !handled.has(h.hookId));
      if (hook) {
        handled.add(hook.hookId!);
        report.info(`${t.service}: paused at ${sd.lifecycleStage} (hook ${hook.hookId}, ECS ${hook.timeoutAction ?? 'ROLLBACK'}s it at ${hook.expiresAt?.toISOString() ?? 'its timeout'}); running the gate against ${t.targetArn.split('/').pop()}`);
        const result = await runGate(gateDeps, gate, { service: t.service, taskDefinitionArn: t.targetArn, signal: opts.signal, stage: `${sd.lifecycleStage} pause hook` });
        opts.onResult(result);
        if (result.status === 'passed') await send(hook.hookId!, 'CONTINUE');
        else if (result.status === 'failed') await send(hook.hookId!, 'ROLLBACK');
        else if (await stillAwaiting(hook.hookId!)) {
          // The run ends (timeout, another service failed) with our release still paused: nobody vouched
          // for it, and leaving it paused would hold the service until the hook's own timeout.
          await send(hook.hookId!, 'ROLLBACK');
        } else {
          report.info(`${t.service}: the deployment left the pause without us (${hook.hookId} acted on elsewhere); nothing sent`);
        }
        continue;
      }
    }
    await deps.sleep(opts.intervalMs);
  }
}

const NO_GATES: GateRun = { results: [], finish: async () => undefined };

export function startGates(inputs: Inputs & { gate?: GateInputs }, deps: HookDeps, tracked: Tracked[], before: Map<string, Service>, gateDeps?: Partial<GateDeps>): GateRun {
  const gate = inputs.gate;
  if (!gate || tracked.length === 0) return NO_GATES;
  const { report } = deps;
  const gd: GateDeps = { fetch: globalThis.fetch, spawn, sleep: deps.sleep, now: deps.now, report, ...gateDeps };
  const results: GateResult[] = [];
  const abort = new AbortController();
  const drivers: Promise<void>[] = [];
  const after: Tracked[] = [];
  const hooked: Tracked[] = [];
  for (const t of tracked) {
    const svc = before.get(t.service);
    const hook = pauseHook(svc);
    if (hook && t.serviceDeploymentArn) {
      report.info(`${t.service}: ${svc?.deploymentConfiguration?.strategy} with a PAUSE hook at ${hook.lifecycleStages?.join(', ')}: the gate runs when the deployment pauses there`);
      const arn = t.serviceDeploymentArn;
      hooked.push(t);
      drivers.push(driveHooks(deps, gd, gate, { ...t, serviceDeploymentArn: arn }, { intervalMs: inputs.pollIntervalSeconds * 1000, signal: abort.signal, onResult: (r) => results.push(r) }));
    } else {
      const why = svc && usesServiceDeployments(svc) ? `${svc.deploymentConfiguration?.strategy} without a PAUSE lifecycle hook` : 'rolling update';
      report.info(`${t.service}: ${why}: the gate runs after the deployment completed (users already get the new revision then)`);
      after.push(t);
    }
  }

  return {
    results,
    async finish(waited) {
      abort.abort();
      await Promise.all(drivers);
      const verdicts = waited?.verdicts;
      if (!verdicts) return;
      // A gate that failed at a pause hook: ECS is rolling the deployment back; say why, and refresh the
      // service (the wait's last DescribeServices may predate our ROLLBACK), so the deploy's rollback step
      // follows ECS's rollback deployment instead of starting another.
      const hookFailures = results.filter((x) => x.status === 'failed');
      if (hookFailures.length) {
        const { found } = await describeServices(deps.ecs, inputs.cluster, [...new Set(hookFailures.map((r) => r.service))]).catch(() => ({ found: new Map<string, Service>() }));
        for (const [name, svc] of found) waited.services.set(name, svc);
      }
      for (const r of hookFailures) {
        const v = verdicts.get(r.service);
        if (v) verdicts.set(r.service, { state: 'failed', progress: v.progress, reason: `test-traffic gate failed at the ${r.stage}: ${r.reason}; ROLLBACK sent`, ...(v.state === 'failed' && v.rolledBackByEcs ? { rolledBackByEcs: v.rolledBackByEcs } : {}) });
      }
      // A deployment that ended without pausing (hook removed meanwhile, or ECS skipped it) is still checked.
      for (const t of hooked) {
        if (results.some((r) => r.service === t.service) || verdicts.get(t.service)?.state !== 'succeeded') continue;
        report.warning(`${t.service}: the deployment finished without pausing at its PAUSE hook; checking it after the deployment instead.`);
        after.push(t);
      }
      // Post-deploy gates only when every service succeeded: otherwise everything is rolled back anyway.
      const all = [...verdicts.values()];
      if (after.length && !waited.timedOut && all.every((v) => v.state === 'succeeded')) {
        await report.group('Test-traffic gate (after the deployment)', async () => {
          const ran = await Promise.all(after.map((t) => runGate(gd, gate, { service: t.service, taskDefinitionArn: t.targetArn, stage: 'after COMPLETED' })));
          for (const r of ran) {
            results.push(r);
            if (r.status !== 'failed') continue;
            for (const line of gateDiagnosis(r)) report.info(line);
            verdicts.set(r.service, { state: 'failed', progress: verdicts.get(r.service)?.progress ?? '', reason: `post-deploy gate failed: ${r.reason}` });
          }
        });
      }
      for (const r of results.filter((x) => x.status === 'failed' && x.stage !== 'after COMPLETED')) for (const line of gateDiagnosis(r)) report.info(line);
    },
  };
}
