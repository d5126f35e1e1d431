import type { CloudFrontClient } from '@aws-sdk/client-cloudfront';
import { poll, rampInterval, type Clock, type Sleep } from '../../lib/poll.js';
import { ActionError } from '../../lib/errors.js';
import { FULL_BUDGET, remainingBudget, type InvalidationBudget } from './invalidation.js';
import { assumedView, distributionView, type DistributionView } from './distribution.js';

/** What these calls need of a client: run.ts gives one whose SDK is loaded on its first call (lib/aws.ts lazyClient). */
export type CloudFront = Pick<CloudFrontClient, 'send'>;

/**
 * The CloudFront SDK, loaded on first use into a chunk of its own: evaluating it cost ~80 ms of
 * every run's start-up (README, "Rollback"), and a run without `distribution-id` never calls it.
 */
const sdk = () => import('@aws-sdk/client-cloudfront');

/** Status strings are compared case-insensitively: the SDK's own waiter does not, and hangs on `COMPLETED`. */
const is = (status: string | undefined, want: string): boolean => (status ?? '').toLowerCase() === want.toLowerCase();

/** IAM said no (HTTP 403 AccessDenied): for the optional read-only calls this is a warning, not a failure. */
function isAccessDenied(err: unknown): boolean {
  const e = err as { name?: string; Code?: string; $metadata?: { httpStatusCode?: number } };
  return (
    e?.name === 'AccessDenied' || e?.name === 'AccessDeniedException' || e?.Code === 'AccessDenied' || e?.$metadata?.httpStatusCode === 403
  );
}

/**
 * Where the distribution serves the target's keys (GetDistribution). Needs
 * `cloudfront:GetDistribution`; without it the old assumption (origin path =
 * prefix) is kept with a warning.
 */
export async function readDistributionView(
  cf: CloudFront,
  target: { bucket: string; prefix: string; distributionId: string },
  warn: (message: string) => void,
): Promise<DistributionView> {
  try {
    const { GetDistributionCommand } = await sdk();
    const res = await cf.send(new GetDistributionCommand({ Id: target.distributionId }));
    return distributionView(res.Distribution?.DistributionConfig, target.bucket, target.prefix, target.distributionId);
  } catch (err) {
    if ((err as { name?: string }).name === 'NoSuchDistribution') {
      throw new ActionError(
        `CloudFront distribution ${target.distributionId} does not exist (or belongs to another account); nothing was written.`,
        {
          input: 'distribution-id',
          fix:
            'Use the id shown in the CloudFront console (e.g. E2QWRUHAPOMQZL) of the distribution in front of this bucket, in the ' +
            'account of these credentials.',
        },
      );
    }
    if (!isAccessDenied(err)) throw err;
    const view = assumedView(target.prefix, `cloudfront:GetDistribution is not allowed on ${target.distributionId}`);
    warn(`${view.notes[0]} Allow cloudfront:GetDistribution (read-only) so the paths follow the distribution's origin path.`);
    return { ...view, notes: [] };
  }
}

/**
 * What the invalidations still in progress leave of the distribution's
 * limits. In-progress ones are the newest, so paging stops at the first page
 * without any. `cloudfront:ListInvalidations` is optional: without it the
 * full budget is assumed (with a warning) and TooManyInvalidationsInProgress
 * is waited out by createInvalidation.
 */
export async function inProgressBudget(
  cf: CloudFront,
  distributionId: string,
  warn: (message: string) => void = () => undefined,
): Promise<InvalidationBudget> {
  try {
    return await readInProgressBudget(cf, distributionId);
  } catch (err) {
    if (!isAccessDenied(err)) throw err;
    warn(
      `cloudfront:ListInvalidations / GetInvalidation is not allowed on ${distributionId}, so invalidations already in progress cannot ` +
        `be counted; planning with the full limits (a TooManyInvalidationsInProgress answer is waited out). Allow both (read-only) to ` +
        `plan within what is left.`,
    );
    return FULL_BUDGET;
  }
}

