/**
 * After a failed, timed-out or cancelled deployment: the diagnosis, then (rollback-on-failure)
 * every service this run updated back to the revision of its last completed deployment.
 *
 * - ECS already rolling back (circuit breaker, alarms, a native rollback): we follow that
 *   rollback instead of starting a second one that would race it.
 * - ECS-native strategies: StopServiceDeployment (stopType ROLLBACK) — traffic goes back to the
 *   blue revision that is still running; an UpdateService would start a fresh deployment with a
 *   full bake time.
 * - A service another deployer took over is never rolled back: that would overwrite their deploy.
 * The rollback wait ends at the run's deadline (timeout-minutes), or shortly before the runner's
 * kill on a cancel.
 */
import { DescribeServiceDeploymentsCommand, type Service, type ServiceDeployment, type TaskDefinition } from '@aws-sdk/client-ecs';
import { ActionError, describeUnknown } from '../../lib/errors.js';
import { printUntrusted } from '../../lib/report.js';
import type { DeployResult, Deps, ServiceResult } from './deploy-types.js';
import { diagnose, formatDiagnosis, type Diagnosis } from './diagnose.js';
import { gateDiagnosis } from './gate-report.js';
import type { GateResult } from './gate-types.js';
import type { Inputs } from './inputs.js';
import { continueRollbackPauses } from './rollback-pause.js';
import { isEcsRollback, ourDeployment, revisionOf, usesServiceDeployments, type Tracked } from './judge.js';
import { ecsRollingBack, stopWithRollback } from './native.js';
import { mapLimit } from '../../lib/pool.js';
import { describeServices, updateService } from './services.js';
import { waitForDeployments, type WaitOutcome } from './wait.js';

export interface FailureContext {
  tracked: Tracked[];
  waited?: WaitOutcome;
  before: Map<string, Service>;
  previous: Map<string, string>;
  results: ServiceResult[];
  failed: ServiceResult[];
  finalDef: TaskDefinition;
  out: DeployResult;
  /** Milliseconds the rollback wait may take (what is left of the budget, or until the cancel deadline). */
  rollbackBudgetMs: number;
  cancelled: boolean;
  /** Aborts CANCEL_BUDGET_MS after a cancel that comes during the diagnosis or the rollback: the rollback's wait ends there. */
  cancelEnds?: AbortSignal;
}

