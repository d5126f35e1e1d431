/**
 * The revision a failed run rolls a service back to, decided before the update: what really
 * served last, never a FAILED revision.
 *
 * 1. ECS is rolling the service back itself (circuit breaker): its revision is the target. The
 *    guide says only that the service "is rolled back to the last deployment that completed
 *    successfully" (API_DeploymentCircuitBreaker); whether that shows as a new PRIMARY deployment
 *    ("rolling back to deploymentId …" in its rolloutStateReason) or as the old deployment back
 *    PRIMARY and IN_PROGRESS, older than the FAILED one, it does not say: both are recognised.
 * 2. The PRIMARY deployment COMPLETED: what the service runs.
 * 3. Another listed deployment COMPLETED: the newest of them.
 * 4. Otherwise (only a FAILED or unfinished deployment listed) the newest SUCCESSFUL service
 *    deployment in ECS's history (ListServiceDeployments), skipping revisions listed as FAILED.
 * No such deployment: no target, and the rollback says so instead of "rolling back" to the failure.
 */
import { DescribeServiceRevisionsCommand, type Deployment, type ECSClient, type Service } from '@aws-sdk/client-ecs';
import { describeUnknown } from '../../lib/errors.js';
import { revisionOf } from './judge.js';
import { successfulDeployments } from './previous.js';

export interface RollbackTarget {
  /** Empty when there is nothing proven to return to. */
  arn: string;
  note?: string;
}

const time = (d: Deployment) => d.createdAt?.getTime() ?? 0;

/** ECS's own rollback in progress, in either shape; undefined when there is none. */
function ecsRollbackOf(svc: Service): Deployment | undefined {
  const deployments = svc.deployments ?? [];
  const primary = deployments.find((d) => d.status === 'PRIMARY');
  if (!primary || primary.rolloutState !== 'IN_PROGRESS') return undefined;
  if (/rolling back to deployment/i.test(primary.rolloutStateReason ?? '')) return primary;
  // Only ECS puts an older deployment back in front of a newer one that FAILED.
  const failedNewer = deployments.some((d) => d !== primary && d.rolloutState === 'FAILED' && time(d) > time(primary));
  return failedNewer ? primary : undefined;
}

/** Steps 1–3 (no AWS call); `arn: undefined` means ECS's history must be asked. */
export function stableRevision(svc: Service): { arn?: string; note?: string } {
  const deployments = svc.deployments ?? [];
  const primary = deployments.find((d) => d.status === 'PRIMARY');
  if (!primary || !primary.rolloutState || primary.rolloutState === 'COMPLETED') return { arn: svc.taskDefinition ?? '' };
  const rollback = ecsRollbackOf(svc);
  if (rollback)
    return {
      arn: rollback.taskDefinition!,
      note: `is being rolled back by ECS to ${revisionOf(rollback.taskDefinition)} (deployment ${rollback.id}); that is the rollback target`,
    };
  const state = primary.rolloutState === 'FAILED' ? 'was left FAILED on' : 'was still deploying';
  const completed = deployments
    .filter((d) => d !== primary && d.taskDefinition && d.rolloutState === 'COMPLETED')
    .sort((a, b) => time(b) - time(a))[0];
  if (completed)
    return {
      arn: completed.taskDefinition!,
      note:
        `${state} ${revisionOf(primary.taskDefinition)}; the rollback target is ${revisionOf(completed.taskDefinition)}, the last ` +
        `deployment that completed`,
    };
  return { note: `${state} ${revisionOf(primary.taskDefinition)} and lists no deployment that completed` };
}

/** The rollback target of one service (step 4 reads ListServiceDeployments / DescribeServiceRevisions). */
export async function rollbackTarget(ecs: ECSClient, cluster: string, name: string, svc: Service): Promise<RollbackTarget> {
  const stable = stableRevision(svc);
  if (stable.arn !== undefined) return { arn: stable.arn, note: stable.note };
  const failed = new Set((svc.deployments ?? []).filter((d) => d.rolloutState === 'FAILED').map((d) => d.taskDefinition));
  try {
    const rows = (await successfulDeployments(ecs, cluster, name)).filter((r) => r.targetServiceRevisionArn);
    for (let i = 0; i < rows.length; i += 20) {
      const chunk = rows.slice(i, i + 20);
      const out = await ecs.send(
        new DescribeServiceRevisionsCommand({ serviceRevisionArns: chunk.map((r) => r.targetServiceRevisionArn!) }),
      );
      const byArn = new Map((out.serviceRevisions ?? []).map((r) => [r.serviceRevisionArn, r.taskDefinition]));
      for (const row of chunk) {
        const td = byArn.get(row.targetServiceRevisionArn);
        if (td && !failed.has(td))
          return {
            arn: td,
            note: `${stable.note}; the rollback target is ${revisionOf(td)}, its newest SUCCESSFUL service deployment (ListServiceDeployments)`,
          };
      }
    }
  } catch (err) {
    return { arn: '', note: `${stable.note}, and its deployment history cannot be read (${describeUnknown(err)}): no rollback target` };
  }
  return { arn: '', note: `${stable.note}, and ECS records no SUCCESSFUL deployment of another revision: no rollback target` };
}
