/**
 * The wait: one fixed-interval loop for all services, DescribeServices in batches of 10,
 * DescribeServiceDeployments for ECS-native strategies, a progress line whenever a service's
 * state changes. The first poll comes right after UpdateService (a rollout can already be done),
 * repeated poll failures end the wait with a reason instead of an exception, and a cancel
 * (AbortSignal) ends it at once, even mid-sleep.
 */
import { DescribeServiceDeploymentsCommand, type ECSClient, type Service, type ServiceDeployment } from '@aws-sdk/client-ecs';
import { describeUnknown } from '../../lib/errors.js';
import { poll, type Clock, type Sleep } from '../../lib/poll.js';
import type { Reporter } from '../../lib/report.js';
import { ageText, batches, judge, usesServiceDeployments, type Tracked, type Verdict } from './judge.js';
import { pauseStages } from './gate-stage.js';
import { judgeNative, nativeState, type NativePollState } from './native.js';
import { describeServices } from './services.js';

export interface WaitDeps {
  ecs: ECSClient;
  report: Reporter;
  sleep: Sleep;
  now: Clock;
  /** Aborted when the workflow is cancelled. */
  signal?: AbortSignal;
}

export interface WaitOptions {
  cluster: string;
  intervalMs: number;
  timeoutMs: number;
  maxFailedTasks: number;
  /** Label for progress lines, e.g. "rollback". */
  label?: string;
  /**
   * Per-poll step for ECS-native deployments, before the verdict: may return a verdict of its own
   * (e.g. a test-traffic gate that continues or rolls back a deployment waiting at a lifecycle hook).
   */
  nativeStep?: (state: NativePollState, t: Tracked) => Promise<Verdict | undefined>;
}

export interface WaitOutcome {
  verdicts: Map<string, Verdict>;
  /** The last DescribeServices view of each service (events feed the diagnosis). */
  services: Map<string, Service>;
  /** The last service deployment of each native service. */
  serviceDeployments: Map<string, ServiceDeployment>;
  /** When each service reached its verdict. */
  finishedAt: Map<string, number>;
  timedOut: boolean;
  /** The workflow was cancelled during the wait. */
  aborted: boolean;
  /** Set when MAX_POLL_ERRORS polls in a row failed: the state is unknown, treat as a failure. */
  pollFailure?: string;
  polls: number;
}

/** Consecutive failed polls tolerated (after the SDK's own retries) before the wait gives up. */
const MAX_POLL_ERRORS = 5;

/** deps.sleep that returns early when the signal aborts. */
export function abortableSleep(sleep: Sleep, signal?: AbortSignal): Sleep {
  if (!signal) return sleep;
  return (ms) =>
    signal.aborted
      ? Promise.resolve()
      : new Promise<void>((resolve) => {
          const done = () => {
            signal.removeEventListener('abort', done);
            resolve();
          };
          signal.addEventListener('abort', done);
          void sleep(ms).then(done);
        });
}

