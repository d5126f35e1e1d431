/**
 * Pure decision logic: is the deployment our UpdateService created done,
 * failed, or still going? No AWS calls here, so every rule is unit-tested.
 *
 * "Done" means:
 * - rolling update: our deployment (by id) is PRIMARY and its rolloutState is
 *   COMPLETED; without rollout states (old accounts, CODE_DEPLOY-less
 *   services that do not report them), running = desired with one deployment left.
 * - ECS-native blue/green (deploymentConfiguration.strategy BLUE_GREEN, also
 *   LINEAR/CANARY): the service deployment is SUCCESSFUL, i.e. traffic shifted
 *   and the bake time is over (DescribeServiceDeployments).
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
}

export type Verdict =
  | { state: 'waiting'; progress: string }
  | { state: 'succeeded'; progress: string }
  | { state: 'failed'; progress: string; reason: string; rolledBackByEcs?: string };

export const revisionOf = (arn: string | undefined): string => (arn ? (arn.split('/').pop() ?? arn) : '(none)');

export function ageText(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}

/** The state of a deployment in one line (without its age, so equal lines mean "nothing changed"). */
function progressLine(d: Deployment | undefined, sd: ServiceDeployment | undefined): string {
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

export function judge(t: Tracked, svc: Service | undefined, opts: { maxFailedTasks: number; sd?: ServiceDeployment }): Verdict {
  if (!svc || (svc.status && svc.status !== 'ACTIVE')) {
    return { state: 'failed', progress: `service is ${svc?.status ?? 'missing'}`, reason: `service ${t.service} is ${svc?.status ?? 'missing'}` };
  }
  const ours = ourDeployment(t, svc);
  const primary = svc.deployments?.find((d) => d.status === 'PRIMARY');
  const progress = progressLine(ours ?? primary, opts.sd);
  const sd = opts.sd;

  if (sd) {
    switch (sd.status) {
      case 'SUCCESSFUL':
        return { state: 'succeeded', progress };
      case 'ROLLBACK_REQUESTED':
      case 'ROLLBACK_IN_PROGRESS':
      case 'ROLLBACK_SUCCESSFUL':
      case 'ROLLBACK_FAILED': {
        const to = sd.sourceServiceRevisions?.[0]?.arn;
        return { state: 'failed', progress, reason: `ECS rolled the deployment back (${sd.status})${sd.statusReason ? `: ${sd.statusReason}` : ''}`, rolledBackByEcs: to ?? 'previous revision' };
      }
      case 'STOPPED':
      case 'STOP_REQUESTED':
        return { state: 'failed', progress, reason: `the service deployment was stopped${sd.statusReason ? `: ${sd.statusReason}` : ''}` };
      default:
        break;
    }
  }

  if (!sd && (!ours || (primary && primary.id !== ours.id))) {
    if (primary && primary.taskDefinition !== t.targetArn) {
      // The circuit breaker (or an alarm) made an older revision PRIMARY again: that is a failure, not success.
      return {
        state: 'failed',
        progress,
        reason: `ECS rolled back to ${revisionOf(primary.taskDefinition)} (circuit breaker)${ours?.rolloutStateReason ? `: ${ours.rolloutStateReason}` : ''}`,
        rolledBackByEcs: primary.taskDefinition,
      };
    }
    if (!ours) return { state: 'failed', progress, reason: `our deployment ${t.deploymentId ?? ''} disappeared (another deployment replaced it)` };
    return { state: 'failed', progress, reason: `another deployment (${primary?.id}) replaced ours` };
  }
  if (ours?.rolloutState === 'FAILED') {
    return { state: 'failed', progress, reason: `rollout FAILED${ours.rolloutStateReason ? `: ${ours.rolloutStateReason}` : ''}` };
  }
  if (opts.maxFailedTasks > 0 && (ours?.failedTasks ?? 0) >= opts.maxFailedTasks) {
    return { state: 'failed', progress, reason: `${ours!.failedTasks} task(s) of ${revisionOf(t.targetArn)} stopped (max-failed-tasks ${opts.maxFailedTasks})` };
  }
  if (sd) return { state: 'waiting', progress };
  // COMPLETED alone is not enough after a scale-only update (desired-count with the same revision):
  // the deployment stays COMPLETED from before while the new tasks start.
  if (ours?.rolloutState === 'COMPLETED' && (ours.runningCount ?? 0) >= (ours.desiredCount ?? 0)) return { state: 'succeeded', progress };
  if (!ours?.rolloutState && ours && (svc.deployments?.length ?? 0) === 1 && ours.runningCount === ours.desiredCount) {
    return { state: 'succeeded', progress };
  }
  return { state: 'waiting', progress };
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
