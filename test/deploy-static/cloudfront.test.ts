import {
  CloudFrontClient,
  CloudFrontServiceException,
  CreateInvalidationCommand,
  GetDistributionCommand,
  GetInvalidationCommand,
  ListInvalidationsCommand,
  TooManyInvalidationsInProgress,
} from '@aws-sdk/client-cloudfront';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { createInvalidation, inProgressBudget, readDistributionView, waitForInvalidation } from '../../actions/deploy-static/cloudfront.js';
import { FULL_BUDGET } from '../../actions/deploy-static/invalidation.js';

const cf = mockClient(CloudFrontClient);
const client = new CloudFrontClient({ region: 'us-east-1' });

function fakeTime() {
  let t = 0;
  const sleeps: number[] = [];
  const lines: string[] = [];
  return {
    sleeps,
    lines,
    deps: { now: () => t, sleep: async (ms: number) => void (sleeps.push(ms), (t += ms)), log: (l: string) => void lines.push(l) },
  };
}

const tooMany = () => new TooManyInvalidationsInProgress({ message: 'too many', $metadata: {} });

beforeEach(() => cf.reset());

describe('creating the invalidation', () => {
  it('retries TooManyInvalidationsInProgress with growing backoff, then succeeds', async () => {
    cf.on(CreateInvalidationCommand)
      .rejectsOnce(tooMany())
      .rejectsOnce(tooMany())
      .rejectsOnce(tooMany())
      .resolves({ Invalidation: { Id: 'I1', Status: 'InProgress', CreateTime: new Date(), InvalidationBatch: undefined } });
    const t = fakeTime();
    expect(await createInvalidation(client, 'E1', ['/index.html'], 'ref', 600_000, t.deps)).toBe('I1');
    expect(t.sleeps).toEqual([5000, 10000, 20000]);
    expect(t.lines[0]).toMatch(/too many invalidations in progress on E1; retrying in 5 s/);
    // The same CallerReference each time: a retry can never create two invalidations.
    expect(new Set(cf.commandCalls(CreateInvalidationCommand).map((c) => c.args[0].input.InvalidationBatch?.CallerReference))).toEqual(
      new Set(['ref']),
    );
  });

  it('gives up with an actionable error at the timeout', async () => {
    cf.on(CreateInvalidationCommand).rejects(tooMany());
    const t = fakeTime();
    await expect(createInvalidation(client, 'E1', ['/*'], 'ref', 120_000, t.deps)).rejects.toThrow(
      /still has too many invalidations in progress after 120 s/,
    );
    expect(t.sleeps.reduce((a, b) => a + b, 0)).toBe(120_000);
  });

  it('does not retry other errors', async () => {
    cf.on(CreateInvalidationCommand).rejects(Object.assign(new Error('denied'), { name: 'AccessDenied' }));
    await expect(createInvalidation(client, 'E1', ['/a'], 'ref', 60_000, fakeTime().deps)).rejects.toThrow(/denied/);
    expect(cf.commandCalls(CreateInvalidationCommand)).toHaveLength(1);
  });
});

describe('in-progress budget', () => {
  it('reads the paths of in-progress invalidations only (status in any case)', async () => {
    cf.on(ListInvalidationsCommand).resolves({
      InvalidationList: {
        Marker: '',
        MaxItems: 100,
        IsTruncated: false,
        Quantity: 3,
        Items: [
          { Id: 'A', Status: 'InProgress', CreateTime: new Date() },
          { Id: 'B', Status: 'INPROGRESS', CreateTime: new Date() },
          { Id: 'C', Status: 'Completed', CreateTime: new Date() },
        ],
      },
    });
    cf.on(GetInvalidationCommand, { Id: 'A' }).resolves({
      Invalidation: {
        Id: 'A',
        Status: 'InProgress',
        CreateTime: new Date(),
        InvalidationBatch: { CallerReference: 'a', Paths: { Quantity: 2, Items: ['/x/*', '/y.js'] } },
      },
    });
    cf.on(GetInvalidationCommand, { Id: 'B' }).resolves({
      Invalidation: {
        Id: 'B',
        Status: 'InProgress',
        CreateTime: new Date(),
        InvalidationBatch: { CallerReference: 'b', Paths: { Quantity: 1, Items: ['/*'] } },
      },
    });
    expect(await inProgressBudget(client, 'E1')).toEqual({ filePaths: 2999, wildcards: 13 });
    expect(
      cf
        .commandCalls(GetInvalidationCommand)
        .map((c) => c.args[0].input.Id)
        .sort(),
    ).toEqual(['A', 'B']);
  });
});