/** Waits until every tracked deployment is done, one failed (no point waiting for the others: the run fails either way), the timeout, or a cancel. */
export async function waitForDeployments(deps: WaitDeps, tracked: Tracked[], opts: WaitOptions): Promise<WaitOutcome> {
  const verdicts = new Map<string, Verdict>();
  const services = new Map<string, Service>();
  const serviceDeployments = new Map<string, ServiceDeployment>();
  const finishedAt = new Map<string, number>();
  const lastLine = new Map<string, string>();
  let sdApi = true;
  let pollErrors = 0;
  let pollFailure: string | undefined;
  const prefix = opts.label ? `${opts.label} ` : '';

  const pollOnce = async (): Promise<boolean> => {
    const open = tracked.filter((t) => !verdicts.has(t.service) || verdicts.get(t.service)!.state === 'waiting');
    const { found } = await describeServices(
      deps.ecs,
      opts.cluster,
      open.map((t) => t.service),
    );
    const sds = new Map<string, ServiceDeployment>();
    const native = (t: Tracked) =>
      t.follow === 'sd-rollback' || (found.get(t.service) !== undefined && usesServiceDeployments(found.get(t.service)!));
    // Rolling services with a PAUSE hook: their service deployment shows the pauses (nativeStep), their rollout state the verdict.
    const arns = open
      .filter((t) => t.serviceDeploymentArn && (native(t) || pauseStages(found.get(t.service)).length))
      .map((t) => t.serviceDeploymentArn!);
    if (sdApi && arns.length) {
      try {
        for (const batch of batches(arns, 20)) {
          const out = await deps.ecs.send(new DescribeServiceDeploymentsCommand({ serviceDeploymentArns: batch }));
          for (const sd of out.serviceDeployments ?? []) if (sd.serviceDeploymentArn) sds.set(sd.serviceDeploymentArn, sd);
        }
      } catch (err) {
        const name = (err as { name?: string }).name ?? '';
        if (!/UnknownOperation|InvalidAction|AccessDenied|UnrecognizedClient|NotFound/i.test(name)) throw err;
        sdApi = false;
        deps.report.warning(`DescribeServiceDeployments is not available (${name}); judging blue/green services by their deployment id.`);
      }
    }
    // nativeStep may take a while (a gate at a pause hook): the services' steps run side by side.
    const judged = await Promise.all(
      open.map(async (t) => {
        const svc = found.get(t.service);
        const sd = t.serviceDeploymentArn ? sds.get(t.serviceDeploymentArn) : undefined;
        let v: Verdict | undefined;
        if (sd && opts.nativeStep) v = await opts.nativeStep(nativeState(t.service, sd), t);
        v ??=
          sd && native(t)
            ? judgeNative(t, svc, sd, { maxFailedTasks: opts.maxFailedTasks })
            : judge(t, svc, { maxFailedTasks: opts.maxFailedTasks });
        return { t, svc, sd, v };
      }),
    );
    const now = deps.now();
    for (const { t, svc, sd, v } of judged) {
      if (svc) services.set(t.service, svc);
      if (sd) serviceDeployments.set(t.service, sd);
      verdicts.set(t.service, v);
      const line = `${v.state === 'waiting' ? '' : `${v.state.toUpperCase()} `}${v.progress}`;
      if (lastLine.get(t.service) !== line) {
        lastLine.set(t.service, line);
        deps.report.info(
          `${prefix}${t.service}: ${line} (${ageText(now - t.startedAt)})${v.state === 'failed' || v.state === 'superseded' ? ` — ${v.reason}` : ''}`,
        );
      }
      if (v.state !== 'waiting') finishedAt.set(t.service, now);
    }
    const all = [...verdicts.values()];
    return all.some((v) => v.state === 'failed') || (all.length === tracked.length && all.every((v) => v.state !== 'waiting'));
  };

  const result = await poll({
    interval: opts.intervalMs,
    timeoutMs: opts.timeoutMs,
    sleep: abortableSleep(deps.sleep, deps.signal),
    now: deps.now,
    signal: deps.signal,
    check: async () => {
      try {
        const done = await pollOnce();
        pollErrors = 0;
        return done ? { done: true, value: undefined } : { done: false };
      } catch (err) {
        // A throttled or failed poll is not a failed deployment; keep waiting unless it persists,
        // then end the wait with a reason (the caller diagnoses and rolls back).
        pollErrors += 1;
        if (pollErrors >= MAX_POLL_ERRORS) {
          pollFailure = `${pollErrors} polls in a row failed (last: ${describeUnknown(err)})`;
          deps.report.warning(`${prefix}could not read the service state: ${pollFailure}`);
          return { done: true, value: undefined };
        }
        deps.report.warning(`${prefix}poll failed (${describeUnknown(err)}); retrying`);
        return { done: false };
      }
    },
  });
  return {
    verdicts,
    services,
    serviceDeployments,
    finishedAt,
    timedOut: result.status === 'timeout',
    aborted: result.status === 'aborted' || !!deps.signal?.aborted,
    pollFailure,
    polls: result.attempts,
  };
}
