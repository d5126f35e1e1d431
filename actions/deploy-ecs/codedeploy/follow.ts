/**
 * Following a CodeDeploy deployment: GetDeployment for its status, and the ECS target's lifecycle
 * events (ListDeploymentTargets / GetDeploymentTarget) for progress lines and, on failure, the
 * event that failed. A progress line is printed on every change, never on an unchanged poll.
 */
import {
  GetDeploymentCommand,
  GetDeploymentTargetCommand,
  ListDeploymentTargetsCommand,
  StopDeploymentCommand,
  type CodeDeployClient,
  type DeploymentInfo,
  type LifecycleEvent,
} from '@aws-sdk/client-codedeploy';
import { randomUUID } from 'node:crypto';
import { describeUnknown } from '../../../lib/errors.js';
import type { Clock, Sleep } from '../../../lib/poll.js';
import type { Reporter } from '../../../lib/report.js';

export interface FollowDeps {
  codedeploy: CodeDeployClient;
  report: Reporter;
  sleep: Sleep;
  now: Clock;
  signal?: AbortSignal;
}

export interface Followed {
  /** Terminal CodeDeploy status, or undefined when we stopped waiting (timeout / cancel). */
  status?: string;
  info?: DeploymentInfo;
  events: LifecycleEvent[];
  failedEvent?: LifecycleEvent;
  timedOut: boolean;
  cancelled: boolean;
}

const TERMINAL = new Set(['Succeeded', 'Failed', 'Stopped']);

/** Lines from AWS are data, not workflow commands. */
export function verbatim(report: Reporter, lines: string[]): void {
  const token = randomUUID();
  report.info(`::stop-commands::${token}`);
  for (const l of lines) report.info(l);
  report.info(`::${token}::`);
}

async function lifecycle(deps: FollowDeps, id: string): Promise<LifecycleEvent[]> {
  const targets = await deps.codedeploy.send(new ListDeploymentTargetsCommand({ deploymentId: id }));
  const targetId = targets.targetIds?.[0];
  if (!targetId) return [];
  const t = await deps.codedeploy.send(new GetDeploymentTargetCommand({ deploymentId: id, targetId }));
  return t.deploymentTarget?.ecsTarget?.lifecycleEvents ?? [];
}

export async function followDeployment(deps: FollowDeps, id: string, opts: { intervalMs: number; deadline: number }): Promise<Followed> {
  let last = '';
  const seen = new Map<string, string>();
  let events: LifecycleEvent[] = [];
  let info: DeploymentInfo | undefined;
  const aborted = new Promise((r) => deps.signal?.addEventListener('abort', r, { once: true }));
  for (;;) {
    if (deps.signal?.aborted) return { info, events, timedOut: false, cancelled: true };
    info = (await deps.codedeploy.send(new GetDeploymentCommand({ deploymentId: id }))).deploymentInfo;
    const status = info?.status ?? 'Unknown';
    if (status !== last) deps.report.info(`CodeDeploy ${id}: ${status}`);
    last = status;
    if (status !== 'Created' && status !== 'Queued') {
      events = await lifecycle(deps, id).catch((err: unknown) => {
        deps.report.warning(`Cannot read the lifecycle events of ${id}: ${describeUnknown(err)}`);
        return events;
      });
      for (const e of events) {
        if (e.lifecycleEventName && e.status && seen.get(e.lifecycleEventName) !== e.status && e.status !== 'Pending') {
          seen.set(e.lifecycleEventName, e.status);
          deps.report.info(`  ${e.lifecycleEventName}: ${e.status}`);
        }
      }
    }
    if (TERMINAL.has(status))
      return { status, info, events, failedEvent: events.find((e) => e.status === 'Failed'), timedOut: false, cancelled: false };
    if (deps.now() + opts.intervalMs > opts.deadline) return { info, events, timedOut: true, cancelled: false };
    await Promise.race([deps.sleep(opts.intervalMs), aborted]);
  }
}

/** StopDeployment with CodeDeploy's own rollback, then one look at the result. */
export async function stopWithRollback(deps: FollowDeps, id: string): Promise<{ stopped: boolean; rolledBack: boolean; note: string }> {
  try {
    const out = await deps.codedeploy.send(new StopDeploymentCommand({ deploymentId: id, autoRollbackEnabled: true }));
    deps.report.info(`StopDeployment ${id} (autoRollbackEnabled): ${out.status ?? ''}`.trim());
    const info = (await deps.codedeploy.send(new GetDeploymentCommand({ deploymentId: id }))).deploymentInfo;
    verbatim(deps.report, [out.statusMessage ?? '', info?.rollbackInfo?.rollbackMessage ?? ''].filter(Boolean));
    return {
      stopped: true,
      rolledBack: !!info?.rollbackInfo,
      note: `CodeDeploy status ${info?.status ?? 'unknown'}${info?.rollbackInfo?.rollbackMessage ? `: ${info.rollbackInfo.rollbackMessage}` : ''}`,
    };
  } catch (err) {
    return { stopped: false, rolledBack: false, note: `StopDeployment failed: ${describeUnknown(err)}` };
  }
}
