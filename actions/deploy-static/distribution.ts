/**
 * Where a distribution serves the bucket's keys, from its config
 * (GetDistribution): pure, so it is tested with real-shaped configs.
 *
 * CloudFront asks the origin for `OriginPath + viewer path` (developer guide,
 * "Origin path": https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/DownloadDistValuesOrigin.html#DownloadDistValuesOriginPath),
 * so a key is served at `/` + the key without the origin path, and only if the
 * cache behaviour that matches that viewer path (path-pattern behaviours in
 * order, then the default; "Path pattern":
 * https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/DownloadDistValuesCacheBehavior.html#DownloadDistValuesPathPattern)
 * sends it to an origin for this bucket.
 */
import { stateLabel, stateOf, stateRel, type Located } from './state.js';
import type { DistributionConfig } from '@aws-sdk/client-cloudfront';
import { prefixIsOriginPath, type ViewerPaths } from './invalidation.js';

/**
 * CloudFront caches a 403/404 from the origin for the error caching minimum TTL,
 * 10 s unless a custom error response says otherwise (developer guide, "Control
 * how long CloudFront caches errors":
 * https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/HTTPStatusCodes.html).
 * S3 answers a missing key with 403 (no s3:ListBucket) or 404.
 */
const DEFAULT_ERROR_CACHING_TTL_SECONDS = 10;

export interface DistributionView {
  viewerPaths: ViewerPaths;
  /**
   * Whether a key that did not exist can still be cached at the edge (as a
   * 403/404 answer) for longer than the default 10 s, so new keys need an
   * invalidation too (an SPA whose custom error response caches 404 → /index.html for a day).
   */
  invalidateNewKeys: boolean;
  /**
   * Pages a custom error response serves for 403/404 (an SPA's `/index.html`)
   * with how long CloudFront keeps that answer cached per URL.
   */
  errorPages: ErrorPage[];
  /** For the log: what was found and assumed. */
  notes: string[];
}

interface ErrorPage {
  /** ResponsePagePath: a viewer path, e.g. `/index.html`. */
  path: string;
  /** ErrorCachingMinTTL in seconds. */
  ttl: number;
}

/** When the config cannot be read: the old assumption, and new keys invalidated to be safe. */
export function assumedView(prefix: string, why: string): DistributionView {
  return {
    viewerPaths: prefixIsOriginPath,
    invalidateNewKeys: true,
    errorPages: [],
    notes: [`${why}; assuming the distribution's origin path is /${prefix.replace(/\/$/, '')} and invalidating new keys too.`],
  };
}

/** `bucket.s3.amazonaws.com`, `bucket.s3.eu-west-1.amazonaws.com`, `bucket.s3-website-eu-west-1.amazonaws.com`, `bucket.s3.dualstack…`, `.cn`. */
export function isBucketDomain(domain: string, bucket: string): boolean {
  const d = domain.toLowerCase();
  return d.startsWith(`${bucket}.s3.`) || d.startsWith(`${bucket}.s3-`) ? /\.amazonaws\.com(\.cn)?$/.test(d) : false;
}

