import type { DistributionConfig } from '@aws-sdk/client-cloudfront';
import { describe, expect, it } from 'vitest';
import { deepLinkReason, distributionView, isBucketDomain, pathPatternRegExp } from '../../actions/deploy-static/distribution.js';
import { planInvalidation } from '../../actions/deploy-static/invalidation.js';
import { invalidationRels } from '../../actions/deploy-static/deploy-invalidation.js';

/** The parts of a GetDistribution answer that decide paths, shaped as the SDK returns them. */
function config(opts: {
  origins: { Id: string; DomainName: string; OriginPath?: string }[];
  defaultOrigin?: string;
  behaviors?: { PathPattern: string; TargetOriginId: string }[];
  errors?: { ErrorCode: number; ErrorCachingMinTTL?: number; ResponsePagePath?: string }[];
  groups?: { Id: string; members: string[] }[];
}): DistributionConfig {
  return {
    CallerReference: 'x',
    Comment: '',
    Enabled: true,
    Origins: { Quantity: opts.origins.length, Items: opts.origins.map((o) => ({ OriginPath: '', ...o })) },
    OriginGroups: {
      Quantity: opts.groups?.length ?? 0,
      Items: opts.groups?.map((g) => ({
        Id: g.Id,
        FailoverCriteria: undefined,
        Members: { Quantity: g.members.length, Items: g.members.map((OriginId) => ({ OriginId })) },
      })),
    },
    DefaultCacheBehavior: { TargetOriginId: opts.defaultOrigin ?? opts.origins[0]!.Id, ViewerProtocolPolicy: 'redirect-to-https' },
    CacheBehaviors: {
      Quantity: opts.behaviors?.length ?? 0,
      Items: opts.behaviors?.map((b) => ({ ...b, ViewerProtocolPolicy: 'redirect-to-https' })),
    },
    CustomErrorResponses: { Quantity: opts.errors?.length ?? 0, Items: opts.errors },
  } as DistributionConfig;
}

const s3 = (bucket: string) => `${bucket}.s3.eu-west-1.amazonaws.com`;