export async function handleFailure(inputs: Inputs, deps: Deps, ctx: FailureContext): Promise<void> {
  const { report } = deps;
  // A cancel has seconds until the runner kills us: the rollback comes first, no diagnosis.
  ctx.out.diagnoses = ctx.cancelled
    ? []
    : await report.group('Diagnosis', async () => {
        const list = await Promise.all(
          ctx.failed.map((r) => {
            const t = ctx.tracked.find((x) => x.service === r.service);
            // A service whose UpdateService failed has no deployment to look into.
            if (!t)
              return Promise.resolve<Diagnosis>({
                service: r.service,
                reason: r.reason ?? r.result,
                events: [],
                tasks: [],
                logs: [],
                notes: [],
              });
            return diagnose(
              { ecs: deps.ecs, logs: deps.logs },
              {
                cluster: inputs.cluster,
                service: r.service,
                reason: r.reason ?? r.result,
                svc: ctx.waited?.services.get(r.service),
                since: t.startedAt,
                targetArn: t.targetArn,
                deploymentId: t.deploymentId,
                taskDefinition: ctx.finalDef,
                region: deps.region,
              },
            ).catch(
              (err: unknown): Diagnosis => ({
                service: r.service,
                reason: r.reason ?? r.result,
                events: [],
                tasks: [],
                logs: [],
                notes: [`diagnosis failed: ${describeUnknown(err)}`],
              }),
            );
          }),
        );
        // A failed or expired test-traffic gate is the diagnosis that matters most: its probes or command output.
        for (const d of list) {
          const gate = ctx.out.gates?.find((g) => g.service === d.service && (g.status === 'failed' || g.status === 'expired'));
          if (!gate) continue;
          d.gate = gateDiagnosis(gate);
          d.hint ??= gateHint(gate);
        }
        // Events, stopped reasons and log lines come from AWS and the app: printed as data, never as commands.
        printUntrusted(report, list.flatMap(formatDiagnosis));
        return list;
      });

  let rollbackNote = '';
  if (inputs.rollbackOnFailure) {
    const superseded = ctx.results.filter((r) => r.result === 'superseded').map((r) => r.service);
    if (superseded.length) rollbackNote += `; ${superseded.join(', ')} not rolled back: another deployer's deployment is running there`;
    const targets = ctx.tracked.filter((t) => {
      const prev = ctx.previous.get(t.service);
      return prev && prev !== t.targetArn && !superseded.includes(t.service);
    });
    if (targets.length) {
      const { done, note } = await rollBack(inputs, deps, targets, ctx);
      ctx.out.rolledBack = done;
      rollbackNote += note;
    } else if (!superseded.length) {
      const noTarget = ctx.tracked.filter((t) => !ctx.previous.get(t.service)).map((t) => t.service);
      rollbackNote =
        ctx.tracked.length === 0
          ? '; no service had been updated, nothing to roll back'
          : noTarget.length
            ? `; ${noTarget.join(', ')} not rolled back: no deployment that completed successfully is recorded to return to`
            : '; nothing to roll back to (the services ran this revision before)';
    }
  }
  const head = ctx.failed.map((r) => `${r.service}: ${r.reason ?? r.result}`).join('; ');
  const detail = ctx.out.diagnoses
    .flatMap((d) =>
      formatDiagnosis(d)
        .filter((l) => l.startsWith('  stopped'))
        .slice(0, 2),
    )
    .join('\n');
  const what = ctx.cancelled ? 'was cancelled' : ctx.out.status === 'timed-out' ? 'timed out' : 'failed';
  // Cancelled after the failure or the timeout, during its diagnosis or rollback: the annotation says both.
  if (!ctx.cancelled && deps.signal?.aborted) rollbackNote += '; the workflow was cancelled during the rollback';
  ctx.out.error = new ActionError(
    `Deployment of ${revisionOf(ctx.out.taskDefinitionArn)} ${what}: ${head}${rollbackNote}${detail ? `\n${detail}` : ''}`,
    {
      fix: ctx.cancelled
        ? 'The workflow was cancelled; re-run it to deploy again (a re-run starts a new deployment, the service is not left half-deployed).'
        : (ctx.out.diagnoses.find((d) => d.hint)?.hint ?? 'See the diagnosis in the log and the step summary.'),
    },
  );
}

/** The service and its service deployment now; the wait's last view when reading fails. */
async function freshState(
  deps: Deps,
  cluster: string,
  t: Tracked,
  ctx: FailureContext,
): Promise<{ svc?: Service; sd?: ServiceDeployment }> {
  let svc = ctx.waited?.services.get(t.service) ?? ctx.before.get(t.service);
  let sd = ctx.waited?.serviceDeployments.get(t.service);
  try {
    svc = (await describeServices(deps.ecs, cluster, [t.service])).found.get(t.service) ?? svc;
    if (t.serviceDeploymentArn && svc && usesServiceDeployments(svc)) {
      sd =
        (await deps.ecs.send(new DescribeServiceDeploymentsCommand({ serviceDeploymentArns: [t.serviceDeploymentArn] })))
          .serviceDeployments?.[0] ?? sd;
    }
  } catch (err) {
    deps.report.warning(
      `${t.service}: could not read the service again before the rollback (${describeUnknown(err)}); using the last state seen`,
    );
  }
  return { svc, sd };
}

