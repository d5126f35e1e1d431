/**
 * ECS-native strategies (BLUE_GREEN, LINEAR, CANARY): judged by the service deployment
 * (DescribeServiceDeployments `status` and `lifecycleStage`), not by rollout states, and rolled
 * back with StopServiceDeployment (stopType ROLLBACK), which shifts traffic back to the blue
 * revision that is still running, instead of an UpdateService that would start a fresh
 * deployment with a full bake time.
 *
 * "Done" for every native strategy is status SUCCESSFUL: production traffic fully shifted (all at
 * once for BLUE_GREEN, in steps for LINEAR, canary share then the rest for CANARY), the
 * deployment bake time over and the blue revision cleaned up.
 *
 * Each poll produces a NativePollState (arn, status, lifecycleStage): a step that acts on a
 * lifecycle hook waiting for action (test-traffic gates) can be inserted where judgeNative is called
 * (wait.ts, `nativeStep`).
 * Sources: https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ServiceDeployment.html,
 * https://docs.aws.amazon.com/AmazonECS/latest/developerguide/stop-service-deployment.html.
 */
import { StopServiceDeploymentCommand, type ECSClient, type Service, type ServiceDeployment } from '@aws-sdk/client-ecs';
import { ourDeployment, progressLine, revisionOf, type Tracked, type Verdict } from './judge.js';

/** What one poll knows about a native deployment. */
export interface NativePollState {
  service: string;
  serviceDeploymentArn: string;
  status?: string;
  lifecycleStage?: string;
  statusReason?: string;
  /** The revision ECS rolls back to (ServiceDeployment.rollback.serviceRevisionArn). */
  rollbackTo?: string;
  /** Lifecycle hooks that ran or wait (lifecycleHookDetails): a PAUSE hook AWAITING_ACTION holds the deployment. */
  hooks: { hookId: string; targetType?: string; status?: string; expiresAt?: Date; timeoutAction?: string }[];
}

export function nativeState(service: string, sd: ServiceDeployment): NativePollState {
  return {
    service,
    serviceDeploymentArn: sd.serviceDeploymentArn ?? '',
    status: sd.status,
    lifecycleStage: sd.lifecycleStage,
    statusReason: sd.statusReason,
    rollbackTo: sd.rollback?.serviceRevisionArn,
    hooks: (sd.lifecycleHookDetails ?? [])
      .filter((h) => h.hookId)
      .map((h) => ({
        hookId: h.hookId!,
        targetType: h.targetType,
        status: h.status,
        expiresAt: h.expiresAt,
        timeoutAction: h.timeoutAction,
      })),
  };
}

const ROLLBACK = new Set(['ROLLBACK_REQUESTED', 'ROLLBACK_IN_PROGRESS']);

/** Judges a native service deployment; `t.follow === 'sd-rollback'` judges its rollback instead. */
export function judgeNative(t: Tracked, svc: Service | undefined, sd: ServiceDeployment, opts: { maxFailedTasks: number }): Verdict {
  const ours = svc ? ourDeployment(t, svc) : undefined;
  const progress = progressLine(ours, sd);
  const why = sd.statusReason ? `: ${sd.statusReason}` : '';
  if (t.follow === 'sd-rollback') {
    if (sd.status === 'ROLLBACK_SUCCESSFUL') return { state: 'succeeded', progress };
    if (sd.status === 'ROLLBACK_FAILED' || sd.status === 'SUCCESSFUL' || sd.status === 'STOPPED')
      return { state: 'failed', progress, reason: `the rollback ended ${sd.status}${why}` };
    return { state: 'waiting', progress };
  }
  switch (sd.status) {
    case 'SUCCESSFUL':
      return { state: 'succeeded', progress };
    case 'ROLLBACK_REQUESTED':
    case 'ROLLBACK_IN_PROGRESS':
    case 'ROLLBACK_SUCCESSFUL':
    case 'ROLLBACK_FAILED':
      return {
        state: 'failed',
        progress,
        reason: `ECS rolled the deployment back (${sd.status})${why}`,
        replaced: { by: 'ecs-rollback', taskDefinition: sd.rollback?.serviceRevisionArn },
      };
    case 'STOPPED':
    case 'STOP_REQUESTED':
      // A newer UpdateService stops ours: "Service deployment stopped because service deployment … started".
      if (/service deployment .* started/i.test(sd.statusReason ?? '')) {
        return {
          state: 'superseded',
          progress,
          reason: `another deployment replaced ours: someone else deployed this service${why}`,
          replaced: { by: 'other-deployer' },
        };
      }
      return { state: 'failed', progress, reason: `the service deployment was stopped${why}` };
    default:
      break;
  }
  if (opts.maxFailedTasks > 0 && (ours?.failedTasks ?? 0) >= opts.maxFailedTasks) {
    return {
      state: 'failed',
      progress,
      reason: `${ours!.failedTasks} task(s) of ${revisionOf(t.targetArn)} stopped (max-failed-tasks ${opts.maxFailedTasks})`,
    };
  }
  return { state: 'waiting', progress };
}

/** Is ECS already rolling this service deployment back (then we wait for it instead of starting another)? */
export const ecsRollingBack = (sd: ServiceDeployment | undefined): boolean =>
  !!sd?.status && (ROLLBACK.has(sd.status) || sd.status === 'ROLLBACK_SUCCESSFUL');

/** StopServiceDeployment ROLLBACK: ECS shifts traffic back to the source revision. */
export async function stopWithRollback(ecs: ECSClient, serviceDeploymentArn: string): Promise<void> {
  await ecs.send(new StopServiceDeploymentCommand({ serviceDeploymentArn, stopType: 'ROLLBACK' }));
}
