/**
 * Pure decision logic for rolling deployments: is the deployment our UpdateService created
 * done, failed, rolled back by ECS, or replaced by someone else's? No AWS calls here, so every
 * rule is unit-tested. ECS-native strategies (BLUE_GREEN / LINEAR / CANARY) are judged in
 * native.ts by their service deployment.
 *
 * "Done" for a rolling update: our deployment (by id) is PRIMARY, its rolloutState is COMPLETED
 * and it runs its desired count; without rollout states (old accounts) running = desired with
 * one deployment left.
 */
import type { Deployment, Service, ServiceDeployment } from '@aws-sdk/client-ecs';

export interface Tracked {
  service: string;
  /** The deployment our UpdateService created (`ecs-svc/…`), when ECS returned it. */
  deploymentId?: string;
  /** The service deployment ARN (DescribeServiceDeployments), when the service has one. */
  serviceDeploymentArn?: string;
  targetArn: string;
  startedAt: number;
  /** What is followed: our rollout (default), or a rollback (ours or ECS's) of a service deployment. */
  follow?: 'rollout' | 'sd-rollback';
}

/** Who replaced our deployment when it is no longer PRIMARY. */
interface Replacement {
  by: 'ecs-rollback' | 'other-deployer';
  deploymentId?: string;
  taskDefinition?: string;
}

export type Verdict =
  | { state: 'waiting'; progress: string }
  | { state: 'succeeded'; progress: string }
  | { state: 'failed'; progress: string; reason: string; replaced?: Replacement }
  /** Another deployer's deployment took over the service: never rolled back over. */
  | { state: 'superseded'; progress: string; reason: string; replaced: Replacement };

export const revisionOf = (arn: string | undefined): string => (arn ? (arn.split('/').pop() ?? arn) : '(none)');

export function ageText(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}

/** The state of a deployment in one line (without its age, so equal lines mean "nothing changed"). */
export function progressLine(d: Deployment | undefined, sd: ServiceDeployment | undefined): string {
  const counts = d ? `running ${d.runningCount ?? 0}/${d.desiredCount ?? 0}, pending ${d.pendingCount ?? 0}` : 'no deployment';
  const state = sd?.status ? `${sd.status}${sd.lifecycleStage ? ` (${sd.lifecycleStage})` : ''}` : (d?.rolloutState ?? 'no rollout state');
  const failed = d?.failedTasks ? `, ${d.failedTasks} failed task(s)` : '';
  return `${counts}${failed}, ${state}`;
}

/** Picks our deployment out of the service: by id, else (no id returned) the newest with our task definition. */
export function ourDeployment(t: Tracked, svc: Service): Deployment | undefined {
  const list = svc.deployments ?? [];
  if (t.deploymentId) return list.find((d) => d.id === t.deploymentId);
  return list.filter((d) => d.taskDefinition === t.targetArn).sort((a, b) => Number(b.createdAt ?? 0) - Number(a.createdAt ?? 0))[0];
}

/**
 * The circuit breaker's rollback deployment says so in its rolloutStateReason ("ECS deployment
 * circuit breaker: rolling back to deploymentId ecs-svc/…") and in a service event ("rolling back
 * to deployment …"); our own deployment is FAILED. Anything else that took PRIMARY from us is
 * another deployer (a second pipeline, a console user, an IaC apply).
 */
export function isEcsRollback(primary: Deployment, ours: Deployment | undefined, svc: Service, since: number): boolean {
  if (/rolling back to deployment/i.test(primary.rolloutStateReason ?? '')) return true;
  if (ours?.rolloutState === 'FAILED') return true;
  return (svc.events ?? []).some(
    (e) => (e.createdAt?.getTime() ?? 0) >= since - 1000 && /rolling back to deployment/i.test(e.message ?? ''),
  );
}

