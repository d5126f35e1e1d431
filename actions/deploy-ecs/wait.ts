/**
 * The wait: one fixed-interval loop for all services, DescribeServices in
 * batches of 10, DescribeServiceDeployments for blue/green services, a
 * progress line whenever a service's state changes.
 */
import { DescribeServiceDeploymentsCommand, type ECSClient, type Service, type ServiceDeployment } from '@aws-sdk/client-ecs';
import { describeUnknown } from '../../lib/errors.js';
import { poll, type Clock, type Sleep } from '../../lib/poll.js';
import type { Reporter } from '../../lib/report.js';
import { ageText, batches, judge, usesServiceDeployments, type Tracked, type Verdict } from './judge.js';
import { describeServices } from './services.js';

export interface WaitDeps {
  ecs: ECSClient;
  report: Reporter;
  sleep: Sleep;
  now: Clock;
}

export interface WaitOptions {
  cluster: string;
  intervalMs: number;
  timeoutMs: number;
  maxFailedTasks: number;
  /** Label for progress lines, e.g. "rollback". */
  label?: string;
}

export interface WaitOutcome {
  verdicts: Map<string, Verdict>;
  /** The last DescribeServices view of each service (events feed the diagnosis). */
  services: Map<string, Service>;
  /** When each service reached its verdict. */
  finishedAt: Map<string, number>;
  timedOut: boolean;
  polls: number;
}

/** Consecutive failed polls tolerated (after the SDK's own retries) before the wait gives up. */
const MAX_POLL_ERRORS = 5;

/**
 * Waits until every tracked deployment succeeded, or one failed (no point
 * waiting for the others: the run fails either way), or the timeout.
 */
export async function waitForDeployments(deps: WaitDeps, tracked: Tracked[], opts: WaitOptions): Promise<WaitOutcome> {
  const verdicts = new Map<string, Verdict>();
  const services = new Map<string, Service>();
  const finishedAt = new Map<string, number>();
  const lastLine = new Map<string, string>();
  let sdApi = true;
  let pollErrors = 0;
  const prefix = opts.label ? `${opts.label} ` : '';

  const pollOnce = async (): Promise<boolean> => {
    const open = tracked.filter((t) => !verdicts.has(t.service) || verdicts.get(t.service)!.state === 'waiting');
    const { found } = await describeServices(deps.ecs, opts.cluster, open.map((t) => t.service));
    const sds = new Map<string, ServiceDeployment>();
    const arns = open.filter((t) => t.serviceDeploymentArn && found.get(t.service) && usesServiceDeployments(found.get(t.service)!)).map((t) => t.serviceDeploymentArn!);
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
    const now = deps.now();
    for (const t of open) {
      const svc = found.get(t.service);
      if (svc) services.set(t.service, svc);
      const v = judge(t, svc, { maxFailedTasks: opts.maxFailedTasks, sd: t.serviceDeploymentArn ? sds.get(t.serviceDeploymentArn) : undefined });
      verdicts.set(t.service, v);
      const line = `${v.state === 'waiting' ? '' : `${v.state.toUpperCase()} `}${v.progress}`;
      if (lastLine.get(t.service) !== line) {
        lastLine.set(t.service, line);
        deps.report.info(`${prefix}${t.service}: ${line} (${ageText(now - t.startedAt)})${v.state === 'failed' ? ` — ${v.reason}` : ''}`);
      }
      if (v.state !== 'waiting') finishedAt.set(t.service, now);
    }
    const all = [...verdicts.values()];
    return all.some((v) => v.state === 'failed') || (all.length === tracked.length && all.every((v) => v.state === 'succeeded'));
  };

  // A deployment is never done the instant it starts: the first poll waits one interval, which
  // keeps DescribeServices at ≤ 60 / interval calls per minute even for short waits.
  const firstDelay = Math.min(opts.intervalMs, opts.timeoutMs);
  await deps.sleep(firstDelay);
  const result = await poll({
    interval: opts.intervalMs,
    timeoutMs: opts.timeoutMs - firstDelay,
    sleep: deps.sleep,
    now: deps.now,
    check: async () => {
      try {
        const done = await pollOnce();
        pollErrors = 0;
        return done ? { done: true, value: undefined } : { done: false };
      } catch (err) {
        // A throttled or failed poll is not a failed deployment; keep waiting unless it persists.
        pollErrors += 1;
        if (pollErrors >= MAX_POLL_ERRORS) throw err;
        deps.report.warning(`poll failed (${describeUnknown(err)}); retrying`);
        return { done: false };
      }
    },
  });
  return { verdicts, services, finishedAt, timedOut: result.status !== 'done', polls: result.attempts };
}
