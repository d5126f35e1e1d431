import { CreateInvalidationCommand, GetInvalidationCommand, ListInvalidationsCommand, type CloudFrontClient } from '@aws-sdk/client-cloudfront';
import { poll, rampInterval, type Clock, type Sleep } from '../../lib/poll.js';
import { ActionError } from '../../lib/errors.js';
import { remainingBudget, type InvalidationBudget } from './invalidation.js';

/** Status strings are compared case-insensitively: the SDK's own waiter does not, and hangs on `COMPLETED`. */
const is = (status: string | undefined, want: string): boolean => (status ?? '').toLowerCase() === want.toLowerCase();

/**
 * What the invalidations still in progress leave of the distribution's
 * limits. In-progress ones are the newest, so paging stops at the first page
 * without any.
 */
export async function inProgressBudget(cf: CloudFrontClient, distributionId: string): Promise<InvalidationBudget> {
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
  const paths = await Promise.all(ids.map(async (Id) => (await cf.send(new GetInvalidationCommand({ DistributionId: distributionId, Id }))).Invalidation?.InvalidationBatch?.Paths?.Items ?? []));
  return remainingBudget(paths);
}

export interface InvalidateDeps {
  sleep: Sleep;
  now: Clock;
  log: (line: string) => void;
}

/** Retries TooManyInvalidationsInProgress with backoff (5 s doubling to 60 s) until `timeoutMs`. */
export async function createInvalidation(cf: CloudFrontClient, distributionId: string, paths: readonly string[], callerReference: string, timeoutMs: number, deps: InvalidateDeps): Promise<string> {
  const start = deps.now();
  for (let attempt = 1; ; attempt++) {
    try {
      const res = await cf.send(new CreateInvalidationCommand({ DistributionId: distributionId, InvalidationBatch: { CallerReference: callerReference, Paths: { Quantity: paths.length, Items: [...paths] } } }));
      return res.Invalidation?.Id ?? '';
    } catch (err) {
      if ((err as { name?: string }).name !== 'TooManyInvalidationsInProgress') throw err;
      const waited = deps.now() - start;
      if (waited >= timeoutMs) {
        throw new ActionError(`CloudFront distribution ${distributionId} still has too many invalidations in progress after ${Math.round(waited / 1000)} s; the files are uploaded, old deletes were skipped.`, { input: 'wait-timeout-seconds', fix: 'Re-run the job once the running invalidations finish (it converges), or raise wait-timeout-seconds.' });
      }
      const delay = Math.min(60_000, 5_000 * 2 ** (attempt - 1), timeoutMs - waited);
      deps.log(`CloudFront: too many invalidations in progress on ${distributionId}; retrying in ${Math.round(delay / 1000)} s (attempt ${attempt}).`);
      await deps.sleep(delay);
    }
  }
}

/** Our own poller: first checks after 1–5 s, then every 10 s; prints each status change. */
export async function waitForInvalidation(cf: CloudFrontClient, distributionId: string, id: string, timeoutMs: number, deps: InvalidateDeps): Promise<void> {
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
    throw new ActionError(`Invalidation ${id} on ${distributionId} was still ${last || 'pending'} after ${Math.round(timeoutMs / 1000)} s.`, { input: 'wait-timeout-seconds', fix: 'The site is deployed; raise wait-timeout-seconds or set wait-for-invalidation: false.' });
  }
}
