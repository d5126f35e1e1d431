/**
 * What a run reports: each service's result from what the update and the wait saw, the overall
 * status, and the results of runs that stopped before writing (dry-run, an early cancel).
 */
import { ActionError } from '../../lib/errors.js';
import type { DeployResult, ServiceResult } from './deploy-types.js';
import type { Inputs } from './inputs.js';
import type { Tracked } from './judge.js';
import type { DryRun } from './plan.js';
import type { TaskDefinition } from '@aws-sdk/client-ecs';
import type { WaitOutcome } from './wait.js';

/** What the update fan-out and the wait left for judging each service. */
export interface Outcomes {
  arn: string;
  previous: Map<string, string>;
  tracked: Tracked[];
  toUpdate: { service: string }[];
  updateErrors: Map<string, string>;
  waited?: WaitOutcome;
  aborted: boolean;
  stoppedInFanOut: boolean;
  started: number;
  now: number;
  /** Milliseconds of timeout-minutes kept for a rollback (named in a timeout's reason). */
  reserve: number;
}

export function serviceResults(inputs: Inputs, o: Outcomes): ServiceResult[] {
  const { arn, previous, tracked, toUpdate, updateErrors, waited, aborted, stoppedInFanOut, started, reserve } = o;
  return inputs.services.map((service) => {
    const t = tracked.find((x) => x.service === service);
    const b = previous.get(service);
    const updateError = updateErrors.get(service);
    if (updateError) return { service, before: b, after: arn, result: 'failed', durationMs: 0, reason: updateError };
    const planned = toUpdate.some((p) => p.service === service);
    if (!t && planned && aborted) return { service, before: b, after: arn, result: 'cancelled', durationMs: 0 };
    if (!t && planned && stoppedInFanOut)
      return {
        service,
        before: b,
        after: arn,
        result: 'timed-out',
        durationMs: 0,
        reason: `not updated: timeout-minutes (${inputs.timeoutMinutes}) passed during the UpdateService fan-out`,
      };
    if (!t) return { service, before: b, after: arn, result: 'unchanged', durationMs: 0 };
    const v = waited?.verdicts.get(service);
    const end = waited?.finishedAt.get(service) ?? o.now;
    const base = { service, before: b, after: arn, durationMs: end - t.startedAt, deploymentId: t.deploymentId };
    if (v?.state === 'succeeded') return { ...base, result: 'succeeded' };
    if (v?.state === 'failed') return { ...base, result: 'failed', reason: v.reason };
    if (v?.state === 'superseded') return { ...base, result: 'superseded', reason: v.reason };
    if (aborted) return { ...base, result: 'cancelled', reason: `cancelled while ${v?.progress ?? 'starting'}` };
    if (waited?.pollFailure) return { ...base, result: 'failed', reason: `could not read the service state: ${waited.pollFailure}` };
    if (stoppedInFanOut && !waited)
      return {
        ...base,
        result: 'timed-out',
        reason: `updated, not waited for: timeout-minutes (${inputs.timeoutMinutes}) passed during the UpdateService fan-out`,
      };
    if (waited?.timedOut)
      return {
        ...base,
        result: 'timed-out',
        reason:
          `timed out after ${Math.round((end - started) / 100) / 10} s (timeout-minutes ` +
          `${inputs.timeoutMinutes}${reserve ? `, the last ${Math.round(reserve / 100) / 10} s kept for a rollback` : ''}; ${v?.progress ?? 'no state yet'})`,
      };
    return { ...base, result: 'interrupted' };
  });
}

/** The run's status: a cancel wins, then a failure, then a timeout, then another deployer, then what was done. */
export function overallStatus(
  results: ServiceResult[],
  failed: ServiceResult[],
  superseded: ServiceResult[],
  updated: number,
): DeployResult['status'] {
  const cancelled = results.some((r) => r.result === 'cancelled');
  return cancelled
    ? 'cancelled'
    : failed.some((r) => r.result === 'failed' || r.result === 'superseded')
      ? 'failed'
      : failed.length
        ? 'timed-out'
        : superseded.length
          ? 'superseded'
          : updated
            ? 'succeeded'
            : 'unchanged';
}

export function dryRunResult(
  inputs: Inputs,
  previous: Map<string, string>,
  plan: DryRun,
  existing: TaskDefinition | undefined,
  started: number,
  now: number,
): DeployResult {
  return {
    taskDefinitionArn: existing?.taskDefinitionArn ?? '',
    previousTaskDefinitionArn: previousArnOutput(inputs.services, previous),
    changed: plan.register.startsWith('would register'),
    image: '',
    deploymentIds: {},
    status: 'dry-run',
    rolledBack: false,
    durationSeconds: Math.round((now - started) / 100) / 10,
    services: inputs.services.map((service) => ({
      service,
      before: previous.get(service),
      after: existing?.taskDefinitionArn ?? '',
      result: 'planned',
      durationMs: 0,
      reason: plan.lines.find((l) => l.startsWith(`${service}:`))?.slice(service.length + 2),
    })),
    diff: [],
    diagnoses: [],
    dryRun: plan,
  };
}

export function cancelledBeforeWrites(inputs: Inputs, previous: Map<string, string>, started: number, now: number): DeployResult {
  return {
    ...dryRunResult(inputs, previous, { register: '', lines: [], diffs: [] }, undefined, started, now),
    status: 'cancelled',
    dryRun: undefined,
    services: inputs.services.map((service) => ({ service, before: previous.get(service), after: '', result: 'cancelled', durationMs: 0 })),
    error: new ActionError('deploy-ecs was cancelled before any service was updated (nothing to roll back).', {
      fix: 'Re-run the workflow to deploy.',
    }),
  };
}

export function previousArnOutput(services: string[], previous: Map<string, string>): string {
  const arns = services.map((s) => previous.get(s) ?? '');
  return new Set(arns).size <= 1 ? (arns[0] ?? '') : services.map((s, i) => `${s}=${arns[i]}`).join('\n');
}