/** CloudFront path patterns: case-sensitive, `*` any run of characters (also `/`), `?` exactly one; the leading `/` is optional. */
export function pathPatternRegExp(pattern: string): RegExp {
  const p = pattern.startsWith('/') ? pattern : `/${pattern}`;
  return new RegExp(
    `^${p
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  );
}

export function distributionView(
  config: DistributionConfig | undefined,
  bucket: string,
  prefix: string,
  distributionId: string,
): DistributionView {
  const origins = config?.Origins?.Items ?? [];
  const bucketOrigins = new Map(
    origins
      .filter((o) => o.Id && o.DomainName && isBucketDomain(o.DomainName, bucket))
      .map((o) => [o.Id!, (o.OriginPath ?? '').replace(/^\/+/, '').replace(/\/+$/, '')]),
  );
  if (bucketOrigins.size === 0)
    return assumedView(prefix, `Distribution ${distributionId} has no S3 origin for bucket ${bucket} (a custom domain origin?)`);
  // An origin group fails over between its members: it serves the bucket when a member does.
  const groups = new Map(
    (config?.OriginGroups?.Items ?? []).map((g) => [g.Id ?? '', (g.Members?.Items ?? []).map((m) => m.OriginId ?? '')]),
  );
  const originPathOf = (target: string | undefined): string | undefined => {
    if (target === undefined) return undefined;
    if (bucketOrigins.has(target)) return bucketOrigins.get(target);
    return groups
      .get(target)
      ?.map((id) => bucketOrigins.get(id))
      .find((p) => p !== undefined);
  };
  const behaviours = (config?.CacheBehaviors?.Items ?? []).map((b) => ({
    re: pathPatternRegExp(b.PathPattern ?? ''),
    target: b.TargetOriginId,
  }));
  const servedBy = (viewer: string): string | undefined =>
    (behaviours.find((b) => b.re.test(viewer)) ?? { target: config?.DefaultCacheBehavior?.TargetOriginId }).target;
  const originPaths = [...new Set(bucketOrigins.values())];
  const viewerPaths: ViewerPaths = (rel) => {
    const key = prefix + rel;
    const out: string[] = [];
    for (const op of originPaths) {
      if (op !== '' && !key.startsWith(`${op}/`)) continue;
      const viewer = `/${op === '' ? key : key.slice(op.length + 1)}`;
      if (originPathOf(servedBy(viewer)) === op) out.push(viewer);
    }
    return out;
  };
  const notFound = (config?.CustomErrorResponses?.Items ?? []).filter((e) => e.ErrorCode === 403 || e.ErrorCode === 404);
  const errorTtls = notFound.map((e) => e.ErrorCachingMinTTL ?? DEFAULT_ERROR_CACHING_TTL_SECONDS);
  const errorPages = notFound
    .filter((e) => e.ResponsePagePath)
    .map((e) => ({ path: e.ResponsePagePath!, ttl: e.ErrorCachingMinTTL ?? DEFAULT_ERROR_CACHING_TTL_SECONDS }));
  const maxErrorTtl = Math.max(DEFAULT_ERROR_CACHING_TTL_SECONDS, ...errorTtls);
  const invalidateNewKeys = maxErrorTtl > DEFAULT_ERROR_CACHING_TTL_SECONDS;
  const notes = [
    `Distribution ${distributionId} serves bucket ${bucket} from origin path ${originPaths.map((p) => `/${p}`).join(', ')}; keys under ` +
      `${prefix || '(bucket root)'} are invalidated at those viewer paths.`,
    invalidateNewKeys
      ? `It caches 403/404 answers for up to ${maxErrorTtl} s (custom error response): new keys are invalidated too.`
      : 'It caches 403/404 answers for at most 10 s (the default): new keys are not invalidated (nothing useful can be cached for them).',
  ];
  return { viewerPaths, invalidateNewKeys, errorPages, notes };
}

/**
 * A deep link (`/orders/42`) that is not a key gets the error page from a
 * custom error response, and CloudFront caches that answer under the deep
 * link's own URL for ErrorCachingMinTTL (developer guide, "Generating custom
 * error responses": https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/GeneratingCustomErrorResponses.html).
 * Invalidating `/index.html` does not reach those URLs and nobody can list
 * them, so when the page changes the only invalidation that does is `/*`.
 * Returns why, or undefined when no changed key is such a page (or its answers
 * are cached no longer than the default 10 s, over before an invalidation would be).
 */
export function deepLinkReason(view: DistributionView | undefined, rels: readonly string[]): string | undefined {
  const pages = (view?.errorPages ?? []).filter((p) => p.ttl > DEFAULT_ERROR_CACHING_TTL_SECONDS);
  if (!view || pages.length === 0) return undefined;
  for (const rel of rels) {
    const served = view.viewerPaths(rel);
    const page = pages.find((p) => served.includes(p.path));
    if (page)
      return (
        `${page.path} changed and the distribution serves it for 403/404 (custom error response, cached ${page.ttl} s per URL): ` +
        `deep links cached with the old page are only reached by /*`
      );
  }
  return undefined;
}

/**
 * Whether the distribution serves the bookkeeping folder (the record, the lock,
 * every release snapshot) to anyone who guesses its path. A cache behaviour
 * cannot deny a path; a bucket-policy Deny for the CloudFront principal can
 * (README, "Keep the bookkeeping private").
 */
export function stateExposure(view: DistributionView | undefined, target: Located & { distributionId?: string }): string | undefined {
  // State in another bucket, or outside the prefix, is not behind this origin path: nothing to say.
  const rel = stateRel(target);
  if (rel === undefined) return undefined;
  const served = view?.viewerPaths(`${rel}manifest.json`) ?? [];
  if (served.length === 0) return undefined;
  const state = stateOf(target);
  return (
    `Distribution ${target.distributionId} serves the deploy record, lock and release snapshots in ${stateLabel(state)} ` +
    `at ${served[0]} (and everything under it): anyone can read old releases and the record. Move them with state-bucket ` +
    `(a bucket nothing serves), or add the bucket-policy Deny for the CloudFront principal on ` +
    `arn:aws:s3:::${state.bucket}/${state.prefix}* shown in the README ("Keep the bookkeeping private").`
  );
}
