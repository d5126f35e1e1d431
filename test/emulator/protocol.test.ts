/**
 * The emulator's wire protocols, checked with the real AWS SDK v3 clients:
 * typed exceptions, error shapes, STS's query protocol, request counting and
 * fault injection.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ClusterNotFoundException,
  DescribeClustersCommand,
  DescribeServicesCommand,
  ECSServiceException,
  ListClustersCommand,
} from '@aws-sdk/client-ecs';
import { DescribeImagesCommand, RepositoryNotFoundException } from '@aws-sdk/client-ecr';
import { DescribeSecretCommand, ResourceNotFoundException as SecretNotFound } from '@aws-sdk/client-secrets-manager';
import { DescribeLogGroupsCommand, GetLogEventsCommand, ResourceNotFoundException as LogsNotFound } from '@aws-sdk/client-cloudwatch-logs';
import { GetParameterCommand, ParameterNotFound } from '@aws-sdk/client-ssm';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { GetDistributionCommand, NoSuchDistribution } from '@aws-sdk/client-cloudfront';
import { startEmulator, type Emulator } from './index.js';
import { clients } from './fixtures.js';

let emu: Emulator;
let c: ReturnType<typeof clients>;

beforeAll(async () => {
  emu = await startEmulator();
  c = clients(emu);
  emu.ecs.createCluster('delivery-test');
});
afterAll(() => emu.stop());

describe('typed exceptions through the SDK error parsers', () => {
  const cases: [string, () => Promise<unknown>, new (...a: never[]) => Error, number][] = [
    [
      'ECS ClusterNotFoundException',
      () => c.ecs.send(new DescribeServicesCommand({ cluster: 'nope', services: ['api'] })),
      ClusterNotFoundException,
      400,
    ],
    [
      'ECR RepositoryNotFoundException',
      () => c.ecr.send(new DescribeImagesCommand({ repositoryName: 'nope' })),
      RepositoryNotFoundException,
      400,
    ],
    ['SSM ParameterNotFound', () => c.ssm.send(new GetParameterCommand({ Name: '/nope' })), ParameterNotFound, 400],
    [
      'Secrets Manager ResourceNotFoundException',
      () => c.secrets.send(new DescribeSecretCommand({ SecretId: 'nope' })),
      SecretNotFound,
      400,
    ],
    [
      'Logs ResourceNotFoundException',
      () => c.logs.send(new GetLogEventsCommand({ logGroupName: '/nope', logStreamName: 's' })),
      LogsNotFound,
      400,
    ],
    [
      'CloudFront NoSuchDistribution (REST-XML)',
      () => c.cloudfront.send(new GetDistributionCommand({ Id: 'ENOPE' })),
      NoSuchDistribution,
      404,
    ],
  ];
  it.each(cases)('%s', async (_name, call, type, status) => {
    const err = await call().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(type);
    expect((err as { $metadata: { httpStatusCode: number } }).$metadata.httpStatusCode).toBe(status);
    expect((err as Error).message).not.toBe('');
  });

  it('answers an operation it does not implement with UnknownOperationException', async () => {
    const err = await c.ecs.send(new ListClustersCommand({})).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ECSServiceException);
    expect((err as Error).name).toBe('UnknownOperationException');
  });
});

describe('STS (awsQuery, form-encoded POST)', () => {
  it('GetCallerIdentity returns the emulator account', async () => {
    const id = await c.sts.send(new GetCallerIdentityCommand({}));
    expect(id).toMatchObject({ Account: '123456789012', Arn: 'arn:aws:iam::123456789012:user/emulator' });
  });
});

describe('request counting', () => {
  it('records every request by service and operation, in order', async () => {
    emu.resetCounts();
    await c.ecs.send(new DescribeClustersCommand({ clusters: ['delivery-test'] }));
    await c.ecs.send(new DescribeClustersCommand({ clusters: ['delivery-test'] }));
    await c.logs.send(new DescribeLogGroupsCommand({}));
    await c.sts.send(new GetCallerIdentityCommand({}));
    expect(emu.counts()).toEqual({ 'ECS.DescribeClusters': 2, 'CloudWatchLogs.DescribeLogGroups': 1, 'STS.GetCallerIdentity': 1 });
    expect(emu.requests().map((r) => `${r.service}.${r.operation}:${r.status}`)).toEqual([
      'ECS.DescribeClusters:200',
      'ECS.DescribeClusters:200',
      'CloudWatchLogs.DescribeLogGroups:200',
      'STS.GetCallerIdentity:200',
    ]);
  });

  it('serves the counts over HTTP at /_emulator/counts', async () => {
    emu.resetCounts();
    await c.ecs.send(new DescribeClustersCommand({}));
    const res = await fetch(`${emu.endpoint}/_emulator/counts`);
    expect(await res.json()).toEqual({ 'ECS.DescribeClusters': 1 });
  });
});

describe('HTTP control endpoint', () => {
  const post = (name: string, body: unknown) => fetch(`${emu.endpoint}/_emulator/${name}`, { method: 'POST', body: JSON.stringify(body) });

  it('sets faults and scenarios from another process', async () => {
    expect((await post('faults', { throttleRate: 1, operations: ['DescribeClusters'] })).status).toBe(200);
    const err = await c.ecs.send(new DescribeClustersCommand({})).catch((e: unknown) => e);
    expect((err as Error).name).toBe('ThrottlingException');
    await post('clear-faults', {});
    await expect(c.ecs.send(new DescribeClustersCommand({}))).resolves.toBeDefined();
    expect((await post('next-task', { family: 'x', exitCode: 3 })).status).toBe(200);
    expect(emu.scenarios.takeTask('x', undefined)).toEqual({ exitCode: 3 });
  });

  it('answers an unknown endpoint with 404 and the list of endpoints', async () => {
    const res = await post('nope', {});
    expect(res.status).toBe(404);
    expect(((await res.json()) as { endpoints: string[] }).endpoints).toContain('POST /_emulator/next-rollout');
  });
});

describe('fault injection', () => {
  it('throttles every matching call with ThrottlingException (HTTP 400), others pass', async () => {
    emu.faults.set({ throttleRate: 1, operations: ['DescribeClusters'] });
    try {
      const err = await c.ecs.send(new DescribeClustersCommand({})).catch((e: unknown) => e);
      expect((err as Error).name).toBe('ThrottlingException');
      expect((err as { $metadata: { httpStatusCode: number } }).$metadata.httpStatusCode).toBe(400);
      await expect(c.logs.send(new DescribeLogGroupsCommand({}))).resolves.toBeDefined();
    } finally {
      emu.faults.clear();
    }
  });

  it('throttles a deterministic fraction of calls (same seed, same pattern)', async () => {
    const pattern = async () => {
      emu.faults.set({ throttleRate: 0.5, seed: 7 });
      const out: boolean[] = [];
      for (let i = 0; i < 20; i++)
        out.push(
          await c.ecs.send(new DescribeClustersCommand({})).then(
            () => true,
            () => false,
          ),
        );
      emu.faults.clear();
      return out;
    };
    const first = await pattern();
    expect(await pattern()).toEqual(first);
    const failures = first.filter((ok) => !ok).length;
    expect(failures).toBeGreaterThan(3);
    expect(failures).toBeLessThan(17);
  });

  it('answers a burst of server errors that the SDK retries through, and counts the retries', async () => {
    const retrying = clients(emu, 3);
    emu.resetCounts();
    emu.faults.set({ serverErrorBurst: 2 });
    const out = await retrying.ecs.send(new DescribeClustersCommand({ clusters: ['delivery-test'] }));
    emu.faults.clear();
    expect(out.clusters?.[0]?.clusterName).toBe('delivery-test');
    expect(out.$metadata.attempts).toBe(3);
    expect(emu.requests().map((r) => r.status)).toEqual([500, 503, 200]);
  });

  it.each([
    [
      'CloudFront (REST-XML)',
      'CloudFront.GetDistribution',
      () => c.cloudfront.send(new GetDistributionCommand({ Id: 'ENOPE' })),
      'Throttling',
    ],
    ['STS (awsQuery)', 'STS.GetCallerIdentity', () => c.sts.send(new GetCallerIdentityCommand({})), 'Throttling'],
  ])('throttles %s with its own error code', async (_n, operation, call, code) => {
    emu.faults.set({ throttleRate: 1, operations: [operation] });
    const err = await call().catch((e: unknown) => e);
    emu.faults.clear();
    expect((err as Error).name).toBe(code);
  });

  it('adds latency to matching calls', async () => {
    emu.faults.set({ latencyMs: 120, operations: ['ECS.DescribeClusters'] });
    const started = Date.now();
    await c.ecs.send(new DescribeClustersCommand({}));
    emu.faults.clear();
    expect(Date.now() - started).toBeGreaterThanOrEqual(100);
  });
});

describe('isolation', () => {
  it('two emulators share no state and no port', async () => {
    const other = await startEmulator({ s3: false });
    try {
      expect(other.endpoint).not.toBe(emu.endpoint);
      const out = await clients(other).ecs.send(new DescribeClustersCommand({ clusters: ['delivery-test'] }));
      expect(out.failures?.[0]?.reason).toBe('MISSING');
    } finally {
      await other.stop();
    }
  });
});