async function readInProgressBudget(cf: CloudFront, distributionId: string): Promise<InvalidationBudget> {
  const { GetInvalidationCommand, ListInvalidationsCommand } = await sdk();
  const ids: string[] = [];
  let marker: string | undefined;
  for (let page = 0; page < 10; page++) {
    const res = await cf.send(new ListInvalidationsCommand({ DistributionId: distributionId, Marker: marker, MaxItems: 100 }));
    const items = res.InvalidationList?.Items ?? [];
    const running = items.filter((i) => is(i.Status, 'InProgress'));
    ids.push(...running.map((i) => i.Id!).filter(Boolean));
    if (running.length === 0 || !res.InvalidationList?.IsTruncated) break;
    marker = res.InvalidationList.NextMarker;
  }
  const paths = await Promise.all(
    ids.map(
      async (Id) =>
        (await cf.send(new GetInvalidationCommand({ DistributionId: distributionId, Id }))).Invalidation?.InvalidationBatch?.Paths?.Items ??
        [],
    ),
  );
  return remainingBudget(paths);
}

export interface InvalidateDeps {
  sleep: Sleep;
  now: Clock;
  log: (line: string) => void;
}

/** Retries TooManyInvalidationsInProgress with backoff (5 s doubling to 60 s) until `timeoutMs`. */
export async function createInvalidation(
  cf: CloudFront,
  distributionId: string,
  paths: readonly string[],
  callerReference: string,
  timeoutMs: number,
  deps: InvalidateDeps,
): Promise<string> {
  const { CreateInvalidationCommand } = await sdk();
  const start = deps.now();
  for (let attempt = 1; ; attempt++) {
    try {
      const res = await cf.send(
        new CreateInvalidationCommand({
          DistributionId: distributionId,
          InvalidationBatch: { CallerReference: callerReference, Paths: { Quantity: paths.length, Items: [...paths] } },
        }),
      );
      return res.Invalidation?.Id ?? '';
    } catch (err) {
      if ((err as { name?: string }).name !== 'TooManyInvalidationsInProgress') throw err;
      const waited = deps.now() - start;
      if (waited >= timeoutMs) {
        throw new ActionError(
          `CloudFront distribution ${distributionId} still has too many invalidations in progress after ${Math.round(waited / 1000)} ` +
            `s; the files are uploaded, old deletes were skipped.`,
          {
            input: 'wait-timeout-seconds',
            fix: 'Re-run the job once the running invalidations finish (it converges), or raise wait-timeout-seconds.',
          },
        );
      }
      const delay = Math.min(60_000, 5_000 * 2 ** (attempt - 1), timeoutMs - waited);
      deps.log(
        `CloudFront: too many invalidations in progress on ${distributionId}; retrying in ${Math.round(delay / 1000)} s (attempt ${attempt}).`,
      );
      await deps.sleep(delay);
    }
  }
}

/** Our own poller: first checks after 1–5 s, then every 10 s; prints each status change. */
export async function waitForInvalidation(
  cf: CloudFront,
  distributionId: string,
  id: string,
  timeoutMs: number,
  deps: InvalidateDeps,
): Promise<void> {
  const { GetInvalidationCommand } = await sdk();
  let last = '';
  const result = await poll({
    check: async () => {
      const res = await cf.send(new GetInvalidationCommand({ DistributionId: distributionId, Id: id }));
      const status = res.Invalidation?.Status ?? 'unknown';
      if (status !== last) deps.log(`invalidation ${id}: ${status}`);
      last = status;
      return is(status, 'Completed') ? { done: true, value: status } : { done: false };
    },
    interval: rampInterval(10_000, 1_000),
    timeoutMs,
    sleep: deps.sleep,
    now: deps.now,
  });
  if (result.status !== 'done') {
    throw new ActionError(
      `Invalidation ${id} on ${distributionId} was still ${last || 'pending'} after ${Math.round(timeoutMs / 1000)} s.`,
      { input: 'wait-timeout-seconds', fix: 'The site is deployed; raise wait-timeout-seconds or set wait-for-invalidation: false.' },
    );
  }
}
