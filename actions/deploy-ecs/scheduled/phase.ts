/**
 * The scheduled-tasks phases around deploy(): find the targets before any write (bad input fails
 * there), and once the deploy is over move them only if every service ended steady on the new
 * revision. A failed, timed-out, cancelled or rolled-back deploy never moves them, so they stay on
 * the revision the services run again.
 */
import { DescribeServicesCommand, type ECSClient } from '@aws-sdk/client-ecs';
import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { SchedulerClient } from '@aws-sdk/client-scheduler';
import { ActionError } from '../../../lib/errors.js';
import type { Reporter } from '../../../lib/report.js';
import { readTaskDefinitionFile } from '../../../lib/taskdef.js';
import type { DeployResult } from '../deploy-types.js';
import { familyOf } from '../family-guard.js';
import type { Inputs } from '../inputs.js';
import { revisionOf } from '../judge.js';
import { findScheduledTasks, type ScheduledTarget } from './find.js';
import { leftInPlace, moveScheduledTasks, type ScheduledMove } from './move.js';

// load.ts imports this module alone, so move.ts lands in one chunk of the bundle, not two.
export { scheduledMarkdown } from './move.js';

export interface ScheduledDeps {
  ecs: ECSClient;
  scheduler: SchedulerClient;
  events: EventBridgeClient;
  report: Reporter;
}

/** Read-only. `inputs` are the prepared ones (task-definition: previous already resolved). */
export async function findScheduled(inputs: Inputs, deps: ScheduledDeps): Promise<ScheduledTarget[]> {
  if (!inputs.scheduledTasks.length) return [];
  return deps.report.group('Scheduled tasks', async () => {
    const td = inputs.taskDefinition;
    const family = td.kind === 'file' ? readTaskDefinitionFile(td.path).family : familyOf(td.ref);
    // The cluster's ARN is what a schedule or rule names as its ECS target; DescribeServices (already allowed) gives it.
    const svc = (await deps.ecs.send(new DescribeServicesCommand({ cluster: inputs.cluster, services: [inputs.services[0]!] })))
      .services?.[0];
    if (!family || !svc?.clusterArn)
      throw new ActionError('The task-definition family or the cluster ARN is unknown, so no scheduled task can be matched.', {
        input: 'scheduled-tasks',
        fix: 'Check task-definition, cluster and services.',
      });
    const targets = await findScheduledTasks(deps, inputs.scheduledTasks, { clusterArn: svc.clusterArn, family });
    for (const t of targets) deps.report.info(`${t.label}: runs ${revisionOf(t.taskDefinitionArn)}`);
    if (!targets.length) deps.report.info(`no schedule or rule runs ${family} on ${svc.clusterArn}`);
    return targets;
  });
}

/** After deploy(): the moves (or why nothing moved) and an error when a move failed. */
export async function moveScheduled(
  result: DeployResult,
  targets: ScheduledTarget[],
  deps: ScheduledDeps,
): Promise<{ moves: ScheduledMove[]; error?: ActionError }> {
  if (!targets.length) return { moves: [] };
  if (result.status === 'dry-run') {
    const after = result.taskDefinitionArn && !result.changed ? result.taskDefinitionArn : '(new revision)';
    const moves = leftInPlace(targets, after, 'planned', 'would move once every service is steady');
    for (const m of moves)
      deps.report.info(`${m.label}: would move ${revisionOf(m.before)} → ${revisionOf(m.after)} once every service is steady`);
    return { moves };
  }
  if (result.status !== 'succeeded' && result.status !== 'unchanged') {
    const ended = result.status === 'superseded' ? 'was replaced by another deployment' : result.status;
    const why = `the deploy ${ended}${result.rolledBack ? ' and was rolled back' : ''}; left on the revision it ran`;
    const moves = leftInPlace(targets, result.taskDefinitionArn, 'not moved', why);
    await deps.report.group('Scheduled tasks', async () => {
      for (const m of moves) deps.report.info(`${m.label}: stays on ${revisionOf(m.before)} (${why})`);
    });
    return { moves };
  }
  const moves = await deps.report.group(`Move ${targets.length} scheduled task(s) to ${revisionOf(result.taskDefinitionArn)}`, () =>
    moveScheduledTasks(deps, targets, result.taskDefinitionArn),
  );
  const failed = moves.filter((m) => m.result === 'failed');
  if (!failed.length) return { moves };
  return {
    moves,
    error: new ActionError(
      `The services are deployed, but ${failed.length} scheduled task(s) still run the old revision: ` +
        `${failed.map((m) => `${m.label} (${m.reason})`).join('; ')}.`,
      {
        input: 'scheduled-tasks',
        fix:
          'Allow scheduler:UpdateSchedule / events:PutTargets and iam:PassRole for the target role (see the README IAM policy), ' +
          'then re-run: the services are unchanged and only the scheduled tasks move.',
      },
    ),
  };
}