describe('where the distribution serves a key', () => {
  it.each([
    ['site.s3.amazonaws.com', true],
    ['site.s3.eu-west-1.amazonaws.com', true],
    ['site.s3-website-eu-west-1.amazonaws.com', true],
    ['site.s3-website.eu-central-1.amazonaws.com', true],
    ['site.s3.cn-north-1.amazonaws.com.cn', true],
    ['site2.s3.amazonaws.com', false],
    ['www.example.com', false],
    ['site.s3.example.com', false],
  ])('%s is bucket site: %s', (domain, yes) => {
    expect(isBucketDomain(domain, 'site')).toBe(yes);
  });

  it('maps keys through the origin path of the default behaviour', () => {
    const view = distributionView(config({ origins: [{ Id: 'o', DomainName: s3('site'), OriginPath: '/app' }] }), 'site', 'app/', 'E1');
    expect(view.viewerPaths('assets/x.js')).toEqual(['/assets/x.js']);
    expect(planInvalidation(['index.html'], { maxPaths: 10, viewerPaths: view.viewerPaths }).paths).toEqual(['/', '/index.html']);
  });

  it('serves /admin/* from admin/ when a path-pattern behaviour sends it to the bucket origin without an origin path', () => {
    const cfg = config({
      origins: [
        { Id: 'web', DomainName: s3('site'), OriginPath: '/www' },
        { Id: 'raw', DomainName: s3('site') },
      ],
      behaviors: [{ PathPattern: '/admin/*', TargetOriginId: 'raw' }],
    });
    const admin = distributionView(cfg, 'site', 'admin/', 'E1');
    expect(admin.viewerPaths('index.html')).toEqual(['/admin/index.html']);
    expect(planInvalidation(['index.html', 'app.js'], { maxPaths: 10, viewerPaths: admin.viewerPaths }).paths).toEqual([
      '/admin',
      '/admin/',
      '/admin/app.js',
      '/admin/index.html',
    ]);
    // The main site under www/ is served at the root by the default behaviour.
    expect(distributionView(cfg, 'site', 'www/', 'E1').viewerPaths('about.html')).toEqual(['/about.html']);
    // www/admin/x would be /admin/x, but /admin/* goes to the other origin: not served, nothing to invalidate.
    expect(distributionView(cfg, 'site', 'www/', 'E1').viewerPaths('admin/x.html')).toEqual([]);
  });

  it('maps nothing for a prefix outside the origin path', () => {
    expect(
      distributionView(
        config({ origins: [{ Id: 'o', DomainName: s3('site'), OriginPath: '/live' }] }),
        'site',
        'staging/',
        'E1',
      ).viewerPaths('index.html'),
    ).toEqual([]);
  });

  it('follows an origin group to its bucket members', () => {
    const cfg = config({
      origins: [
        { Id: 'a', DomainName: s3('site'), OriginPath: '/app' },
        { Id: 'b', DomainName: s3('site-dr'), OriginPath: '/app' },
      ],
      groups: [{ Id: 'g', members: ['a', 'b'] }],
      defaultOrigin: 'g',
    });
    expect(distributionView(cfg, 'site', 'app/', 'E1').viewerPaths('x.js')).toEqual(['/x.js']);
  });

  it('keeps the old assumption (origin path = prefix) when no origin is the bucket, and then invalidates new keys too', () => {
    const view = distributionView(config({ origins: [{ Id: 'o', DomainName: 'www.example.com' }] }), 'site', 'app/', 'E1');
    expect(view.viewerPaths('x.js')).toEqual(['/x.js']);
    expect(view.invalidateNewKeys).toBe(true);
    expect(view.notes[0]).toMatch(/no S3 origin for bucket site.*origin path is \/app/);
  });

  it.each([
    [[], false],
    [[{ ErrorCode: 404, ErrorCachingMinTTL: 10 }], false],
    [[{ ErrorCode: 500, ErrorCachingMinTTL: 300 }], false],
    [[{ ErrorCode: 404, ErrorCachingMinTTL: 86400 }], true],
    [[{ ErrorCode: 403, ErrorCachingMinTTL: 60 }], true],
  ])('error responses %j → invalidate new keys: %s', (errors, yes) => {
    expect(distributionView(config({ origins: [{ Id: 'o', DomainName: s3('site') }], errors }), 'site', '', 'E1').invalidateNewKeys).toBe(
      yes,
    );
  });

  it.each([
    [
      'an SPA error page cached a day, index.html changed',
      [{ ErrorCode: 404, ErrorCachingMinTTL: 86400, ResponsePagePath: '/index.html' }],
      'app/',
      ['index.html'],
      true,
    ],
    [
      'the same for 403, under an origin path',
      [{ ErrorCode: 403, ErrorCachingMinTTL: 300, ResponsePagePath: '/index.html' }],
      'app/',
      ['index.html', 'assets/a-Ab3dEf9h.js'],
      true,
    ],
    [
      'only assets changed',
      [{ ErrorCode: 404, ErrorCachingMinTTL: 86400, ResponsePagePath: '/index.html' }],
      'app/',
      ['assets/a-Ab3dEf9h.js'],
      false,
    ],
    [
      'error page cached only the default 10 s',
      [{ ErrorCode: 404, ErrorCachingMinTTL: 10, ResponsePagePath: '/index.html' }],
      'app/',
      ['index.html'],
      false,
    ],
    ['a 500 error page', [{ ErrorCode: 500, ErrorCachingMinTTL: 86400, ResponsePagePath: '/index.html' }], 'app/', ['index.html'], false],
    ['another page changed', [{ ErrorCode: 404, ErrorCachingMinTTL: 86400, ResponsePagePath: '/404.html' }], 'app/', ['index.html'], false],
  ])('deep links: %s → /*: %s', (_why, errors, prefix, rels, yes) => {
    const view = distributionView(
      config({ origins: [{ Id: 'o', DomainName: s3('site'), OriginPath: '/app' }], errors }),
      'site',
      prefix,
      'E1',
    );
    expect(deepLinkReason(view, rels) !== undefined).toBe(yes);
  });

  it.each([
    ['/admin/*', '/admin/x.html', true],
    ['admin/*', '/admin/a/b.html', true],
    ['/admin/*', '/administrator', false],
    ['*.jpg', '/a/b.jpg', true],
    ['/img/?.png', '/img/a.png', true],
    ['/img/?.png', '/img/ab.png', false],
    ['/Admin/*', '/admin/x', false],
  ])('path pattern %s matches %s: %s', (pattern, path, yes) => {
    expect(pathPatternRegExp(pattern).test(path)).toBe(yes);
  });
});

describe('which changed keys are invalidated', () => {
  const op = (rel: string, reason: 'new' | 'content') => ({ file: { rel }, reason });
  const result = (view: ReturnType<typeof distributionView> | undefined) =>
    ({
      target: { bucket: 'site', prefix: 'www/' },
      plan: {
        uploads: [op('new.html', 'new'), op('index.html', 'content'), op('admin/x.html', 'content')],
        copies: [],
        deletes: ['www/old.js'],
      },
      ...(view ? { view } : {}),
    }) as unknown as Parameters<typeof invalidationRels>[0];
  const cfg = config({
    origins: [
      { Id: 'web', DomainName: s3('site'), OriginPath: '/www' },
      { Id: 'raw', DomainName: s3('site') },
    ],
    behaviors: [{ PathPattern: '/admin/*', TargetOriginId: 'raw' }],
  });

  it('without the distribution config: every changed, new and deleted key', () => {
    expect(invalidationRels(result(undefined)).sort()).toEqual(['admin/x.html', 'index.html', 'new.html', 'old.js']);
  });

  it('with it: not new keys (default error caching), not keys the distribution does not serve', () => {
    expect(invalidationRels(result(distributionView(cfg, 'site', 'www/', 'E1'))).sort()).toEqual(['index.html', 'old.js']);
  });
});
