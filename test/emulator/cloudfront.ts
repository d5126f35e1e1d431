/**
 * Amazon CloudFront (REST-XML, API version 2020-05-31): distributions and
 * invalidations. An invalidation is InProgress until its delay has passed on
 * the clock, then Completed; in-progress limits are AWS's (3,000 file paths,
 * 15 wildcard paths per distribution).
 */
import { randomBytes } from 'node:crypto';
import { AwsError, escapeXml, type EmuContext } from './core.js';
import type { RestHandler } from './server.js';

const NS = 'http://cloudfront.amazonaws.com/doc/2020-05-31/';
const ID_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const MAX_PATHS_IN_PROGRESS = 3000;
const MAX_WILDCARDS_IN_PROGRESS = 15;

interface Invalidation {
  id: string;
  paths: string[];
  callerReference: string;
  createdAt: number;
  completesAt: number;
}

/** One origin of a distribution: an S3 bucket (`<bucket>.s3.<region>.amazonaws.com`) or a custom domain. */
interface OriginSpec {
  id: string;
  domainName: string;
  /** '' or '/site'; CloudFront requests `originPath + viewer path` from the origin. */
  originPath?: string;
}

/** What GetDistribution returns of the config that decides where keys are served. */
export interface DistributionSpec {
  id?: string;
  invalidationSeconds?: number;
  /** Default: one S3 origin for the bucket `emulator-origin`, which no test deploys to. */
  origins?: OriginSpec[];
  /** TargetOriginId of the default cache behaviour; default the first origin. */
  defaultOriginId?: string;
  /** Path-pattern cache behaviours, in precedence order. */
  behaviors?: { pathPattern: string; targetOriginId: string }[];
  /** Custom error responses (e.g. an SPA's 404 → /index.html cached for a day). */
  errorResponses?: { errorCode: number; errorCachingMinTTL?: number; responsePagePath?: string; responseCode?: string }[];
}

interface Distribution {
  id: string;
  createdAt: number;
  invalidationMs: number;
  invalidations: Invalidation[];
  etag: string;
  origins: Required<OriginSpec>[];
  defaultOriginId: string;
  behaviors: { pathPattern: string; targetOriginId: string }[];
  errorResponses: NonNullable<DistributionSpec['errorResponses']>;
}

const newId = (first: string) => first + [...randomBytes(13)].map((b) => ID_CHARS[b % ID_CHARS.length]).join('');

const unescapeXml = (s: string) =>
  s
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');

const tag = (name: string, value: string | number | boolean) => `<${name}>${escapeXml(String(value))}</${name}>`;

export class CloudFrontService {
  private readonly distributions = new Map<string, Distribution>();
  /** Seconds an invalidation stays InProgress for distributions created from now on. */
  invalidationSeconds = 1;

  constructor(private readonly ctx: EmuContext) {}

  /** Seeds a deployed distribution; returns its id. */
  createDistribution(opts: DistributionSpec = {}): string {
    const id = opts.id ?? newId('E');
    const origins = (opts.origins ?? [{ id: 's3-origin', domainName: 'emulator-origin.s3.eu-west-1.amazonaws.com' }]).map((o) => ({
      originPath: '',
      ...o,
    }));
    this.distributions.set(id, {
      id,
      createdAt: this.ctx.now(),
      invalidationMs: (opts.invalidationSeconds ?? this.invalidationSeconds) * 1000,
      invalidations: [],
      etag: newId('E'),
      origins,
      defaultOriginId: opts.defaultOriginId ?? origins[0]!.id,
      behaviors: opts.behaviors ?? [],
      errorResponses: opts.errorResponses ?? [],
    });
    return id;
  }

  /** Changes how long this distribution's future invalidations stay InProgress. */
  setInvalidationSeconds(distributionId: string, seconds: number): void {
    this.distribution(distributionId).invalidationMs = seconds * 1000;
  }

  /** The paths of every invalidation created for a distribution, oldest first. */
  invalidations(distributionId: string): { id: string; paths: string[]; status: string }[] {
    return this.distribution(distributionId).invalidations.map((i) => ({ id: i.id, paths: [...i.paths], status: this.status(i) }));
  }

  private distribution(id: string): Distribution {
    const d = this.distributions.get(id);
    if (!d) throw new AwsError('NoSuchDistribution', 'The specified distribution does not exist.', 404);
    return d;
  }

  private status(i: Invalidation): 'InProgress' | 'Completed' {
    return this.ctx.now() >= i.completesAt ? 'Completed' : 'InProgress';
  }

  private invalidationXml(i: Invalidation): string {
    const items = i.paths.map((p) => tag('Path', p)).join('');
    return (
      `<Invalidation xmlns="${NS}">${tag('Id', i.id)}${tag('Status', this.status(i))}${tag('CreateTime', new Date(i.createdAt).toISOString())}` +
      `<InvalidationBatch><Paths>${tag('Quantity', i.paths.length)}<Items>${items}</Items></Paths>${tag('CallerReference', i.callerReference)}</InvalidationBatch></Invalidation>`
    );
  }

