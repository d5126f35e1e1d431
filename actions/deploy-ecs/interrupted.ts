/**
 * A run cut short by its deadline (timeout-minutes) or by the cancel, whatever phase it was in:
 * the result that still gets outputs, a summary and an error naming the phase, and the UpdateService
 * calls whose answer was abandoned (ECS may have applied them) read back so they can be rolled back.
 */
import type { ECSClient, Service } from '@aws-sdk/client-ecs';
import { ActionError, describeUnknown } from '../../lib/errors.js';
import type { Reporter } from '../../lib/report.js';
import type { DeployResult } from './deploy-types.js';
import type { ImageWrites } from './image.js';
import type { Inputs } from './inputs.js';
import type { Tracked } from './judge.js';
import { describeServices } from './services.js';

/** Once timeout-minutes has passed, the rollback's calls get at most this much more: the run ends within timeout-minutes + 10 s. */
export const AFTER_DEADLINE_MS = 8000;

/** An error the AWS SDK raised (it carries the answer's metadata), as opposed to our own checks' ActionError. */
export function isAwsError(err: unknown): boolean {
  return typeof err === 'object' && err !== null && '$metadata' in err && !(err instanceof ActionError);
}

/** `failed`: an AWS call kept failing past max-attempts (e.g. ThrottlingException) before any write that needs undoing. */
export type Interruption = 'timed-out' | 'cancelled' | 'failed';

/**
 * The result of a run stopped before any service was updated (prepare, describe, image, register): it
 * still gets outputs and a summary. `cause`: the AWS error of a `failed` run.
 */
export function interruptedBeforeUpdate(
  inputs: Inputs,
  how: Interruption,
  phase: string,
  durationSeconds: number,
  previous = new Map<string, string>(),
  cause?: string,
): DeployResult {
  const what =
    how === 'cancelled'
      ? 'was cancelled'
      : how === 'failed'
        ? `failed (${cause ?? 'an AWS call failed'})`
        : `timed out (timeout-minutes ${inputs.timeoutMinutes})`;
  const arns = inputs.services.map((s) => previous.get(s) ?? '');
  return {
    taskDefinitionArn: '',
    previousTaskDefinitionArn: new Set(arns).size <= 1 ? (arns[0] ?? '') : inputs.services.map((s, i) => `${s}=${arns[i]}`).join('\n'),
    changed: false,
    image: '',
    deploymentIds: {},
    status: how,
    rolledBack: false,
    durationSeconds,
    services: inputs.services.map((service) => ({
      service,
      before: previous.get(service),
      after: '',
      result: how,
      durationMs: 0,
      reason: `stopped during ${phase}`,
    })),
    diff: [],
    diagnoses: [],
    error: new ActionError(`deploy-ecs ${what} during ${phase}, before any service was updated (nothing to roll back).`, {
      input: how === 'timed-out' ? 'timeout-minutes' : how === 'failed' ? 'max-attempts' : undefined,
      fix:
        how === 'cancelled'
          ? 'Re-run the workflow to deploy.'
          : how === 'failed'
            ? 'Re-run the workflow; when AWS throttles the calls (ThrottlingException), raise max-attempts or lower max-parallel.'
            : 'Raise timeout-minutes, or lower max-parallel when AWS throttles the calls (ThrottlingException), then re-run.',
    }),
  };
}

export interface Abandoned {
  service: string;
  startedAt: number;
}

/**
 * UpdateService calls whose answer we stopped waiting for: ECS may have applied them. Each service
 * is read back; one whose PRIMARY deployment is now on `arn` (and was not before) is returned as
 * updated, so the caller rolls it back. A service that cannot be read is returned too: rolling back
 * to the revision it already runs changes nothing, leaving a possibly applied update does.
 */
export async function abandonedUpdates(
  ecs: ECSClient,
  cluster: string,
  arn: string,
  abandoned: Abandoned[],
  before: Map<string, Service>,
  report: Reporter,
): Promise<Tracked[]> {
  if (!abandoned.length) return [];
  let found: Map<string, Service> | undefined;
  try {
    found = (
      await describeServices(
        ecs,
        cluster,
        abandoned.map((a) => a.service),
      )
    ).found;
  } catch (err) {
    report.warning(
      `Could not read back ${abandoned.map((a) => a.service).join(', ')} after their UpdateService was abandoned ` +
        `(${describeUnknown(err)}); treating them as updated`,
    );
  }
  const out: Tracked[] = [];
  for (const a of abandoned) {
    const svc = found?.get(a.service);
    const primary = svc?.deployments?.find((d) => d.status === 'PRIMARY');
    const was = before.get(a.service)?.deployments?.find((d) => d.status === 'PRIMARY');
    const moved = !found || (primary?.taskDefinition === arn && primary.id !== was?.id);
    report.info(
      `${a.service}: UpdateService abandoned; ${!found ? 'state unknown' : moved ? `ECS applied it (deployment ${primary?.id})` : 'ECS did not apply it'}`,
    );
    if (moved)
      out.push({
        service: a.service,
        deploymentId: primary?.id,
        serviceDeploymentArn: svc?.currentServiceDeployment,
        targetArn: arn,
        startedAt: a.startedAt,
      });
  }
  return out;
}

/**
 * A run that ends without its release running (cut short before any update, or rolled back) still
 * leaves its ECR writes: the tags it pushed or promoted point at a build no service of this run runs,
 * and a write whose answer was abandoned may have been applied. Said in the log and the summary, so
 * nobody takes the tag for a deployed release.
 */
export function noteLeftInEcr(r: DeployResult, writes: ImageWrites, report: Reporter): DeployResult {
  if (!['failed', 'timed-out', 'cancelled'].includes(r.status)) return r;
  const updated = Object.keys(r.deploymentIds).length > 0;
  if (updated && !r.rolledBack) return r;
  const why = updated ? 'the services were rolled back' : 'no service was updated';
  const lines = [
    ...writes.done.map((t) => `${t}: written; ${why}, so no service runs it`),
    ...(writes.pending ? [`${writes.pending}: the write was abandoned (${r.status}) after it was sent; ECR may have applied it`] : []),
  ];
  if (!lines.length) return r;
  report.warning(`Left in ECR by this run:\n${lines.map((l) => `  ${l}`).join('\n')}`);
  return { ...r, leftInEcr: lines };
}