/** What the SDK throws when IAM denies a CloudFront call (HTTP 403, code AccessDenied). */
const accessDenied = () =>
  new CloudFrontServiceException({
    name: 'AccessDenied',
    $fault: 'client',
    message: 'User is not authorized to perform: cloudfront:ListInvalidations',
    $metadata: { httpStatusCode: 403 },
  });

describe('optional read permissions', () => {
  it('a missing cloudfront:ListInvalidations is a warning: the full budget is assumed', async () => {
    cf.on(ListInvalidationsCommand).rejects(accessDenied());
    const warnings: string[] = [];
    expect(await inProgressBudget(client, 'E1', (w) => void warnings.push(w))).toEqual(FULL_BUDGET);
    expect(warnings).toEqual([expect.stringMatching(/cloudfront:ListInvalidations .* not allowed on E1.*Allow both/)]);
  });

  it('other errors still fail', async () => {
    cf.on(ListInvalidationsCommand).rejects(
      Object.assign(new Error('no such distribution'), { name: 'NoSuchDistribution', $metadata: { httpStatusCode: 404 } }),
    );
    await expect(inProgressBudget(client, 'E1', () => undefined)).rejects.toThrow(/no such distribution/);
  });

  it('a missing cloudfront:GetDistribution is a warning: origin path = prefix, new keys invalidated', async () => {
    cf.on(GetDistributionCommand).rejects(accessDenied());
    const warnings: string[] = [];
    const view = await readDistributionView(client, { bucket: 'site', prefix: 'app/', distributionId: 'E1' }, (w) => void warnings.push(w));
    expect(view.viewerPaths('a.js')).toEqual(['/a.js']);
    expect(view.invalidateNewKeys).toBe(true);
    expect(warnings).toEqual([expect.stringMatching(/GetDistribution is not allowed on E1.*origin path is \/app/)]);
  });

  it('names the distribution-id input when the distribution does not exist', async () => {
    cf.on(GetDistributionCommand).rejects(
      new CloudFrontServiceException({
        name: 'NoSuchDistribution',
        $fault: 'client',
        message: 'The specified distribution does not exist.',
        $metadata: { httpStatusCode: 404 },
      }),
    );
    await expect(
      readDistributionView(client, { bucket: 'site', prefix: '', distributionId: 'EWRONG' }, () => undefined),
    ).rejects.toMatchObject({
      message: expect.stringMatching(/EWRONG does not exist.*nothing was written/),
      location: { input: 'distribution-id' },
    });
  });

  it('reads the origin path from GetDistribution', async () => {
    cf.on(GetDistributionCommand).resolves({
      Distribution: {
        Id: 'E1',
        ARN: 'arn',
        Status: 'Deployed',
        LastModifiedTime: new Date(),
        InProgressInvalidationBatches: 0,
        DomainName: 'd1.cloudfront.net',
        DistributionConfig: {
          CallerReference: 'x',
          Comment: '',
          Enabled: true,
          Origins: { Quantity: 1, Items: [{ Id: 'o', DomainName: 'site.s3.eu-west-1.amazonaws.com', OriginPath: '' }] },
          DefaultCacheBehavior: { TargetOriginId: 'o', ViewerProtocolPolicy: 'allow-all' },
        },
      },
    });
    const view = await readDistributionView(client, { bucket: 'site', prefix: 'admin/', distributionId: 'E1' }, () => undefined);
    expect(view.viewerPaths('index.html')).toEqual(['/admin/index.html']);
    expect(view.invalidateNewKeys).toBe(false);
  });
});

describe('waiting for the invalidation', () => {
  it('polls until Completed, whatever its case, and logs each status change once', async () => {
    cf.on(GetInvalidationCommand)
      .resolvesOnce({ Invalidation: { Id: 'I1', Status: 'InProgress', CreateTime: new Date(), InvalidationBatch: undefined } })
      .resolvesOnce({ Invalidation: { Id: 'I1', Status: 'InProgress', CreateTime: new Date(), InvalidationBatch: undefined } })
      .resolves({ Invalidation: { Id: 'I1', Status: 'COMPLETED', CreateTime: new Date(), InvalidationBatch: undefined } });
    const t = fakeTime();
    await waitForInvalidation(client, 'E1', 'I1', 600_000, t.deps);
    expect(t.lines).toEqual(['invalidation I1: InProgress', 'invalidation I1: COMPLETED']);
    expect(t.sleeps).toEqual([1000, 2000]);
  });

  it('fails with the last status at the timeout', async () => {
    cf.on(GetInvalidationCommand).resolves({
      Invalidation: { Id: 'I1', Status: 'InProgress', CreateTime: new Date(), InvalidationBatch: undefined },
    });
    await expect(waitForInvalidation(client, 'E1', 'I1', 30_000, fakeTime().deps)).rejects.toThrow(/still InProgress after 30 s/);
  });
});