  private create(d: Distribution, body: string): { status: number; body: string; headers: Record<string, string> } {
    if (!body.trim()) throw new AwsError('MissingBody', 'This operation requires a body.');
    const paths = [...body.matchAll(/<Path>([\s\S]*?)<\/Path>/g)].map((m) => unescapeXml(m[1]!));
    const quantity = Number(/<Paths>\s*<Quantity>(\d+)<\/Quantity>/.exec(body)?.[1] ?? NaN);
    const callerReference = unescapeXml(/<CallerReference>([\s\S]*?)<\/CallerReference>/.exec(body)?.[1] ?? '');
    if (!callerReference) throw new AwsError('InvalidArgument', 'CallerReference is required.');
    if (quantity !== paths.length) throw new AwsError('InconsistentQuantities', "The value of Quantity and the size of Items don't match.");
    if (paths.length === 0) throw new AwsError('InvalidArgument', 'Your request must contain at least one path.');
    const bad = paths.find((p) => !p.startsWith('/') || (p.includes('*') && !p.endsWith('*')));
    if (bad !== undefined)
      throw new AwsError(
        'InvalidArgument',
        `The invalidation path '${bad}' is not valid: paths must begin with '/', and '*' may only appear at the end.`,
      );
    const same = d.invalidations.find((i) => i.callerReference === callerReference);
    if (same) {
      if (JSON.stringify(same.paths) !== JSON.stringify(paths)) {
        throw new AwsError(
          'InvalidationBatchAlreadyExists',
          'An invalidation batch with this CallerReference already exists with different paths.',
          409,
        );
      }
      return { status: 201, body: this.invalidationXml(same), headers: { location: this.location(d, same) } };
    }
    const inProgress = d.invalidations.filter((i) => this.status(i) === 'InProgress').flatMap((i) => i.paths);
    const isWildcard = (p: string) => p.endsWith('*');
    const wildcards = inProgress.filter(isWildcard).length + paths.filter(isWildcard).length;
    const files = inProgress.filter((p) => !isWildcard(p)).length + paths.filter((p) => !isWildcard(p)).length;
    if (wildcards > MAX_WILDCARDS_IN_PROGRESS || files > MAX_PATHS_IN_PROGRESS) {
      throw new AwsError(
        'TooManyInvalidationsInProgress',
        `Processing your request will cause you to exceed the maximum number of in-progress invalidations (${MAX_PATHS_IN_PROGRESS} file paths and ${MAX_WILDCARDS_IN_PROGRESS} wildcard paths per distribution); in progress: ${inProgress.length} paths.`,
      );
    }
    const now = this.ctx.now();
    const inv: Invalidation = { id: newId('I'), paths, callerReference, createdAt: now, completesAt: now + d.invalidationMs };
    d.invalidations.push(inv);
    return { status: 201, body: this.invalidationXml(inv), headers: { location: this.location(d, inv) } };
  }

  private location(d: Distribution, i: Invalidation): string {
    return `https://cloudfront.amazonaws.com/2020-05-31/distribution/${d.id}/invalidation/${i.id}`;
  }

  private list(d: Distribution, query: URLSearchParams): string {
    const all = [...d.invalidations].reverse();
    const maxItems = Number(query.get('MaxItems') ?? 100);
    const marker = query.get('Marker') ?? '';
    const start = marker ? all.findIndex((i) => i.id === marker) + 1 : 0;
    const page = all.slice(start, start + maxItems);
    const truncated = start + maxItems < all.length;
    const items = page
      .map(
        (i) =>
          `<InvalidationSummary>${tag('Id', i.id)}${tag('CreateTime', new Date(i.createdAt).toISOString())}${tag('Status', this.status(i))}</InvalidationSummary>`,
      )
      .join('');
    return (
      `<InvalidationList xmlns="${NS}">${tag('Marker', marker)}${truncated ? tag('NextMarker', page.at(-1)!.id) : ''}${tag('MaxItems', maxItems)}` +
      `${tag('IsTruncated', truncated)}${tag('Quantity', page.length)}${page.length ? `<Items>${items}</Items>` : ''}</InvalidationList>`
    );
  }

