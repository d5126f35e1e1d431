/**
 * Which keys of a planned target are invalidated, and when the distribution's config is read: the
 * part of planning that talks to CloudFront (GetDistribution, answered here by aws-sdk-client-mock).
 */
import { CloudFrontClient, GetDistributionCommand, type DistributionConfig } from '@aws-sdk/client-cloudfront';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { memoryReporter } from '../../lib/report.js';
import { attachDistributionView, invalidationRels, plannedInvalidation } from '../../actions/deploy-static/deploy-invalidation.js';
import type { TargetResult } from '../../actions/deploy-static/deploy.js';
import { distributionView, type DistributionView } from '../../actions/deploy-static/distribution.js';
import type { Inputs } from '../../actions/deploy-static/inputs.js';
import type { Target } from '../../actions/deploy-static/targets.js';

const cf = mockClient(CloudFrontClient);
afterEach(() => cf.reset());

const op = (rel: string, reason: 'new' | 'content') => ({ file: { rel }, reason });
const TARGET: Target = { bucket: 'site', prefix: 'www/', distributionId: 'E1' };

function result(
  over: { target?: Target; uploads?: ReturnType<typeof op>[]; copies?: string[]; deletes?: string[]; pending?: string[] } = {},
) {
  return {
    target: over.target ?? TARGET,
    plan: {
      uploads: over.uploads ?? [op('new.html', 'new'), op('index.html', 'content')],
      copies: (over.copies ?? []).map((rel) => op(rel, 'content')),
      deletes: over.deletes ?? ['www/old.js'],
    },
    ...(over.pending ? { manifest: { version: 2, entries: {}, pending: over.pending } } : {}),
  } as unknown as TargetResult;
}

const inputs = (invalidate: Inputs['invalidate'], invalidationMaxPaths = 100) => ({ invalidate, invalidationMaxPaths }) as Inputs;

/** The bucket origin at `/www`, 404s cached `errorTtl` seconds with `/index.html` as the page; `/admin/*` goes to the bucket root. */
function config(errorTtl = 10): DistributionConfig {
  return {
    CallerReference: 'x',
    Comment: '',
    Enabled: true,
    Origins: {
      Quantity: 2,
      Items: [
        { Id: 'web', DomainName: 'site.s3.eu-west-1.amazonaws.com', OriginPath: '/www' },
        { Id: 'raw', DomainName: 'site.s3.eu-west-1.amazonaws.com', OriginPath: '' },
      ],
    },
    DefaultCacheBehavior: { TargetOriginId: 'web', ViewerProtocolPolicy: 'redirect-to-https' },
    CacheBehaviors: { Quantity: 1, Items: [{ PathPattern: '/admin/*', TargetOriginId: 'raw', ViewerProtocolPolicy: 'redirect-to-https' }] },
    CustomErrorResponses: {
      Quantity: 1,
      Items: [{ ErrorCode: 404, ErrorCachingMinTTL: errorTtl, ResponsePagePath: '/index.html', ResponseCode: '200' }],
    },
  } as DistributionConfig;
}
const view = (errorTtl?: number): DistributionView => distributionView(config(errorTtl), 'site', 'www/', 'E1');

describe('invalidationRels', () => {
  it('without a view: new, changed, re-headed and deleted keys (relative to the prefix) and what a failed run left pending, once each', () => {
    const res = result({ copies: ['about.html'], pending: ['gone.css', 'index.html'] });
    expect(invalidationRels(res)).toEqual(['new.html', 'index.html', 'about.html', 'old.js', 'gone.css']);
  });

  it('new keys are left out only when the view says errors are cached no longer than the default', () => {
    expect(invalidationRels({ ...result(), view: view() })).toEqual(['index.html', 'old.js']);
    expect(invalidationRels({ ...result(), view: view(300) })).toEqual(['new.html', 'index.html', 'old.js']);
  });

  it('leaves out keys the distribution does not serve', () => {
    expect(invalidationRels({ ...result({ uploads: [op('admin/x.html', 'content')], deletes: [] }), view: view() })).toEqual([]);
  });
});

