/**
 * After a failed or timed-out deployment: the diagnosis, then (rollback-on-failure) every
 * updated service back to the revision it ran before this run, waited for like the rollout.
 */
import type { Service, TaskDefinition } from '@aws-sdk/client-ecs';
import { ActionError } from '../../lib/errors.js';
import type { DeployResult, Deps, ServiceResult } from './deploy.js';
import { diagnose, formatDiagnosis, type Diagnosis } from './diagnose.js';
import type { Inputs } from './inputs.js';
import { revisionOf, type Tracked } from './judge.js';
import { mapLimit, updateService } from './services.js';
import { waitForDeployments, type WaitOutcome } from './wait.js';

export async function handleFailure(
  inputs: Inputs,
  deps: Deps,
  ctx: { tracked: Tracked[]; waited?: WaitOutcome; before: Map<string, Service>; previous: Map<string, string>; results: ServiceResult[]; failed: ServiceResult[]; finalDef: TaskDefinition; out: DeployResult },
): Promise<void> {
  const { report } = deps;
  ctx.out.diagnoses = await report.group('Diagnosis', async () => {
    const list = await Promise.all(
      ctx.failed.map((r) => {
        const t = ctx.tracked.find((x) => x.service === r.service);
        // A service whose UpdateService failed has no deployment to look into.
        if (!t) return Promise.resolve<Diagnosis>({ service: r.service, reason: r.reason ?? r.result, events: [], tasks: [], logs: [], notes: [] });
        return diagnose(
          { ecs: deps.ecs, logs: deps.logs },
          { cluster: inputs.cluster, service: r.service, reason: r.reason ?? r.result, svc: ctx.waited?.services.get(r.service), since: t.startedAt, targetArn: t.targetArn, deploymentId: t.deploymentId, taskDefinition: ctx.finalDef, region: deps.region },
        );
      }),
    );
    for (const d of list) for (const line of formatDiagnosis(d)) report.info(line);
    return list;
  });

  let rollbackNote = '';
  if (inputs.rollbackOnFailure) {
    const targets = ctx.tracked.filter((t) => {
      const prev = ctx.previous.get(t.service);
      return prev && prev !== t.targetArn;
    });
    if (targets.length) {
      const { done, note } = await rollBack(inputs, deps, targets, ctx);
      ctx.out.rolledBack = done;
      rollbackNote = note;
    } else {
      rollbackNote = '; nothing to roll back to (the services ran this revision before)';
    }
  }
  const head = ctx.failed.map((r) => `${r.service}: ${r.reason ?? r.result}`).join('; ');
  const detail = ctx.out.diagnoses.flatMap((d) => formatDiagnosis(d).filter((l) => l.startsWith('  stopped')).slice(0, 2)).join('\n');
  ctx.out.error = new ActionError(`Deployment of ${revisionOf(ctx.out.taskDefinitionArn)} ${ctx.out.status === 'timed-out' ? 'timed out' : 'failed'}: ${head}${rollbackNote}${detail ? `\n${detail}` : ''}`, {
    fix: ctx.out.diagnoses.find((d) => d.hint)?.hint ?? 'See the diagnosis in the log and the step summary.',
  });
}

async function rollBack(
  inputs: Inputs,
  deps: Deps,
  targets: Tracked[],
  ctx: { waited?: WaitOutcome; before: Map<string, Service>; previous: Map<string, string>; results: ServiceResult[] },
): Promise<{ done: boolean; note: string }> {
  const { report } = deps;
  return report.group('Roll back', async () => {
    const rollbacks = await mapLimit(targets, inputs.maxParallel, async (t): Promise<Tracked> => {
      const b = ctx.before.get(t.service)!;
      const prev = ctx.previous.get(t.service)!;
      const now = ctx.waited?.services.get(t.service);
      const primary = now?.deployments?.find((d) => d.status === 'PRIMARY');
      if (primary && primary.taskDefinition === prev && primary.id !== t.deploymentId) {
        // The circuit breaker already rolled back: follow its deployment instead of starting another.
        report.info(`${t.service}: ECS is already rolling back to ${revisionOf(prev)} (deployment ${primary.id})`);
        return { service: t.service, deploymentId: primary.id, targetArn: prev, startedAt: deps.now() };
      }
      report.info(`${t.service}: rolling back to ${prev}`);
      return updateService(
        deps.ecs,
        inputs.cluster,
        { service: t.service, taskDefinition: prev, forceNewDeployment: false, desiredCount: inputs.desiredCount !== undefined ? b.desiredCount : undefined },
        deps.now,
      );
    });
    const waited = await waitForDeployments({ ecs: deps.ecs, report, sleep: deps.sleep, now: deps.now }, rollbacks, {
      cluster: inputs.cluster,
      intervalMs: inputs.pollIntervalSeconds * 1000,
      timeoutMs: inputs.timeoutMinutes * 60_000,
      maxFailedTasks: inputs.maxFailedTasks,
      label: 'rollback',
    });
    const notes: string[] = [];
    let all = true;
    for (const r of rollbacks) {
      const v = waited.verdicts.get(r.service);
      const ok = v?.state === 'succeeded';
      all &&= ok;
      const res = ctx.results.find((x) => x.service === r.service)!;
      res.result = ok ? 'rolled back' : 'rollback failed';
      notes.push(ok ? `${r.service} rolled back to ${r.targetArn}` : `${r.service} rollback to ${r.targetArn} did not finish (${v?.state === 'failed' ? v.reason : 'timed out'})`);
    }
    return { done: all, note: `; ${notes.join('; ')}` };
  });
}