  /**
   * The GetDistribution shape (API reference, GetDistribution / DistributionConfig:
   * https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_GetDistribution.html,
   * https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_DistributionConfig.html,
   * CustomErrorResponse: https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_CustomErrorResponse.html —
   * ErrorCode, ResponsePagePath, ResponseCode, ErrorCachingMinTTL):
   * every origin carries OriginPath (empty when none) and an S3OriginConfig or
   * CustomOriginConfig; CacheBehaviors and CustomErrorResponses always have a
   * Quantity, with Items only when there are any.
   */
  private distributionXml(d: Distribution): string {
    const inProgress = d.invalidations.filter((i) => this.status(i) === 'InProgress').length;
    const domain = `d${d.id.toLowerCase().slice(1, 13)}.cloudfront.net`;
    const list = (items: string[]) => `${tag('Quantity', items.length)}${items.length ? `<Items>${items.join('')}</Items>` : ''}`;
    const origins = d.origins.map(
      (o) =>
        `<Origin>${tag('Id', o.id)}${tag('DomainName', o.domainName)}${tag('OriginPath', o.originPath)}<CustomHeaders><Quantity>0</Quantity></CustomHeaders>` +
        (/\.s3[.-]/.test(o.domainName) && !o.domainName.includes('s3-website')
          ? `<S3OriginConfig>${tag('OriginAccessIdentity', '')}</S3OriginConfig>`
          : `<CustomOriginConfig>${tag('HTTPPort', 80)}${tag('HTTPSPort', 443)}${tag('OriginProtocolPolicy', 'https-only')}</CustomOriginConfig>`) +
        `${tag('ConnectionAttempts', 3)}${tag('ConnectionTimeout', 10)}</Origin>`,
    );
    const behaviors = d.behaviors.map(
      (b) =>
        `<CacheBehavior>${tag('PathPattern', b.pathPattern)}${tag('TargetOriginId', b.targetOriginId)}${tag('ViewerProtocolPolicy', 'redirect-to-https')}</CacheBehavior>`,
    );
    const errors = d.errorResponses.map(
      (e) =>
        `<CustomErrorResponse>${tag('ErrorCode', e.errorCode)}${tag('ResponsePagePath', e.responsePagePath ?? '')}${tag('ResponseCode', e.responseCode ?? '')}${tag('ErrorCachingMinTTL', e.errorCachingMinTTL ?? 10)}</CustomErrorResponse>`,
    );
    return (
      `<Distribution xmlns="${NS}">${tag('Id', d.id)}${tag('ARN', `arn:aws:cloudfront::${this.ctx.account}:distribution/${d.id}`)}${tag('Status', 'Deployed')}` +
      `${tag('LastModifiedTime', new Date(d.createdAt).toISOString())}${tag('InProgressInvalidationBatches', inProgress)}${tag('DomainName', domain)}` +
      `<DistributionConfig>${tag('CallerReference', d.id)}${tag('Comment', 'emulator')}${tag('Enabled', true)}<Aliases><Quantity>0</Quantity></Aliases>` +
      `${tag('DefaultRootObject', 'index.html')}<Origins>${list(origins)}</Origins>` +
      `<DefaultCacheBehavior>${tag('TargetOriginId', d.defaultOriginId)}${tag('ViewerProtocolPolicy', 'redirect-to-https')}</DefaultCacheBehavior>` +
      `<CacheBehaviors>${list(behaviors)}</CacheBehaviors><CustomErrorResponses>${list(errors)}</CustomErrorResponses>${tag('PriceClass', 'PriceClass_100')}</DistributionConfig></Distribution>`
    );
  }

  handler(): RestHandler {
    return ({ method, path, query, body }) => {
      const m = /^\/2020-05-31\/distribution\/([^/]+)(\/invalidation(?:\/([^/]+))?|\/config)?\/?$/.exec(path);
      const [, distId, sub, invId] = m ?? [];
      const xml = (status: number, text: string, headers: Record<string, string> = {}) => ({
        status,
        body: `<?xml version="1.0" encoding="UTF-8"?>\n${text}`,
        headers,
      });
      if (m && !sub && method === 'GET') {
        return {
          operation: 'GetDistribution',
          run: () => {
            const d = this.distribution(distId!);
            return xml(200, this.distributionXml(d), { etag: d.etag });
          },
        };
      }
      if (m && sub === '/invalidation' && method === 'POST') {
        return {
          operation: 'CreateInvalidation',
          run: () => {
            const out = this.create(this.distribution(distId!), body);
            return xml(out.status, out.body, out.headers);
          },
        };
      }
      if (m && sub === '/invalidation' && method === 'GET') {
        return { operation: 'ListInvalidations', run: () => xml(200, this.list(this.distribution(distId!), query)) };
      }
      if (m && invId && method === 'GET') {
        return {
          operation: 'GetInvalidation',
          run: () => {
            const inv = this.distribution(distId!).invalidations.find((i) => i.id === invId);
            if (!inv) throw new AwsError('NoSuchInvalidation', 'The specified invalidation does not exist.', 404);
            return xml(200, this.invalidationXml(inv));
          },
        };
      }
      return {
        operation: `${method} ${path}`,
        run: () => {
          throw new AwsError('InvalidArgument', `The emulator does not implement ${method} ${path}.`);
        },
      };
    };
  }
}
