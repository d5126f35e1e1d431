/**
 * The IAM log (CONTRACT.md "IAM"): what the emulator records for a call made the way the actions
 * make them (the `action/<name>` user agent of lib/aws.ts), through the real SDK clients.
 */
import { CopyObjectCommand, DeleteObjectsCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DescribeServicesCommand, ECSClient, RegisterTaskDefinitionCommand, RunTaskCommand } from '@aws-sdk/client-ecs';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { IamLogEntry } from './iam-log.js';
import { awsvpc, fargateTaskDef } from './fixtures.js';
import { startEmulator, type Emulator } from './index.js';

let emu: Emulator;
let dir: string;
let ecs: ECSClient;
let s3: S3Client;

beforeAll(async () => {
  // This file's own log: its calls are not the actions' and must not reach the run's policy check.
  dir = mkdtempSync(join(tmpdir(), 'iam-log-test-'));
  vi.stubEnv('IAM_CALLS_DIR', dir);
  emu = await startEmulator();
  emu.ecs.createCluster('shop-test');
  await emu.s3.createBucket('site');
  const env = emu.env();
  const base = {
    region: emu.region,
    credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID!, secretAccessKey: env.AWS_SECRET_ACCESS_KEY! },
    // What lib/aws.ts adds to every client the suite creates.
    customUserAgent: [['action/deploy-ecs', '1.0.0']] as [string, string][],
  };
  ecs = new ECSClient({ ...base, endpoint: emu.endpoint });
  s3 = new S3Client({ ...base, endpoint: emu.s3Endpoint, forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED' });
});

afterAll(async () => {
  await emu.stop();
  vi.unstubAllEnvs();
});

function logged(): IamLogEntry[] {
  return readdirSync(dir).flatMap((f) =>
    readFileSync(join(dir, f), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as IamLogEntry),
  );
}
const of = (operation: string) => logged().filter((e) => e.operation === operation);

describe('the IAM log', () => {
  it('RegisterTaskDefinition: the new revision, and iam:PassRole of its roles to ecs-tasks', async () => {
    await ecs.send(
      new RegisterTaskDefinitionCommand({ ...fargateTaskDef('shop-migrate'), taskRoleArn: 'arn:aws:iam::123456789012:role/shop-task' }),
    );
    expect(of('RegisterTaskDefinition').map((e) => [e.actor, e.calls])).toEqual([
      [
        'deploy-ecs',
        [
          { action: 'ecs:RegisterTaskDefinition', resource: 'arn:aws:ecs:eu-west-1:123456789012:task-definition/shop-migrate:1' },
          {
            action: 'iam:PassRole',
            resource: 'arn:aws:iam::123456789012:role/shop-task',
            context: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' },
          },
          {
            action: 'iam:PassRole',
            resource: 'arn:aws:iam::123456789012:role/ecsTaskExecutionRole',
            context: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' },
          },
        ],
      ],
    ]);
  });

  it("RunTask by family: the resolved revision in the cluster, the task definition's roles passed, tagging on create", async () => {
    const run = await ecs.send(
      new RunTaskCommand({
        cluster: 'shop-test',
        taskDefinition: 'shop-migrate',
        launchType: 'FARGATE',
        networkConfiguration: awsvpc,
        tags: [{ key: 'run', value: '1' }],
      }),
    );
    const cluster = { 'ecs:cluster': 'arn:aws:ecs:eu-west-1:123456789012:cluster/shop-test' };
    expect(of('RunTask')[0]!.calls).toEqual([
      { action: 'ecs:RunTask', resource: 'arn:aws:ecs:eu-west-1:123456789012:task-definition/shop-migrate:1', context: cluster },
      {
        action: 'iam:PassRole',
        resource: 'arn:aws:iam::123456789012:role/shop-task',
        context: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' },
      },
      {
        action: 'iam:PassRole',
        resource: 'arn:aws:iam::123456789012:role/ecsTaskExecutionRole',
        context: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' },
      },
      { action: 'ecs:TagResource', resource: run.tasks![0]!.taskArn, context: { 'ecs:CreateAction': 'RunTask', ...cluster } },
    ]);
  });

  it('DescribeServices: one authorization per service it names', async () => {
    await ecs.send(new DescribeServicesCommand({ cluster: 'shop-test', services: ['api', 'worker'] }));
    expect(of('DescribeServices')[0]!.calls.map((c) => c.resource)).toEqual([
      'arn:aws:ecs:eu-west-1:123456789012:service/shop-test/api',
      'arn:aws:ecs:eu-west-1:123456789012:service/shop-test/worker',
    ]);
  });

  it('S3: object ARNs, the copy source read, every key of a DeleteObjects, listings on the bucket with s3:prefix', async () => {
    await s3.send(new PutObjectCommand({ Bucket: 'site', Key: 'app/index.html', Body: 'a' }));
    await s3.send(
      new CopyObjectCommand({ Bucket: 'site', Key: 'app/.deploy-static/releases/r1/index.html', CopySource: 'site/app/index.html' }),
    );
    await s3.send(new DeleteObjectsCommand({ Bucket: 'site', Delete: { Objects: [{ Key: 'app/a.js' }, { Key: 'app/b & c.js' }] } }));
    await s3.send(new ListObjectsV2Command({ Bucket: 'site', Prefix: 'app/' }));
    expect(
      logged()
        .filter((e) => e.service === 'S3')
        .map((e) => [e.operation, e.calls]),
    ).toEqual([
      ['PutObject', [{ action: 's3:PutObject', resource: 'arn:aws:s3:::site/app/index.html' }]],
      [
        'CopyObject',
        [
          { action: 's3:PutObject', resource: 'arn:aws:s3:::site/app/.deploy-static/releases/r1/index.html' },
          { action: 's3:GetObject', resource: 'arn:aws:s3:::site/app/index.html' },
        ],
      ],
      [
        'DeleteObjects',
        [
          { action: 's3:DeleteObject', resource: 'arn:aws:s3:::site/app/a.js' },
          { action: 's3:DeleteObject', resource: 'arn:aws:s3:::site/app/b & c.js' },
        ],
      ],
      ['ListObjectsV2', [{ action: 's3:ListBucket', resource: 'arn:aws:s3:::site', context: { 's3:prefix': 'app/' } }]],
    ]);
  });

  it("a client without the suite's action user agent (a test seeding the emulator) is not logged", async () => {
    const before = logged().length;
    const env = emu.env();
    const seeding = new ECSClient({
      region: emu.region,
      endpoint: emu.endpoint,
      credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID!, secretAccessKey: env.AWS_SECRET_ACCESS_KEY! },
    });
    await seeding.send(new DescribeServicesCommand({ cluster: 'shop-test', services: ['api'] }));
    expect(emu.counts()['ECS.DescribeServices']).toBe(2);
    expect(logged().length).toBe(before);
  });
});
