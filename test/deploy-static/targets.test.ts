import { describe, expect, it } from 'vitest';
import { getInputs } from '../../actions/deploy-static/inputs.js';
import { normalizePrefix, parseTargets, resolveTargets } from '../../actions/deploy-static/targets.js';

const reader = (values: Record<string, string>) => (name: string) => values[name] ?? '';

describe('prefix normalisation', () => {
  it.each([
    ['', ''],
    ['/', ''],
    ['app', 'app/'],
    ['/app/', 'app/'],
    ['stores/eu', 'stores/eu/'],
  ])('%j → %j', (raw, norm) => {
    expect(normalizePrefix(raw)).toBe(norm);
  });
});

describe('targets', () => {
  it('parses lines and JSON to the same targets', () => {
    const lines = parseTargets('bucket=shop-eu prefix=app distribution-id=E2QWRUHAPOMQZL\n# comment\nbucket=shop-us');
    const json = parseTargets('[{"bucket":"shop-eu","prefix":"app","distribution-id":"E2QWRUHAPOMQZL"},{"bucket":"shop-us"}]');
    expect(lines).toEqual([
      { bucket: 'shop-eu', prefix: 'app/', distributionId: 'E2QWRUHAPOMQZL' },
      { bucket: 'shop-us', prefix: '' },
    ]);
    expect(json).toEqual(lines);
  });

  it.each([
    ['targets and bucket both set', { bucket: 'a-site' }, 'bucket=b-site', /Both 'targets' and bucket/],
    ['nothing set', {}, '', /Input 'bucket' is required/],
    ['an s3:// URL as bucket', { bucket: 's3://a-site' }, '', /not an S3 bucket name/],
    ['nested prefixes in one bucket', {}, 'bucket=site prefix=app\nbucket=site prefix=app/v2', /overlap in bucket 'site'/],
    ['whole bucket plus a prefix', {}, 'bucket=site\nbucket=site prefix=app', /overlap/],
    ['an unknown key', {}, 'bucket=site region=eu-west-1', /not bucket=, prefix= or distribution-id=/],
    ['a domain as distribution', { bucket: 'site', distributionId: 'd111.cloudfront.net' }, '', /not a CloudFront distribution id/],
    ['.. in the prefix', { bucket: 'site', prefix: 'app/../etc' }, '', /'\.\.' segments/],
  ])('rejects %s', (_, single, raw, message) => {
    expect(() => resolveTargets(single as Record<string, string>, raw)).toThrow(message);
  });

  it('allows sibling prefixes app/ and app2/ in one bucket', () => {
    expect(resolveTargets({}, 'bucket=site prefix=app\nbucket=site prefix=app2')).toHaveLength(2);
  });
});

describe('getInputs', () => {
  it('has safe defaults', () => {
    const i = getInputs(reader({ source: 'dist', bucket: 'site' }));
    expect(i).toMatchObject({
      delete: 'true',
      includeDotfiles: false,
      lockWaitSeconds: 600,
      maxDeleteCount: 500,
      maxDeleteRatio: 0.5,
      forceDelete: false,
      preset: 'static',
      invalidate: 'changed',
      dryRun: false,
      concurrency: 16,
    });
    expect(i.acl).toBeUndefined();
  });

  it.each([
    ['true', 'true'],
    ['False', 'false'],
    ['all', 'all'],
  ])('reads delete: %s as %s (booleans from before `all` keep working)', (value, mode) => {
    expect(getInputs(reader({ source: 'dist', bucket: 'site', delete: value })).delete).toBe(mode);
  });

  it.each([
    [{ bucket: 'site' }, /Input 'source' is required/],
    [{ source: 'dist', bucket: 'site', 'max-delete-ratio': '2' }, /max-delete-ratio/],
    [{ source: 'dist', bucket: 'site', acl: 'world' }, /canned ACL/],
    [{ source: 'dist', bucket: 'site', invalidate: 'everything' }, /invalidate/],
    [{ source: 'dist', bucket: 'site', delete: 'some' }, /Input 'delete' must be true, false or all; got 'some'/],
  ])('rejects %j', (values, message) => {
    expect(() => getInputs(reader(values))).toThrow(message);
  });
});