describe('plannedInvalidation', () => {
  it('is nothing without a distribution, with invalidate: none, or with no key to invalidate', () => {
    expect(plannedInvalidation(result({ target: { bucket: 'site', prefix: 'www/' } }), inputs('changed'))).toBeUndefined();
    expect(plannedInvalidation(result(), inputs('none'))).toBeUndefined();
    expect(plannedInvalidation(result({ uploads: [], deletes: [] }), inputs('all'))).toBeUndefined();
  });

  it('is /* with invalidate: all', () => {
    expect(plannedInvalidation(result(), inputs('all'))).toEqual({ paths: ['/*'], note: 'invalidate: all' });
  });

  it('is /* when the changed page is the one the distribution serves for 404s longer than the default', () => {
    const plan = plannedInvalidation({ ...result(), view: view(300) }, inputs('changed'));
    expect(plan?.paths).toEqual(['/*']);
    expect(plan?.note).toMatch(/^\/index\.html changed and the distribution serves it for 403\/404/);
    expect(plannedInvalidation({ ...result(), view: view() }, inputs('changed'))?.paths).toEqual(['/', '/index.html', '/old.js']);
  });

  it('lists the paths, through the view when there is one, within invalidation-max-paths', () => {
    expect(plannedInvalidation(result(), inputs('changed'))).toEqual({ paths: ['/', '/index.html', '/new.html', '/old.js'] });
    const many = result({ uploads: ['a', 'b', 'c'].map((n) => op(`docs/${n}.html`, 'content')), deletes: [] });
    expect(plannedInvalidation(many, inputs('changed', 2))?.paths).toEqual(['/docs/*']);
    // Without a view the keys map to the prefix's folder; the view maps www/ to the root.
    const admin = result({
      target: { bucket: 'site', prefix: '', distributionId: 'E1' },
      uploads: [op('admin/x.html', 'content')],
      deletes: [],
    });
    expect(plannedInvalidation({ ...admin, view: distributionView(config(), 'site', '', 'E1') }, inputs('changed'))?.paths).toEqual([
      '/admin/x.html',
    ]);
  });

  it('follows the view: a prefix served from an origin without origin path keeps the prefix in its viewer paths', () => {
    const root = {
      ...config(),
      DefaultCacheBehavior: { TargetOriginId: 'raw', ViewerProtocolPolicy: 'redirect-to-https' },
    } as DistributionConfig;
    const res = { ...result({ uploads: [op('index.html', 'content')], deletes: [] }), view: distributionView(root, 'site', 'www/', 'E1') };
    expect(plannedInvalidation(res, inputs('changed'))?.paths).toEqual(['/www', '/www/', '/www/index.html']);
  });

  it('stays within the budget it is given', () => {
    const many = result({ uploads: ['a', 'b', 'c'].map((n) => op(`docs/${n}.html`, 'content')), deletes: [] });
    expect(plannedInvalidation(many, inputs('changed'), { filePaths: 1, wildcards: 15 })?.paths).toEqual(['/docs/*']);
  });
});

describe('attachDistributionView', () => {
  const deps = () => {
    const reporter = memoryReporter();
    return { reporter, cloudfront: () => new CloudFrontClient({ region: 'us-east-1' }) };
  };

  it.each([
    ['no distribution', result({ target: { bucket: 'site', prefix: 'www/' } }), inputs('changed')],
    ['invalidate: all', result(), inputs('all')],
    ['invalidate: none', result(), inputs('none')],
    ['nothing to invalidate', result({ uploads: [], deletes: [] }), inputs('changed')],
    ['a view already read', { ...result(), view: view() }, inputs('changed')],
  ])('makes no CloudFront call with %s', async (_why, res, inp) => {
    cf.on(GetDistributionCommand).resolves({ Distribution: { DistributionConfig: config() } as never });
    await attachDistributionView(res, inp, deps());
    expect(cf.commandCalls(GetDistributionCommand)).toHaveLength(0);
  });

  it('reads the distribution once, says what it found, and warns about keys it does not serve (counting new ones too)', async () => {
    cf.on(GetDistributionCommand).resolves({ Distribution: { DistributionConfig: config() } as never });
    const d = deps();
    const res = result({
      target: { ...TARGET, state: { bucket: 'state', prefix: 'www/' } },
      uploads: [op('new.html', 'new'), op('admin/x.html', 'new'), op('admin/y.html', 'content')],
    });
    await attachDistributionView(res, inputs('changed'), d);
    expect(cf.commandCalls(GetDistributionCommand).map((c) => c.args[0].input)).toEqual([{ Id: 'E1' }]);
    expect(res.view?.viewerPaths('index.html')).toEqual(['/index.html']);
    expect(res.exposure).toBeUndefined();
    expect(d.reporter.lines[0]).toMatch(/^Distribution E1 serves bucket site from origin path \/www/);
    expect(d.reporter.lines.filter((l) => l.startsWith('warning: '))).toEqual([
      "warning: 2 changed keys under s3://site/www/ are not served by distribution E1 (no cache behaviour sends their viewer path to this bucket's " +
        "origin path); they are not invalidated. Check prefix and the distribution's origin path.",
    ]);
  });

  it('without cloudfront:GetDistribution: warns, assumes the origin path is the prefix, and goes on', async () => {
    cf.on(GetDistributionCommand).rejects(Object.assign(new Error('denied'), { name: 'AccessDenied' }));
    const d = deps();
    const res = result({ target: { ...TARGET, state: { bucket: 'state', prefix: 'www/' } } });
    await attachDistributionView(res, inputs('changed'), d);
    expect(res.view?.viewerPaths('index.html')).toEqual(['/index.html']);
    expect(d.reporter.lines.filter((l) => l.startsWith('warning: '))).toEqual([
      expect.stringMatching(/^warning: cloudfront:GetDistribution is not allowed on E1; .* Allow cloudfront:GetDistribution \(read-only\)/),
    ]);
  });

  it('warns once, and keeps it for the summary, when the distribution serves the bookkeeping folder', async () => {
    cf.on(GetDistributionCommand).resolves({ Distribution: { DistributionConfig: config() } as never });
    const d = deps();
    const res = result();
    await attachDistributionView(res, inputs('changed'), d);
    expect(res.exposure).toMatch(
      /^Distribution E1 serves the deploy record, lock and release snapshots .* at \/\.deploy-static\/manifest\.json/,
    );
    expect(d.reporter.lines.filter((l) => l.startsWith('warning: '))).toEqual([`warning: ${res.exposure}`]);
  });
});