/** Starts the rollback of one service; returns what to follow, or why it could not start. */
async function startRollback(inputs: Inputs, deps: Deps, t: Tracked, ctx: FailureContext): Promise<Tracked | string> {
  const { report } = deps;
  const prev = ctx.previous.get(t.service)!;
  const verdict = ctx.waited?.verdicts.get(t.service);
  // The wait's last poll can predate ECS's own rollback (the circuit breaker's rollback deployment, a
  // ROLLBACK sent at a pause hook): read the state again, so we follow that rollback instead of racing it.
  const { svc: now, sd } = await freshState(deps, inputs.cluster, t, ctx);
  try {
    if (t.serviceDeploymentArn && now && usesServiceDeployments(now) && sd?.status !== 'SUCCESSFUL') {
      if (ecsRollingBack(sd)) {
        report.info(`${t.service}: ECS is already rolling the service deployment back (${sd!.status}); following it`);
        return { ...t, follow: 'sd-rollback', targetArn: prev, startedAt: deps.now() };
      }
      report.info(`${t.service}: StopServiceDeployment (ROLLBACK) ${t.serviceDeploymentArn}`);
      try {
        await stopWithRollback(deps.ecs, t.serviceDeploymentArn);
        return { ...t, follow: 'sd-rollback', targetArn: prev, startedAt: deps.now() };
      } catch (err) {
        // No permission / no API / already finished: an UpdateService back is still a rollback.
        report.warning(`${t.service}: StopServiceDeployment failed (${describeUnknown(err)}); rolling back with UpdateService instead`);
      }
    }
    const primary = now?.deployments?.find((d) => d.status === 'PRIMARY');
    const ecsRollsBack =
      (verdict?.state === 'failed' && verdict.replaced?.by === 'ecs-rollback') ||
      (primary && now && isEcsRollback(primary, ourDeployment(t, now), now, t.startedAt));
    if (ecsRollsBack && primary && primary.taskDefinition === prev && primary.id !== t.deploymentId) {
      // The circuit breaker already rolls back: follow its deployment instead of starting another.
      report.info(`${t.service}: ECS is already rolling back to ${revisionOf(prev)} (deployment ${primary.id}); following it`);
      return { service: t.service, deploymentId: primary.id, targetArn: prev, startedAt: deps.now() };
    }
    report.info(`${t.service}: rolling back to ${prev}`);
    const b = ctx.before.get(t.service)!;
    return await updateService(
      deps.ecs,
      inputs.cluster,
      {
        service: t.service,
        taskDefinition: prev,
        forceNewDeployment: false,
        desiredCount: inputs.desiredCount !== undefined ? b.desiredCount : undefined,
      },
      deps.now,
    );
  } catch (err) {
    report.warning(`${t.service}: the rollback could not be started: ${describeUnknown(err)}`);
    return `the rollback could not be started (${describeUnknown(err)})`;
  }
}

async function rollBack(inputs: Inputs, deps: Deps, targets: Tracked[], ctx: FailureContext): Promise<{ done: boolean; note: string }> {
  const { report } = deps;
  return report.group('Roll back', async () => {
    const started = await mapLimit(targets, inputs.maxParallel, (t) => startRollback(inputs, deps, t, ctx));
    const follow = started.filter((s): s is Tracked => typeof s !== 'string');
    const waited = follow.length
      ? await waitForDeployments({ ecs: deps.ecs, report, sleep: deps.sleep, now: deps.now, signal: ctx.cancelEnds }, follow, {
          cluster: inputs.cluster,
          intervalMs: inputs.pollIntervalSeconds * 1000,
          timeoutMs: Math.max(0, ctx.rollbackBudgetMs),
          maxFailedTasks: inputs.maxFailedTasks,
          label: 'rollback',
          nativeStep: continueRollbackPauses(deps),
        })
      : undefined;
    const notes: string[] = [];
    let all = true;
    for (const [i, t] of targets.entries()) {
      const s = started[i]!;
      const res = ctx.results.find((x) => x.service === t.service)!;
      const prev = ctx.previous.get(t.service)!;
      const v = typeof s === 'string' ? undefined : waited?.verdicts.get(t.service);
      const ok = v?.state === 'succeeded';
      all &&= ok;
      res.result = ok ? 'rolled back' : 'rollback failed';
      if (ok) notes.push(`${t.service} rolled back to ${prev}`);
      else if (typeof s === 'string') notes.push(`${t.service}: ${s}`);
      else if (v?.state === 'failed' || v?.state === 'superseded') notes.push(`${t.service} rollback to ${prev} failed (${v.reason})`);
      else
        notes.push(
          `${t.service} rollback to ${prev} started but not confirmed ` +
            `${ctx.cancelled || deps.signal?.aborted ? 'before the runner stops this step' : 'within timeout-minutes'}; ECS carries it on ` +
            `(${v?.progress ?? 'no state yet'})`,
        );
    }
    return { done: all, note: `; ${notes.join('; ')}` };
  });
}

function gateHint(gate: GateResult): string {
  if (gate.status === 'expired')
    return (
      "The pause ended before the gate passed (the hook's timeout, or a CONTINUE from elsewhere): make the hook's timeoutConfiguration longer " +
      'than gate-timeout-seconds, or the gate faster; see where the gate was when the pause ended.'
    );
  return gate.command
    ? 'The new revision failed the gate command: see its exit code and last lines.'
    : "The new revision failed the test-traffic gate: see each URL's status codes; check the app's health endpoint and the test listener's routing.";
}