export function judge(t: Tracked, svc: Service | undefined, opts: { maxFailedTasks: number; sd?: ServiceDeployment }): Verdict {
  if (!svc || (svc.status && svc.status !== 'ACTIVE')) {
    return {
      state: 'failed',
      progress: `service is ${svc?.status ?? 'missing'}`,
      reason: `service ${t.service} is ${svc?.status ?? 'missing'}`,
    };
  }
  const ours = ourDeployment(t, svc);
  const primary = svc.deployments?.find((d) => d.status === 'PRIMARY');
  const progress = progressLine(ours ?? primary, opts.sd);

  if (primary && (!ours || primary.id !== ours.id)) {
    if (isEcsRollback(primary, ours, svc, t.startedAt)) {
      return {
        state: 'failed',
        progress,
        reason: `ECS rolled back to ${revisionOf(primary.taskDefinition)} (circuit breaker)${ours?.rolloutStateReason ? `: ${ours.rolloutStateReason}` : ''}`,
        replaced: { by: 'ecs-rollback', deploymentId: primary.id, taskDefinition: primary.taskDefinition },
      };
    }
    return {
      state: 'superseded',
      progress,
      reason: `another deployment (${primary.id}, ${revisionOf(primary.taskDefinition)}) replaced ours: someone else deployed this service`,
      replaced: { by: 'other-deployer', deploymentId: primary.id, taskDefinition: primary.taskDefinition },
    };
  }
  if (!ours) return { state: 'failed', progress, reason: `our deployment ${t.deploymentId ?? ''} is not listed by the service` };
  if (ours.rolloutState === 'FAILED') {
    return { state: 'failed', progress, reason: `rollout FAILED${ours.rolloutStateReason ? `: ${ours.rolloutStateReason}` : ''}` };
  }
  if (opts.maxFailedTasks > 0 && (ours.failedTasks ?? 0) >= opts.maxFailedTasks) {
    return {
      state: 'failed',
      progress,
      reason: `${ours.failedTasks} task(s) of ${revisionOf(t.targetArn)} stopped (max-failed-tasks ${opts.maxFailedTasks})`,
    };
  }
  // COMPLETED alone is not enough after a scale-only update (desired-count with the same revision):
  // the deployment stays COMPLETED from before while the new tasks start.
  if (ours.rolloutState === 'COMPLETED' && (ours.runningCount ?? 0) >= (ours.desiredCount ?? 0)) return { state: 'succeeded', progress };
  if (!ours.rolloutState && (svc.deployments?.length ?? 0) === 1 && ours.runningCount === ours.desiredCount)
    return { state: 'succeeded', progress };
  return { state: 'waiting', progress };
}

/**
 * Is the service steady on `arn`? Only then is a run "unchanged": one deployment, of `arn`,
 * COMPLETED (or no rollout state at all), running = desired. Otherwise says why not.
 */
export function steadyOn(svc: Service, arn: string): { steady: true } | { steady: false; why: string } {
  const deployments = svc.deployments ?? [];
  const primary = deployments.find((d) => d.status === 'PRIMARY');
  if (svc.taskDefinition !== arn || primary?.taskDefinition !== arn)
    return { steady: false, why: `it runs ${revisionOf(svc.taskDefinition)}` };
  if (primary.rolloutState && primary.rolloutState !== 'COMPLETED') {
    return {
      steady: false,
      why: `its deployment of ${revisionOf(arn)} is ${primary.rolloutState}${primary.rolloutStateReason ? ` (${primary.rolloutStateReason})` : ''}`,
    };
  }
  const others = deployments.filter((d) => d !== primary);
  if (others.length) {
    const listed = others.map((d) => `${revisionOf(d.taskDefinition)} ${d.rolloutState ?? d.status}`).join(', ');
    return { steady: false, why: `${others.length} other deployment(s) still active (${listed})` };
  }
  if ((svc.runningCount ?? 0) !== (svc.desiredCount ?? 0))
    return { steady: false, why: `it runs ${svc.runningCount ?? 0} of ${svc.desiredCount ?? 0} tasks` };
  return { steady: true };
}

/** DescribeServices takes at most 10 services per call. */
export function batches<T>(items: T[], size = 10): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Uses the service deployments API for strategies whose "done" is not a rollout state. */
export function usesServiceDeployments(svc: Service): boolean {
  const strategy = svc.deploymentConfiguration?.strategy;
  return strategy === 'BLUE_GREEN' || strategy === 'LINEAR' || strategy === 'CANARY';
}
