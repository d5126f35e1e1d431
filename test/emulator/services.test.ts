/** ECR, SSM, Secrets Manager, CloudWatch Logs, CloudFront and S3 behaviours, through the real SDK clients. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BatchGetImageCommand,
  DescribeImagesCommand,
  DescribeRepositoriesCommand,
  GetAuthorizationTokenCommand,
  ImageAlreadyExistsException,
  ImageNotFoundException,
  PutImageCommand,
} from '@aws-sdk/client-ecr';
import { DescribeParametersCommand, paginateDescribeParameters } from '@aws-sdk/client-ssm';
import { DescribeSecretCommand } from '@aws-sdk/client-secrets-manager';
import { DescribeLogGroupsCommand, GetLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import {
  CreateInvalidationCommand,
  GetInvalidationCommand,
  ListInvalidationsCommand,
  TooManyInvalidationsInProgress,
} from '@aws-sdk/client-cloudfront';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { startEmulator, type Emulator } from './index.js';
import { clients, manualClock } from './fixtures.js';

let emu: Emulator;
let c: ReturnType<typeof clients>;
const clock = manualClock();

beforeAll(async () => {
  emu = await startEmulator({ clock: clock.now });
  c = clients(emu);
});
afterAll(() => emu.stop());

describe('ECR', () => {
  it('describes a seeded image by tag and digest, and reports a missing tag as ImageNotFoundException', async () => {
    const { digest } = emu.ecr.putImage('delivery/backend', 'abc123');
    const byTag = await c.ecr.send(new DescribeImagesCommand({ repositoryName: 'delivery/backend', imageIds: [{ imageTag: 'abc123' }] }));
    expect(byTag.imageDetails![0]).toMatchObject({ imageDigest: digest, imageTags: ['abc123'], registryId: '123456789012' });
    expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    await expect(
      c.ecr.send(new DescribeImagesCommand({ repositoryName: 'delivery/backend', imageIds: [{ imageTag: 'nope' }] })),
    ).rejects.toBeInstanceOf(ImageNotFoundException);
  });

  it('retags through BatchGetImage + PutImage, refusing an identical tag with ImageAlreadyExistsException', async () => {
    const got = await c.ecr.send(
      new BatchGetImageCommand({ repositoryName: 'delivery/backend', imageIds: [{ imageTag: 'abc123' }, { imageTag: 'missing' }] }),
    );
    expect(got.failures).toEqual([
      { imageId: { imageTag: 'missing' }, failureCode: 'ImageNotFound', failureReason: 'Requested image not found' },
    ]);
    const manifest = got.images![0]!.imageManifest!;
    await c.ecr.send(new PutImageCommand({ repositoryName: 'delivery/backend', imageManifest: manifest, imageTag: 'prod' }));
    const both = await c.ecr.send(new DescribeImagesCommand({ repositoryName: 'delivery/backend' }));
    expect(both.imageDetails![0]!.imageTags).toEqual(['abc123', 'prod']);
    await expect(
      c.ecr.send(new PutImageCommand({ repositoryName: 'delivery/backend', imageManifest: manifest, imageTag: 'prod' })),
    ).rejects.toBeInstanceOf(ImageAlreadyExistsException);
  });

  it('describes repositories and hands out a docker login token', async () => {
    const repos = await c.ecr.send(new DescribeRepositoriesCommand({ repositoryNames: ['delivery/backend'] }));
    expect(repos.repositories![0]!.repositoryUri).toBe('123456789012.dkr.ecr.eu-west-1.amazonaws.com/delivery/backend');
    const token = await c.ecr.send(new GetAuthorizationTokenCommand({}));
    expect(Buffer.from(token.authorizationData![0]!.authorizationToken!, 'base64').toString()).toMatch(/^AWS:/);
  });
});

describe('SSM DescribeParameters', () => {
  it('filters by name and pages with MaxResults / NextToken', async () => {
    for (const n of ['A', 'B', 'C', 'D', 'E']) emu.ssm.putParameter(`/delivery/test/${n}`, 'v', n === 'A' ? 'SecureString' : 'String');
    emu.ssm.putParameter('/other/X', 'v');
    const eq = await c.ssm.send(
      new DescribeParametersCommand({ ParameterFilters: [{ Key: 'Name', Option: 'Equals', Values: ['/delivery/test/A'] }] }),
    );
    expect(eq.Parameters!.map((p) => [p.Name, p.Type])).toEqual([['/delivery/test/A', 'SecureString']]);
    const names: string[] = [];
    let pages = 0;
    for await (const page of paginateDescribeParameters(
      { client: c.ssm, pageSize: 2 },
      { ParameterFilters: [{ Key: 'Path', Option: 'Recursive', Values: ['/delivery'] }] },
    )) {
      pages++;
      names.push(...page.Parameters!.map((p) => p.Name!));
    }
    expect(pages).toBe(3);
    expect(names).toHaveLength(5);
    await expect(c.ssm.send(new DescribeParametersCommand({ MaxResults: 51 }))).rejects.toThrow();
  });
});

describe('Secrets Manager DescribeSecret', () => {
  it('finds a secret by name, full ARN and partial ARN, never returning the value', async () => {
    const arn = emu.secrets.createSecret('delivery/prod/stripe', '{"key":"sk_live"}');
    expect(arn).toMatch(/^arn:aws:secretsmanager:eu-west-1:123456789012:secret:delivery\/prod\/stripe-[A-Za-z0-9]{6}$/);
    for (const id of ['delivery/prod/stripe', arn, arn.slice(0, -7)]) {
      const out = await c.secrets.send(new DescribeSecretCommand({ SecretId: id }));
      expect(out.ARN).toBe(arn);
      expect(JSON.stringify(out)).not.toContain('sk_live');
    }
  });
});

describe('CloudWatch Logs', () => {
  it('pages DescribeLogGroups by prefix with limit', async () => {
    for (const g of ['/ecs/a', '/ecs/b', '/ecs/c', '/lambda/x']) emu.logs.createLogGroup(g);
    const first = await c.logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: '/ecs/', limit: 2 }));
    expect(first.logGroups!.map((g) => g.logGroupName)).toEqual(['/ecs/a', '/ecs/b']);
    const second = await c.logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: '/ecs/', limit: 2, nextToken: first.nextToken }));
    expect(second.logGroups!.map((g) => g.logGroupName)).toEqual(['/ecs/c']);
    expect(second.nextToken).toBeUndefined();
  });

  it('GetLogEvents returns the same forward token at the end of the stream', async () => {
    emu.logs.write(
      '/ecs/a',
      's1',
      [1, 2, 3].map((i) => ({ timestamp: clock.now() - 10 + i, message: `line ${i}` })),
    );
    const first = await c.logs.send(
      new GetLogEventsCommand({ logGroupName: '/ecs/a', logStreamName: 's1', startFromHead: true, limit: 2 }),
    );
    expect(first.events!.map((e) => e.message)).toEqual(['line 1', 'line 2']);
    const second = await c.logs.send(
      new GetLogEventsCommand({ logGroupName: '/ecs/a', logStreamName: 's1', nextToken: first.nextForwardToken, limit: 2 }),
    );
    expect(second.events!.map((e) => e.message)).toEqual(['line 3']);
    const end = await c.logs.send(
      new GetLogEventsCommand({ logGroupName: '/ecs/a', logStreamName: 's1', nextToken: second.nextForwardToken }),
    );
    expect(end.events).toEqual([]);
    expect(end.nextForwardToken).toBe(second.nextForwardToken);
  });
});

describe('CloudFront invalidations', () => {
  const batch = (ref: string, paths: string[]) => ({ CallerReference: ref, Paths: { Quantity: paths.length, Items: paths } });

  it("goes InProgress → Completed after the distribution's delay; same CallerReference is idempotent", async () => {
    const id = emu.cloudfront.createDistribution({ invalidationSeconds: 30 });
    const created = await c.cloudfront.send(
      new CreateInvalidationCommand({ DistributionId: id, InvalidationBatch: batch('run-1', ['/index.html', '/assets/*']) }),
    );
    expect(created.Invalidation).toMatchObject({ Status: 'InProgress', InvalidationBatch: { Paths: { Quantity: 2 } } });
    expect(created.Location).toContain(`/distribution/${id}/invalidation/${created.Invalidation!.Id}`);
    const again = await c.cloudfront.send(
      new CreateInvalidationCommand({ DistributionId: id, InvalidationBatch: batch('run-1', ['/index.html', '/assets/*']) }),
    );
    expect(again.Invalidation!.Id).toBe(created.Invalidation!.Id);
    clock.advance(29);
    const get = () => c.cloudfront.send(new GetInvalidationCommand({ DistributionId: id, Id: created.Invalidation!.Id! }));
    expect((await get()).Invalidation!.Status).toBe('InProgress');
    clock.advance(1);
    expect((await get()).Invalidation!.Status).toBe('Completed');
    const list = await c.cloudfront.send(new ListInvalidationsCommand({ DistributionId: id }));
    expect(list.InvalidationList).toMatchObject({
      Quantity: 1,
      IsTruncated: false,
      Items: [{ Id: created.Invalidation!.Id, Status: 'Completed' }],
    });
  });

  it.each([
    ['more than 15 wildcard paths', Array.from({ length: 16 }, (_, i) => `/dir${i}/*`)],
    ['more than 3,000 file paths', Array.from({ length: 3001 }, (_, i) => `/f${i}.js`)],
  ])('refuses %s in progress with TooManyInvalidationsInProgress', async (_n, paths) => {
    const id = emu.cloudfront.createDistribution({ invalidationSeconds: 60 });
    await c.cloudfront.send(new CreateInvalidationCommand({ DistributionId: id, InvalidationBatch: batch('a', paths.slice(0, 10)) }));
    const err = await c.cloudfront
      .send(new CreateInvalidationCommand({ DistributionId: id, InvalidationBatch: batch('b', paths.slice(10)) }))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TooManyInvalidationsInProgress);
    clock.advance(60);
    await expect(
      c.cloudfront.send(new CreateInvalidationCommand({ DistributionId: id, InvalidationBatch: batch('c', paths.slice(10)) })),
    ).resolves.toBeDefined();
  });
});

describe('S3 (s3rver)', () => {
  it('stores the exact bytes of a PutObject and a multipart upload, and counts the calls', async () => {
    await emu.s3.createBucket('site-bucket');
    emu.resetCounts();
    await c.s3.send(new PutObjectCommand({ Bucket: 'site-bucket', Key: 'index.html', Body: '<h1>hi</h1>', ContentType: 'text/html' }));
    const big = Buffer.alloc(6 * 1024 * 1024, 'x');
    await new Upload({ client: c.s3, params: { Bucket: 'site-bucket', Key: 'big.bin', Body: big } }).done();
    const got = await c.s3.send(new GetObjectCommand({ Bucket: 'site-bucket', Key: 'index.html' }));
    expect(await got.Body!.transformToString()).toBe('<h1>hi</h1>');
    expect(got.ContentType).toBe('text/html');
    const bigGot = await c.s3.send(new GetObjectCommand({ Bucket: 'site-bucket', Key: 'big.bin' }));
    expect(Buffer.from(await bigGot.Body!.transformToByteArray()).equals(big)).toBe(true);
    const list = await c.s3.send(new ListObjectsV2Command({ Bucket: 'site-bucket' }));
    expect(list.Contents!.map((o) => o.Key)).toEqual(['big.bin', 'index.html']);
    expect(emu.counts()).toMatchObject({
      'S3.PutObject': 1,
      'S3.CreateMultipartUpload': 1,
      'S3.UploadPart': 2,
      'S3.CompleteMultipartUpload': 1,
      'S3.ListObjectsV2': 1,
    });
  });

  it('applies injected faults to S3 too (SlowDown, 503)', async () => {
    emu.faults.set({ throttleRate: 1, operations: ['S3.PutObject'] });
    const err = await c.s3.send(new PutObjectCommand({ Bucket: 'site-bucket', Key: 'x', Body: 'x' })).catch((e: unknown) => e);
    emu.faults.clear();
    expect((err as Error).name).toBe('SlowDown');
    expect((err as { $metadata: { httpStatusCode: number } }).$metadata.httpStatusCode).toBe(503);
  });
});
