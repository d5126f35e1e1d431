/**
 * Which keys of a planned target to invalidate, and how: the changed and
 * deleted keys (plus what a failed run left pending), narrowed by what the
 * distribution actually serves, read from CloudFront only when there is
 * something to invalidate. It sits between planning (deploy.ts) and applying
 * (apply.ts) because both the plan's summary and the write phase ask it, and
 * it is the only part of planning that talks to CloudFront.
 */
import { readDistributionView } from './cloudfront.js';
import type { Deps, TargetResult } from './deploy.js';
import { deepLinkReason, stateExposure } from './distribution.js';
import type { Inputs } from './inputs.js';
import { FULL_BUDGET, planInvalidation, type InvalidationPlan } from './invalidation.js';
import { relOf } from './plan.js';

/** Changed and deleted keys, plus what an earlier failed run wrote but did not invalidate. */
export function invalidationRels(res: Pick<TargetResult, 'plan' | 'target' | 'manifest' | 'view'>): string[] {
  const { plan, target } = res;
  // A key that did not exist has nothing cached at the edge but a 403/404, kept
  // 10 s by default: not worth an invalidation unless the distribution caches errors longer (distribution.ts).
  const skipNew = res.view !== undefined && !res.view.invalidateNewKeys;
  const rels = [
    ...plan.uploads.filter((o) => !(skipNew && o.reason === 'new')).map((o) => o.file.rel),
    ...plan.copies.map((o) => o.file.rel),
    ...plan.deletes.map((k) => relOf(k, target.prefix)),
    ...(res.manifest?.pending ?? []),
  ];
  // A key no cache behaviour routes to this bucket's origin path has no viewer path: nothing to invalidate.
  const served = res.view ? rels.filter((rel) => res.view!.viewerPaths(rel).length > 0) : rels;
  return [...new Set(served)];
}

export function plannedInvalidation(res: TargetResult, inputs: Inputs, budget = FULL_BUDGET): InvalidationPlan | undefined {
  if (!res.target.distributionId || inputs.invalidate === 'none') return undefined;
  const rels = invalidationRels(res);
  if (rels.length === 0) return undefined;
  if (inputs.invalidate === 'all') return { paths: ['/*'], note: 'invalidate: all' };
  const deepLinks = deepLinkReason(res.view, rels);
  if (deepLinks) return { paths: ['/*'], note: deepLinks };
  return planInvalidation(rels, {
    maxPaths: inputs.invalidationMaxPaths,
    budget,
    ...(res.view ? { viewerPaths: res.view.viewerPaths } : {}),
  });
}

/** Reads the distribution's config once, only when the plan has keys to invalidate (a no-op run makes no CloudFront call). */
export async function attachDistributionView(
  res: TargetResult,
  inputs: Inputs,
  deps: Pick<Deps, 'cloudfront' | 'reporter'>,
): Promise<void> {
  const { target } = res;
  if (!target.distributionId || inputs.invalidate !== 'changed' || res.view || invalidationRels(res).length === 0) return;
  const before = invalidationRels(res).length;
  res.view = await readDistributionView(deps.cloudfront(), { ...target, distributionId: target.distributionId }, (m) =>
    deps.reporter.warning(m),
  );
  for (const note of res.view.notes) deps.reporter.info(note);
  const exposed = stateExposure(res.view, target);
  if (exposed) {
    res.exposure = exposed;
    deps.reporter.warning(exposed);
  }
  const unserved = before - invalidationRels({ ...res, view: { ...res.view, invalidateNewKeys: true } }).length;
  if (unserved > 0)
    deps.reporter.warning(
      `${unserved} changed keys under s3://${target.bucket}/${target.prefix} are not served by distribution ${target.distributionId} (no cache ` +
        `behaviour sends their viewer path to this bucket's origin path); they are not invalidated. Check prefix and the distribution's origin path.`,
    );
}
