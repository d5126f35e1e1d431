/**
 * The rollback's own deployment at a PAUSE lifecycle hook. A rollback started with UpdateService is a
 * new service deployment of the service, so it stops at the same PAUSE hooks as the release did
 * (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/pause-lifecycle-hooks.html: "When a
 * deployment reaches a lifecycle stage that has a pause hook configured" it waits for
 * ContinueServiceDeployment or the hook's timeout). Nobody is there to answer it: the person or tool
 * behind the hook is deciding about the release, not about restoring the revision that served before.
 * Left alone it would hold the run until timeout-minutes and leave the service paused on the way back,
 * so the run answers CONTINUE for the rollback it started (never for a deployment it did not start:
 * ECS's own rollback is followed as it is) and says so in the log.
 */
import { ContinueServiceDeploymentCommand } from '@aws-sdk/client-ecs';
import { describeUnknown } from '../../lib/errors.js';
import type { Deps } from './deploy-types.js';
import type { Tracked, Verdict } from './judge.js';
import type { NativePollState } from './native.js';

/** A wait step for the rollback: CONTINUE for each PAUSE hook our rollback deployment awaits action at. */
export function continueRollbackPauses(
  deps: Pick<Deps, 'ecs' | 'report'>,
): (state: NativePollState, t: Tracked) => Promise<Verdict | undefined> {
  const answered = new Set<string>();
  return async (state, t) => {
    // 'sd-rollback' follows ECS's rollback of the release (StopServiceDeployment, a hook's ROLLBACK): not a deployment we started.
    if (t.follow === 'sd-rollback' || state.status !== 'IN_PROGRESS') return undefined;
    for (const hook of state.hooks) {
      if (hook.targetType !== 'PAUSE' || hook.status !== 'AWAITING_ACTION' || answered.has(hook.hookId)) continue;
      answered.add(hook.hookId);
      try {
        await deps.ecs.send(
          new ContinueServiceDeploymentCommand({
            serviceDeploymentArn: state.serviceDeploymentArn,
            hookId: hook.hookId,
            action: 'CONTINUE',
          }),
        );
        deps.report.info(
          `${t.service}: the rollback's deployment paused at ${state.lifecycleStage ?? 'a lifecycle stage'} (PAUSE hook ` +
            `${hook.hookId}); ContinueServiceDeployment CONTINUE sent: ` +
            'the rollback restores the revision that served before, the hook is for releases and nobody answers it for a rollback',
        );
      } catch (err) {
        deps.report.warning(
          `${t.service}: the rollback's deployment is paused at PAUSE hook ${hook.hookId} and ContinueServiceDeployment CONTINUE ` +
            `failed (${describeUnknown(err)}); answer it by hand, otherwise ECS takes its timeout action ${hook.timeoutAction ?? 'ROLLBACK'} at ` +
            `${hook.expiresAt?.toISOString() ?? 'the hook timeout'}`,
        );
      }
    }
    return undefined;
  };
}
